/* History of the layers and phones, and going back: GET history (every
 * change, made through this API or with SQL by hand, as a parameter diff),
 * POST history/restore (a layer or a phone as it was at a version, in one
 * audited write), and GET diff?since= (which phones the changes since a
 * time reach, and how many have fetched their settings since).
 *
 * The rows come from triggers on params and phones (table history); a
 * version is the id of a change's last row. A write of this API is one
 * change (its rows share its audit row); a change made by hand is the rows
 * of one statement (of one transaction with PostgreSQL).
 */

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_layers.h"
#include "polycom_name.h"
#include "polycom_param.h"

#define HISTORY_LIMIT_MAX 1000
#define HISTORY_AFFECTED_MAX 1000

/* The old or new value of a history row; NULL when absent (the parameter
 * was added, or removed). */
static const char *history_old(const polycom_row *row)
{
    return strcmp(polycom_row_get(row, "old_absent"), "1")
           ? polycom_row_get(row, "old_value") : NULL;
}

static const char *history_new(const polycom_row *row)
{
    return strcmp(polycom_row_get(row, "new_absent"), "1")
           ? polycom_row_get(row, "new_value") : NULL;
}

/* One change being gathered: its rows newest first, netted per name. */
typedef struct {
    json_t *version;              /* the object answered */
    json_t *changes;              /* its "changes" */
    apr_hash_t *seen;             /* kind scope key name -> json entry */
} history_change;

/* A value as the API shows it, or null for an absent one. */
static json_t *history_value_json(apr_pool_t *pool, const char *name,
                                  const char *value)
{
    return value ? json_string(polycom_admin_shown(pool, name, value))
                 : json_null();
}

/* Rows arrive newest first: the first row of a name has its newest value,
 * the last one its oldest. Entries whose value did not change in the end
 * (a layer written whole again) are dropped when the change is done. */
static void history_add_row(apr_pool_t *pool, history_change *c,
                            const polycom_row *row)
{
    const char *name = polycom_row_get(row, "name");
    const char *kind = polycom_row_get(row, "kind");
    const char *id = apr_pstrcat(pool, kind, " ", polycom_row_get(row,
                                 "scope"), " ", polycom_row_get(row,
                                 "scope_key"), " ", name, NULL);
    const char *was = history_old(row);
    json_t *entry = apr_hash_get(c->seen, id, APR_HASH_KEY_STRING);

    if (!entry) {
        const char *is = history_new(row);

        entry = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}",
            "kind", kind, "layer", polycom_row_get(row, "scope"),
            "key", polycom_row_get(row, "scope_key"), "name", name,
            "value", history_value_json(pool, name, is),
            "was", json_null(),
            /* the newest value as it is, dropped before the answer */
            "_new", is ? json_string(is) : json_null());
        json_array_append_new(c->changes, entry);
        apr_hash_set(c->seen, id, APR_HASH_KEY_STRING, entry);
    }
    json_object_set_new(entry, "was", history_value_json(pool, name, was));
    json_object_set_new(entry, "_old", was ? json_string(was) : json_null());
}

/* Drop the entries that net to nothing, and the comparables. */
static void history_finish(history_change *c)
{
    size_t i = 0;

    while (i < json_array_size(c->changes)) {
        json_t *e = json_array_get(c->changes, i);
        json_t *a = json_object_get(e, "_old"), *b = json_object_get(e,
                                                                     "_new");

        if (json_equal(a, b)) {
            json_array_remove(c->changes, i);
            continue;
        }
        json_object_del(e, "_old");
        json_object_del(e, "_new");
        i++;
    }
}

/* GET history?scope=&key=&before=&limit=: newest first. */
static void history_list(const polycom_admin_request *in,
                         polycom_admin_response *out)
{
    const char *scope = apr_table_get(in->args, "scope");
    const char *key = apr_table_get(in->args, "key");
    const char *before = apr_table_get(in->args, "before");
    const char *limit = apr_table_get(in->args, "limit");
    apr_array_header_t *rows;
    json_t *versions = json_array();
    history_change c = { NULL, NULL, NULL };
    const char *group = NULL;
    int i;

    if ((limit && (atoi(limit) < 1 || atoi(limit) > HISTORY_LIMIT_MAX))
        || (before && apr_atoi64(before) < 1)) {
        json_decref(versions);
        polycom_admin_problem(in->pool, out, 400, "limit is 1 to 1000 rows, "
                              "before a version (a positive number)");
        return;
    }
    if (polycom_store_select(in->db, POLYCOM_SQL_HISTORY_LIST, &rows,
                             scope ? scope : "", scope ? scope : "",
                             key ? key : "", key ? key : "",
                             before ? before : "9223372036854775807",
                             limit ? limit : "100", NULL) < 0) {
        json_decref(versions);
        polycom_admin_db_failed(in, out);
        return;
    }
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *row = APR_ARRAY_IDX(rows, i, const polycom_row *);
        const char *audit = polycom_row_get(row, "audit_id");
        /* A write of the API by its audit row; one made by hand by its
         * time (one statement, or transaction) */
        const char *this_group = *audit
            ? apr_pstrcat(in->pool, "a", audit, NULL)
            : apr_pstrcat(in->pool, "t", polycom_row_get(row, "time_us"),
                          NULL);

        if (!group || strcmp(group, this_group)) {
            if (c.version) {
                history_finish(&c);
            }
            group = this_group;
            c.changes = json_array();
            c.seen = apr_hash_make(in->pool);
            c.version = json_pack("{s:I, s:o, s:I, s:s, s:s, s:o}",
                "version", (json_int_t)apr_atoi64(polycom_row_get(row,
                                                                  "id")),
                "time", polycom_admin_time_json(in->pool,
                                                polycom_row_get(row,
                                                                "time_us")),
                "time_us", (json_int_t)apr_atoi64(polycom_row_get(row,
                                                                  "time_us")),
                "admin", polycom_row_get(row, "admin"),
                "action", *audit ? polycom_row_get(row, "action") : "sql",
                "changes", c.changes);
            json_array_append_new(versions, c.version);
        }
        history_add_row(in->pool, &c, row);
    }
    if (c.version) {
        history_finish(&c);
    }
    polycom_admin_answer(in, out, 200, json_pack("{s:o}", "versions",
                                                 versions));
}

