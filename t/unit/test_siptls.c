/* Unit tests of src/siptls.c and of a NOTIFY over TLS without a CA: the
 * CA file's check, and handshakes with a TLS server forked here on
 * 127.0.0.1 presenting, in turn, a certificate from the CA that names
 * 127.0.0.1 and localhost (reached by its IP, then by its name), one from
 * another CA, and one from the CA for another host. Keys and certificates
 * are made here (EC: quick). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "polycom_notify.h"
#include "polycom_sip.h"
#include "polycom_siptls.h"
#include "tap.h"

typedef struct {
    X509 *cert;
    EVP_PKEY *key;
} made_cert;

static made_cert make_cert(const char *cn, const char *san,
                           const made_cert *issuer)
{
    static long serial = 1;
    made_cert made;
    X509_NAME *name;
    X509_EXTENSION *ext;

    made.key = EVP_EC_gen("P-256");
    made.cert = X509_new();
    X509_set_version(made.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(made.cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(made.cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(made.cert), 24L * 3600L);
    X509_set_pubkey(made.cert, made.key);
    name = X509_get_subject_name(made.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(made.cert,
                         issuer ? X509_get_subject_name(issuer->cert) : name);
    ext = san ? X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san)
              : X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
                                    "critical,CA:TRUE");
    X509_add_ext(made.cert, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(made.cert, issuer ? issuer->key : made.key, EVP_sha256());
    return made;
}

/* The server: one connection per certificate, in order; a handshake the
 * client completes gets "pong\r\n" for what it sends. */
static void serve(int listener, const made_cert *certs, int n)
{
    int i;

    /* A client that refuses our certificate closes at once: the session
     * ticket written after the handshake must not end this server (httpd
     * ignores SIGPIPE too). */
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < n; i++) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        int fd = accept(listener, NULL, NULL);
        SSL *ssl;
        char buf[64];

        SSL_CTX_use_certificate(ctx, certs[i].cert);
        SSL_CTX_use_PrivateKey(ctx, certs[i].key);
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1 && SSL_read(ssl, buf, sizeof(buf)) > 0) {
            SSL_write(ssl, "pong\r\n", 6);
            SSL_read(ssl, buf, sizeof(buf));    /* until the client ends */
        }
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        close(fd);
    }
    _exit(0);
}

static apr_socket_t *connect_to(apr_pool_t *pool, int port)
{
    apr_sockaddr_t *sa;
    apr_socket_t *sock;

    apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, (apr_port_t)port, 0,
                          pool);
    apr_socket_create(&sock, APR_INET, SOCK_STREAM, APR_PROTO_TCP, pool);
    apr_socket_timeout_set(sock, apr_time_from_sec(5));
    apr_socket_connect(sock, sa);
    return sock;
}

static const char *write_temp(const char *text)
{
    static char name[] = "/tmp/test_siptls_XXXXXX";
    int fd = mkstemp(name);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror("mkstemp");
        exit(1);
    }
    close(fd);
    return name;
}

/* After the first connection (a good certificate, a message each way),
 * what the client makes of each of the server's other certificates. */
typedef struct {
    const char *host;       /* what the client asks for */
    int rc;                 /* polycom_siptls_connect's answer */
    const char *what;
    const char *says;       /* in the reason of a refusal... */
    const char *also;       /* ...and this too, if set */
} tls_attempt;

static const tls_attempt attempts[] = {
    { "127.0.0.1", -1, "a self-signed certificate: refused",
      "is not trusted by", "self-signed certificate" },
    { "127.0.0.1", -1, "the CA's certificate for another host: refused",
      "(CN=sip.example.net) does not name 127.0.0.1", NULL },
    { "localhost", 0, "a host name: checked against the certificate's DNS "
      "names", NULL, NULL },
    { "localhost", -1, "a host name found only in the subject's CN: refused",
      "does not name localhost", NULL },
};

