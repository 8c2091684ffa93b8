/**
 * @file polycom_digest.h
 * @brief MD5 in hex and the ETags made from it (pure C: APR only).
 */
#ifndef POLYCOM_DIGEST_H
#define POLYCOM_DIGEST_H

#include <apr_pools.h>

/** MD5 of @a len bytes as 32 lower-case hex digits (ETags, SIP digest,
 *  HTTP Digest HA1). */
const char *polycom_md5_hex(apr_pool_t *pool, const void *data,
                            apr_size_t len);

/** A strong ETag ("\"<hex>\"") derived from the body's bytes. */
const char *polycom_etag(apr_pool_t *pool, const char *body, apr_size_t len);

#endif /* POLYCOM_DIGEST_H */
