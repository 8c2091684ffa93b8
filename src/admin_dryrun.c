/* ?dry_run=1 on any write: the change is made inside its transaction, the
 * settings of every phone it reaches are computed there as they would be,
 * then everything is rolled back (the revision included) and each phone's
 * settings now are compared with them. The answer is that diff; nothing
 * is kept, not even the audit row.
 *
 * Which phones a change reaches comes from the history rows it made (the
 * triggers see every write): phones in a layer it touched, and phones it
 * created, changed or deleted.
 */

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_flat.h"
#include "polycom_param.h"

/* Phones whose diff a dry run details; the rest are counted. */
#define DRY_RUN_PHONES_MAX 100

typedef struct {
    const char *mac;
    admin_settings *after;          /* NULL: no such phone after */
} dry_run_phone;

struct admin_dry_run {
    apr_array_header_t *phones;     /* dry_run_phone */
    int affected;                   /* every phone reached */
};

int polycom_admin_dry_run_asked(const polycom_admin_request *in)
{
    const char *v = in->args ? apr_table_get(in->args, "dry_run") : NULL;

    return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

static int dry_run_add(const polycom_admin_request *in, admin_dry_run *dr,
                       apr_hash_t *seen, const char *mac)
{
    dry_run_phone *p;
    polycom_phone *phone;

    if (apr_hash_get(seen, mac, APR_HASH_KEY_STRING)) {
        return 0;
    }
    apr_hash_set(seen, mac, APR_HASH_KEY_STRING, mac);
    dr->affected++;
    if (dr->phones->nelts >= DRY_RUN_PHONES_MAX) {
        return 0;
    }
    p = apr_array_push(dr->phones);
    p->mac = mac;
    p->after = NULL;
    if (polycom_store_phone(in->db, mac, &phone) < 0) {
        return -1;
    }
    if (phone) {
        p->after = apr_palloc(in->pool, sizeof(*p->after));
        return polycom_admin_settings(in, phone, 1, p->after);
    }
    return 0;
}

admin_dry_run *polycom_admin_dry_run_after(const polycom_admin_request *in,
                                           const char *mark)
{
    admin_dry_run *dr = apr_pcalloc(in->pool, sizeof(*dr));
    apr_hash_t *seen = apr_hash_make(in->pool);
    apr_array_header_t *reached, *records;
    int i;

    dr->phones = apr_array_make(in->pool, 8, sizeof(dry_run_phone));
    if (polycom_store_select(in->db, POLYCOM_SQL_AFFECTED_AFTER, &reached,
                             mark, NULL) < 0
        || polycom_store_select(in->db, POLYCOM_SQL_HISTORY_PHONES, &records,
                                mark, NULL) < 0) {
        return NULL;
    }
    for (i = 0; i < reached->nelts + records->nelts; i++) {
        const polycom_row *row = i < reached->nelts
            ? APR_ARRAY_IDX(reached, i, const polycom_row *)
            : APR_ARRAY_IDX(records, i - reached->nelts, const polycom_row *);

        if (dry_run_add(in, dr, seen, polycom_row_get(row, "mac")) < 0) {
            return NULL;
        }
    }
    return dr;
}

/* A phone that is not there: nothing served. */
static admin_settings *dry_run_nothing(apr_pool_t *pool)
{
    admin_settings *none = apr_pcalloc(pool, sizeof(*none));

    none->layers = polycom_layers_make(pool, 0);
    none->served = apr_array_make(pool, 1, sizeof(polycom_param));
    return none;
}

/* @a params with each value as a snapshot keeps it (secrets digested). */
static apr_array_header_t *dry_run_comparable(apr_pool_t *pool,
                                              const apr_array_header_t *params)
{
    apr_array_header_t *out = apr_array_make(pool, params->nelts + 1,
                                             sizeof(polycom_param));
    int i;

    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);
        polycom_param *q = apr_array_push(out);

        q->name = p->name;
        q->value = polycom_flat_comparable(pool, p->name, p->value);
    }
    return out;
}

void polycom_admin_dry_run_answer(const polycom_admin_request *in,
                                  polycom_admin_response *out,
                                  const admin_dry_run *dr,
                                  const admin_audit_row *audit)
{
    json_t *phones = json_array();
    apr_int64_t revision;
    int i, changed = 0;

    for (i = 0; i < dr->phones->nelts; i++) {
        const dry_run_phone *p = &APR_ARRAY_IDX(dr->phones, i,
                                                dry_run_phone);
        admin_settings before, *after = p->after ? p->after
                                                 : dry_run_nothing(in->pool);
        polycom_phone *phone;
        json_t *entry;

        if (polycom_store_phone(in->db, p->mac, &phone) < 0
            || (phone && polycom_admin_settings(in, phone, 0,
                                                &before) < 0)) {
            json_decref(phones);
            polycom_admin_db_failed(in, out);
            return;
        }
        if (!phone) {
            before = *dry_run_nothing(in->pool);
        }
        if (before.etag && after->etag && !strcmp(before.etag, after->etag)) {
            continue;           /* reached, but its file stays the same */
        }
        changed++;
        entry = json_pack("{s:s, s:o, s:o}", "mac", p->mac,
            "etag_before", before.etag ? json_string(before.etag)
                                       : json_null(),
            "etag_after", after->etag ? json_string(after->etag)
                                      : json_null());
        polycom_admin_diff_lists(in->pool, after,
                                 dry_run_comparable(in->pool, before.served),
                                 entry);
        json_array_append_new(phones, entry);
    }
    if (polycom_store_revision(in->db, &revision) < 0) {
        json_decref(phones);
        polycom_admin_db_failed(in, out);
        return;
    }
    polycom_admin_answer(in, out, 200, json_pack(
        "{s:b, s:s?, s:s?, s:I, s:i, s:i, s:b, s:o}",
        "dry_run", 1, "action", audit->action, "target", audit->target,
        "revision", (json_int_t)revision, "affected", dr->affected,
        "changed", changed, "truncated", dr->affected > dr->phones->nelts,
        "phones", phones));
}