int main(void)
{
    apr_pool_t *pool;
    apr_socket_t *sock;
    made_cert ca, certs[5];
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    const char *error = NULL, *ca_file;
    polycom_siptls *tls;
    polycom_notify_target t;
    polycom_notify_outcome out;
    char buf[64];
    apr_size_t len;
    FILE *f;
    int listener, port;
    apr_size_t i;
    pid_t child;

    signal(SIGPIPE, SIG_IGN);
    apr_initialize();
    apr_pool_create(&pool, NULL);

    ca = make_cert("Test SIP CA", NULL, NULL);
    certs[0] = make_cert("proxy", "IP:127.0.0.1,DNS:localhost", &ca);
    certs[1] = make_cert("proxy", "IP:127.0.0.1", NULL);   /* no known CA */
    certs[2] = make_cert("sip.example.net", "DNS:sip.example.net", &ca);
    certs[3] = certs[0];
    /* The name only in the subject's CN, no DNS name: no match. */
    certs[4] = make_cert("localhost", "IP:127.0.0.1", &ca);

    /* PolycomResyncTLSCA's check. */
    tap_is_int(polycom_siptls_ca_check(pool, "/nonexistent/ca.pem", &error),
               -1, "a missing CA file is refused");
    tap_ok(error && strstr(error, "cannot read"), "saying so: %s", error);
    ca_file = write_temp("not a certificate\n");
    tap_is_int(polycom_siptls_ca_check(pool, ca_file, &error), -1,
               "a file without a PEM certificate is refused");
    tap_ok(error && strstr(error, "holds no PEM certificate"), "saying so: %s",
           error);
    f = fopen(ca_file, "w");
    PEM_write_X509(f, ca.cert);
    fclose(f);
    tap_is_int(polycom_siptls_ca_check(pool, ca_file, &error), 0,
               "a PEM CA certificate passes");
    /* A good certificate, then a block OpenSSL cannot read: the NOTIFY's
     * loader would refuse the file, so the directive does. */
    f = fopen(ca_file, "a");
    fputs("-----BEGIN CERTIFICATE-----\nMIIBroken!!\n"
          "-----END CERTIFICATE-----\n", f);
    fclose(f);
    tap_is_int(polycom_siptls_ca_check(pool, ca_file, &error), -1,
               "a CA file with a corrupt block after a good one is refused");
    tap_ok(error && strstr(error, "OpenSSL cannot load"), "saying so: %s",
           error);
    f = fopen(ca_file, "w");
    PEM_write_X509(f, ca.cert);
    fclose(f);

    /* No CA: nothing is sent, and the reason says what to set. */
    memset(&t, 0, sizeof(t));
    t.host = "127.0.0.1";
    t.port = 9;
    t.transport = POLYCOM_SIP_TLS;
    t.user = "1001";
    t.t1 = apr_time_from_msec(50);
    t.t2 = apr_time_from_sec(4);
    tap_is_int(polycom_notify_send(pool, &t, &out), -1,
               "TLS without a CA: not sent");
    tap_ok(out.transmissions == 0 && out.reason
           && strstr(out.reason, "set PolycomResyncTLSCA"),
           "the reason names the directive: %s", out.reason);

    /* Handshakes with a real TLS server. */
    listener = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0
        || listen(listener, 4) < 0
        || getsockname(listener, (struct sockaddr *)&addr, &alen) < 0) {
        perror("listen");
        return 1;
    }
    port = ntohs(addr.sin_port);
    child = fork();
    if (child == 0) {
        serve(listener, certs, 5);
    }
    close(listener);

    sock = connect_to(pool, port);
    tap_is_int(polycom_siptls_connect(pool, sock, ca_file,
                                      "127.0.0.1", apr_time_from_sec(5), &tls,
                                      &error), 0,
               "a certificate from the CA naming 127.0.0.1: connected");
    tap_ok(tls && polycom_siptls_send(tls, "ping\r\n", 6,
                                      apr_time_from_sec(5)) == APR_SUCCESS,
           "sent over TLS");
    len = sizeof(buf);
    tap_ok(tls && polycom_siptls_recv(tls, buf, &len, apr_time_from_sec(5))
                  == APR_SUCCESS && len == 6 && !memcmp(buf, "pong\r\n", 6),
           "and the answer read");
    polycom_siptls_close(tls);
    apr_socket_close(sock);

    /* The server's next certificates, one connection each (serve). */
    for (i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        const tls_attempt *a = &attempts[i];

        error = NULL;
        tls = NULL;
        sock = connect_to(pool, port);
        tap_is_int(polycom_siptls_connect(pool, sock, ca_file, a->host,
                                          apr_time_from_sec(5), &tls, &error),
                   a->rc, "%s (%s)", a->what, error ? error : "");
        if (a->rc < 0) {
            tap_ok(error && strstr(error, a->says)
                   && (!a->also || strstr(error, a->also)), "%s", error);
        }
        polycom_siptls_close(tls);
        apr_socket_close(sock);
    }

    waitpid(child, NULL, 0);
    unlink(ca_file);
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
