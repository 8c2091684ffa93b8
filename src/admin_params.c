/* The admin API's parameters: a layer's (params/global, params/site/{site},
 * params/model/{model}) and a phone's own, with its lines, which stand for
 * reg.N.* parameters. Secrets read as the mask; the mask written back
 * keeps the stored value. */

#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_param.h"
#include "polycom_render.h"

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
int polycom_admin_params_from_json(apr_pool_t *pool, json_t *object,
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

int polycom_admin_line_to_params(apr_pool_t *pool, int n, json_t *line,
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
int polycom_admin_unmask(apr_pool_t *pool, apr_array_header_t *params,
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

int polycom_admin_scope_params(const polycom_admin_request *in,
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

int polycom_admin_write_params(const polycom_admin_request *in,
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

json_t *polycom_admin_params_json(const apr_array_header_t *params,
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

json_t *polycom_admin_lines_json(apr_pool_t *pool,
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
/* Parameter layers                                                    */
/* ------------------------------------------------------------------ */

/* A layer replaced (PUT) or emptied (DELETE), in the write's
 * transaction. */
typedef struct {
    const char *scope;
    const char *key;
    apr_array_header_t *params;      /* what the layer becomes */
} admin_layer_change;

static int admin_layer_write(const polycom_admin_request *in, void *data,
                             admin_audit_row *audit, admin_error *err)
{
    admin_layer_change *c = data;
    apr_array_header_t *stored;

    if (polycom_admin_scope_params(in, c->scope, c->key, &stored) < 0) {
        return -1;
    }
    if (polycom_admin_unmask(in->pool, c->params, stored, err) < 0) {
        return -2;
    }
    if (polycom_admin_write_params(in, c->scope, c->key, c->params) < 0) {
        return -1;
    }
    audit->action = strcmp(in->method, "PUT") ? "params.delete"
                                              : "params.replace";
    audit->target = *c->key ? apr_pstrcat(in->pool, c->scope, "/", c->key,
                                          NULL)
                            : c->scope;
    audit->detail = polycom_admin_own(in->pool,
                                      polycom_admin_params_json(c->params,
                                                                0));
    return 0;
}

void polycom_admin_layer(const polycom_admin_request *in,
                         polycom_admin_response *out, const admin_path *path)
{
    admin_layer_change c;
    apr_array_header_t *stored;
    admin_error err;
    json_t *body;

    c.scope = path->site ? "site" : path->model ? "model" : "global";
    c.key = path->site ? path->site : path->model ? path->model : "";
    if (!strcmp(in->method, "GET")) {
        if (polycom_admin_scope_params(in, c.scope, c.key, &stored) < 0) {
            polycom_admin_db_failed(in, out);
            return;
        }
        polycom_admin_answer(in, out, 200, json_pack(
            "{s:s, s:s, s:o}", "scope", c.scope, "key", c.key,
            "params", polycom_admin_params_json(stored, 0)));
        return;
    }
    c.params = apr_array_make(in->pool, 16, sizeof(polycom_param));
    if (!strcmp(in->method, "PUT")) {
        if (!(body = polycom_admin_parse_body(in, out))) {
            return;
        }
        if (polycom_admin_params_from_json(in->pool, body, c.params,
                                           &err) < 0) {
            polycom_admin_problem(in->pool, out, err.status, err.detail);
            return;
        }
    }
    if (polycom_admin_change(in, out, admin_layer_write, &c) < 0) {
        return;
    }
    if (!strcmp(in->method, "DELETE")) {
        out->status = 204;
        return;
    }
    polycom_admin_answer(in, out, 200, json_pack(
        "{s:s, s:s, s:o}", "scope", c.scope, "key", c.key,
        "params", polycom_admin_params_json(c.params, 0)));
}
