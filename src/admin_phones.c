/* The admin API's phones: phones (the list), phones/{mac} (GET, PUT,
 * DELETE) and preview/{mac}/{file}; the validation of a phone document,
 * which the import shares. */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_param.h"
#include "polycom_name.h"
#include "polycom_reprovision.h"

/* Whether the settings the phone last fetched are what it would get now:
 * the ETag of its last good fetch against the ETag of a fresh render. */
static json_t *admin_up_to_date(const polycom_admin_request *in,
                                const polycom_row *row)
{
    polycom_phone phone;
    admin_settings now;
    apr_array_header_t *fetch;

    phone.mac = polycom_row_get(row, "mac");
    if (polycom_store_select(in->db, POLYCOM_SQL_LAST_FETCH, &fetch,
                             phone.mac, NULL) < 0) {
        return NULL;
    }
    if (!fetch->nelts || strcmp(polycom_row_get(row, "enabled"), "1")) {
        return json_null();
    }
    phone.model = polycom_row_get(row, "model");
    phone.site = polycom_row_get(row, "site");
    phone.label = polycom_row_get(row, "label");
    phone.enabled = 1;
    /* Rendered as the phone's own fetch is (polycom_admin_settings). */
    if (polycom_admin_settings(in, &phone, 0, &now) < 0) {
        return NULL;
    }
    return json_boolean(now.etag
                        && !strcmp(polycom_rows_first(fetch,
                                                      "settings_etag"),
                                   now.etag));
}

static const admin_field admin_phone_fields[] = {
    { "mac",         "mac",         ADMIN_TEXT },
    { "model",       "model",       ADMIN_TEXT },
    { "site",        "site",        ADMIN_TEXT },
    { "label",       "label",       ADMIN_TEXT },
    { "enabled",     "enabled",     ADMIN_FLAG },
    { "sip_address", "sip_address", ADMIN_TEXT },
    { NULL }
};

static const admin_field admin_seen_fields[] = {
    { "time",     "seen_us",       ADMIN_TIME },
    { "time_us",  "seen_us",       ADMIN_NUMBER },
    { "ip",       "seen_ip",       ADMIN_TEXT },
    { "file",     "seen_file",     ADMIN_TEXT },
    { "status",   "seen_status",   ADMIN_NUMBER },
    { "model",    "seen_model",    ADMIN_TEXT },
    { "firmware", "seen_firmware", ADMIN_TEXT },
    { NULL }
};

/* A phone row (POLYCOM_SQL_PHONE_GET) as JSON, with its last check-in. */
static json_t *admin_phone_json(const polycom_admin_request *in,
                                const polycom_row *row)
{
    json_t *phone, *seen = NULL, *up_to_date = admin_up_to_date(in, row);

    if (!up_to_date) {
        return NULL;
    }
    phone = polycom_admin_row_json(in->pool, row, admin_phone_fields);
    if (*polycom_row_get(row, "seen_us")) {
        seen = polycom_admin_row_json(in->pool, row, admin_seen_fields);
    }
    if (!phone) {
        json_decref(up_to_date);
        json_decref(seen);
        return NULL;
    }
    json_object_set_new(phone, "up_to_date", up_to_date);
    json_object_set_new(phone, "last_checkin", seen ? seen : json_null());
    return phone;
}

/* The orders of the fleet view: sort=<key> or sort=-<key> (descending). */
static const char *const admin_sort_keys[] = {
    "mac", "label", "site", "model", "firmware", "seen", NULL
};

/* The filters of the fleet view, as the counts name them. */
static const char *const admin_filters[] = {
    "stale", "never", "disabled", "outdated", "delivered", "confirmed", NULL
};

/* @a q as a LIKE pattern: lower case, its own '%', '_' and '!' escaped
 * with '!', inside '%...%'. */
static const char *admin_like_pattern(apr_pool_t *pool, const char *q)
{
    char *pattern = apr_palloc(pool, 2 * strlen(q) + 3), *p = pattern;

    *p++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '!') {
            *p++ = '!';
        }
        *p++ = (char)apr_tolower(*q);
    }
    *p++ = '%';
    *p = '\0';
    return pattern;
}

static int admin_in_list(const char *const *list, const char *word)
{
    for (; *list; list++) {
        if (!strcmp(*list, word)) {
            return 1;
        }
    }
    return 0;
}

