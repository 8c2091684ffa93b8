/* The admin API: JSON in, JSON out, over store.c. This file routes a
 * request to its handler by one table of paths, and holds what every
 * handler shares: answers, problem+json, names, bodies, and the one way
 * to write (polycom_admin_change). Rows become JSON in admin_rows.c; the
 * handlers live beside it, one file per family of resources.
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

#include <apr_lib.h>
#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_name.h"

#define ADMIN_SEGMENTS_MAX 5

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static apr_status_t admin_json_free(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

/* jansson mallocs: tie each document to the pool. */
json_t *polycom_admin_own(apr_pool_t *pool, json_t *json)
{
    if (json) {
        apr_pool_cleanup_register(pool, json, admin_json_free,
                                  apr_pool_cleanup_null);
    }
    return json;
}

void polycom_admin_reply(apr_pool_t *pool, polycom_admin_response *out,
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

void polycom_admin_json(apr_pool_t *pool, polycom_admin_response *out,
                        int status, json_t *json)
{
    polycom_admin_reply(pool, out, status, "application/json", json);
}

void polycom_admin_answer(const polycom_admin_request *in,
                          polycom_admin_response *out, int status,
                          json_t *json)
{
    polycom_admin_json(in->pool, out, status, polycom_admin_own(in->pool,
                                                                json));
}

const char *polycom_admin_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
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
    json_t *problem = polycom_admin_own(pool, json_pack(
        "{s:s, s:s, s:i, s:s}", "type", "about:blank",
        "title", polycom_admin_title(status), "status", status,
        "detail", detail));

    polycom_admin_reply(pool, out, status, "application/problem+json",
                        problem);
}

void polycom_admin_db_failed(const polycom_admin_request *in,
                             polycom_admin_response *out)
{
    out->db_failed = 1;
    polycom_admin_problem(in->pool, out, 500, "database error (see the "
                          "server's error log)");
}

/* ------------------------------------------------------------------ */
/* Names and bodies                                                    */
/* ------------------------------------------------------------------ */

char *polycom_admin_lower(apr_pool_t *pool, const char *s)
{
    char *copy = apr_pstrdup(pool, s);
    char *p;

    for (p = copy; *p; p++) {
        *p = (char)apr_tolower(*p);
    }
    return copy;
}

/* A key of a site or a model: letters, digits, '.', '_' and '-'. */
int polycom_admin_key_valid(const char *key)
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
const char *polycom_admin_model_token(apr_pool_t *pool, const char *model)
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

int polycom_admin_model_valid(const char *token)
{
    apr_size_t i;

    for (i = 0; token[i]; i++) {
        if (i >= 32 || !apr_isalnum(token[i])) {
            return 0;
        }
    }
    return 1;
}

/* A user name Apache's authentication can carry: no ':' (Basic) or '"'. */
int polycom_admin_username_valid(const char *name)
{
    apr_size_t i;

    for (i = 0; name[i]; i++) {
        if (i >= 64 || !(apr_isalnum(name[i]) || strchr("._-@", name[i]))) {
            return 0;
        }
    }
    return i > 0;
}

