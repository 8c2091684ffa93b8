/* The admin API: JSON in, JSON out, over store.c.
 *
 * Every write is validated whole before the database is touched, then made
 * in one transaction together with its audit row, so a request either
 * changes everything it asks for or nothing. Secrets never leave: reads
 * show POLYCOM_SECRET_MASK, and writing the mask back keeps the stored
 * value, so a client can GET, edit and PUT without knowing the password.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include <csv.h>
#include <jansson.h>

#include "polycom_admin.h"
#include "polycom_name.h"
#include "polycom_render.h"
#include "polycom_reprovision.h"
#include "polycom_upload.h"

#define ADMIN_VALUE_MAX   4096
#define ADMIN_LABEL_MAX   256
#define ADMIN_KEY_MAX     64
#define ADMIN_LINES_MAX   34
#define ADMIN_PAGE_MAX    1000
#define ADMIN_PAGE_DEFAULT 100

/* A validation failure: status and what to tell the client. */
typedef struct {
    int status;
    const char *detail;
} admin_error;

/* A phone as the API writes it. */
typedef struct {
    const char *mac;
    const char *model;
    const char *site;
    const char *label;
    const char *sip_address;
    int enabled;
    apr_array_header_t *params;      /* polycom_param */
} admin_phone;

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static apr_status_t admin_json_free(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

/* jansson mallocs: tie each document to the pool. */
static json_t *admin_own(apr_pool_t *pool, json_t *json)
{
    if (json) {
        apr_pool_cleanup_register(pool, json, admin_json_free,
                                  apr_pool_cleanup_null);
    }
    return json;
}

static void admin_reply(apr_pool_t *pool, polycom_admin_response *out,
                        int status, const char *content_type, json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENSURE_ASCII);

    out->status = status;
    out->content_type = content_type;
    if (!text) {
        out->status = 500;
        out->body = "{\"status\":500,\"title\":\"Internal Server Error\"}";
    }
    else {
        out->body = apr_pstrcat(pool, text, "\n", NULL);
        free(text);
    }
    out->len = strlen(out->body);
}

static void admin_json(apr_pool_t *pool, polycom_admin_response *out,
                       int status, json_t *json)
{
    admin_reply(pool, out, status, "application/json", json);
}

static const char *admin_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default:  return "Internal Server Error";
    }
}

void polycom_admin_problem(apr_pool_t *pool, polycom_admin_response *out,
                           int status, const char *detail)
{
    json_t *problem = admin_own(pool, json_pack("{s:s, s:s, s:i, s:s}",
                                                "type", "about:blank",
                                                "title", admin_title(status),
                                                "status", status,
                                                "detail", detail));

    admin_reply(pool, out, status, "application/problem+json", problem);
}

static void admin_db_failed(const polycom_admin_request *in,
                            polycom_admin_response *out)
{
    out->db_failed = 1;
    polycom_admin_problem(in->pool, out, 500, "database error (see the "
                          "server's error log)");
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static const char *admin_time_text(apr_pool_t *pool, const char *time_us)
{
    apr_time_exp_t tm;
    char buf[32];
    apr_size_t len;

    if (!time_us || !*time_us) {
        return NULL;
    }
    apr_time_exp_gmt(&tm, (apr_time_t)apr_atoi64(time_us));
    apr_strftime(buf, &len, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return apr_pstrdup(pool, buf);
}

static json_t *admin_time_json(apr_pool_t *pool, const char *time_us)
{
    const char *text = admin_time_text(pool, time_us);

    return text ? json_string(text) : json_null();
}

static json_t *admin_int_json(const char *value)
{
    return value && *value ? json_integer(apr_atoi64(value)) : json_null();
}

/* How a column of a row reads in JSON. */
typedef enum {
    ADMIN_TEXT,         /* a string */
    ADMIN_NUMBER,       /* an integer; null when empty */
    ADMIN_TIME,         /* microseconds as a UTC time; null when empty */
    ADMIN_FLAG,         /* true when "1" */
    ADMIN_MASKED,       /* a secret: the mask when one is stored, else "" */
    ADMIN_DOCUMENT      /* stored JSON text; null when empty */
} admin_kind;

/* One member of an object built from a row; lists end with { NULL }. */
typedef struct {
    const char *key;
    const char *column;
    admin_kind kind;
} admin_field;

static json_t *admin_value_json(apr_pool_t *pool, const char *value,
                                admin_kind kind)
{
    switch (kind) {
    case ADMIN_NUMBER:   return admin_int_json(value);
    case ADMIN_TIME:     return admin_time_json(pool, value);
    case ADMIN_FLAG:     return json_boolean(!strcmp(value, "1"));
    case ADMIN_MASKED:   return json_string(*value ? POLYCOM_SECRET_MASK : "");
    case ADMIN_DOCUMENT: return *value ? json_loads(value, 0, NULL) : NULL;
    default:             return json_string(value);
    }
}

/* The object of @a fields read from @a row; NULL when a column is missing
 * (a field list that does not match its statement). */
static json_t *admin_row_json(apr_pool_t *pool, const polycom_row *row,
                              const admin_field *fields)
{
    json_t *object = json_object(), *value;
    const char *text;

    for (; fields->key; fields++) {
        if (!(text = polycom_row_get(row, fields->column))) {
            json_decref(object);
            return NULL;
        }
        value = admin_value_json(pool, text, fields->kind);
        json_object_set_new(object, fields->key, value ? value : json_null());
    }
    return object;
}

/* Every row as an object of @a fields, in the pool; NULL as above. */
static json_t *admin_rows_json(apr_pool_t *pool,
                               const apr_array_header_t *rows,
                               const admin_field *fields)
{
    json_t *list = admin_own(pool, json_array()), *item;
    int i;

    for (i = 0; i < rows->nelts; i++) {
        item = admin_row_json(pool, APR_ARRAY_IDX(rows, i,
                                                  const polycom_row *),
                              fields);
        if (!item) {
            return NULL;
        }
        json_array_append_new(list, item);
    }
    return list;
}

/* Answer 200 with {"mac": @a mac (unless NULL), @a key: @a list}, the
 * list built by admin_rows_json (NULL: 500). */
static void admin_list_reply(const polycom_admin_request *in,
                             polycom_admin_response *out, const char *mac,
                             const char *key, json_t *list)
{
    json_t *body = admin_own(in->pool, json_object());

    if (!list) {
        polycom_admin_problem(in->pool, out, 500, "a list does not match "
                              "its statement's columns");
        return;
    }
    if (mac) {
        json_object_set_new(body, "mac", json_string(mac));
    }
    json_object_set(body, key, list);
    admin_json(in->pool, out, 200, body);
}

/* "3600" seconds, or "2026-11-23T21:00:00Z": a time in microseconds. */
static int admin_parse_time(const char *text, apr_time_t *out)
{
    apr_time_exp_t tm;
    int y, mo, d, h, mi, s;
    char *end;
    apr_int64_t n;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi,
               &s) == 6) {
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        return apr_time_exp_gmt_get(out, &tm) == APR_SUCCESS ? 0 : -1;
    }
    n = apr_strtoi64(text, &end, 10);
    if (end == text || *end || n < 0) {
        return -1;
    }
    *out = apr_time_from_sec(n);
    return 0;
}

/* Page arguments: limit (1..1000, default 100) and offset (>= 0). */
static int admin_page(const polycom_admin_request *in, const char **limit,
                      const char **offset, admin_error *err)
{
    const char *l = in->args ? apr_table_get(in->args, "limit") : NULL;
    const char *o = in->args ? apr_table_get(in->args, "offset") : NULL;
    char *end;
    apr_int64_t n;

    *limit = apr_itoa(in->pool, ADMIN_PAGE_DEFAULT);
    *offset = "0";
    if (l) {
        n = apr_strtoi64(l, &end, 10);
        if (end == l || *end || n < 1 || n > ADMIN_PAGE_MAX) {
            err->status = 400;
            err->detail = "limit must be a whole number from 1 to 1000";
            return -1;
        }
        *limit = l;
    }
    if (o) {
        n = apr_strtoi64(o, &end, 10);
        if (end == o || *end || n < 0) {
            err->status = 400;
            err->detail = "offset must be a whole number from 0";
            return -1;
        }
        *offset = o;
    }
    return 0;
}

static char *admin_lower(apr_pool_t *pool, const char *s)
{
    char *copy = apr_pstrdup(pool, s);
    char *p;

    for (p = copy; *p; p++) {
        *p = (char)apr_tolower(*p);
    }
    return copy;
}

/* A key of a site or a model: letters, digits, '.', '_' and '-'. */
static int admin_key_valid(const char *key)
{
    apr_size_t i;

    for (i = 0; key[i]; i++) {
        if (i >= ADMIN_KEY_MAX
            || !(apr_isalnum(key[i]) || key[i] == '.' || key[i] == '_'
                 || key[i] == '-')) {
            return 0;
        }
    }
    return 1;
}

/* "VVX_411" and "VVX411" are the same master token. */
static const char *admin_model_token(apr_pool_t *pool, const char *model)
{
    char *token = apr_palloc(pool, strlen(model) + 1);
    apr_size_t i, j = 0;

    for (i = 0; model[i]; i++) {
        if (model[i] != '_') {
            token[j++] = model[i];
        }
    }
    token[j] = '\0';
    return token;
}