/* The search and filter of the fleet view from @a args (GET phones' query,
 * or a bulk action's "view"): 0, or -1 with @a err. */
int polycom_admin_view_parse(const polycom_admin_request *in,
                             apr_table_t *args, admin_view *v,
                             admin_error *err)
{
    const char *site = apr_table_get(args, "site");
    const char *model = apr_table_get(args, "model");
    const char *stale = apr_table_get(args, "stale");
    const char *stale_after = apr_table_get(args, "stale_after");
    const char *q = apr_table_get(args, "q");
    const char *filter = apr_table_get(args, "filter");
    apr_time_t seconds;

    err->status = 400;
    /* Without stale= every phone has "no check-in since the end of time",
     * so one statement serves both. */
    v->cutoff = "9223372036854775807";
    v->window = apr_time_from_sec(86400);
    if (stale) {
        if (polycom_admin_parse_time(stale, &seconds) < 0) {
            err->detail = "stale must be a number of seconds";
            return -1;
        }
        v->cutoff = apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                 in->now - seconds);
    }
    if (stale_after && (!apr_isdigit(*stale_after)
                        || polycom_admin_parse_time(stale_after,
                                                    &v->window) < 0
                        || v->window <= 0 || strchr(stale_after, 'T'))) {
        err->detail = "stale_after must be a number of seconds";
        return -1;
    }
    v->stale_cutoff = apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                   in->now - v->window);
    v->filter = filter ? filter : "";
    if (*v->filter && !admin_in_list(admin_filters, v->filter)) {
        err->detail = "filter must be one of stale, never, disabled, "
                      "outdated, delivered, confirmed";
        return -1;
    }
    if (q && strlen(q) > ADMIN_LABEL_MAX) {
        err->detail = "q is at most 256 bytes";
        return -1;
    }
    v->q = q ? q : "";
    v->like = admin_like_pattern(in->pool, v->q);
    v->site = site ? site : "";
    v->model = model ? polycom_admin_model_token(in->pool, model) : "";
    v->narrowed = *v->q || *v->site || *v->model || stale != NULL;
    return 0;
}

int polycom_admin_view_phones(const polycom_admin_request *in,
                              const admin_view *v, apr_array_header_t **rows)
{
    return polycom_store_select(in->db, POLYCOM_SQL_PHONE_VIEW, rows,
                                v->site, v->site, v->model, v->model,
                                v->cutoff, v->q, v->like, v->like, v->like,
                                v->like, v->like, v->like, v->filter,
                                v->filter, v->stale_cutoff, v->filter,
                                v->filter, v->filter, v->filter, v->filter,
                                NULL);
}

/* GET phones: a page of the fleet, found by q=, kept by site=, model=,
 * stale= and filter=, in the order of sort=, with how many phones the
 * search finds and how many each filter would keep (counts). The counts
 * pass over every phone the search finds, the page only over its rows:
 * counts=0 answers the page alone (total and counts null; "more" says
 * whether a next page exists) and counts=only the counts alone, so that a
 * console can draw the page before the counts of a large fleet. */
