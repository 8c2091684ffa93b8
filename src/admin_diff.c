/* GET phones/{mac}/diff: what the phone last fetched (or fetched at an
 * earlier time, or an earlier file by its ETag) against what it would get
 * now, parameter by parameter, each with the layer it comes from now; and
 * the parameters the phone's own override files shadow.
 *
 * What a phone fetched is the snapshot of its ETag (table snapshots,
 * written by the check-in writer): secrets there are digests, compared
 * with the digests of the values now, and shown only as the mask.
 */

#include <string.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_flat.h"
#include "polycom_name.h"
#include "polycom_param.h"

/* An ETag as the API is given it: 32 hex digits, quoted or not. */
static const char *admin_etag_arg(apr_pool_t *pool, const char *text)
{
    apr_size_t len = strlen(text), i;

    if (len == 34 && text[0] == '"' && text[33] == '"') {
        text++;
        len -= 2;
    }
    if (len != 32) {
        return NULL;
    }
    for (i = 0; i < len; i++) {
        if (!apr_isxdigit(text[i])) {
            return NULL;
        }
    }
    return apr_pstrcat(pool, "\"", apr_pstrmemdup(pool, text, len), "\"",
                       NULL);
}

/* Where the diff starts: the ETag named by ?from= (an ETag, or a time:
 * the phone's last fetch at or before it), or the last fetch. *etag is
 * "" when the phone fetched nothing then; -1 with the answer made. */
