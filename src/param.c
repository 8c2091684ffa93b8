/* Polycom parameters: which names and values a configuration file can
 * carry, and which parameters are secrets. */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

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

/* The whole check that a value can go into an attribute as it is: UTF-8
 * in its shortest form (no overlong sequence, no surrogate, nothing past
 * U+10FFFF) of characters XML 1.0 allows (Char: tab, LF, CR, U+0020 up,
 * without U+FFFE and U+FFFF). The writer escapes the rest, so a value
 * that passes here cannot make a document a parser refuses: rendered
 * documents are not parsed again (t/fuzz/fuzz_render.c parses every one
 * it renders instead). One pass over the bytes, no call per character:
 * libxml2's xmlGetUTF8Char passed overlong forms and took a stray
 * continuation byte for a lead byte (both found by fuzzing). */
int polycom_param_value_valid(const char *value)
{
    const unsigned char *p = (const unsigned char *)value;

    if (!value) {
        return 1;
    }
    while (*p) {
        unsigned c = *p;
        unsigned min;
        int more, i;

        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                return 0;
            }
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            c &= 0x1F, more = 1, min = 0x80;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            c &= 0x0F, more = 2, min = 0x800;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            c &= 0x07, more = 3, min = 0x10000;
        }
        else {
            return 0;   /* a continuation byte, C0/C1 or F5-FF: no lead */
        }
        for (i = 1; i <= more; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                return 0;       /* also stops at the terminating NUL */
            }
            c = (c << 6) | (p[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)
            || c == 0xFFFE || c == 0xFFFF) {
            return 0;
        }
        p += more + 1;
    }
    return 1;
}

/* @a needle in lower case. The first letter is compared before the call:
 * every settings file asks this of each of its names (its snapshot,
 * polycom_flat_snapshot), and a call per position was a tenth of a cold
 * render (callgrind, make bench's fleet). */
static int param_contains_nocase(const char *haystack, const char *needle)
{
    apr_size_t nlen = strlen(needle);

    for (; *haystack; haystack++) {
        if (apr_tolower(*haystack) == needle[0]
            && strncasecmp(haystack, needle, nlen) == 0) {
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