void polycom_admin_phone_list(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path)
{
    const char *sort = apr_table_get(in->args, "sort");
    const char *want = apr_table_get(in->args, "counts");
    const char *limit, *offset, *label, *key, *filter, *one_more;
    apr_array_header_t *rows = NULL, *count = NULL;
    const polycom_row *counts = NULL;
    admin_error err;
    admin_view v;
    json_t *list, *result, *by_filter = json_null(), *total = json_null();
    int i, descending, with_rows, with_counts, shown;

    want = want ? want : "1";
    with_rows = strcmp(want, "only") != 0;
    with_counts = strcmp(want, "0") != 0;
    if (strcmp(want, "1") && strcmp(want, "0") && strcmp(want, "only")) {
        polycom_admin_problem(in->pool, out, 400, "counts must be 1 (the "
                              "page and the counts), 0 (the page alone) or "
                              "only (the counts alone)");
        return;
    }
    if (polycom_admin_page(in, &limit, &offset, &err) < 0
        || polycom_admin_view_parse(in, in->args, &v, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    filter = v.filter;
    sort = sort && *sort ? sort : "mac";
    descending = *sort == '-';
    key = sort + descending;
    if (!admin_in_list(admin_sort_keys, key)) {
        polycom_admin_problem(in->pool, out, 400, "sort must be mac, label, "
                              "site, model, firmware or seen, with '-' "
                              "before it for the other way");
        return;
    }
    label = apr_pstrcat(in->pool, POLYCOM_SQL_PHONE_LIST, "_", key,
                        descending ? "_desc" : "_asc", NULL);
    /* One row past the page says whether there is a next one. */
    one_more = apr_psprintf(in->pool, "%" APR_INT64_T_FMT,
                            apr_atoi64(limit) + 1);
    if ((with_rows
         && polycom_store_select(in->db, label, &rows, v.site, v.site,
                                 v.model, v.model, v.cutoff, v.q, v.like,
                                 v.like, v.like, v.like, v.like, v.like,
                                 filter, filter, v.stale_cutoff, filter,
                                 filter, filter, filter, filter, one_more,
                                 offset, NULL) < 0)
        || (with_counts && !v.narrowed
            && polycom_store_select(in->db, POLYCOM_SQL_PHONE_COUNT_ALL,
                                    &count, v.stale_cutoff, NULL) < 0)
        || (with_counts && v.narrowed
            && polycom_store_select(in->db, POLYCOM_SQL_PHONE_COUNT, &count,
                                    v.stale_cutoff, v.site, v.site, v.model,
                                    v.model, v.cutoff, v.q, v.like, v.like,
                                    v.like, v.like, v.like, v.like,
                                    NULL) < 0)) {
        polycom_admin_db_failed(in, out);
        return;
    }
    if (with_counts) {
        counts = APR_ARRAY_IDX(count, 0, const polycom_row *);
        by_filter = json_object();
        for (i = 0; admin_filters[i]; i++) {
            json_object_set_new(by_filter, admin_filters[i], json_integer(
                apr_atoi64(polycom_row_get(counts, admin_filters[i]))));
        }
        json_object_set_new(by_filter, "all", json_integer(
            apr_atoi64(polycom_row_get(counts, "total"))));
        total = json_integer(apr_atoi64(polycom_row_get(
            counts, *filter ? filter : "total")));
    }
    shown = rows ? (int)apr_atoi64(limit) : 0;
    if (rows && rows->nelts < shown) {
        shown = rows->nelts;
    }
    list = json_array();
    result = polycom_admin_own(in->pool, json_pack(
        "{s:o, s:o, s:I, s:I, s:b, s:o, s:s, s:s, s:I}",
        "phones", list, "total", total,
        "limit", (json_int_t)apr_atoi64(limit),
        "offset", (json_int_t)apr_atoi64(offset),
        "more", rows && rows->nelts > shown,
        "counts", by_filter, "sort", sort, "filter", filter,
        "stale_after", (json_int_t)apr_time_sec(v.window)));
    for (i = 0; i < shown; i++) {
        json_t *phone = admin_phone_json(in, APR_ARRAY_IDX(
                                             rows, i, const polycom_row *));

        if (!phone) {
            polycom_admin_db_failed(in, out);
            return;
        }
        json_array_append_new(list, phone);
    }
    polycom_admin_json(in->pool, out, 200, result);
}

/* The move that applies to a phone, with its state; JSON null if none. */
static json_t *admin_reprovision_json(const polycom_admin_request *in,
                                      const char *mac, const char *site)
{
    polycom_reprovision_target t;

    if (polycom_store_reprovision(in->db, mac, site, in->now, &t) < 0) {
        return NULL;
    }
    if (!t.id) {
        return json_null();
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o}",
                     "scope", t.scope, "key", t.scope_key,
                     "server", t.server, "type", t.server_type,
                     "boot_server", t.boot_server, "user", t.user,
                     "deadline",
                     polycom_admin_time_json(in->pool, t.deadline_us),
                     "state", t.state,
                     "delivered",
                     polycom_admin_time_json(in->pool, t.delivered_us),
                     "applied",
                     polycom_admin_time_json(in->pool, t.confirmed_us));
}

/* The full resource of one phone; NULL with *found 0 when there is none. */
static json_t *admin_phone_resource(const polycom_admin_request *in,
                                    const char *mac, int *found)
{
    apr_array_header_t *rows, *params;
    json_t *phone;

    *found = 0;
    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows, mac,
                             NULL) < 0
        || polycom_admin_scope_params(in, "phone", mac, &params) < 0) {
        return NULL;
    }
    if (!rows->nelts) {
        return NULL;
    }
    *found = 1;
    phone = admin_phone_json(in, APR_ARRAY_IDX(rows, 0, const polycom_row *));
    if (phone) {
        json_t *move = admin_reprovision_json(in, mac,
                                              polycom_rows_first(rows,
                                                                 "site"));

        json_object_set_new(phone, "lines",
                            polycom_admin_lines_json(in->pool, params));
        json_object_set_new(phone, "params",
                            polycom_admin_params_json(params, 1));
        if (!move) {
            json_decref(phone);
            return NULL;
        }
        json_object_set_new(phone, "reprovision", move);
    }
    return polycom_admin_own(in->pool, phone);
}

