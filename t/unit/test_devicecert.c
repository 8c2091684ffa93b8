/* Unit tests of src/devicecert.c: a certificate from a pinned device CA
 * names its phone whatever its dates; one from another CA, or naming two
 * MACs, does not; polycom_cert_current tells a certificate within its
 * dates from an expired or not yet valid one. The CAs and certificates are
 * made here, with EC keys (quick to make). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "polycom_devicecert.h"
#include "tap.h"

#define DAY (24L * 3600L)

typedef struct {
    X509 *cert;
    EVP_PKEY *key;
} made_cert;

/* A certificate for the subject CNs given (NULL-terminated), valid from
 * @a from to @a to seconds from now, signed by @a issuer (NULL: itself). */
static made_cert make_cert(const char *const *cns, long from, long to,
                           const made_cert *issuer, int ca)
{
    made_cert made;
    X509_NAME *name;
    static long serial = 1;

    made.key = EVP_EC_gen("P-256");
    made.cert = X509_new();
    X509_set_version(made.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(made.cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(made.cert), from);
    X509_gmtime_adj(X509_getm_notAfter(made.cert), to);
    X509_set_pubkey(made.cert, made.key);
    name = X509_get_subject_name(made.cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *)"Polycom Inc.", -1, -1,
                               0);
    for (; *cns; cns++) {
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)*cns, -1, -1, 0);
    }
    X509_set_issuer_name(made.cert, issuer ? X509_get_subject_name(issuer->cert)
                                           : name);
    if (ca) {
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL,
                                                  NID_basic_constraints,
                                                  "critical,CA:TRUE");

        X509_add_ext(made.cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(made.cert, issuer ? issuer->key : made.key, EVP_sha256());
    return made;
}

static const char *pem_of(apr_pool_t *pool, X509 *cert)
{
    BIO *out = BIO_new(BIO_s_mem());
    char *data;
    long length;
    const char *pem;

    PEM_write_bio_X509(out, cert);
    length = BIO_get_mem_data(out, &data);
    pem = apr_pstrmemdup(pool, data, length);
    BIO_free(out);
    return pem;
}

int main(void)
{
    apr_pool_t *pool;
    const char *error = NULL;
    char path[] = "/tmp/polycom-devca-XXXXXX";
    char mac[13];
    const char *ca_cn[] = { "Test Polycom Device CA", NULL };
    const char *other_cn[] = { "Another CA", NULL };
    const char *one[] = { "0004f2e62aa4", NULL };
    const char *colons[] = { "00:04:F2:A1:B3:30", NULL };
    const char *two[] = { "0004f2e62aa4", "0004f2a1b330", NULL };
    const char *no_mac[] = { "not a mac", NULL };
    made_cert pinned, other, expired, foreign, both, spelled, current,
              future, nomac;
    polycom_device_ca *ca;
    FILE *out;
    int fd;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    pinned = make_cert(ca_cn, -3650 * DAY, 3650 * DAY, NULL, 1);
    other = make_cert(other_cn, -3650 * DAY, 3650 * DAY, NULL, 1);
    expired = make_cert(one, -3000 * DAY, -1000 * DAY, &pinned, 0);
    foreign = make_cert(one, -3000 * DAY, -1000 * DAY, &other, 0);
    both = make_cert(two, -3000 * DAY, -1000 * DAY, &pinned, 0);
    spelled = make_cert(colons, -3000 * DAY, -1000 * DAY, &pinned, 0);
    current = make_cert(one, -DAY, DAY, &other, 0);
    future = make_cert(one, DAY, 2 * DAY, &other, 0);
    nomac = make_cert(no_mac, -DAY, DAY, &pinned, 0);

    fd = mkstemp(path);
    out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        printf("Bail out! mkstemp failed\n");
        return 1;
    }
    PEM_write_X509(out, pinned.cert);
    fclose(out);

    tap_ok(!polycom_device_ca_load(pool, "/nonexistent/cas.pem", &error)
           && error && strstr(error, "cannot read"),
           "a CA file that cannot be read stops the configuration");
    ca = polycom_device_ca_load(pool, path, &error);
    tap_ok(ca != NULL, "the pinned CA file loads");
    tap_is_str(polycom_device_ca_file(ca), path, "and names its file");

    tap_is_int(polycom_device_ca_verify(ca, pool, pem_of(pool, expired.cert),
                                        NULL, 0, mac, &error), 0,
               "an expired certificate from the pinned CA is accepted");
    tap_is_str(mac, "0004f2e62aa4", "and names its phone");
    tap_is_int(polycom_device_ca_verify(ca, pool, pem_of(pool, spelled.cert),
                                        NULL, 0, mac, &error), 0,
               "a CN with colons and upper case is accepted");
    tap_is_str(mac, "0004f2a1b330", "as the same MAC in lower case");

    error = NULL;
    tap_is_int(polycom_device_ca_verify(ca, pool, pem_of(pool, foreign.cert),
                                        NULL, 0, mac, &error), -1,
               "an expired certificate from another CA is refused");
    tap_ok(error && strstr(error, "does not chain"), "because: %s",
           error ? error : "(none)");
    error = NULL;
    tap_is_int(polycom_device_ca_verify(ca, pool, pem_of(pool, current.cert),
                                        NULL, 0, mac, &error), -1,
               "so is a valid one from another CA");
    error = NULL;
    tap_is_int(polycom_device_ca_verify(ca, pool, pem_of(pool, both.cert),
                                        NULL, 0, mac, &error), -1,
               "a pinned certificate naming two MACs is refused");
    tap_ok(error && strstr(error, "more than one CN"), "because: %s",
           error ? error : "(none)");
    error = NULL;
    tap_is_int(polycom_device_ca_verify(ca, pool, pem_of(pool, nomac.cert),
                                        NULL, 0, mac, &error), -1,
               "a pinned certificate whose CN is no MAC is refused");
    tap_is_int(polycom_device_ca_verify(ca, pool, "not PEM", NULL, 0, mac,
                                        &error), -1,
               "something that is no certificate is refused");

    tap_is_int(polycom_cert_current(pem_of(pool, current.cert), &error), 1,
               "a certificate within its dates is current");
    tap_is_int(polycom_cert_current(pem_of(pool, expired.cert), &error), 0,
               "an expired one is not");
    tap_is_str(error, "it has expired", "and says so");
    tap_is_int(polycom_cert_current(pem_of(pool, future.cert), &error), 0,
               "nor one not valid yet");
    tap_is_str(error, "it is not valid yet", "and says so");
    tap_is_int(polycom_cert_current("not PEM", &error), -1,
               "something that is no certificate cannot be read");

    unlink(path);
    X509_free(pinned.cert);
    EVP_PKEY_free(pinned.key);
    X509_free(other.cert);
    EVP_PKEY_free(other.key);
    X509_free(expired.cert);
    EVP_PKEY_free(expired.key);
    X509_free(foreign.cert);
    EVP_PKEY_free(foreign.key);
    X509_free(both.cert);
    EVP_PKEY_free(both.key);
    X509_free(spelled.cert);
    EVP_PKEY_free(spelled.key);
    X509_free(current.cert);
    EVP_PKEY_free(current.key);
    X509_free(future.cert);
    EVP_PKEY_free(future.key);
    X509_free(nomac.cert);
    EVP_PKEY_free(nomac.key);
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
