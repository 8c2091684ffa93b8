/* Factory certificates verified against pinned device CAs with their dates
 * ignored (X509_V_FLAG_NO_CHECK_TIME): see polycom_devicecert.h. */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "polycom_devicecert.h"
#include "polycom_name.h"

struct polycom_device_ca {
    X509_STORE *store;
    const char *file;
};

static apr_status_t device_ca_free(void *data)
{
    X509_STORE_free(data);
    return APR_SUCCESS;
}

polycom_device_ca *polycom_device_ca_load(apr_pool_t *pool, const char *file,
                                          const char **error)
{
    polycom_device_ca *ca = apr_pcalloc(pool, sizeof(*ca));
    BIO *in = BIO_new_file(file, "r");
    X509 *cert;
    int count = 0;

    if (!in) {
        *error = apr_psprintf(pool, "cannot read %s", file);
        return NULL;
    }
    ca->store = X509_STORE_new();
    ca->file = apr_pstrdup(pool, file);
    apr_pool_cleanup_register(pool, ca->store, device_ca_free,
                              apr_pool_cleanup_null);
    while ((cert = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        X509_STORE_add_cert(ca->store, cert);
        X509_free(cert);
        count++;
    }
    ERR_clear_error();                  /* the end of the file */
    BIO_free(in);
    if (!count) {
        *error = apr_psprintf(pool, "%s holds no PEM certificate", file);
        return NULL;
    }
    return ca;
}

const char *polycom_device_ca_file(const polycom_device_ca *ca)
{
    return ca->file;
}

static X509 *device_cert_parse(const char *pem)
{
    BIO *in = BIO_new_mem_buf(pem, -1);
    X509 *cert = in ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;

    BIO_free(in);
    return cert;
}

/* The one CN of the subject as a MAC; a subject with two CNs names no
 * phone (which one would count is nobody's decision). */
static int device_cert_mac(X509 *cert, char mac[13], const char **why)
{
    X509_NAME *subject = X509_get_subject_name(cert);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    const unsigned char *cn;
    int i, n = 0, length;
    ASN1_STRING *data;

    if (at < 0) {
        *why = "its subject has no CN";
        return -1;
    }
    if (X509_NAME_get_index_by_NID(subject, NID_commonName, at) >= 0) {
        *why = "its subject has more than one CN";
        return -1;
    }
    data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    cn = ASN1_STRING_get0_data(data);
    length = ASN1_STRING_length(data);
    for (i = 0; i < length && n < 13; i++) {
        if (cn[i] == ':' || cn[i] == '-') {
            continue;
        }
        mac[n++] = (char)apr_tolower(cn[i]);
    }
    if (n != 12 || i != length) {
        *why = "its CN is not a MAC";
        return -1;
    }
    mac[12] = '\0';
    if (!polycom_mac_valid(mac)) {
        *why = "its CN is not a MAC";
        return -1;
    }
    return 0;
}

int polycom_device_ca_verify(const polycom_device_ca *ca, apr_pool_t *pool,
                             const char *leaf_pem, const char *const *chain,
                             int nchain, char mac[13], const char **error)
{
    X509 *leaf = leaf_pem ? device_cert_parse(leaf_pem) : NULL;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    const char *why = NULL;
    int i, rv = -1;

    if (!leaf || !untrusted || !ctx) {
        why = "no certificate could be read";
        goto done;
    }
    for (i = 0; i < nchain; i++) {
        X509 *c = device_cert_parse(chain[i]);

        if (c && !sk_X509_push(untrusted, c)) {
            X509_free(c);
        }
    }
    if (!X509_STORE_CTX_init(ctx, ca->store, leaf, untrusted)) {
        why = "verification could not start";
        goto done;
    }
    /* Expired or not yet valid alike: factory certificates outlive their
     * dates, and the phone's clock may be anything at boot. Everything
     * else (signatures, the chain up to a pinned CA) is checked. */
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(ctx) != 1) {
        why = apr_psprintf(pool, "it does not chain to a pinned device CA "
                           "(%s)", X509_verify_cert_error_string(
                               X509_STORE_CTX_get_error(ctx)));
        goto done;
    }
    rv = device_cert_mac(leaf, mac, &why);

done:
    if (rv && error) {
        *error = why;
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    ERR_clear_error();
    return rv;
}

int polycom_cert_current(const char *pem, const char **error)
{
    X509 *cert = pem ? device_cert_parse(pem) : NULL;
    int rv = 1;

    if (!cert) {
        ERR_clear_error();
        *error = "the certificate could not be read";
        return -1;
    }
    /* X509_cmp_current_time: 0 is an unreadable date, which counts as out
     * of date (fail closed). */
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
        *error = "it is not valid yet";
        rv = 0;
    }
    else if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
        *error = "it has expired";
        rv = 0;
    }
    X509_free(cert);
    return rv;
}