/* Validate a phone object; @a mac from the path (NULL: from the body). */
int polycom_admin_phone_from_json(apr_pool_t *pool, json_t *object,
                                  const char *mac, admin_phone *phone,
                                  admin_error *err)
{
    /* The read-only fields of a GET may come back: a client can GET,
     * edit and PUT the same document. */
    static const char *const allowed[] = {
        "mac", "model", "site", "label", "enabled", "lines", "params",
        "sip_address", "last_checkin", "up_to_date", "reprovision"
    };
    const char *key;
    json_t *value, *lines;
    apr_size_t i;
    size_t n;

    memset(phone, 0, sizeof(*phone));
    err->status = 400;
    if (!json_is_object(object)) {
        err->detail = "a phone must be a JSON object";
        return -1;
    }
    json_object_foreach(object, key, value) {
        for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
            if (!strcmp(key, allowed[i])) {
                break;
            }
        }
        if (i == sizeof(allowed) / sizeof(allowed[0])) {
            err->detail = apr_psprintf(pool, "unknown field \"%s\"", key);
            return -1;
        }
    }
    value = json_object_get(object, "mac");
    if (value) {
        if (!json_is_string(value)
            || !polycom_mac_valid(json_string_value(value))) {
            err->detail = "mac must be 12 hexadecimal digits";
            return -1;
        }
        if (mac && strcasecmp(mac, json_string_value(value))) {
            err->detail = "the mac in the body differs from the path";
            return -1;
        }
        mac = json_string_value(value);
    }
    if (!mac) {
        err->detail = "mac is required";
        return -1;
    }
    phone->mac = polycom_admin_lower(pool, mac);

    value = json_object_get(object, "model");
    phone->model = "";
    if (value) {
        if (json_is_string(value)) {
            phone->model = polycom_admin_model_token(pool,
                                                     json_string_value(value));
        }
        if (!json_is_string(value)
            || !polycom_admin_model_valid(phone->model)) {
            err->detail = "model must be a model token such as VVX411, "
                          "VVX_411 or SPIP330";
            return -1;
        }
    }
    value = json_object_get(object, "site");
    phone->site = "";
    if (value && (!json_is_string(value)
                  || !polycom_admin_key_valid(json_string_value(value)))) {
        err->detail = "site must be a name of letters, digits, '.', '_' and "
                      "'-' (at most 64)";
        return -1;
    }
    if (value) {
        phone->site = apr_pstrdup(pool, json_string_value(value));
    }
    value = json_object_get(object, "label");
    phone->label = "";
    if (value && (!json_is_string(value)
                  || strlen(json_string_value(value)) > ADMIN_LABEL_MAX
                  || !polycom_param_value_valid(json_string_value(value)))) {
        err->detail = "label must be text of at most 256 bytes";
        return -1;
    }
    if (value) {
        phone->label = apr_pstrdup(pool, json_string_value(value));
    }
    value = json_object_get(object, "sip_address");
    phone->sip_address = "";
    if (value && (!json_is_string(value)
                  || (*json_string_value(value)
                      && (!polycom_reprovision_server_valid(
                              json_string_value(value))
                          || strchr(json_string_value(value), '/'))))) {
        err->detail = "sip_address must be host or host:port";
        return -1;
    }
    if (value) {
        phone->sip_address = apr_pstrdup(pool, json_string_value(value));
    }
    value = json_object_get(object, "enabled");
    phone->enabled = 1;
    if (value) {
        if (!json_is_boolean(value)) {
            err->detail = "enabled must be true or false";
            return -1;
        }
        phone->enabled = json_is_true(value);
    }

    phone->params = apr_array_make(pool, 16, sizeof(polycom_param));
    lines = json_object_get(object, "lines");
    if (lines) {
        if (!json_is_array(lines)
            || json_array_size(lines) > ADMIN_LINES_MAX) {
            err->detail = "lines must be an array of at most 34 lines";
            return -1;
        }
        json_array_foreach(lines, n, value) {
            if (polycom_admin_line_to_params(pool, (int)n + 1, value,
                                             phone->params, err) < 0) {
                return -1;
            }
        }
    }
    value = json_object_get(object, "params");
    if (value && polycom_admin_params_from_json(pool, value, phone->params,
                                                err) < 0) {
        return -1;
    }
    return 0;
}