/* What is restored: a layer, or a phone with its own parameters. */
typedef struct {
    const char *scope;
    const char *key;
    const char *version;
    int restored_phone;       /* the phone's record was written */
} history_restore;

/* The phone's record now: model, site, label, enabled (NULL: no phone). */
static int history_phone_now(const polycom_admin_request *in,
                             const char *mac, apr_hash_t *fields,
                             const char **sip_address)
{
    apr_array_header_t *rows;
    static const char *const names[] = { "model", "site", "label",
                                         "enabled" };
    apr_size_t i;

    *sip_address = "";
    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows, mac,
                             NULL) < 0) {
        return -1;
    }
    for (i = 0; rows->nelts && i < sizeof(names) / sizeof(names[0]); i++) {
        apr_hash_set(fields, names[i], APR_HASH_KEY_STRING,
                     polycom_rows_first(rows, names[i]));
    }
    if (rows->nelts) {
        *sip_address = polycom_rows_first(rows, "sip_address");
    }
    return 0;
}

static const char *history_field(apr_hash_t *fields, const char *name)
{
    return apr_hash_get(fields, name, APR_HASH_KEY_STRING);
}

/* The layer (and the phone's record) as it was at the version: the state
 * now, with every later change undone, newest first. */
static int history_restore_write(const polycom_admin_request *in,
                                 void *data, admin_audit_row *audit,
                                 admin_error *err)
{
    history_restore *r = data;
    apr_hash_t *params = apr_hash_make(in->pool);
    apr_hash_t *fields = apr_hash_make(in->pool);
    apr_array_header_t *now, *rows, *list;
    apr_hash_index_t *hi;
    const char *sip_address = "";
    int is_phone = !strcmp(r->scope, "phone"), i;

    if (polycom_admin_scope_params(in, r->scope, r->key, &now) < 0
        || (is_phone && history_phone_now(in, r->key, fields,
                                          &sip_address) < 0)
        || polycom_store_select(in->db, POLYCOM_SQL_HISTORY_AFTER, &rows,
                                r->scope, r->key, r->version, NULL) < 0) {
        return -1;
    }
    for (i = 0; i < now->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(now, i, polycom_param);

        apr_hash_set(params, p->name, APR_HASH_KEY_STRING, p->value);
    }
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *row = APR_ARRAY_IDX(rows, i, const polycom_row *);
        apr_hash_t *into = strcmp(polycom_row_get(row, "kind"), "phone")
                           ? params : fields;

        apr_hash_set(into, polycom_row_get(row, "name"), APR_HASH_KEY_STRING,
                     history_old(row));
    }
    list = apr_array_make(in->pool, (int)apr_hash_count(params) + 1,
                          sizeof(polycom_param));
    for (hi = apr_hash_first(in->pool, params); hi; hi = apr_hash_next(hi)) {
        polycom_param *p = apr_array_push(list);

        apr_hash_this(hi, (const void **)&p->name, NULL, (void **)&p->value);
    }
    if (is_phone && !history_field(fields, "model")) {
        /* No phone at that version: it did not exist yet. */
        if (polycom_store_exec(in->db, POLYCOM_SQL_PHONE_DELETE, NULL,
                               r->key, NULL) < 0) {
            return -1;
        }
        list->nelts = 0;
    }
    else if (is_phone) {
        r->restored_phone = 1;
        if (polycom_store_exec(in->db, POLYCOM_SQL_PHONE_UPSERT, NULL, r->key,
                               history_field(fields, "model"),
                               history_field(fields, "site"),
                               history_field(fields, "label"),
                               history_field(fields, "enabled"),
                               apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                            in->now), sip_address,
                               NULL) < 0) {
            return -1;
        }
    }
    if (polycom_admin_write_params(in, r->scope, r->key, list) < 0) {
        return -1;
    }
    audit->action = "history.restore";
    audit->target = *r->key ? apr_pstrcat(in->pool, r->scope, "/", r->key,
                                          NULL) : r->scope;
    audit->detail = polycom_admin_own(in->pool, json_pack("{s:I}",
        "version", (json_int_t)apr_atoi64(r->version)));
    return 0;
}

