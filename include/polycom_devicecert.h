/**
 * @file polycom_devicecert.h
 * @brief Factory certificates as they are in the field: verified against
 *        pinned Polycom device CAs, their dates not checked (pure C:
 *        OpenSSL and APR only).
 *
 * Older phones' factory certificates have expired, and chain to Polycom
 * CAs no trust store holds. A site pins those CAs (PolycomDeviceCA); a
 * certificate that chains to one of them, whatever its dates, names its
 * phone by its one subject CN. No other CA's certificate is accepted
 * here, expired or not.
 */
#ifndef POLYCOM_DEVICECERT_H
#define POLYCOM_DEVICECERT_H

#include <apr_pools.h>

typedef struct polycom_device_ca polycom_device_ca;

/** Load the CA certificates of a PEM file (freed with @a pool). NULL, and
 *  *error, when the file cannot be read or holds no certificate. */
polycom_device_ca *polycom_device_ca_load(apr_pool_t *pool, const char *file,
                                          const char **error);

/** The file the CAs came from. */
const char *polycom_device_ca_file(const polycom_device_ca *ca);

/**
 * Verify a client certificate (PEM) with the intermediate certificates the
 * client sent (PEM, @a nchain of them) against the pinned CAs, dates not
 * checked. 0 and @a mac (12 lower-case hex digits) when it chains to a
 * pinned CA and its subject has exactly one CN, a MAC ("0004f2e62aa4" or
 * with ':' or '-' between the bytes); else -1 and *error says why.
 */
int polycom_device_ca_verify(const polycom_device_ca *ca, apr_pool_t *pool,
                             const char *leaf_pem, const char *const *chain,
                             int nchain, char mac[13], const char **error);

/**
 * Whether a certificate (PEM) is valid now: 1 when its notBefore and
 * notAfter cover the present, 0 when they do not (*error says which), -1
 * when it cannot be read. Where PolycomDeviceCA is set, mod_ssl no longer
 * checks dates (the vhost's verify flags say X509_V_FLAG_NO_CHECK_TIME),
 * so Require polycom-phone checks them itself for any certificate that is
 * not from a pinned device CA.
 */
int polycom_cert_current(const char *pem, const char **error);

#endif /* POLYCOM_DEVICECERT_H */