/* Write one validated phone inside the caller's transaction. */
int polycom_admin_phone_write(const polycom_admin_request *in,
                              admin_phone *phone, int *created,
                              admin_error *err)
{
    apr_array_header_t *rows, *stored;

    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows,
                             phone->mac, NULL) < 0
        || polycom_admin_scope_params(in, "phone", phone->mac, &stored) < 0) {
        return -1;
    }
    if (polycom_admin_unmask(in->pool, phone->params, stored, err) < 0) {
        return -2;
    }
    *created = rows->nelts == 0;
    if (polycom_store_exec(in->db, POLYCOM_SQL_PHONE_UPSERT, NULL,
                           phone->mac, phone->model, phone->site,
                           phone->label, phone->enabled ? "1" : "0",
                           apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                        in->now), phone->sip_address,
                           NULL) < 0
        || polycom_admin_write_params(in, "phone", phone->mac,
                                      phone->params) < 0
        || polycom_store_exec(in->db, POLYCOM_SQL_DISCOVERED_DROP, NULL,
                              phone->mac, NULL) < 0) {
        return -1;
    }
    return 0;
}


/* A masked copy of what was written, for the audit. */
static json_t *admin_phone_audit(const admin_phone *phone)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "model", phone->model,
                     "site", phone->site, "label", phone->label,
                     "enabled", phone->enabled,
                     "params", polycom_admin_params_json(phone->params, 0));
}

/* A phone created or replaced, in the write's transaction. */
typedef struct {
    admin_phone phone;
    int created;
} admin_phone_change;

static int admin_phone_put_write(const polycom_admin_request *in, void *data,
                                 admin_audit_row *audit, admin_error *err)
{
    admin_phone_change *c = data;
    int rv = polycom_admin_phone_write(in, &c->phone, &c->created, err);

    if (rv == 0) {
        audit->action = c->created ? "phone.create" : "phone.replace";
        audit->target = c->phone.mac;
        audit->detail = polycom_admin_own(in->pool,
                                          admin_phone_audit(&c->phone));
    }
    return rv;
}

