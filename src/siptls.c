/* The TLS client of a NOTIFY over TLS: see polycom_siptls.h. */

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <apr_portable.h>
#include <apr_strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "polycom_siptls.h"

struct polycom_siptls {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
};

static apr_status_t siptls_free(void *data)
{
    polycom_siptls *tls = data;

    SSL_free(tls->ssl);
    SSL_CTX_free(tls->ctx);
    tls->ssl = NULL;
    tls->ctx = NULL;
    return APR_SUCCESS;
}

/* OpenSSL's last error in its own words, or @a fallback. */
static const char *siptls_error(apr_pool_t *pool, const char *fallback)
{
    unsigned long e = ERR_get_error();
    char text[256];

    ERR_clear_error();
    if (!e) {
        return fallback;
    }
    ERR_error_string_n(e, text, sizeof(text));
    return apr_pstrdup(pool, text);
}

int polycom_siptls_ca_check(apr_pool_t *pool, const char *file,
                            const char **error)
{
    BIO *in = BIO_new_file(file, "r");
    SSL_CTX *ctx;
    X509 *cert;
    int count = 0, loaded;

    if (!in) {
        ERR_clear_error();
        *error = apr_psprintf(pool, "cannot read %s", file);
        return -1;
    }
    while ((cert = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        X509_free(cert);
        count++;
    }
    ERR_clear_error();                  /* the end of the file */
    BIO_free(in);
    if (!count) {
        *error = apr_psprintf(pool, "%s holds no PEM certificate", file);
        return -1;
    }
    /* The loop above stops quietly at a block it cannot read; the NOTIFY
     * loads the file with SSL_CTX_load_verify_locations, which refuses
     * the whole file then. Ask the same function here, so that a file
     * accepted at start-up never fails every TLS job later. */
    ctx = SSL_CTX_new(TLS_client_method());
    loaded = ctx && SSL_CTX_load_verify_locations(ctx, file, NULL) == 1;
    SSL_CTX_free(ctx);
    if (!loaded) {
        *error = apr_psprintf(pool, "OpenSSL cannot load %s: %s", file,
                              siptls_error(pool, "no reason given"));
        return -1;
    }
    return 0;
}

/* Wait until the socket can do what OpenSSL asked for (@a want is
 * SSL_ERROR_WANT_READ or _WRITE), at most until @a deadline: the socket is
 * non-blocking (APR makes it so once it has a timeout). */
static apr_status_t siptls_wait(polycom_siptls *tls, int want,
                                apr_time_t deadline)
{
    struct pollfd p;
    apr_interval_time_t left = deadline - apr_time_now();
    int rc;

    if (left <= 0) {
        return APR_TIMEUP;
    }
    p.fd = tls->fd;
    p.events = want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
    p.revents = 0;
    do {
        rc = poll(&p, 1, (int)((left + 999) / 1000));
    } while (rc < 0 && errno == EINTR);
    return rc > 0 ? APR_SUCCESS
           : rc == 0 ? APR_TIMEUP : APR_FROM_OS_ERROR(errno);
}

/* The subject as RFC 2253 writes it (special and control characters
 * escaped: it goes into the job's reason and the log). */
static const char *siptls_subject(apr_pool_t *pool, X509 *cert)
{
    BIO *out = BIO_new(BIO_s_mem());
    const char *text = "no certificate";
    char *data;
    long len;

    if (out && cert
        && X509_NAME_print_ex(out, X509_get_subject_name(cert), 0,
                              XN_FLAG_RFC2253) >= 0
        && (len = BIO_get_mem_data(out, &data)) > 0) {
        text = apr_pstrmemdup(pool, data, (apr_size_t)len);
    }
    BIO_free(out);
    return text;
}

/* A name is matched against the certificate's DNS names only (RFC 6125):
 * no partial wildcards such as f*.example.com, and no falling back to the
 * subject's CN when the certificate has no DNS name. */
#define SIPTLS_HOST_FLAGS (X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS \
                           | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT)

static int siptls_is_ip(const char *host)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, host, addr) == 1
           || inet_pton(AF_INET6, host, addr) == 1;
}