static int admin_model_valid(const char *token)
{
    apr_size_t i;

    for (i = 0; token[i]; i++) {
        if (i >= 32 || !apr_isalnum(token[i])) {
            return 0;
        }
    }
    return 1;
}

static int admin_audit(const polycom_admin_request *in, const char *action,
                       const char *target, json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)
                        : NULL;
    const char *copy = text ? apr_pstrdup(in->pool, text) : "";

    free(text);
    return polycom_store_exec(in->db, POLYCOM_SQL_AUDIT_INSERT, NULL,
                              apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                           in->now),
                              in->user ? in->user : "", action, target, copy,
                              NULL);
}

/* ------------------------------------------------------------------ */
/* Parameters and lines                                                */
/* ------------------------------------------------------------------ */

static const char *admin_param_lookup(const apr_array_header_t *params,
                                      const char *name)
{
    int i;

    for (i = 0; params && i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        if (!strcmp(p->name, name)) {
            return p->value;
        }
    }
    return NULL;
}

static int admin_add_param(apr_pool_t *pool, apr_array_header_t *params,
                           const char *name, const char *value,
                           admin_error *err)
{
    polycom_param *p;

    if (!polycom_param_name_valid(name)) {
        err->status = 400;
        err->detail = apr_psprintf(pool, "\"%s\" is not a valid parameter "
                                   "name", name);
        return -1;
    }
    if (strlen(value) > ADMIN_VALUE_MAX
        || !polycom_param_value_valid(value)) {
        err->status = 400;
        err->detail = apr_psprintf(pool, "the value of %s must be text of at "
                                   "most %d bytes without control "
                                   "characters", name, ADMIN_VALUE_MAX);
        return -1;
    }
    if (admin_param_lookup(params, name)) {
        err->status = 400;
        err->detail = apr_psprintf(pool, "%s is given twice", name);
        return -1;
    }
    p = apr_array_push(params);
    p->name = name;
    p->value = value;
    return 0;
}