static void admin_phone_put(const polycom_admin_request *in,
                            polycom_admin_response *out, const char *mac)
{
    json_t *body = polycom_admin_parse_body(in, out), *resource;
    admin_phone_change c;
    admin_error err;
    int found;

    if (!body) {
        return;
    }
    if (polycom_admin_phone_from_json(in->pool, body, mac, &c.phone,
                                      &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    c.created = 0;
    if (polycom_admin_change(in, out, admin_phone_put_write, &c) < 0) {
        return;
    }
    resource = admin_phone_resource(in, c.phone.mac, &found);
    if (!resource) {
        polycom_admin_db_failed(in, out);
        return;
    }
    if (c.created) {
        out->location = apr_pstrcat(in->pool, "phones/", c.phone.mac, NULL);
    }
    polycom_admin_json(in->pool, out, c.created ? 201 : 200, resource);
}

/* A phone removed with its own parameters, in the write's transaction;
 * its check-ins and uploads stay. */
typedef struct {
    const char *mac;
    int deleted;
} admin_phone_removal;

static int admin_phone_delete_write(const polycom_admin_request *in,
                                    void *data, admin_audit_row *audit,
                                    admin_error *err)
{
    admin_phone_removal *c = data;

    if (polycom_store_exec(in->db, POLYCOM_SQL_PHONE_DELETE, &c->deleted,
                           c->mac, NULL) < 0
        || (c->deleted
            && polycom_store_exec(in->db, POLYCOM_SQL_SCOPE_CLEAR, NULL,
                                  "phone", c->mac, NULL) < 0)) {
        return -1;
    }
    if (c->deleted) {
        audit->action = "phone.delete";
        audit->target = c->mac;
    }
    return 0;
}

static void admin_phone_get(const polycom_admin_request *in,
                            polycom_admin_response *out, const char *mac)
{
    int found;
    json_t *phone = admin_phone_resource(in, mac, &found);

    if (phone) {
        polycom_admin_json(in->pool, out, 200, phone);
    }
    else if (found) {
        polycom_admin_db_failed(in, out);
    }
    else {
        out->db_failed = in->db->error != NULL;
        polycom_admin_problem(in->pool, out, out->db_failed ? 500 : 404,
                              out->db_failed ? "database error"
                                             : "no such phone");
    }
}

void polycom_admin_phone(const polycom_admin_request *in,
                         polycom_admin_response *out, const admin_path *path)
{
    admin_phone_removal c;

    if (!strcmp(in->method, "PUT")) {
        admin_phone_put(in, out, path->mac);
        return;
    }
    if (strcmp(in->method, "DELETE")) {
        admin_phone_get(in, out, path->mac);
        return;
    }
    c.mac = path->mac;
    c.deleted = 0;
    polycom_admin_delete(in, out, admin_phone_delete_write, &c, &c.deleted,
                         "no such phone");
}

/* GET preview/{mac}/{file}: the glue serves the file as the phone would
 * get it. */
void polycom_admin_preview(const polycom_admin_request *in,
                           polycom_admin_response *out,
                           const admin_path *path)
{
    polycom_name name;

    if (!polycom_name_parse(path->file, &name)
        || (strcmp(name.mac, path->mac) && !name.is_default)) {
        polycom_admin_problem(in->pool, out, 404, "not a file of this "
                              "phone");
        return;
    }
    out->preview_file = path->file;
}

int polycom_admin_validate_phone(apr_pool_t *pool, const char *mac,
                                 const char *body, apr_size_t len,
                                 const char **error)
{
    json_error_t jerr;
    json_t *json = polycom_admin_own(pool, json_loadb(body, len,
                                                      JSON_REJECT_DUPLICATES,
                                                      &jerr));
    admin_phone phone;
    admin_error err;

    if (!json) {
        *error = apr_psprintf(pool, "invalid JSON: %s", jerr.text);
        return -1;
    }
    if (polycom_admin_phone_from_json(pool, json, mac, &phone, &err) < 0) {
        *error = err.detail;
        return -1;
    }
    return 0;
}


/* POST phones/{mac}/secrets: the phone's own stored secrets in clear, for
 * an admin who asks to see them. Every other read masks them; this one is
 * written to the audit log (which names the secrets, never their values),
 * in the same transaction as the read. */
typedef struct {
    const char *mac;
    json_t *secrets;
} admin_reveal;

static int admin_reveal_read(const polycom_admin_request *in, void *data,
                             admin_audit_row *audit, admin_error *err)
{
    admin_reveal *c = data;
    apr_array_header_t *rows, *params;
    json_t *names;
    int i;

    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows, c->mac,
                             NULL) < 0
        || polycom_admin_scope_params(in, "phone", c->mac, &params) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        err->status = 404;
        err->detail = "no such phone";
        return -2;
    }
    names = polycom_admin_own(in->pool, json_array());
    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        if (polycom_param_is_secret(p->name)) {
            json_object_set_new(c->secrets, p->name, json_string(p->value));
            json_array_append_new(names, json_string(p->name));
        }
    }
    audit->action = "secret.reveal";
    audit->target = c->mac;
    audit->detail = polycom_admin_own(in->pool, json_pack("{s:O}", "names",
                                                          names));
    return 0;
}

void polycom_admin_secrets(const polycom_admin_request *in,
                           polycom_admin_response *out, const admin_path *path)
{
    admin_reveal c;

    c.mac = path->mac;
    c.secrets = polycom_admin_own(in->pool, json_object());
    if (polycom_admin_change(in, out, admin_reveal_read, &c) < 0) {
        return;
    }
    polycom_admin_answer(in, out, 200, json_pack("{s:s, s:O}", "mac", c.mac,
                                                 "secrets", c.secrets));
}