static int admin_diff_from(const polycom_admin_request *in,
                           polycom_admin_response *out, const char *mac,
                           const char **etag, const char **time_us)
{
    const char *from = apr_table_get(in->args, "from");
    apr_array_header_t *rows;
    apr_time_t t;

    *time_us = "";
    if (!from) {
        *etag = polycom_admin_last_fetch(in, mac);
        if (!*etag) {
            polycom_admin_db_failed(in, out);
            return -1;
        }
        return 0;
    }
    if ((*etag = admin_etag_arg(in->pool, from)) != NULL) {
        return 0;
    }
    if (polycom_admin_parse_time(from, &t) < 0) {
        polycom_admin_problem(in->pool, out, 400, "from is an ETag, a time "
                              "(2026-11-23T21:00:00Z) or seconds since the "
                              "epoch");
        return -1;
    }
    if (polycom_store_select(in->db, POLYCOM_SQL_FETCH_AT, &rows, mac,
                             polycom_name_file(in->pool, mac,
                                               POLYCOM_FILE_SETTINGS),
                             apr_psprintf(in->pool, "%" APR_TIME_T_FMT, t),
                             NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return -1;
    }
    *etag = rows->nelts ? polycom_rows_first(rows, "etag") : "";
    *time_us = rows->nelts ? polycom_rows_first(rows, "time_us") : "";
    return 0;
}

/* The served list with each value as a snapshot keeps it, by name. */
static apr_hash_t *admin_comparable(apr_pool_t *pool,
                                    const apr_array_header_t *params)
{
    apr_hash_t *by_name = apr_hash_make(pool);
    int i;

    for (i = 0; params && i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        apr_hash_set(by_name, p->name, APR_HASH_KEY_STRING,
                     polycom_flat_comparable(pool, p->name, p->value));
    }
    return by_name;
}

/* One entry of a diff with where the name comes from now. */
static json_t *admin_diff_entry(apr_pool_t *pool, const admin_settings *now,
                                const char *name)
{
    const char *layer, *key;
    const polycom_layered_param *lp;

    polycom_admin_origin(now, name, &layer, &key, &lp);
    return json_pack("{s:s, s:s, s:s}", "name", name, "layer", layer,
                     "key", key);
}

void polycom_admin_diff_lists(apr_pool_t *pool, const admin_settings *now,
                              const apr_array_header_t *before,
                              json_t *doc)
{
    apr_hash_t *old = admin_comparable(pool, NULL);
    apr_hash_t *cur = admin_comparable(pool, now->served);
    json_t *added = json_array(), *removed = json_array();
    json_t *changed = json_array();
    int i;

    for (i = 0; before && i < before->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(before, i, polycom_param);

        apr_hash_set(old, p->name, APR_HASH_KEY_STRING, p->value);
        if (!apr_hash_get(cur, p->name, APR_HASH_KEY_STRING)) {
            json_array_append_new(removed, json_pack("{s:s, s:s}",
                "name", p->name,
                "value", polycom_admin_shown(pool, p->name, p->value)));
        }
    }
    for (i = 0; i < now->served->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(now->served, i,
                                                polycom_param);
        const char *was = apr_hash_get(old, p->name, APR_HASH_KEY_STRING);
        const char *is = apr_hash_get(cur, p->name, APR_HASH_KEY_STRING);
        json_t *entry;

        if (was && !strcmp(was, is)) {
            continue;
        }
        entry = admin_diff_entry(pool, now, p->name);
        json_object_set_new(entry, "value", json_string(
            polycom_admin_shown(pool, p->name, p->value)));
        if (was) {
            json_object_set_new(entry, "was", json_string(
                polycom_admin_shown(pool, p->name, was)));
        }
        json_array_append_new(was ? changed : added, entry);
    }
    json_object_set_new(doc, "added", added);
    json_object_set_new(doc, "removed", removed);
    json_object_set_new(doc, "changed", changed);
}

/* Served parameters an override file of the phone sets too. */
static json_t *admin_shadowed(apr_pool_t *pool, const admin_settings *now,
                              const apr_array_header_t *overrides)
{
    json_t *list = json_array();
    int i;

    for (i = 0; i < now->served->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(now->served, i,
                                                polycom_param);
        json_t *by = polycom_admin_shadowing(pool, overrides, p->name);
        json_t *entry;

        if (!json_array_size(by)) {
            json_decref(by);
            continue;
        }
        entry = admin_diff_entry(pool, now, p->name);
        json_object_set_new(entry, "value", json_string(
            polycom_admin_shown(pool, p->name, p->value)));
        json_object_set_new(entry, "shadowed_by", by);
        json_array_append_new(list, entry);
    }
    return list;
}

void polycom_admin_phone_diff(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path)
{
    polycom_phone *phone;
    admin_settings now;
    apr_array_header_t *overrides, *rows, *before = NULL;
    const char *etag, *time_us;
    json_t *doc, *from;

    if (polycom_admin_find_phone(in, out, path->mac, &phone) < 0
        || admin_diff_from(in, out, phone->mac, &etag, &time_us) < 0) {
        return;
    }
    if (polycom_admin_settings(in, phone, 1, &now) < 0
        || polycom_admin_overrides(in, phone->mac, &overrides) < 0
        || (*etag && polycom_store_select(in->db, POLYCOM_SQL_SNAPSHOT_GET,
                                          &rows, etag, NULL) < 0)) {
        polycom_admin_db_failed(in, out);
        return;
    }
    if (*etag && rows->nelts) {
        before = polycom_flat_from_snapshot(in->pool,
                                            polycom_rows_first(rows,
                                                               "params"));
    }
    from = json_pack("{s:o, s:o, s:b}",
        "etag", *etag ? json_string(etag) : json_null(),
        "time", *time_us ? polycom_admin_time_json(in->pool, time_us)
                         : json_null(),
        "snapshot", before != NULL);
    doc = json_pack("{s:s, s:o, s:{s:o}, s:b, s:o}",
        "mac", phone->mac, "from", from,
        "to", "etag", now.etag ? json_string(now.etag) : json_null(),
        "up_to_date", *etag && now.etag && !strcmp(etag, now.etag),
        "shadowed", admin_shadowed(in->pool, &now, overrides));
    /* The same ETag is no change, snapshot or not; no fetch at all is
     * everything added; a fetch without a snapshot (made before they were
     * kept, or pruned) leaves what changed unknown: null, not []. */
    if (*etag && now.etag && !strcmp(etag, now.etag)) {
        json_object_set_new(doc, "added", json_array());
        json_object_set_new(doc, "removed", json_array());
        json_object_set_new(doc, "changed", json_array());
    }
    else if (before || !*etag) {
        polycom_admin_diff_lists(in->pool, &now, before, doc);
    }
    else {
        json_object_set_new(doc, "added", json_null());
        json_object_set_new(doc, "removed", json_null());
        json_object_set_new(doc, "changed", json_null());
    }
    polycom_admin_answer(in, out, 200, doc);
}
