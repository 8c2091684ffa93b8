/* The admin API's values and rows as JSON: times, numbers, the generic
 * builder that turns a statement's rows into a list by a table of fields
 * (every list of the API is made by it), and paging. */

#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "polycom_admin_private.h"

#define ADMIN_PAGE_MAX     1000
#define ADMIN_PAGE_DEFAULT 100

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

json_t *polycom_admin_time_json(apr_pool_t *pool, const char *time_us)
{
    const char *text = admin_time_text(pool, time_us);

    return text ? json_string(text) : json_null();
}

json_t *polycom_admin_int_json(const char *value)
{
    return value && *value ? json_integer(apr_atoi64(value)) : json_null();
}

static json_t *admin_value_json(apr_pool_t *pool, const char *value,
                                admin_kind kind)
{
    switch (kind) {
    case ADMIN_NUMBER:   return polycom_admin_int_json(value);
    case ADMIN_TIME:     return polycom_admin_time_json(pool, value);
    case ADMIN_FLAG:     return json_boolean(!strcmp(value, "1"));
    case ADMIN_MASKED:   return json_string(*value ? POLYCOM_SECRET_MASK : "");
    case ADMIN_DOCUMENT: return *value ? json_loads(value, 0, NULL) : NULL;
    default:             return json_string(value);
    }
}

/* The object of @a fields read from @a row; NULL when a column is missing
 * (a field list that does not match its statement). */
json_t *polycom_admin_row_json(apr_pool_t *pool, const polycom_row *row,
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
json_t *polycom_admin_rows_json(apr_pool_t *pool,
                                const apr_array_header_t *rows,
                                const admin_field *fields)
{
    json_t *list = polycom_admin_own(pool, json_array()), *item;
    int i;

    for (i = 0; i < rows->nelts; i++) {
        item = polycom_admin_row_json(pool, APR_ARRAY_IDX(rows, i,
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
void polycom_admin_list_reply(const polycom_admin_request *in,
                              polycom_admin_response *out, const char *mac,
                              const char *key, json_t *list)
{
    json_t *body = polycom_admin_own(in->pool, json_object());

    if (!list) {
        polycom_admin_problem(in->pool, out, 500, "a list does not match "
                              "its statement's columns");
        return;
    }
    if (mac) {
        json_object_set_new(body, "mac", json_string(mac));
    }
    json_object_set(body, key, list);
    polycom_admin_json(in->pool, out, 200, body);
}

/* "3600" seconds, or "2026-11-23T21:00:00Z": a time in microseconds. */
int polycom_admin_parse_time(const char *text, apr_time_t *out)
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
int polycom_admin_page(const polycom_admin_request *in, const char **limit,
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

/* One page of a list statement taking (limit, offset); on failure the
 * response is already made. */
int polycom_admin_paged_rows(const polycom_admin_request *in,
                             polycom_admin_response *out, const char *label,
                             apr_array_header_t **rows)
{
    const char *limit, *offset;
    admin_error err;

    if (polycom_admin_page(in, &limit, &offset, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return -1;
    }
    if (polycom_store_select(in->db, label, rows, limit, offset, NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return -1;
    }
    return 0;
}
