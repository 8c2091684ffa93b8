/* Configurations flattened to name -> value, the form in which two of them
 * can be compared: an override file a phone uploaded, and the snapshot of
 * the parameters a phone was served.
 *
 * A snapshot never holds a secret in clear: a secret's value is replaced
 * by a digest of its name and value, which tells "changed" from "same"
 * and nothing else.
 */

#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include <jansson.h>
#include <libxml/xmlreader.h>

#include "polycom_flat.h"
#include "polycom_param.h"

/* Later attributes of the same name replace earlier ones in place. The
 * index maps a name to its place in the array (which moves as it grows,
 * so no pointer into it is kept). */
static void flat_set(apr_pool_t *pool, apr_array_header_t *params,
                     apr_hash_t *index, const char *name, const char *value)
{
    int *at = apr_hash_get(index, name, APR_HASH_KEY_STRING);
    polycom_param *p;

    if (!at) {
        at = apr_palloc(pool, sizeof(*at));
        *at = params->nelts;
        p = apr_array_push(params);
        p->name = apr_pstrdup(pool, name);
        apr_hash_set(index, p->name, APR_HASH_KEY_STRING, at);
    }
    p = &APR_ARRAY_IDX(params, *at, polycom_param);
    p->value = apr_pstrdup(pool, value);
}

int polycom_flat_from_xml(apr_pool_t *pool, const char *body,
                          apr_size_t len, apr_array_header_t **params,
                          const char **error)
{
    apr_hash_t *index = apr_hash_make(pool);
    xmlTextReaderPtr reader;
    int rv;

    *params = apr_array_make(pool, 16, sizeof(polycom_param));
    if (len > (apr_size_t)0x7fffffff) {
        *error = "the file is too large";
        return -1;
    }
    /* As the upload check reads it: no entities, no DTD, no network, no
     * word to stderr. */
    reader = xmlReaderForMemory(body, (int)len, "override.cfg", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR
                                | XML_PARSE_NOWARNING);
    if (!reader) {
        *error = "libxml2 could not read the file";
        return -1;
    }
    while ((rv = xmlTextReaderRead(reader)) == 1) {
        if (xmlTextReaderNodeType(reader) != XML_READER_TYPE_ELEMENT) {
            continue;
        }
        while (xmlTextReaderMoveToNextAttribute(reader) == 1) {
            const xmlChar *name = xmlTextReaderConstName(reader);
            const xmlChar *value = xmlTextReaderConstValue(reader);

            if (name && polycom_param_name_valid((const char *)name)) {
                flat_set(pool, *params, index, (const char *)name,
                         value ? (const char *)value : "");
            }
        }
    }
    xmlFreeTextReader(reader);
    if (rv < 0) {
        *error = "not well-formed XML";
        return -1;
    }
    return 0;
}

const char *polycom_flat_secret_digest(apr_pool_t *pool, const char *name,
                                       const char *value)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    char out[5 + 2 * APR_SHA1_DIGESTSIZE + 1] = "sha1:";
    apr_sha1_ctx_t ctx;
    int i;

    apr_sha1_init(&ctx);
    apr_sha1_update(&ctx, name, (unsigned int)strlen(name) + 1);
    apr_sha1_update(&ctx, value, (unsigned int)strlen(value));
    apr_sha1_final(digest, &ctx);
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        out[5 + 2 * i] = hex[digest[i] >> 4];
        out[5 + 2 * i + 1] = hex[digest[i] & 15];
    }
    out[sizeof(out) - 1] = '\0';
    return apr_pstrdup(pool, out);
}

const char *polycom_flat_comparable(apr_pool_t *pool, const char *name,
                                    const char *value)
{
    return polycom_param_is_secret(name)
           ? polycom_flat_secret_digest(pool, name, value ? value : "")
           : value;
}

const char *polycom_flat_snapshot(apr_pool_t *pool,
                                  const apr_array_header_t *params)
{
    json_t *object = json_object();
    const char *out = NULL;
    char *text;
    int i;

    if (!object) {
        return NULL;
    }
    /* Names and values were checked when they were rendered (strict
     * UTF-8, polycom_param_value_valid), so jansson's own UTF-8 checks
     * are skipped; and the keys are dumped in the served order, which is
     * the same for the same ETag, instead of sorted (the reader,
     * polycom_flat_from_snapshot, sorts). */
    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        json_object_set_new_nocheck(object, p->name, json_string_nocheck(
            polycom_flat_comparable(pool, p->name, p->value)));
    }
    text = json_dumps(object, JSON_COMPACT);
    json_decref(object);
    if (text && strlen(text) <= POLYCOM_SNAPSHOT_MAX) {
        out = apr_pstrdup(pool, text);
    }
    free(text);
    return out;
}

static int flat_name_cmp(const void *a, const void *b)
{
    return strcmp(((const polycom_param *)a)->name,
                  ((const polycom_param *)b)->name);
}

apr_array_header_t *polycom_flat_from_snapshot(apr_pool_t *pool,
                                               const char *text)
{
    json_t *object = text ? json_loads(text, 0, NULL) : NULL, *value;
    apr_array_header_t *params;
    const char *name;

    if (!json_is_object(object)) {
        json_decref(object);
        return NULL;
    }
    params = apr_array_make(pool, (int)json_object_size(object) + 1,
                            sizeof(polycom_param));
    json_object_foreach(object, name, value) {
        polycom_param *p = apr_array_push(params);

        p->name = apr_pstrdup(pool, name);
        p->value = apr_pstrdup(pool, json_is_string(value)
                                     ? json_string_value(value) : "");
    }
    json_decref(object);
    qsort(params->elts, (size_t)params->nelts, sizeof(polycom_param),
          flat_name_cmp);
    return params;
}

struct polycom_snapshot_filter {
    apr_size_t slots;
    volatile apr_uint64_t *hashes;
};

polycom_snapshot_filter *polycom_snapshot_filter_make(apr_pool_t *pool,
                                                      apr_size_t slots)
{
    polycom_snapshot_filter *f = apr_palloc(pool, sizeof(*f));

    f->slots = slots ? slots : 1;
    f->hashes = apr_pcalloc(pool, f->slots * sizeof(*f->hashes));
    return f;
}

/* FNV-1a: the ETag is an MD5 already, any spread will do; 0 is "empty". */
static apr_uint64_t flat_hash(const char *text)
{
    apr_uint64_t h = APR_UINT64_C(14695981039346656037);

    for (; *text; text++) {
        h = (h ^ (unsigned char)*text) * APR_UINT64_C(1099511628211);
    }
    return h ? h : 1;
}

int polycom_snapshot_filter_add(polycom_snapshot_filter *filter,
                                const char *etag)
{
    apr_uint64_t h = flat_hash(etag);
    volatile apr_uint64_t *slot = &filter->hashes[h % filter->slots];

    if (apr_atomic_read64(slot) == h) {
        return 0;
    }
    apr_atomic_set64(slot, h);
    return 1;
}