int polycom_admin_audit(const polycom_admin_request *in, const char *action,
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


json_t *polycom_admin_parse_body(const polycom_admin_request *in,
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
    json = polycom_admin_own(in->pool, json_loadb(in->body, in->len,
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
json_t *polycom_admin_parse_strings(const polycom_admin_request *in,
                                    polycom_admin_response *out,
                                    const char *what,
                                    const char *const *allowed)
{
    json_t *body = polycom_admin_parse_body(in, out), *value;
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

/* ------------------------------------------------------------------ */
/* Cross-site requests                                                 */
/* ------------------------------------------------------------------ */

/* Browsers replay an admin's Basic credentials to this origin whatever
 * page asks, so a page elsewhere could make the admin's browser write.
 * Browsers say where a request comes from (Origin, Sec-Fetch-Site);
 * scripts such as curl say neither and keep working unchanged. A browser
 * must also send X-Requested-With, which another origin cannot add
 * without a CORS preflight that this server never grants. */
const char *polycom_admin_csrf_refusal(const char *method, const char *origin,
                                       const char *fetch_site,
                                       const char *requested_with,
                                       const char *self_origin)
{
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD")
        || !strcmp(method, "OPTIONS")) {
        return NULL;
    }
    if (origin && (!self_origin || strcasecmp(origin, self_origin))) {
        return "a request from another origin may not change anything";
    }
    if (fetch_site && strcmp(fetch_site, "same-origin")
        && strcmp(fetch_site, "none")) {
        return "a request from another site may not change anything";
    }
    if ((origin || fetch_site) && (!requested_with || !*requested_with)) {
        return "a browser must send X-Requested-With to change anything";
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Writes                                                              */
/* ------------------------------------------------------------------ */

int polycom_admin_change(const polycom_admin_request *in,
                         polycom_admin_response *out, admin_change_fn change,
                         void *data)
{
    apr_dbd_transaction_t *txn = NULL;
    admin_audit_row audit = { NULL, NULL, NULL };
    admin_error err = { 500, "refused" };
    apr_array_header_t *mark;
    const char *last = "0";
    admin_dry_run *dry = NULL;
    int rv, dry_run = polycom_admin_dry_run_asked(in);

    if (polycom_store_begin(in->db, &txn) < 0) {
        polycom_admin_db_failed(in, out);
        return -1;
    }
    /* The history rows after this mark are the change's own: writers of
     * served data take the revision's lock first, so none can interleave. */
    rv = polycom_store_select(in->db, POLYCOM_SQL_HISTORY_MARK, &mark, NULL);
    if (rv == 0) {
        last = polycom_rows_first(mark, "last");
        rv = change(in, data, &audit, &err);
    }
    if (rv == 0 && audit.action
        && polycom_admin_audit(in, audit.action,
                               audit.target ? audit.target : "",
                               audit.detail) < 0) {
        rv = -1;
    }
    if (rv == 0
        && polycom_store_exec(in->db, POLYCOM_SQL_HISTORY_CLAIM, NULL,
                              in->user ? in->user : "",
                              audit.action ? "1" : "0", last, NULL) < 0) {
        rv = -1;
    }
    /* A dry run sees the phones as the change would leave them, then
     * rolls it back like a refusal. */
    if (rv == 0 && dry_run) {
        dry = polycom_admin_dry_run_after(in, last);
        rv = dry ? -3 : -1;
    }
    /* A refusal or a failure rolls the change back; a commit that fails
     * leaves nothing either. */
    if (polycom_store_finish(in->db, txn, rv != 0) < 0 && rv == 0) {
        rv = -1;
    }
    if (rv == -3) {
        polycom_admin_dry_run_answer(in, out, dry, &audit);
    }
    else if (rv == -2) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
    }
    else if (rv != 0) {
        polycom_admin_db_failed(in, out);
        rv = -1;
    }
    return rv;
}

void polycom_admin_delete(const polycom_admin_request *in,
                          polycom_admin_response *out, admin_change_fn change,
                          void *data, const int *deleted, const char *missing)
{
    if (polycom_admin_change(in, out, change, data) < 0) {
        return;
    }
    if (!*deleted) {
        polycom_admin_problem(in->pool, out, 404, missing);
        return;
    }
    out->status = 204;
}

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

struct polycom_admin_resource {
    /* Segments: a literal, or a variable in braces ({mac}, {site},
     * {model}, {file}, {username}), checked after routing. */
    const char *pattern;
    /* The methods, as the Allow header lists them (HEAD wherever GET). */
    const char *allow;
    /* NULL: served by the httpd glue itself (metrics). */
    admin_handler handle;
};

/* Every resource of the API: docs/admin-api.md describes each. */
static const polycom_admin_resource admin_routes[] = {
    { "phones",                      "GET, HEAD",
      polycom_admin_phone_list },
    /* Before phones/{mac}: "bulk" is no MAC. */
    { "phones/bulk",                 "POST",
      polycom_admin_bulk },
    { "phones/{mac}",                "GET, HEAD, PUT, DELETE",
      polycom_admin_phone },
    { "phones/{mac}/explain",        "GET, HEAD",
      polycom_admin_explain },
    { "phones/{mac}/diff",           "GET, HEAD",
      polycom_admin_phone_diff },
    { "phones/{mac}/reprovision",    "POST, DELETE",
      polycom_admin_reprovision },
    { "phones/{mac}/reprovision/done", "POST",
      polycom_admin_reprovision_done },
    { "phones/{mac}/resync",         "GET, HEAD, POST",
      polycom_admin_resync },
    { "phones/{mac}/secrets",        "POST",
      polycom_admin_secrets },
    { "phones/{mac}/credentials",    "GET, HEAD, POST",
      polycom_admin_credentials },
    { "phones/{mac}/credentials/{username}", "DELETE",
      polycom_admin_credential_delete },
    { "stats",                       "GET, HEAD",
      polycom_admin_stats },
    { "discovered",                  "GET, HEAD",
      polycom_admin_discovered },
    { "import",                      "POST",
      polycom_admin_import },
    { "params/global",               "GET, HEAD, PUT, DELETE",
      polycom_admin_layer },
    { "params/site/{site}",          "GET, HEAD, PUT, DELETE",
      polycom_admin_layer },
    { "params/model/{model}",        "GET, HEAD, PUT, DELETE",
      polycom_admin_layer },
    { "checkins",                    "GET, HEAD",
      polycom_admin_checkins },
    { "uploads/{mac}",               "GET, HEAD",
      polycom_admin_upload_list },
    { "uploads/{mac}/{file}",        "GET, HEAD, DELETE",
      polycom_admin_upload },
    { "preview/{mac}/{file}",        "GET, HEAD",
      polycom_admin_preview },
    { "audit",                       "GET, HEAD",
      polycom_admin_audit_list },
    { "history",                     "GET, HEAD",
      polycom_admin_history },
    { "history/restore",             "POST",
      polycom_admin_history },
    { "diff",                        "GET, HEAD",
      polycom_admin_fleet_diff },
    { "metrics",                     "GET, HEAD",
      NULL },
    { "sites/{site}/reprovision",    "POST, DELETE",
      polycom_admin_reprovision },
    { "sites/{site}/resync",         "POST",
      polycom_admin_resync },
    { "reprovision",                 "GET, HEAD, POST, DELETE",
      polycom_admin_reprovision },
    { "reprovision/bundle",          "GET, HEAD",
      polycom_admin_bundle },
    { "resync",                      "POST",
      polycom_admin_resync },
};
#define ADMIN_ROUTES (sizeof(admin_routes) / sizeof(admin_routes[0]))

/* The segments of @a path ("phones/0004f2abc001"), at most @a max of
 * them: their count, or max + 1 when there are more. */
static apr_size_t admin_segments(const char *path, const char **seg,
                                 apr_size_t *len, apr_size_t max)
{
    apr_size_t n = 0;

    /* Empty segments ("phones//x") count for nothing, as they always
     * have. */
    while (*path) {
        apr_size_t l = strcspn(path, "/");

        if (l) {
            if (n == max) {
                return max + 1;
            }
            seg[n] = path;
            len[n++] = l;
        }
        path += l;
        path += strspn(path, "/");
    }
    return n;
}

/* Whether @a route's pattern has @a n segments matching @a seg. */
static int admin_route_matches(const polycom_admin_resource *route,
                               const char *const *seg, const apr_size_t *len,
                               apr_size_t n)
{
    const char *p = route->pattern;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        apr_size_t l = strcspn(p, "/");

        if (!l || (p[0] != '{'
                   && (l != len[i] || strncmp(p, seg[i], l)))) {
            return 0;
        }
        p += l;
        p += *p == '/';
    }
    return !*p;
}

static int admin_method_allowed(const char *allow, const char *method)
{
    apr_size_t n = strlen(method);
    const char *m;

    for (m = strstr(allow, method); n && m; m = strstr(m + 1, method)) {
        if ((m == allow || m[-1] == ' ') && (m[n] == ',' || !m[n])) {
            return 1;
        }
    }
    return 0;
}

int polycom_admin_route(const char *method, const char *path,
                        const polycom_admin_resource **route,
                        const char **allow)
{
    const char *seg[ADMIN_SEGMENTS_MAX];
    apr_size_t len[ADMIN_SEGMENTS_MAX], n, i;

    if (route) {
        *route = NULL;
    }
    if (allow) {
        *allow = NULL;
    }
    n = admin_segments(path ? path : "", seg, len, ADMIN_SEGMENTS_MAX);
    if (!n || n > ADMIN_SEGMENTS_MAX) {
        return 404;
    }
    for (i = 0; i < ADMIN_ROUTES; i++) {
        if (!admin_route_matches(&admin_routes[i], seg, len, n)) {
            continue;
        }
        /* The first match is the resource: a literal segment comes
         * before a variable that could match it (phones/bulk). */
        if (allow) {
            *allow = admin_routes[i].allow;
        }
        if (!admin_method_allowed(admin_routes[i].allow, method ? method
                                                                : "")) {
            return 405;
        }
        if (route) {
            *route = &admin_routes[i];
        }
        return 0;
    }
    return 404;
}

const char *polycom_admin_resource_pattern(const polycom_admin_resource *route)
{
    return route->pattern;
}

int polycom_admin_refuse(apr_pool_t *pool, const char *method,
                         const char *path, polycom_admin_response *out)
{
    const char *allow;
    int status = polycom_admin_route(method, path, NULL, &allow);

    if (status == 405) {
        out->allow = allow;
        polycom_admin_problem(pool, out, 405, apr_psprintf(pool,
                              "%s is not allowed here; allowed: %s", method,
                              allow));
    }
    else if (status) {
        polycom_admin_problem(pool, out, status, "no such resource");
    }
    return status;
}

int polycom_admin_is_resource(const char *path)
{
    apr_size_t i, len = strcspn(path, "/");

    for (i = 0; i < ADMIN_ROUTES; i++) {
        if (strcspn(admin_routes[i].pattern, "/") == len
            && !strncmp(path, admin_routes[i].pattern, len)) {
            return 1;
        }
    }
    return 0;
}

/* Whether pattern segment @a p (of length @a l) is variable @a name. */
static int admin_is_var(const char *p, apr_size_t l, const char *name)
{
    return l == strlen(name) && !strncmp(p, name, l);
}

/* The variables of @a path by @a route's pattern, each checked: -1 with
 * the problem answered when one is not what its name says. */
static int admin_path_vars(const polycom_admin_request *in,
                           polycom_admin_response *out,
                           const polycom_admin_resource *route,
                           admin_path *vars)
{
    const char *seg[ADMIN_SEGMENTS_MAX], *p = route->pattern;
    apr_size_t len[ADMIN_SEGMENTS_MAX], n, i, l;
    const char *value;

    memset(vars, 0, sizeof(*vars));
    n = admin_segments(in->path, seg, len, ADMIN_SEGMENTS_MAX);
    for (i = 0; i < n; i++, p += l, p += *p == '/') {
        l = strcspn(p, "/");
        value = apr_pstrmemdup(in->pool, seg[i], len[i]);
        if (admin_is_var(p, l, "{mac}")) {
            if (!polycom_mac_valid(value)) {
                polycom_admin_problem(in->pool, out, 400, "a MAC address is "
                                      "12 hexadecimal digits");
                return -1;
            }
            vars->mac = polycom_admin_lower(in->pool, value);
        }
        else if (admin_is_var(p, l, "{site}")
                 || admin_is_var(p, l, "{model}")) {
            if (!polycom_admin_key_valid(value)) {
                polycom_admin_problem(in->pool, out, 400, "a site or model "
                                      "name is letters, digits, '.', '_' "
                                      "and '-'");
                return -1;
            }
            if (admin_is_var(p, l, "{site}")) {
                vars->site = value;
            }
            else {
                vars->model = polycom_admin_model_token(in->pool, value);
            }
        }
        else if (admin_is_var(p, l, "{username}")) {
            /* No credential can have a name Apache could not carry. */
            if (!polycom_admin_username_valid(value)) {
                polycom_admin_problem(in->pool, out, 404, "no such "
                                      "credential");
                return -1;
            }
            vars->username = value;
        }
        else if (admin_is_var(p, l, "{file}")) {
            vars->file = value;     /* its handler knows what it may be */
        }
    }
    return 0;
}

void polycom_admin_handle(const polycom_admin_request *in,
                          polycom_admin_response *out)
{
    const polycom_admin_resource *route;
    admin_path vars;

    memset(out, 0, sizeof(*out));
    if (polycom_admin_refuse(in->pool, in->method, in->path, out)) {
        return;
    }
    polycom_admin_route(in->method, in->path, &route, NULL);
    if (!route->handle) {
        polycom_admin_problem(in->pool, out, 404, "no such resource");
        return;
    }
    if (admin_path_vars(in, out, route, &vars) == 0) {
        route->handle(in, out, &vars);
    }
}