int polycom_siptls_connect(apr_pool_t *pool, apr_socket_t *sock,
                           const char *ca_file, const char *host,
                           apr_interval_time_t timeout, polycom_siptls **out,
                           const char **error)
{
    polycom_siptls *tls = apr_pcalloc(pool, sizeof(*tls));
    apr_time_t deadline = apr_time_now() + timeout;
    apr_os_sock_t fd;
    X509 *peer;
    int ip = siptls_is_ip(host), rc, named;

    *out = NULL;
    ERR_clear_error();
    if (apr_os_sock_get(&fd, sock) != APR_SUCCESS) {
        *error = "no socket";
        return -1;
    }
    tls->fd = fd;
    tls->ctx = SSL_CTX_new(TLS_client_method());
    if (!tls->ctx) {
        *error = siptls_error(pool, "no TLS context");
        return -1;
    }
    apr_pool_cleanup_register(pool, tls, siptls_free, apr_pool_cleanup_null);
    SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
    /* Read at every send: a CA file the admin replaced is used at once,
     * and one removed since start-up fails the job, saying so. */
    if (SSL_CTX_load_verify_locations(tls->ctx, ca_file, NULL) != 1) {
        *error = apr_psprintf(pool, "cannot load the CA file %s "
                              "(PolycomResyncTLSCA): %s", ca_file,
                              siptls_error(pool, "no certificate"));
        return -1;
    }
    SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, NULL);
    tls->ssl = SSL_new(tls->ctx);
    if (!tls->ssl || SSL_set_fd(tls->ssl, fd) != 1
        || (!ip && SSL_set_tlsext_host_name(tls->ssl, host) != 1)) {
        *error = siptls_error(pool, "cannot start a TLS session");
        return -1;
    }
    for (;;) {
        apr_status_t rv;
        int err;

        ERR_clear_error();
        rc = SSL_connect(tls->ssl);
        if (rc == 1) {
            break;
        }
        err = SSL_get_error(tls->ssl, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            long verify = SSL_get_verify_result(tls->ssl);

            *error = verify != X509_V_OK
                ? apr_psprintf(pool, "the certificate of %s is not "
                               "trusted by %s (PolycomResyncTLSCA): %s", host,
                               ca_file, X509_verify_cert_error_string(verify))
                : apr_psprintf(pool, "TLS handshake with %s failed: %s",
                               host, siptls_error(pool, "connection closed"));
            return -1;
        }
        if ((rv = siptls_wait(tls, err, deadline)) != APR_SUCCESS) {
            *error = apr_psprintf(pool, "TLS handshake with %s: %s", host,
                                  APR_STATUS_IS_TIMEUP(rv) ? "timeout"
                                  : "socket error");
            return -1;
        }
    }
    /* The chain is trusted; now it must be the host we meant to reach. */
    peer = SSL_get1_peer_certificate(tls->ssl);
    named = peer && (ip ? X509_check_ip_asc(peer, host, 0)
                        : X509_check_host(peer, host, 0, SIPTLS_HOST_FLAGS,
                                          NULL)) == 1;
    if (!named) {
        *error = apr_psprintf(pool, "the certificate %s presented (%s) does "
                              "not name %s in its subjectAltName", host,
                              siptls_subject(pool, peer), host);
    }
    X509_free(peer);
    if (!named) {
        return -1;
    }
    *out = tls;
    return 0;
}

apr_status_t polycom_siptls_send(polycom_siptls *tls, const char *buf,
                                 apr_size_t len, apr_interval_time_t timeout)
{
    apr_time_t deadline = apr_time_now() + timeout;
    apr_status_t rv;

    while (len) {
        int n, err;

        ERR_clear_error();
        n = SSL_write(tls->ssl, buf, len > 16384 ? 16384 : (int)len);
        if (n > 0) {
            buf += n;
            len -= (apr_size_t)n;
            continue;
        }
        err = SSL_get_error(tls->ssl, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            return APR_EGENERAL;
        }
        if ((rv = siptls_wait(tls, err, deadline)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t polycom_siptls_recv(polycom_siptls *tls, char *buf,
                                 apr_size_t *len, apr_interval_time_t timeout)
{
    apr_time_t deadline = apr_time_now() + timeout;
    apr_size_t want = *len;
    apr_status_t rv;

    *len = 0;
    for (;;) {
        int n, err;

        ERR_clear_error();
        n = SSL_read(tls->ssl, buf, want > 16384 ? 16384 : (int)want);
        if (n > 0) {
            *len = (apr_size_t)n;
            return APR_SUCCESS;
        }
        err = SSL_get_error(tls->ssl, n);
        if (err == SSL_ERROR_ZERO_RETURN) {
            return APR_EOF;
        }
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            return APR_EOF;
        }
        if ((rv = siptls_wait(tls, err, deadline)) != APR_SUCCESS) {
            return rv;
        }
    }
}

void polycom_siptls_close(polycom_siptls *tls)
{
    if (tls && tls->ssl) {
        ERR_clear_error();
        SSL_shutdown(tls->ssl);         /* non-blocking: best effort */
        ERR_clear_error();
    }
}
