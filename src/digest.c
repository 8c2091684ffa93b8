/* MD5 in hex: the ETags of served files and the digests of SIP and HTTP
 * authentication. */

#include <apr_md5.h>
#include <apr_strings.h>

#include "polycom_digest.h"

const char *polycom_md5_hex(apr_pool_t *pool, const void *data,
                            apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char digest[APR_MD5_DIGESTSIZE];
    char *hex = apr_palloc(pool, 2 * APR_MD5_DIGESTSIZE + 1);
    int i;

    apr_md5(digest, data, len);
    for (i = 0; i < APR_MD5_DIGESTSIZE; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0xf];
    }
    hex[2 * APR_MD5_DIGESTSIZE] = '\0';
    return hex;
}

const char *polycom_etag(apr_pool_t *pool, const char *body, apr_size_t len)
{
    return apr_pstrcat(pool, "\"", polycom_md5_hex(pool, body, len), "\"",
                       NULL);
}
