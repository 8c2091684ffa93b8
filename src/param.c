/* Polycom parameters: which names and values a configuration file can
 * carry, and which parameters are secrets. */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <libxml/chvalid.h>
#include <libxml/xmlstring.h>

#include "polycom_param.h"

#define PARAM_NAME_MAX 255

int polycom_param_name_valid(const char *name)
{
    apr_size_t i;

    if (!name || !apr_isalpha(name[0])) {
        return 0;
    }
    for (i = 1; name[i]; i++) {
        if (i >= PARAM_NAME_MAX
            || !(apr_isalnum(name[i]) || name[i] == '.' || name[i] == '_'
                 || name[i] == '-')) {
            return 0;
        }
    }
    return 1;
}

int polycom_param_value_valid(const char *value)
{
    const unsigned char *p = (const unsigned char *)value;
    int left;

    if (!value) {
        return 1;
    }
    left = (int)strlen(value);
    if ((apr_size_t)left != strlen(value)) {
        return 0;       /* longer than an int: not a parameter value */
    }
    /* xmlGetUTF8Char of libxml2 2.9 takes a stray continuation byte for a
     * lead byte (found by fuzzing); xmlCheckUTF8 does not. */
    if (!xmlCheckUTF8(p)) {
        return 0;
    }
    while (left > 0) {
        int clen = left;
        int c = xmlGetUTF8Char(p, &clen);

        if (c < 0 || clen <= 0 || !xmlIsCharQ(c)) {
            return 0;
        }
        p += clen;
        left -= clen;
    }
    return 1;
}

static int param_contains_nocase(const char *haystack, const char *needle)
{
    apr_size_t nlen = strlen(needle);

    for (; *haystack; haystack++) {
        if (strncasecmp(haystack, needle, nlen) == 0) {
            return 1;
        }
    }
    return 0;
}

int polycom_param_is_secret(const char *name)
{
    /* Anything that smells of a credential is withheld from files that
     * unknown phones may read: better one setting too few there than one
     * password too many. */
    static const char *const secret_words[] = {
        "password", "privatekey", "secret", "passphrase"
    };
    static const char *const secret_suffixes[] = {
        ".auth.userId", "device.prov.user"
    };
    apr_size_t i, len;

    if (!name) {
        return 0;
    }
    for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
        if (param_contains_nocase(name, secret_words[i])) {
            return 1;
        }
    }
    len = strlen(name);
    for (i = 0; i < sizeof(secret_suffixes) / sizeof(secret_suffixes[0]);
         i++) {
        apr_size_t slen = strlen(secret_suffixes[i]);

        if (len >= slen
            && strcasecmp(name + len - slen, secret_suffixes[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int param_by_name(const void *a, const void *b)
{
    return strcmp(((const polycom_param *)a)->name,
                  ((const polycom_param *)b)->name);
}

void polycom_params_sort(apr_array_header_t *params)
{
    if (params->nelts > 1) {
        qsort(params->elts, (size_t)params->nelts, sizeof(polycom_param),
              param_by_name);
    }
}

apr_array_header_t *polycom_params_merge(apr_pool_t *pool,
                                         const apr_array_header_t *base,
                                         const apr_array_header_t *own)
{
    apr_array_header_t *all = apr_array_make(pool, base->nelts + own->nelts,
                                             sizeof(polycom_param));
    int b = 0, o = 0;

    while (b < base->nelts || o < own->nelts) {
        const polycom_param *bp = b < base->nelts
            ? &APR_ARRAY_IDX(base, b, polycom_param) : NULL;
        const polycom_param *op = o < own->nelts
            ? &APR_ARRAY_IDX(own, o, polycom_param) : NULL;
        int cmp = !bp ? 1 : !op ? -1 : strcmp(bp->name, op->name);

        if (cmp < 0) {
            APR_ARRAY_PUSH(all, polycom_param) = *bp;
            b++;
            continue;
        }
        APR_ARRAY_PUSH(all, polycom_param) = *op;
        o++;
        b += cmp == 0;          /* the phone's own value wins */
    }
    return all;
}

const char *polycom_params_pack(apr_pool_t *pool,
                                const apr_array_header_t *params,
                                apr_size_t *len)
{
    apr_size_t size = 0, at = 0;
    char *packed;
    int i;

    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        size += strlen(p->name) + strlen(p->value ? p->value : "") + 2;
    }
    packed = apr_palloc(pool, size + 1);
    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);
        apr_size_t n = strlen(p->name) + 1;
        const char *value = p->value ? p->value : "";
        apr_size_t v = strlen(value) + 1;

        memcpy(packed + at, p->name, n);
        memcpy(packed + at + n, value, v);
        at += n + v;
    }
    packed[size] = '\0';
    *len = size;
    return packed;
}

apr_array_header_t *polycom_params_unpack(apr_pool_t *pool,
                                          const char *packed,
                                          apr_size_t len)
{
    apr_array_header_t *params = apr_array_make(pool, 16,
                                                sizeof(polycom_param));
    const char *end = packed + len;

    while (packed < end) {
        polycom_param *p = apr_array_push(params);

        p->name = packed;
        packed += strlen(packed) + 1;
        p->value = packed < end ? packed : "";
        packed += packed < end ? strlen(packed) + 1 : 0;
    }
    return params;
}