/* POST history/restore {"scope", "key", "version"}; the version is a
 * number (or its digits as a string). */
static void history_restore_post(const polycom_admin_request *in,
                                 polycom_admin_response *out)
{
    json_t *body = polycom_admin_parse_body(in, out), *v;
    history_restore r;
    apr_int64_t version = 0;
    int global;

    if (!body) {
        return;
    }
    memset(&r, 0, sizeof(r));
    r.scope = json_string_value(json_object_get(body, "scope"));
    r.key = json_string_value(json_object_get(body, "key"));
    r.key = r.key ? r.key : "";
    v = json_object_get(body, "version");
    version = json_is_integer(v) ? (apr_int64_t)json_integer_value(v)
              : json_is_string(v) ? apr_atoi64(json_string_value(v)) : 0;
    global = r.scope && !strcmp(r.scope, "global");
    if (!json_is_object(body) || json_object_size(body) > 3
        || !r.scope || polycom_layer_rank(r.scope) < 0 || version < 1
        || (global && *r.key)
        || (!global && !(strcmp(r.scope, "phone")
                         ? *r.key && polycom_admin_key_valid(r.key)
                         : polycom_mac_valid(r.key)))) {
        polycom_admin_problem(in->pool, out, 400, "restore takes \"scope\" "
                              "(global, site, model or phone), \"key\" (the "
                              "site, model or MAC; none for global) and "
                              "\"version\" (from GET history)");
        return;
    }
    r.key = !strcmp(r.scope, "phone") ? polycom_admin_lower(in->pool, r.key)
            : !strcmp(r.scope, "model")
            ? polycom_admin_model_token(in->pool, r.key) : r.key;
    r.version = apr_psprintf(in->pool, "%" APR_INT64_T_FMT, version);
    if (polycom_admin_change(in, out, history_restore_write, &r) < 0) {
        return;
    }
    polycom_admin_answer(in, out, 200, json_pack("{s:s, s:s, s:I, s:b}",
        "scope", r.scope, "key", r.key,
        "version", (json_int_t)apr_atoi64(r.version),
        "phone", r.restored_phone));
}

void polycom_admin_history(const polycom_admin_request *in,
                           polycom_admin_response *out,
                           const admin_path *path)
{
    if (!strcmp(in->method, "POST")) {
        history_restore_post(in, out);
    }
    else {
        history_list(in, out);
    }
}

static json_t *history_affected_json(const polycom_admin_request *in,
                                    const apr_array_header_t *rows,
                                    int *fetched)
{
    json_t *list = json_array();
    int i;

    *fetched = 0;
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *row = APR_ARRAY_IDX(rows, i, const polycom_row *);
        int got = apr_atoi64(polycom_row_get(row, "fetched_us"))
                  >= apr_atoi64(polycom_row_get(row, "changed_us"));

        *fetched += got;
        if (i < HISTORY_AFFECTED_MAX) {
            json_array_append_new(list, json_pack("{s:s, s:o, s:b}",
                "mac", polycom_row_get(row, "mac"),
                "changed", polycom_admin_time_json(in->pool,
                    polycom_row_get(row, "changed_us")),
                "fetched", got));
        }
    }
    return list;
}

/* GET diff?since=: the phones whose layers or own record changed since
 * then, and whether each has fetched its settings since its last change. */
void polycom_admin_fleet_diff(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path)
{
    const char *since = apr_table_get(in->args, "since");
    apr_array_header_t *rows;
    apr_time_t t;
    json_t *phones;
    int fetched;

    if (!since || polycom_admin_parse_time(since, &t) < 0) {
        polycom_admin_problem(in->pool, out, 400, "since is a time "
                              "(2026-11-23T21:00:00Z) or seconds since the "
                              "epoch");
        return;
    }
    if (polycom_store_select(in->db, POLYCOM_SQL_AFFECTED_SINCE, &rows,
                             apr_psprintf(in->pool, "%" APR_TIME_T_FMT, t),
                             NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    phones = history_affected_json(in, rows, &fetched);
    polycom_admin_answer(in, out, 200, json_pack("{s:o, s:i, s:i, s:b, s:o}",
        "since", polycom_admin_time_json(in->pool, apr_psprintf(in->pool,
                                         "%" APR_TIME_T_FMT, t)),
        "affected", rows->nelts, "fetched", fetched,
        "truncated", rows->nelts > HISTORY_AFFECTED_MAX, "phones", phones));
}