/* A JSON object of parameter name -> string value. */
static int admin_params_from_json(apr_pool_t *pool, json_t *object,
                                  apr_array_header_t *params,
                                  admin_error *err)
{
    const char *name;
    json_t *value;

    if (!json_is_object(object)) {
        err->status = 400;
        err->detail = "params must be an object of name: \"value\"";
        return -1;
    }
    json_object_foreach(object, name, value) {
        if (!json_is_string(value)) {
            err->status = 400;
            err->detail = apr_psprintf(pool, "the value of %s must be a "
                                       "string", name);
            return -1;
        }
        if (admin_add_param(pool, params, apr_pstrdup(pool, name),
                            apr_pstrdup(pool, json_string_value(value)),
                            err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The fields of a line and the reg.N parameters they stand for. */
static const struct {
    const char *field;
    const char *suffix;
} admin_line_fields[] = {
    { "user",         "address" },
    { "password",     "auth.password" },
    { "display_name", "displayName" },
    { "label",        "label" },
    { "server",       "server.1.address" },
};
#define ADMIN_LINE_FIELDS \
    (sizeof(admin_line_fields) / sizeof(admin_line_fields[0]))

static int admin_line_to_params(apr_pool_t *pool, int n, json_t *line,
                                apr_array_header_t *params, admin_error *err)
{
    const char *key;
    json_t *value;
    apr_size_t i;

    if (!json_is_object(line) || !json_is_string(json_object_get(line,
                                                                 "user"))) {
        err->status = 400;
        err->detail = apr_psprintf(pool, "line %d must be an object with at "
                                   "least \"user\"", n);
        return -1;
    }
    json_object_foreach(line, key, value) {
        for (i = 0; i < ADMIN_LINE_FIELDS; i++) {
            if (!strcmp(key, admin_line_fields[i].field)) {
                break;
            }
        }
        if (i == ADMIN_LINE_FIELDS || !json_is_string(value)) {
            err->status = 400;
            err->detail = apr_psprintf(pool, "line %d: unknown field or not "
                                       "a string: \"%s\"", n, key);
            return -1;
        }
        if (admin_add_param(pool, params,
                            apr_psprintf(pool, "reg.%d.%s", n,
                                         admin_line_fields[i].suffix),
                            apr_pstrdup(pool, json_string_value(value)),
                            err) < 0) {
            return -1;
        }
        if (i == 0 && admin_add_param(pool, params,
                                      apr_psprintf(pool, "reg.%d.auth.userId",
                                                   n),
                                      apr_pstrdup(pool,
                                                  json_string_value(value)),
                                      err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Replace each masked secret by the value stored now. */
static int admin_unmask(apr_pool_t *pool, apr_array_header_t *params,
                        const apr_array_header_t *stored, admin_error *err)
{
    int i;

    for (i = 0; i < params->nelts; i++) {
        polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        if (strcmp(p->value, POLYCOM_SECRET_MASK)) {
            continue;
        }
        p->value = admin_param_lookup(stored, p->name);
        if (!p->value) {
            err->status = 400;
            err->detail = apr_psprintf(pool, "%s is masked but no value is "
                                       "stored to keep", p->name);
            return -1;
        }
    }
    return 0;
}

static int admin_scope_params(const polycom_admin_request *in,
                              const char *scope, const char *key,
                              apr_array_header_t **params)
{
    apr_array_header_t *rows;
    int i;

    *params = apr_array_make(in->pool, 16, sizeof(polycom_param));
    if (polycom_store_select(in->db, POLYCOM_SQL_SCOPE_PARAMS, &rows, scope,
                             key, NULL) < 0) {
        return -1;
    }
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *row = APR_ARRAY_IDX(rows, i, const polycom_row *);
        polycom_param *p = apr_array_push(*params);

        p->name = polycom_row_get(row, "name");
        p->value = polycom_row_get(row, "value");
    }
    return 0;
}

static int admin_write_params(const polycom_admin_request *in,
                              const char *scope, const char *key,
                              const apr_array_header_t *params)
{
    int i;

    if (polycom_store_exec(in->db, POLYCOM_SQL_SCOPE_CLEAR, NULL, scope, key,
                           NULL) < 0) {
        return -1;
    }
    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        if (polycom_store_exec(in->db, POLYCOM_SQL_PARAM_INSERT, NULL, scope,
                               key, p->name, p->value, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

static json_t *admin_params_json(const apr_array_header_t *params,
                                 int skip_lines)
{
    json_t *object = json_object();
    int i;

    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);
        apr_size_t k;
        int n, used = 0;

        if (skip_lines && sscanf(p->name, "reg.%d.", &n) == 1) {
            const char *rest = strchr(p->name + 4, '.') + 1;

            for (k = 0; k < ADMIN_LINE_FIELDS; k++) {
                used |= !strcmp(rest, admin_line_fields[k].suffix);
            }
            used |= !strcmp(rest, "auth.userId");
        }
        if (!used) {
            json_object_set_new(object, p->name, json_string(
                polycom_param_is_secret(p->name) ? POLYCOM_SECRET_MASK
                                                 : p->value));
        }
    }
    return object;
}

static json_t *admin_lines_json(apr_pool_t *pool,
                                const apr_array_header_t *params)
{
    json_t *lines = json_array();
    int n;

    for (n = 1; n <= ADMIN_LINES_MAX; n++) {
        json_t *line;
        apr_size_t k;
        const char *user = admin_param_lookup(params,
            apr_psprintf(pool, "reg.%d.address", n));

        if (!user) {
            continue;
        }
        line = json_object();
        for (k = 0; k < ADMIN_LINE_FIELDS; k++) {
            const char *name = apr_psprintf(pool, "reg.%d.%s", n,
                                            admin_line_fields[k].suffix);
            const char *v = admin_param_lookup(params, name);

            if (v) {
                json_object_set_new(line, admin_line_fields[k].field,
                    json_string(polycom_param_is_secret(name)
                                ? POLYCOM_SECRET_MASK : v));
            }
        }
        json_array_append_new(lines, line);
    }
    return lines;
}

/* ------------------------------------------------------------------ */
/* Phones                                                              */
/* ------------------------------------------------------------------ */

/* Whether the settings the phone last fetched are what it would get now:
 * the ETag of its last good fetch against the ETag of a fresh render. */
static json_t *admin_up_to_date(const polycom_admin_request *in,
                                const polycom_row *row)
{
    polycom_phone phone;
    apr_array_header_t *params, *fetch;
    const char *body, *error;
    apr_size_t len;

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
    if (polycom_store_params(in->db, &phone, &params) < 0) {
        return NULL;
    }
    if (polycom_render_config(in->pool, params, &body, &len, &error) < 0) {
        return json_false();
    }
    return json_boolean(!strcmp(polycom_rows_first(fetch, "settings_etag"),
                                polycom_etag(in->pool, body, len)));
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
    phone = admin_row_json(in->pool, row, admin_phone_fields);
    if (*polycom_row_get(row, "seen_us")) {
        seen = admin_row_json(in->pool, row, admin_seen_fields);
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

static void admin_phone_list(const polycom_admin_request *in,
                             polycom_admin_response *out)
{
    const char *site = apr_table_get(in->args, "site");
    const char *model = apr_table_get(in->args, "model");
    const char *stale = apr_table_get(in->args, "stale");
    /* Without a stale filter every phone has "no check-in since the end
     * of time", so one statement serves both. */
    const char *limit, *offset, *cutoff = "9223372036854775807";
    apr_array_header_t *rows, *count;
    admin_error err;
    apr_time_t seconds;
    json_t *list, *result;
    int i;

    if (admin_page(in, &limit, &offset, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    if (stale) {
        if (admin_parse_time(stale, &seconds) < 0) {
            polycom_admin_problem(in->pool, out, 400, "stale must be a "
                                  "number of seconds");
            return;
        }
        cutoff = apr_psprintf(in->pool, "%" APR_TIME_T_FMT, in->now - seconds);
    }
    site = site ? site : "";
    model = model ? admin_model_token(in->pool, model) : "";
    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_LIST, &rows, site,
                             site, model, model, cutoff, limit, offset,
                             NULL) < 0
        || polycom_store_select(in->db, POLYCOM_SQL_PHONE_COUNT, &count,
                                site, site, model, model, cutoff,
                                NULL) < 0) {
        admin_db_failed(in, out);
        return;
    }
    list = json_array();
    result = admin_own(in->pool, json_pack("{s:o, s:I, s:I, s:I}",
        "phones", list,
        "total", (json_int_t)apr_atoi64(polycom_rows_first(count,
                                                           "total")),
        "limit", (json_int_t)apr_atoi64(limit),
        "offset", (json_int_t)apr_atoi64(offset)));
    for (i = 0; i < rows->nelts; i++) {
        json_t *phone = admin_phone_json(in, APR_ARRAY_IDX(rows, i,
                                                     const polycom_row *));

        if (!phone) {
            admin_db_failed(in, out);
            return;
        }
        json_array_append_new(list, phone);
    }
    admin_json(in->pool, out, 200, result);
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
                     "deadline", admin_time_json(in->pool, t.deadline_us),
                     "state", t.state,
                     "delivered", admin_time_json(in->pool, t.delivered_us),
                     "confirmed", admin_time_json(in->pool, t.confirmed_us));
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
        || admin_scope_params(in, "phone", mac, &params) < 0) {
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

        json_object_set_new(phone, "lines", admin_lines_json(in->pool,
                                                             params));
        json_object_set_new(phone, "params", admin_params_json(params, 1));
        if (!move) {
            json_decref(phone);
            return NULL;
        }
        json_object_set_new(phone, "reprovision", move);
    }
    return admin_own(in->pool, phone);
}

/* Validate a phone object; @a mac from the path (NULL: from the body). */
static int admin_phone_from_json(apr_pool_t *pool, json_t *object,
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
    phone->mac = admin_lower(pool, mac);

    value = json_object_get(object, "model");
    phone->model = "";
    if (value) {
        if (!json_is_string(value)
            || !admin_model_valid(phone->model = admin_model_token(
                                      pool, json_string_value(value)))) {
            err->detail = "model must be a model token such as VVX411, "
                          "VVX_411 or SPIP330";
            return -1;
        }
    }
    value = json_object_get(object, "site");
    phone->site = "";
    if (value && (!json_is_string(value)
                  || !admin_key_valid(json_string_value(value)))) {
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
        if (!json_is_array(lines) || json_array_size(lines) > ADMIN_LINES_MAX) {
            err->detail = "lines must be an array of at most 34 lines";
            return -1;
        }
        json_array_foreach(lines, n, value) {
            if (admin_line_to_params(pool, (int)n + 1, value, phone->params,
                                     err) < 0) {
                return -1;
            }
        }
    }
    value = json_object_get(object, "params");
    if (value && admin_params_from_json(pool, value, phone->params,
                                        err) < 0) {
        return -1;
    }
    return 0;
}

/* Write one validated phone inside the caller's transaction. */
static int admin_phone_write(const polycom_admin_request *in,
                             admin_phone *phone, int *created,
                             admin_error *err)
{
    apr_array_header_t *rows, *stored;

    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows,
                             phone->mac, NULL) < 0
        || admin_scope_params(in, "phone", phone->mac, &stored) < 0) {
        return -1;
    }
    if (admin_unmask(in->pool, phone->params, stored, err) < 0) {
        return -2;
    }
    *created = rows->nelts == 0;
    if (polycom_store_exec(in->db, POLYCOM_SQL_PHONE_UPSERT, NULL,
                           phone->mac, phone->model, phone->site,
                           phone->label, phone->enabled ? "1" : "0",
                           apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                        in->now), phone->sip_address,
                           NULL) < 0
        || admin_write_params(in, "phone", phone->mac, phone->params) < 0
        || polycom_store_exec(in->db, POLYCOM_SQL_DISCOVERED_DROP, NULL,
                              phone->mac, NULL) < 0) {
        return -1;
    }
    return 0;
}

static json_t *admin_parse_body(const polycom_admin_request *in,
                                polycom_admin_response *out)
{
    json_error_t error;
    json_t *json;

    if (!in->content_type
        || strncasecmp(in->content_type, "application/json", 16)) {
        polycom_admin_problem(in->pool, out, 415, "send the body as "
                              "application/json");
        return NULL;
    }
    json = admin_own(in->pool, json_loadb(in->body, in->len,
                                          JSON_REJECT_DUPLICATES, &error));
    if (!json) {
        polycom_admin_problem(in->pool, out, 400, apr_psprintf(in->pool,
                              "invalid JSON at line %d: %s", error.line,
                              error.text));
    }
    return json;
}

/* A body that is a JSON object of strings, each under one of @a allowed
 * (NULL-terminated); otherwise NULL, with the problem answered. */
static json_t *admin_parse_strings(const polycom_admin_request *in,
                                   polycom_admin_response *out,
                                   const char *what,
                                   const char *const *allowed)
{
    json_t *body = admin_parse_body(in, out), *value;
    const char *name;
    apr_size_t i;

    if (!body) {
        return NULL;
    }
    if (!json_is_object(body)) {
        polycom_admin_problem(in->pool, out, 400, apr_psprintf(in->pool,
                              "%s must be a JSON object", what));
        return NULL;
    }
    json_object_foreach(body, name, value) {
        for (i = 0; allowed[i] && strcmp(name, allowed[i]); i++) {
        }
        if (!allowed[i] || !json_is_string(value)) {
            polycom_admin_problem(in->pool, out, 400, apr_psprintf(in->pool,
                                  "unknown field or not a string: \"%s\"",
                                  name));
            return NULL;
        }
    }
    return body;
}

/* A masked copy of what was written, for the audit. */
static json_t *admin_phone_audit(const admin_phone *phone)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "model", phone->model,
                     "site", phone->site, "label", phone->label,
                     "enabled", phone->enabled,
                     "params", admin_params_json(phone->params, 0));
}

static void admin_phone_put(const polycom_admin_request *in,
                            polycom_admin_response *out, const char *mac)
{
    apr_dbd_transaction_t *txn = NULL;
    json_t *body = admin_parse_body(in, out), *resource;
    admin_phone phone;
    admin_error err;
    int created = 0, rv, found;

    if (!body) {
        return;
    }
    if (admin_phone_from_json(in->pool, body, mac, &phone, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    if (polycom_store_begin(in->db, &txn) < 0) {
        admin_db_failed(in, out);
        return;
    }
    rv = admin_phone_write(in, &phone, &created, &err);
    if (rv == 0) {
        rv = admin_audit(in, created ? "phone.create" : "phone.replace",
                         phone.mac, admin_own(in->pool,
                                              admin_phone_audit(&phone)));
    }
    if (polycom_store_finish(in->db, txn, rv != 0) < 0 && rv != -2) {
        admin_db_failed(in, out);
        return;
    }
    if (rv == -2) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    resource = admin_phone_resource(in, phone.mac, &found);
    if (!resource) {
        admin_db_failed(in, out);
        return;
    }
    if (created) {
        out->location = apr_pstrcat(in->pool, "phones/", phone.mac, NULL);
    }
    admin_json(in->pool, out, created ? 201 : 200, resource);
}

static void admin_phone_delete(const polycom_admin_request *in,
                               polycom_admin_response *out, const char *mac)
{
    apr_dbd_transaction_t *txn = NULL;
    int deleted = 0, failed;

    if (polycom_store_begin(in->db, &txn) < 0) {
        admin_db_failed(in, out);
        return;
    }
    failed = polycom_store_exec(in->db, POLYCOM_SQL_PHONE_DELETE, &deleted,
                                mac, NULL) < 0
             || (deleted
                 && (polycom_store_exec(in->db, POLYCOM_SQL_SCOPE_CLEAR, NULL,
                                        "phone", mac, NULL) < 0
                     || admin_audit(in, "phone.delete", mac, NULL) < 0));
    if (polycom_store_finish(in->db, txn, failed) < 0) {
        admin_db_failed(in, out);
        return;
    }
    if (!deleted) {
        polycom_admin_problem(in->pool, out, 404, "no such phone");
        return;
    }
    out->status = 204;
}

/* ------------------------------------------------------------------ */
/* Import: JSON array or CSV, all or nothing                           */
/* ------------------------------------------------------------------ */

typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *rows;      /* apr_array_header_t * of char * */
    apr_array_header_t *current;
} admin_csv;

static void admin_csv_field(void *data, size_t len, void *ctx)
{
    admin_csv *csv = ctx;

    if (!csv->current) {
        csv->current = apr_array_make(csv->pool, 8, sizeof(char *));
    }
    APR_ARRAY_PUSH(csv->current, char *) =
        apr_pstrmemdup(csv->pool, data ? data : "", len);
}

static void admin_csv_row(int c, void *ctx)
{
    admin_csv *csv = ctx;

    if (csv->current) {
        APR_ARRAY_PUSH(csv->rows, apr_array_header_t *) = csv->current;
    }
    csv->current = NULL;
}

/* CSV columns: mac,model,site,label,user,password,display_name,server */
static json_t *admin_csv_to_json(const polycom_admin_request *in,
                                 const char **error)
{
    static const char *const columns[] = {
        "mac", "model", "site", "label", "user", "password", "display_name",
        "server"
    };
    struct csv_parser parser;
    admin_csv csv;
    json_t *array;
    int i, first = 0;

    csv.pool = in->pool;
    csv.rows = apr_array_make(in->pool, 64, sizeof(apr_array_header_t *));
    csv.current = NULL;
    if (csv_init(&parser, CSV_STRICT | CSV_APPEND_NULL) != 0) {
        *error = "cannot start the CSV parser";
        return NULL;
    }
    if (csv_parse(&parser, in->body, in->len, admin_csv_field, admin_csv_row,
                  &csv) != in->len
        || csv_fini(&parser, admin_csv_field, admin_csv_row, &csv) != 0) {
        *error = apr_psprintf(in->pool, "invalid CSV: %s",
                              csv_strerror(csv_error(&parser)));
        csv_free(&parser);
        return NULL;
    }
    csv_free(&parser);

    array = admin_own(in->pool, json_array());
    if (csv.rows->nelts
        && !strcasecmp(APR_ARRAY_IDX(APR_ARRAY_IDX(csv.rows, 0,
                                                   apr_array_header_t *),
                                     0, char *), "mac")) {
        first = 1;          /* a header row */
    }
    for (i = first; i < csv.rows->nelts; i++) {
        apr_array_header_t *row = APR_ARRAY_IDX(csv.rows, i,
                                                apr_array_header_t *);
        json_t *phone = json_object(), *line = json_object();
        int c;

        if (row->nelts != (int)(sizeof(columns) / sizeof(columns[0]))) {
            *error = apr_psprintf(in->pool, "CSV row %d has %d columns, "
                                  "expected 8: mac,model,site,label,user,"
                                  "password,display_name,server", i + 1,
                                  row->nelts);
            json_decref(phone);
            json_decref(line);
            return NULL;
        }
        for (c = 0; c < row->nelts; c++) {
            const char *v = APR_ARRAY_IDX(row, c, char *);

            if (c < 4) {
                json_object_set_new(phone, columns[c], json_string(v));
            }
            else if (*v) {
                json_object_set_new(line, columns[c], json_string(v));
            }
        }
        if (json_object_size(line)) {
            json_object_set_new(phone, "lines", json_pack("[o]", line));
        }
        else {
            json_decref(line);
        }
        json_array_append_new(array, phone);
    }
    return array;
}

static void admin_import(const polycom_admin_request *in,
                         polycom_admin_response *out)
{
    apr_dbd_transaction_t *txn = NULL;
    json_t *array, *value, *errors;
    admin_phone *phones;
    apr_hash_t *seen = apr_hash_make(in->pool);
    const char *error = NULL;
    int created = 0, replaced = 0, failed = 0, conflict = 0;
    size_t i;

    if (in->content_type && !strncasecmp(in->content_type, "text/csv", 8)) {
        array = admin_csv_to_json(in, &error);
        if (!array) {
            polycom_admin_problem(in->pool, out, 400, error);
            return;
        }
    }
    else if (!(array = admin_parse_body(in, out))) {
        return;
    }
    if (!json_is_array(array)) {
        polycom_admin_problem(in->pool, out, 400, "import a JSON array of "
                              "phones, or CSV");
        return;
    }
    /* Validate every row first: one bad row and nothing is written. */
    phones = apr_pcalloc(in->pool, sizeof(*phones)
                         * (json_array_size(array) + 1));
    errors = admin_own(in->pool, json_array());
    json_array_foreach(array, i, value) {
        admin_error err;

        if (admin_phone_from_json(in->pool, value, NULL, &phones[i],
                                  &err) < 0) {
            json_array_append_new(errors, json_pack("{s:I, s:s}", "row",
                                                    (json_int_t)i + 1,
                                                    "error", err.detail));
        }
        else if (apr_hash_get(seen, phones[i].mac, APR_HASH_KEY_STRING)) {
            conflict = 1;
            json_array_append_new(errors, json_pack("{s:I, s:s, s:s}", "row",
                                                    (json_int_t)i + 1,
                                                    "mac", phones[i].mac,
                                                    "error", "duplicate mac "
                                                    "in this import"));
        }
        else {
            apr_hash_set(seen, phones[i].mac, APR_HASH_KEY_STRING, "");
        }
    }
    if (json_array_size(errors)) {
        json_t *problem = admin_own(in->pool, json_pack(
            "{s:s, s:s, s:i, s:s, s:O}", "type", "about:blank",
            "title", admin_title(conflict ? 409 : 400),
            "status", conflict ? 409 : 400,
            "detail", "nothing was imported: fix the rows listed in errors",
            "errors", errors));

        admin_reply(in->pool, out, conflict ? 409 : 400,
                    "application/problem+json", problem);
        return;
    }
    if (polycom_store_begin(in->db, &txn) < 0) {
        admin_db_failed(in, out);
        return;
    }
    for (i = 0; !failed && i < json_array_size(array); i++) {
        admin_error err;
        int was_created = 0;
        int rv = admin_phone_write(in, &phones[i], &was_created, &err);

        if (rv == -2) {
            json_array_append_new(errors, json_pack("{s:I, s:s, s:s}", "row",
                                                    (json_int_t)i + 1, "mac",
                                                    phones[i].mac, "error",
                                                    err.detail));
        }
        failed = rv == -1;
        created += rv == 0 && was_created;
        replaced += rv == 0 && !was_created;
    }
    if (!failed && !json_array_size(errors)) {
        failed = admin_audit(in, "import", "", admin_own(in->pool,
                             json_pack("{s:i, s:i}", "created", created,
                                       "replaced", replaced))) < 0;
    }
    if (polycom_store_finish(in->db, txn, failed
                             || json_array_size(errors)) < 0
        && !json_array_size(errors)) {
        admin_db_failed(in, out);
        return;
    }
    if (json_array_size(errors)) {
        polycom_admin_problem(in->pool, out, 400, "nothing was imported: a "
                              "masked secret has no stored value");
        return;
    }
    admin_json(in->pool, out, 200, admin_own(in->pool, json_pack(
        "{s:i, s:i, s:i}", "imported", created + replaced,
        "created", created, "replaced", replaced)));
}

/* ------------------------------------------------------------------ */
/* Parameter layers                                                    */
/* ------------------------------------------------------------------ */

static void admin_layer(const polycom_admin_request *in,
                        polycom_admin_response *out, const char *scope,
                        const char *key)
{
    apr_dbd_transaction_t *txn = NULL;
    apr_array_header_t *stored, *params;
    const char *target = *key ? apr_pstrcat(in->pool, scope, "/", key, NULL)
                              : scope;
    admin_error err;
    json_t *body;
    int failed;

    if (!strcmp(in->method, "GET")) {
        if (admin_scope_params(in, scope, key, &stored) < 0) {
            admin_db_failed(in, out);
            return;
        }
        admin_json(in->pool, out, 200, admin_own(in->pool, json_pack(
            "{s:s, s:s, s:o}", "scope", scope, "key", key,
            "params", admin_params_json(stored, 0))));
        return;
    }
    params = apr_array_make(in->pool, 16, sizeof(polycom_param));
    if (!strcmp(in->method, "PUT")) {
        if (!(body = admin_parse_body(in, out))) {
            return;
        }
        if (admin_params_from_json(in->pool, body, params, &err) < 0) {
            polycom_admin_problem(in->pool, out, err.status, err.detail);
            return;
        }
    }
    if (polycom_store_begin(in->db, &txn) < 0) {
        admin_db_failed(in, out);
        return;
    }
    failed = admin_scope_params(in, scope, key, &stored) < 0;
    if (!failed && admin_unmask(in->pool, params, stored, &err) < 0) {
        polycom_store_finish(in->db, txn, 1);
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    failed = failed || admin_write_params(in, scope, key, params) < 0
             || admin_audit(in, !strcmp(in->method, "PUT") ? "params.replace"
                                                          : "params.delete",
                            target, admin_own(in->pool,
                                              admin_params_json(params, 0)))
                < 0;
    if (polycom_store_finish(in->db, txn, failed) < 0) {
        admin_db_failed(in, out);
        return;
    }
    if (!strcmp(in->method, "DELETE")) {
        out->status = 204;
        return;
    }
    admin_json(in->pool, out, 200, admin_own(in->pool, json_pack(
        "{s:s, s:s, s:o}", "scope", scope, "key", key,
        "params", admin_params_json(params, 0))));
}

/* ------------------------------------------------------------------ */
/* Read-only lists                                                     */
/* ------------------------------------------------------------------ */

/* One page of a list statement taking (limit, offset); on failure the
 * response is already made. */
static int admin_paged_rows(const polycom_admin_request *in,
                            polycom_admin_response *out, const char *label,
                            apr_array_header_t **rows)
{
    const char *limit, *offset;
    admin_error err;

    if (admin_page(in, &limit, &offset, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return -1;
    }
    if (polycom_store_select(in->db, label, rows, limit, offset, NULL) < 0) {
        admin_db_failed(in, out);
        return -1;
    }
    return 0;
}

static const admin_field admin_discovered_fields[] = {
    { "mac",        "mac",           ADMIN_TEXT },
    { "first_seen", "first_seen_us", ADMIN_TIME },
    { "last_seen",  "last_seen_us",  ADMIN_TIME },
    { "ip",         "last_ip",       ADMIN_TEXT },
    { "model",      "model",         ADMIN_TEXT },
    { "firmware",   "firmware",      ADMIN_TEXT },
    { "requests",   "requests",      ADMIN_NUMBER },
    { NULL }
};

static void admin_discovered(const polycom_admin_request *in,
                             polycom_admin_response *out)
{
    apr_array_header_t *rows;

    if (admin_paged_rows(in, out, POLYCOM_SQL_DISCOVERED_LIST, &rows) == 0) {
        admin_list_reply(in, out, NULL, "discovered",
                         admin_rows_json(in->pool, rows,
                                         admin_discovered_fields));
    }
}

static const admin_field admin_checkin_fields[] = {
    { "id",         "id",         ADMIN_NUMBER },
    { "time",       "time_us",    ADMIN_TIME },
    { "time_us",    "time_us",    ADMIN_NUMBER },
    { "mac",        "mac",        ADMIN_TEXT },
    { "ip",         "ip",         ADMIN_TEXT },
    { "method",     "method",     ADMIN_TEXT },
    { "file",       "file",       ADMIN_TEXT },
    { "status",     "status",     ADMIN_NUMBER },
    { "bytes",      "bytes",      ADMIN_NUMBER },
    { "etag",       "etag",       ADMIN_TEXT },
    { "family",     "family",     ADMIN_TEXT },
    { "model",      "model",      ADMIN_TEXT },
    { "firmware",   "firmware",   ADMIN_TEXT },
    { "stage",      "stage",      ADMIN_TEXT },
    { "user_agent", "user_agent", ADMIN_TEXT },
    { NULL }
};

static void admin_checkins(const polycom_admin_request *in,
                           polycom_admin_response *out)
{
    const char *mac = apr_table_get(in->args, "mac");
    const char *since = apr_table_get(in->args, "since");
    const char *limit, *offset;
    apr_array_header_t *rows;
    apr_time_t from = 0;
    admin_error err;

    if (admin_page(in, &limit, &offset, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    if (mac && !polycom_mac_valid(mac)) {
        polycom_admin_problem(in->pool, out, 400, "mac must be 12 "
                              "hexadecimal digits");
        return;
    }
    if (since && admin_parse_time(since, &from) < 0) {
        polycom_admin_problem(in->pool, out, 400, "since must be seconds "
                              "since 1970 or YYYY-MM-DDTHH:MM:SSZ");
        return;
    }
    mac = mac ? admin_lower(in->pool, mac) : "";
    if (polycom_store_select(in->db, POLYCOM_SQL_CHECKIN_LIST, &rows, mac,
                             mac, apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                               from), limit, NULL) < 0) {
        admin_db_failed(in, out);
        return;
    }
    admin_list_reply(in, out, NULL, "checkins",
                     admin_rows_json(in->pool, rows, admin_checkin_fields));
}

static const admin_field admin_audit_fields[] = {
    { "id",     "id",      ADMIN_NUMBER },
    { "time",   "time_us", ADMIN_TIME },
    { "user",   "admin",   ADMIN_TEXT },
    { "action", "action",  ADMIN_TEXT },
    { "target", "target",  ADMIN_TEXT },
    { "change", "detail",  ADMIN_DOCUMENT },
    { NULL }
};

static void admin_audit_list(const polycom_admin_request *in,
                             polycom_admin_response *out)
{
    apr_array_header_t *rows;

    if (admin_paged_rows(in, out, POLYCOM_SQL_AUDIT_LIST, &rows) == 0) {
        admin_list_reply(in, out, NULL, "audit",
                         admin_rows_json(in->pool, rows, admin_audit_fields));
    }
}

/* ------------------------------------------------------------------ */
/* Uploads                                                             */
/* ------------------------------------------------------------------ */

static const admin_field admin_upload_fields[] = {
    { "kind", "kind",    ADMIN_TEXT },
    { "size", "size",    ADMIN_NUMBER },
    { "time", "time_us", ADMIN_TIME },
    { NULL }
};

/* The list of a phone's uploads, each with the file name it is read at. */
static void admin_upload_list(const polycom_admin_request *in,
                              polycom_admin_response *out, const char *mac,
                              const apr_array_header_t *rows)
{
    json_t *list = admin_rows_json(in->pool, rows, admin_upload_fields);
    json_t *item;
    size_t i;

    json_array_foreach(list, i, item) {
        const char *kind = json_string_value(json_object_get(item, "kind"));
        const char *file = polycom_name_file(in->pool, mac,
                                             polycom_name_kind_from_label(
                                                 kind));

        json_object_set_new(item, "file", json_string(file ? file : kind));
    }
    admin_list_reply(in, out, mac, "uploads", list);
}

static void admin_uploads(const polycom_admin_request *in,
                          polycom_admin_response *out, const char *mac,
                          const char *file)
{
    apr_array_header_t *rows;
    polycom_name name;
    const char *kind, *body = NULL;
    apr_size_t len = 0;
    int deleted = 0, failed;

    if (!file) {
        if (strcmp(in->method, "GET")) {
            out->allow = "GET, HEAD";
            polycom_admin_problem(in->pool, out, 405, "uploads of a phone "
                                  "are listed with GET");
            return;
        }
        if (polycom_store_select(in->db, POLYCOM_SQL_UPLOAD_LIST, &rows, mac,
                                 mac, NULL) < 0) {
            admin_db_failed(in, out);
            return;
        }
        admin_upload_list(in, out, mac, rows);
        return;
    }
    if (!polycom_name_parse(file, &name) || strcmp(name.mac, mac)
        || !(polycom_name_is_upload(name.kind)
             || (name.is_default && name.kind == POLYCOM_FILE_DIRECTORY))) {
        polycom_admin_problem(in->pool, out, 404, "not an upload of this "
                              "phone");
        return;
    }
    kind = polycom_name_kind_label(name.kind);
    if (!strcmp(in->method, "GET")) {
        failed = polycom_upload_is_log(name.kind)
                 ? polycom_store_log_get(in->db, mac, kind, &body, &len)
                 : polycom_store_upload_get(in->db, mac, kind, &body, &len);
        if (failed < 0) {
            admin_db_failed(in, out);
            return;
        }
        if (!body) {
            polycom_admin_problem(in->pool, out, 404, "nothing stored");
            return;
        }
        out->status = 200;
        out->content_type = polycom_upload_is_log(name.kind)
                            ? "text/plain; charset=utf-8" : "application/xml";
        out->body = body;
        out->len = len;
        return;
    }
    if (strcmp(in->method, "DELETE")) {
        out->allow = "GET, HEAD, DELETE";
        polycom_admin_problem(in->pool, out, 405, "an upload is read with "
                              "GET or removed with DELETE");
        return;
    }
    failed = polycom_store_exec(in->db, polycom_upload_is_log(name.kind)
                                ? POLYCOM_SQL_LOG_DELETE
                                : POLYCOM_SQL_UPLOAD_DELETE, &deleted, mac,
                                kind, NULL) < 0
             || (deleted && admin_audit(in, "upload.delete",
                                        apr_pstrcat(in->pool, mac, "/", file,
                                                    NULL), NULL) < 0);
    if (failed) {
        admin_db_failed(in, out);
        return;
    }
    if (!deleted) {
        polycom_admin_problem(in->pool, out, 404, "nothing stored");
        return;
    }
    out->status = 204;
}

/* ------------------------------------------------------------------ */
/* Reprovisioning                                                      */
/* ------------------------------------------------------------------ */

static const char *admin_type_from_scheme(const char *server)
{
    static const char *const schemes[] = { "ftp", "tftp", "http", "https",
                                           "ftps" };
    const char *sep = strstr(server, "://");
    apr_size_t i;

    for (i = 0; sep && i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strlen(schemes[i]) == (apr_size_t)(sep - server)
            && !strncasecmp(server, schemes[i], (apr_size_t)(sep - server))) {
            return schemes[i];
        }
    }
    return "HTTP";
}

static void admin_reprovision(const polycom_admin_request *in,
                              polycom_admin_response *out, const char *scope,
                              const char *key)
{
    static const char *const allowed[] = {
        "server", "type", "boot_server", "user", "password", "deadline", NULL
    };
    apr_dbd_transaction_t *txn = NULL;
    const char *target = *key ? apr_pstrcat(in->pool, scope, "/", key, NULL)
                              : scope;
    const char *server, *type, *boot, *user = "", *password = "";
    const char *deadline = "";
    json_t *body, *value;
    apr_time_t when;
    int failed, deleted = 0;

    if (!strcmp(in->method, "DELETE")) {
        if (polycom_store_begin(in->db, &txn) < 0) {
            admin_db_failed(in, out);
            return;
        }
        failed = polycom_store_exec(in->db, POLYCOM_SQL_REPROV_DELETE,
                                    &deleted, scope, key, NULL) < 0
                 || polycom_store_exec(in->db, POLYCOM_SQL_REPROV_PRUNE,
                                       NULL, NULL) < 0
                 || (deleted && admin_audit(in, "reprovision.delete", target,
                                            NULL) < 0);
        if (polycom_store_finish(in->db, txn, failed) < 0) {
            admin_db_failed(in, out);
            return;
        }
        if (!deleted) {
            polycom_admin_problem(in->pool, out, 404, "no reprovisioning "
                                  "target is set here");
            return;
        }
        out->status = 204;
        return;
    }
    if (!(body = admin_parse_strings(in, out, "the target", allowed))) {
        return;
    }
    server = json_string_value(json_object_get(body, "server"));
    if (!polycom_reprovision_server_valid(server)) {
        polycom_admin_problem(in->pool, out, 400, "server is required: a "
                              "host, host/path or URL of at most 255 "
                              "characters without spaces or quotes");
        return;
    }
    value = json_object_get(body, "type");
    type = value ? json_string_value(value)
                 : admin_type_from_scheme(server);
    if (polycom_reprovision_server_type(type) < 0) {
        polycom_admin_problem(in->pool, out, 400, "type must be one of FTP, "
                              "TFTP, HTTP, HTTPS, FTPS");
        return;
    }
    value = json_object_get(body, "boot_server");
    boot = value ? json_string_value(value) : "Static";
    if (polycom_reprovision_boot_server(boot) < 0) {
        polycom_admin_problem(in->pool, out, 400, "boot_server must be one "
                              "of Default, Custom, Static, CustomAndDefault");
        return;
    }
    if ((value = json_object_get(body, "user"))) {
        user = json_string_value(value);
    }
    if ((value = json_object_get(body, "password"))) {
        password = json_string_value(value);
    }
    if (strlen(user) > 255 || strlen(password) > 255
        || !polycom_param_value_valid(user)
        || !polycom_param_value_valid(password)) {
        polycom_admin_problem(in->pool, out, 400, "user and password are "
                              "text of at most 255 bytes");
        return;
    }
    if ((value = json_object_get(body, "deadline"))) {
        if (admin_parse_time(json_string_value(value), &when) < 0) {
            polycom_admin_problem(in->pool, out, 400, "deadline must be "
                                  "YYYY-MM-DDTHH:MM:SSZ");
            return;
        }
        deadline = apr_psprintf(in->pool, "%" APR_TIME_T_FMT, when);
    }
    /* A new target replaces the old one, and with it every phone's state:
     * a changed move starts again from pending. */
    if (polycom_store_begin(in->db, &txn) < 0) {
        admin_db_failed(in, out);
        return;
    }
    failed = polycom_store_exec(in->db, POLYCOM_SQL_REPROV_DELETE, NULL,
                                scope, key, NULL) < 0
             || polycom_store_exec(in->db, POLYCOM_SQL_REPROV_PRUNE, NULL,
                                   NULL) < 0
             || polycom_store_exec(in->db, POLYCOM_SQL_REPROV_INSERT, NULL,
                                   scope, key, server,
                                   polycom_reprovision_address(in->pool,
                                                               server),
                                   apr_pstrdup(in->pool, type),
                                   apr_pstrdup(in->pool, boot), user,
                                   password, deadline,
                                   apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                                in->now),
                                   in->user ? in->user : "", NULL) < 0
             || admin_audit(in, "reprovision.set", target, admin_own(
                    in->pool, json_pack("{s:s, s:s, s:s, s:s, s:s}",
                                        "server", server, "type", type,
                                        "boot_server", boot, "user", user,
                                        "password", *password
                                        ? POLYCOM_SECRET_MASK : ""))) < 0;
    if (polycom_store_finish(in->db, txn, failed) < 0) {
        admin_db_failed(in, out);
        return;
    }
    admin_json(in->pool, out, 201, admin_own(in->pool, json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "scope", scope,
        "key", key, "server", server, "type", type, "boot_server", boot,
        "user", user, "password", *password ? POLYCOM_SECRET_MASK : "",
        "deadline", admin_time_json(in->pool, deadline))));
}

static const admin_field admin_target_fields[] = {
    { "scope",       "scope",         ADMIN_TEXT },
    { "key",         "scope_key",     ADMIN_TEXT },
    { "server",      "server",        ADMIN_TEXT },
    { "type",        "server_type",   ADMIN_TEXT },
    { "boot_server", "boot_server",   ADMIN_TEXT },
    { "user",        "prov_user",     ADMIN_TEXT },
    { "password",    "prov_password", ADMIN_MASKED },
    { "deadline",    "deadline_us",   ADMIN_TIME },
    { "created",     "created_us",    ADMIN_TIME },
    { "admin",       "admin",         ADMIN_TEXT },
    { "delivered",   "delivered",     ADMIN_NUMBER },
    { "confirmed",   "confirmed",     ADMIN_NUMBER },
    { NULL }
};

static void admin_reprovision_list(const polycom_admin_request *in,
                                   polycom_admin_response *out)
{
    apr_array_header_t *rows;

    if (polycom_store_select(in->db, POLYCOM_SQL_REPROV_LIST, &rows,
                             NULL) < 0) {
        admin_db_failed(in, out);
        return;
    }
    admin_list_reply(in, out, NULL, "targets",
                     admin_rows_json(in->pool, rows, admin_target_fields));
}

/* The files to drop onto an old server that cannot run this module: its
 * default master names one file, and that file moves every phone reading
 * it to the fleet-wide target (credentials included: the admin chose). */
static void admin_bundle(const polycom_admin_request *in,
                         polycom_admin_response *out)
{
    apr_array_header_t *rows, *files;
    polycom_master_spec spec;
    polycom_reprovision t;
    const polycom_row *r;
    const char *master, *device, *error;
    apr_size_t mlen, dlen;

    if (polycom_store_select(in->db, POLYCOM_SQL_REPROV_FLEET, &rows,
                             NULL) < 0) {
        admin_db_failed(in, out);
        return;
    }
    if (!rows->nelts) {
        polycom_admin_problem(in->pool, out, 404, "set a fleet-wide target "
                              "first: POST reprovision");
        return;
    }
    r = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    t.server = polycom_row_get(r, "server");
    t.server_type = polycom_row_get(r, "server_type");
    t.boot_server = polycom_row_get(r, "boot_server");
    t.user = polycom_row_get(r, "prov_user");
    t.password = polycom_row_get(r, "prov_password");
    files = apr_array_make(in->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(files, const char *) = "000000000000-device.cfg";
    memset(&spec, 0, sizeof(spec));
    spec.app_file_path = "";            /* leave firmware alone */
    spec.config_files = files;
    if (polycom_render_master(in->pool, &spec, &master, &mlen, &error) < 0
        || polycom_render_config(in->pool,
                                 polycom_reprovision_params(in->pool, &t, 1),
                                 &device, &dlen, &error) < 0) {
        polycom_admin_problem(in->pool, out, 500, error);
        return;
    }
    admin_json(in->pool, out, 200, admin_own(in->pool, json_pack(
        "{s:s, s:{s:s, s:s}}", "server", t.server, "files",
        "000000000000.cfg", master, "000000000000-device.cfg", device)));
}

/* ------------------------------------------------------------------ */
/* Resync                                                              */
/* ------------------------------------------------------------------ */

static const admin_field admin_job_fields[] = {
    { "id",            "id",            ADMIN_NUMBER },
    { "state",         "state",         ADMIN_TEXT },
    { "reboot",        "reboot",        ADMIN_FLAG },
    { "host",          "host",          ADMIN_TEXT },
    { "port",          "port",          ADMIN_NUMBER },
    { "not_before",    "not_before_us", ADMIN_TIME },
    { "queued",        "created_us",    ADMIN_TIME },
    { "admin",         "admin",         ADMIN_TEXT },
    { "status",        "status",        ADMIN_NUMBER },
    { "reason",        "reason",        ADMIN_TEXT },
    { "transmissions", "transmissions", ADMIN_NUMBER },
    { "challenged",    "challenged",    ADMIN_FLAG },
    { "finished",      "finished_us",   ADMIN_TIME },
    { NULL }
};

static void admin_resync_jobs(const polycom_admin_request *in,
                              polycom_admin_response *out, const char *mac)
{
    apr_array_header_t *rows;

    if (polycom_store_select(in->db, POLYCOM_SQL_RESYNC_JOBS, &rows, mac,
                             NULL) < 0) {
        admin_db_failed(in, out);
        return;
    }
    admin_list_reply(in, out, mac, "resyncs",
                     admin_rows_json(in->pool, rows, admin_job_fields));
}

/* Queue check-sync for phones: one (phones/{mac}/resync), a site, a list
 * ({"macs": [...]}) or the fleet ({"all": true}). */
static void admin_resync(const polycom_admin_request *in,
                         polycom_admin_response *out, const char *mac,
                         const char *site)
{
    apr_dbd_transaction_t *txn = NULL;
    apr_array_header_t *macs = apr_array_make(in->pool, 16,
                                              sizeof(const char *));
    json_t *body = NULL, *value, *item, *queued, *skipped;
    int reboot = 0, failed = 0, i;
    size_t n;

    if (in->len) {
        const char *key;

        if (!(body = admin_parse_body(in, out))) {
            return;
        }
        if (!json_is_object(body)) {
            polycom_admin_problem(in->pool, out, 400, "the body must be a "
                                  "JSON object");
            return;
        }
        json_object_foreach(body, key, value) {
            if (strcmp(key, "reboot") && (mac || site
                                          || (strcmp(key, "macs")
                                              && strcmp(key, "all")))) {
                polycom_admin_problem(in->pool, out, 400, apr_psprintf(
                                      in->pool, "unknown field \"%s\"", key));
                return;
            }
        }
        value = json_object_get(body, "reboot");
        if (value && !json_is_boolean(value)) {
            polycom_admin_problem(in->pool, out, 400, "reboot must be true "
                                  "or false");
            return;
        }
        reboot = value && json_is_true(value);
    }
    if (mac) {
        APR_ARRAY_PUSH(macs, const char *) = mac;
    }
    else if (site || (body && json_is_true(json_object_get(body, "all")))) {
        apr_array_header_t *rows;

        if ((site ? polycom_store_select(in->db, POLYCOM_SQL_SITE_MACS,
                                         &rows, site, NULL)
                  : polycom_store_select(in->db, POLYCOM_SQL_ALL_MACS,
                                         &rows, NULL)) < 0) {
            admin_db_failed(in, out);
            return;
        }
        for (i = 0; i < rows->nelts; i++) {
            APR_ARRAY_PUSH(macs, const char *) = polycom_row_get(
                APR_ARRAY_IDX(rows, i, const polycom_row *), "mac");
        }
    }
    else {
        value = body ? json_object_get(body, "macs") : NULL;
        if (!json_is_array(value) || !json_array_size(value)) {
            polycom_admin_problem(in->pool, out, 400, "name the phones: "
                                  "{\"macs\": [...]} or {\"all\": true}");
            return;
        }
        json_array_foreach(value, n, item) {
            if (!json_is_string(item)
                || !polycom_mac_valid(json_string_value(item))) {
                polycom_admin_problem(in->pool, out, 400, "macs must be MAC "
                                      "addresses of 12 hexadecimal digits");
                return;
            }
            APR_ARRAY_PUSH(macs, const char *) =
                admin_lower(in->pool, json_string_value(item));
        }
    }
    queued = admin_own(in->pool, json_array());
    skipped = admin_own(in->pool, json_array());
    if (polycom_store_begin(in->db, &txn) < 0) {
        admin_db_failed(in, out);
        return;
    }
    for (i = 0; !failed && i < macs->nelts; i++) {
        const char *m = APR_ARRAY_IDX(macs, i, const char *), *why = NULL;
        apr_time_t when = 0;
        int rv = polycom_resync_enqueue(in->db, m, reboot, in->user, in->now,
                                        &in->pacing, &when, &why);

        if (rv == -1) {
            failed = 1;
        }
        else if (rv == -2) {
            json_array_append_new(skipped, json_pack("{s:s, s:s}", "mac", m,
                                                     "error", why));
        }
        else {
            json_array_append_new(queued, json_pack("{s:s, s:o, s:I}",
                "mac", m, "not_before", admin_time_json(in->pool,
                    apr_psprintf(in->pool, "%" APR_TIME_T_FMT, when)),
                "not_before_us", (json_int_t)when));
        }
    }
    if (!failed && json_array_size(queued)) {
        failed = admin_audit(in, reboot ? "resync.reboot" : "resync",
                             mac ? mac : site ? site : "",
                             admin_own(in->pool, json_pack("{s:I}", "phones",
                                 (json_int_t)json_array_size(queued)))) < 0;
    }
    if (polycom_store_finish(in->db, txn, failed) < 0) {
        admin_db_failed(in, out);
        return;
    }
    if (mac && json_array_size(skipped)) {
        json_t *first = json_array_get(skipped, 0);

        polycom_admin_problem(in->pool, out,
            !strcmp(json_string_value(json_object_get(first, "error")),
                    "no such phone") ? 404 : 409,
            json_string_value(json_object_get(first, "error")));
        return;
    }
    admin_json(in->pool, out, 202, admin_own(in->pool, json_pack(
        "{s:O, s:O}", "queued", queued, "skipped", skipped)));
}

static int admin_method(const polycom_admin_request *in,
                        polycom_admin_response *out, const char *allow);

/* ------------------------------------------------------------------ */
/* Phone credentials                                                   */
/* ------------------------------------------------------------------ */

#define ADMIN_DEFAULT_REALM "polycom"
#define ADMIN_BCRYPT_COST   10


/* A user name Apache's authentication can carry: no ':' (Basic) or '"'. */
static int admin_username_valid(const char *name)
{
    apr_size_t i;

    for (i = 0; name[i]; i++) {
        if (i >= 64 || !(apr_isalnum(name[i]) || strchr("._-@", name[i]))) {
            return 0;
        }
    }
    return i > 0;
}

static const admin_field admin_credential_fields[] = {
    { "username", "username",   ADMIN_TEXT },
    { "realm",    "realm",      ADMIN_TEXT },
    { "created",  "created_us", ADMIN_TIME },
    { NULL }
};

static void admin_credentials(const polycom_admin_request *in,
                              polycom_admin_response *out, const char *mac,
                              const char *username)
{
    static const char *const fields[] = {
        "username", "password", "realm", NULL
    };
    apr_array_header_t *rows;
    json_t *body, *value;
    const char *user, *password, *realm = ADMIN_DEFAULT_REALM;
    unsigned char salt[16];
    char hash[128];
    int deleted = 0;

    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows, mac,
                             NULL) < 0) {
        admin_db_failed(in, out);
        return;
    }
    if (!rows->nelts) {
        polycom_admin_problem(in->pool, out, 404, "no such phone");
        return;
    }
    if (username) {
        if (!admin_method(in, out, "DELETE")) {
            return;
        }
        if (polycom_store_exec(in->db, POLYCOM_SQL_CRED_DELETE, &deleted,
                               mac, username, NULL) < 0
            || (deleted && admin_audit(in, "credential.delete",
                                       apr_pstrcat(in->pool, mac, "/",
                                                   username, NULL),
                                       NULL) < 0)) {
            admin_db_failed(in, out);
            return;
        }
        if (!deleted) {
            polycom_admin_problem(in->pool, out, 404, "no such credential");
            return;
        }
        out->status = 204;
        return;
    }
    if (!admin_method(in, out, "GET, HEAD, POST")) {
        return;
    }
    if (!strcmp(in->method, "GET")) {
        if (polycom_store_select(in->db, POLYCOM_SQL_CRED_LIST, &rows, mac,
                                 NULL) < 0) {
            admin_db_failed(in, out);
            return;
        }
        admin_list_reply(in, out, mac, "credentials",
                         admin_rows_json(in->pool, rows,
                                         admin_credential_fields));
        return;
    }
    if (!(body = admin_parse_strings(in, out, "a credential", fields))) {
        return;
    }
    value = json_object_get(body, "username");
    user = value ? json_string_value(value) : mac;
    value = json_object_get(body, "password");
    password = value ? json_string_value(value) : NULL;
    if ((value = json_object_get(body, "realm"))) {
        realm = json_string_value(value);
    }
    if (!admin_username_valid(user) || !admin_username_valid(realm)) {
        polycom_admin_problem(in->pool, out, 400, "username and realm are "
                              "letters, digits and . _ - @ (at most 64)");
        return;
    }
    if (!password || strlen(password) < 8 || strlen(password) > 72
        || !polycom_param_value_valid(password)) {
        polycom_admin_problem(in->pool, out, 400, "password is required: 8 "
                              "to 72 bytes of text");
        return;
    }
    if (polycom_store_select(in->db, POLYCOM_SQL_CRED_MAC, &rows, user,
                             NULL) < 0) {
        admin_db_failed(in, out);
        return;
    }
    if (rows->nelts) {
        polycom_admin_problem(in->pool, out, 409, "that username is taken");
        return;
    }
    if (apr_generate_random_bytes(salt, sizeof(salt)) != APR_SUCCESS
        || apr_bcrypt_encode(password, ADMIN_BCRYPT_COST, salt, sizeof(salt),
                             hash, sizeof(hash)) != APR_SUCCESS) {
        polycom_admin_problem(in->pool, out, 500, "cannot hash the password");
        return;
    }
    if (polycom_store_exec(in->db, POLYCOM_SQL_CRED_INSERT, NULL, user, mac,
                           realm, apr_pstrdup(in->pool, hash),
                           polycom_md5_hex(in->pool, apr_pstrcat(in->pool,
                               user, ":", realm, ":", password, NULL),
                               strlen(user) + strlen(realm)
                               + strlen(password) + 2),
                           apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                        in->now), NULL) < 0
        || admin_audit(in, "credential.add", apr_pstrcat(in->pool, mac, "/",
                       user, NULL), NULL) < 0) {
        admin_db_failed(in, out);
        return;
    }
    out->location = apr_pstrcat(in->pool, "phones/", mac, "/credentials",
                                NULL);
    admin_json(in->pool, out, 201, admin_own(in->pool, json_pack(
        "{s:s, s:s, s:s}", "mac", mac, "username", user, "realm", realm)));
}

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

static const char *const admin_resources[] = {
    "phones", "discovered", "params", "import", "checkins", "uploads",
    "preview", "audit", "metrics", "sites", "reprovision", "resync"
};

int polycom_admin_is_resource(const char *path)
{
    apr_size_t i, len = strcspn(path, "/");

    for (i = 0; i < sizeof(admin_resources) / sizeof(admin_resources[0]);
         i++) {
        if (strlen(admin_resources[i]) == len
            && !strncmp(path, admin_resources[i], len)) {
            return 1;
        }
    }
    return 0;
}

static int admin_method(const polycom_admin_request *in,
                        polycom_admin_response *out, const char *allow)
{
    const char *m;
    apr_size_t n = strlen(in->method);

    for (m = strstr(allow, in->method); m; m = strstr(m + 1, in->method)) {
        if ((m == allow || m[-1] == ' ') && (m[n] == ',' || !m[n])) {
            return 1;
        }
    }
    out->allow = allow;
    polycom_admin_problem(in->pool, out, 405, apr_psprintf(in->pool,
                          "%s is not allowed here; allowed: %s", in->method,
                          allow));
    return 0;
}

void polycom_admin_handle(const polycom_admin_request *in,
                          polycom_admin_response *out)
{
    char *path = apr_pstrdup(in->pool, in->path), *last = NULL;
    const char *seg[5] = { NULL };
    const char *mac;
    int n = 0, found;
    char *tok;

    memset(out, 0, sizeof(*out));
    for (tok = apr_strtok(path, "/", &last); tok && n < 5;
         tok = apr_strtok(NULL, "/", &last)) {
        seg[n++] = tok;
    }
    if (tok || !n) {
        polycom_admin_problem(in->pool, out, 404, "no such resource");
        return;
    }
    if (!strcmp(seg[0], "phones") && n == 1) {
        if (admin_method(in, out, "GET, HEAD")) {
            admin_phone_list(in, out);
        }
        return;
    }
    if ((!strcmp(seg[0], "phones") || !strcmp(seg[0], "uploads")
         || !strcmp(seg[0], "preview")) && n >= 2) {
        if (!polycom_mac_valid(seg[1])) {
            polycom_admin_problem(in->pool, out, 400, "a MAC address is 12 "
                                  "hexadecimal digits");
            return;
        }
        mac = admin_lower(in->pool, seg[1]);
        if (!strcmp(seg[0], "phones") && n == 2) {
            if (!admin_method(in, out, "GET, HEAD, PUT, DELETE")) {
                return;
            }
            if (!strcmp(in->method, "PUT")) {
                admin_phone_put(in, out, mac);
            }
            else if (!strcmp(in->method, "DELETE")) {
                admin_phone_delete(in, out, mac);
            }
            else {
                json_t *phone = admin_phone_resource(in, mac, &found);

                if (phone) {
                    admin_json(in->pool, out, 200, phone);
                }
                else if (found) {
                    admin_db_failed(in, out);
                }
                else {
                    out->db_failed = in->db->error != NULL;
                    polycom_admin_problem(in->pool, out,
                                          out->db_failed ? 500 : 404,
                                          out->db_failed ? "database error"
                                                         : "no such phone");
                }
            }
            return;
        }
        if (!strcmp(seg[0], "phones") && n == 3
            && !strcmp(seg[2], "reprovision")) {
            if (admin_method(in, out, "POST, DELETE")) {
                apr_array_header_t *rows;

                if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET,
                                         &rows, mac, NULL) < 0) {
                    admin_db_failed(in, out);
                }
                else if (!rows->nelts) {
                    polycom_admin_problem(in->pool, out, 404,
                                          "no such phone");
                }
                else {
                    admin_reprovision(in, out, "phone", mac);
                }
            }
            return;
        }
        if (!strcmp(seg[0], "phones") && n == 3
            && !strcmp(seg[2], "resync")) {
            if (admin_method(in, out, "GET, HEAD, POST")) {
                if (!strcmp(in->method, "POST")) {
                    admin_resync(in, out, mac, NULL);
                }
                else {
                    admin_resync_jobs(in, out, mac);
                }
            }
            return;
        }
        if (!strcmp(seg[0], "phones") && n >= 3
            && !strcmp(seg[2], "credentials")) {
            if (n == 4 && !admin_username_valid(seg[3])) {
                polycom_admin_problem(in->pool, out, 404, "no such "
                                      "credential");
                return;
            }
            admin_credentials(in, out, mac, n == 4 ? seg[3] : NULL);
            return;
        }
        if (!strcmp(seg[0], "uploads") && n <= 3) {
            admin_uploads(in, out, mac, seg[2]);
            return;
        }
        if (!strcmp(seg[0], "preview") && n == 3) {
            polycom_name name;

            if (!admin_method(in, out, "GET, HEAD")) {
                return;
            }
            if (!polycom_name_parse(seg[2], &name)
                || (strcmp(name.mac, mac) && !name.is_default)) {
                polycom_admin_problem(in->pool, out, 404, "not a file of "
                                      "this phone");
                return;
            }
            out->preview_file = apr_pstrdup(in->pool, seg[2]);
            return;
        }
    }
    else if (!strcmp(seg[0], "params") && n >= 2) {
        const char *scope = seg[1], *key = seg[2] ? seg[2] : "";

        if (!((!strcmp(scope, "global") && n == 2)
              || ((!strcmp(scope, "site") || !strcmp(scope, "model"))
                  && n == 3))) {
            polycom_admin_problem(in->pool, out, 404, "layers are "
                                  "params/global, params/site/{site} and "
                                  "params/model/{model}");
            return;
        }
        if (!admin_key_valid(key)) {
            polycom_admin_problem(in->pool, out, 400, "a site or model name "
                                  "is letters, digits, '.', '_' and '-'");
            return;
        }
        if (!strcmp(scope, "model")) {
            key = admin_model_token(in->pool, key);
        }
        if (admin_method(in, out, "GET, HEAD, PUT, DELETE")) {
            admin_layer(in, out, scope, key);
        }
        return;
    }
    else if (!strcmp(seg[0], "sites") && n == 3) {
        if (!*seg[1] || !admin_key_valid(seg[1])) {
            polycom_admin_problem(in->pool, out, 400, "a site name is "
                                  "letters, digits, '.', '_' and '-'");
            return;
        }
        if (!strcmp(seg[2], "reprovision")) {
            if (admin_method(in, out, "POST, DELETE")) {
                admin_reprovision(in, out, "site", seg[1]);
            }
            return;
        }
        if (!strcmp(seg[2], "resync")) {
            if (admin_method(in, out, "POST")) {
                admin_resync(in, out, NULL, seg[1]);
            }
            return;
        }
    }
    else if (!strcmp(seg[0], "reprovision") && n == 1) {
        if (admin_method(in, out, "GET, HEAD, POST, DELETE")) {
            if (!strcmp(in->method, "GET")) {
                admin_reprovision_list(in, out);
            }
            else {
                admin_reprovision(in, out, "fleet", "");
            }
        }
        return;
    }
    else if (!strcmp(seg[0], "reprovision") && n == 2
             && !strcmp(seg[1], "bundle")) {
        if (admin_method(in, out, "GET, HEAD")) {
            admin_bundle(in, out);
        }
        return;
    }
    else if (!strcmp(seg[0], "resync") && n == 1) {
        if (admin_method(in, out, "POST")) {
            admin_resync(in, out, NULL, NULL);
        }
        return;
    }
    else if (n == 1) {
        /* The resources of one segment: lists, and the import. */
        static const struct {
            const char *name;
            const char *allow;
            void (*handle)(const polycom_admin_request *,
                           polycom_admin_response *);
        } lists[] = {
            { "discovered", "GET, HEAD", admin_discovered },
            { "checkins",   "GET, HEAD", admin_checkins },
            { "audit",      "GET, HEAD", admin_audit_list },
            { "import",     "POST",      admin_import },
        };
        apr_size_t i;

        for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
            if (!strcmp(seg[0], lists[i].name)) {
                if (admin_method(in, out, lists[i].allow)) {
                    lists[i].handle(in, out);
                }
                return;
            }
        }
    }
    polycom_admin_problem(in->pool, out, 404, "no such resource");
}

int polycom_admin_validate_phone(apr_pool_t *pool, const char *mac,
                                 const char *body, apr_size_t len,
                                 const char **error)
{
    json_error_t jerr;
    json_t *json = admin_own(pool, json_loadb(body, len,
                                              JSON_REJECT_DUPLICATES,
                                              &jerr));
    admin_phone phone;
    admin_error err;

    if (!json) {
        *error = apr_psprintf(pool, "invalid JSON: %s", jerr.text);
        return -1;
    }
    if (admin_phone_from_json(pool, json, mac, &phone, &err) < 0) {
        *error = err.detail;
        return -1;
    }
    return 0;
}
