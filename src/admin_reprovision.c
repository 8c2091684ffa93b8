/* The admin API's reprovisioning: the target that moves phones to another
 * provisioning server, set or removed for a phone (phones/{mac}/
 * reprovision), a site (sites/{site}/reprovision) or the fleet
 * (reprovision, whose GET lists every target), and the files for an old
 * server that cannot run this module (reprovision/bundle). */

#include <string.h>

#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_param.h"
#include "polycom_render.h"
#include "polycom_reprovision.h"

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

/* The target of @a body (a JSON object of strings), checked: 0, or -1
 * with @a err. A bulk move (admin_bulk.c) checks its "target" so. */
int polycom_admin_target_from_json(apr_pool_t *pool, json_t *body,
                                   admin_target *t, admin_error *err)
{
    static const char *const allowed[] = {
        "server", "type", "boot_server", "user", "password", "deadline", NULL
    };
    const char *name;
    json_t *value;
    apr_time_t when;
    apr_size_t i;

    err->status = 400;
    if (!json_is_object(body)) {
        err->detail = "the target must be a JSON object";
        return -1;
    }
    json_object_foreach(body, name, value) {
        for (i = 0; allowed[i] && strcmp(name, allowed[i]); i++) {
        }
        if (!allowed[i] || !json_is_string(value)) {
            err->detail = apr_psprintf(pool, "unknown field or not a "
                                       "string: \"%s\"", name);
            return -1;
        }
    }
    t->server = json_string_value(json_object_get(body, "server"));
    if (!polycom_reprovision_server_valid(t->server)) {
        err->detail = "server is required: a host, host/path or URL of at "
                      "most 255 characters without spaces or quotes";
        return -1;
    }
    value = json_object_get(body, "type");
    t->type = value ? json_string_value(value)
                    : admin_type_from_scheme(t->server);
    if (polycom_reprovision_server_type(t->type) < 0) {
        err->detail = "type must be one of FTP, TFTP, HTTP, HTTPS, FTPS";
        return -1;
    }
    value = json_object_get(body, "boot_server");
    t->boot = value ? json_string_value(value) : "Static";
    if (polycom_reprovision_boot_server(t->boot) < 0) {
        err->detail = "boot_server must be one of Default, Custom, Static, "
                      "CustomAndDefault";
        return -1;
    }
    if ((value = json_object_get(body, "user"))) {
        t->user = json_string_value(value);
    }
    if ((value = json_object_get(body, "password"))) {
        t->password = json_string_value(value);
    }
    if (strlen(t->user) > 255 || strlen(t->password) > 255
        || !polycom_param_value_valid(t->user)
        || !polycom_param_value_valid(t->password)) {
        err->detail = "user and password are text of at most 255 bytes";
        return -1;
    }
    if ((value = json_object_get(body, "deadline"))) {
        if (polycom_admin_parse_time(json_string_value(value), &when) < 0) {
            err->detail = "deadline must be YYYY-MM-DDTHH:MM:SSZ";
            return -1;
        }
        t->deadline = apr_psprintf(pool, "%" APR_TIME_T_FMT, when);
    }
    return 0;
}

/* The target of the request's body: 0, or -1 with the problem answered. */
static int admin_target_from_body(const polycom_admin_request *in,
                                  polycom_admin_response *out,
                                  admin_target *t)
{
    json_t *body = polycom_admin_parse_body(in, out);
    admin_error err;

    if (!body) {
        return -1;
    }
    if (polycom_admin_target_from_json(in->pool, body, t, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return -1;
    }
    return 0;
}

static const char *admin_target_name(const polycom_admin_request *in,
                                     const admin_target *t)
{
    return *t->key ? apr_pstrcat(in->pool, t->scope, "/", t->key, NULL)
                   : t->scope;
}

/* A new target replaces the old one at its scope, and with it every
 * phone's state: a changed move starts again from pending. Inside the
 * caller's transaction; @a prune drops the states of replaced targets (a
 * bulk move prunes once, after its last phone). */
int polycom_admin_target_store(const polycom_admin_request *in,
                               const admin_target *t, int prune)
{
    if (polycom_store_exec(in->db, POLYCOM_SQL_REPROV_DELETE, NULL,
                           t->scope, t->key, NULL) < 0
        || (prune && polycom_store_exec(in->db, POLYCOM_SQL_REPROV_PRUNE,
                                        NULL, NULL) < 0)
        || polycom_store_exec(in->db, POLYCOM_SQL_REPROV_INSERT, NULL,
                              t->scope, t->key, t->server,
                              polycom_reprovision_address(in->pool,
                                                          t->server),
                              apr_pstrdup(in->pool, t->type),
                              apr_pstrdup(in->pool, t->boot), t->user,
                              t->password, t->deadline,
                              apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                           in->now),
                              in->user ? in->user : "", NULL) < 0) {
        return -1;
    }
    return 0;
}

/* What the audit says of a target: never its password. */
json_t *polycom_admin_target_audit(apr_pool_t *pool, const admin_target *t)
{
    return polycom_admin_own(pool, json_pack(
        "{s:s, s:s, s:s, s:s, s:s}", "server",
        polycom_reprovision_server_public(pool, t->server), "type", t->type,
        "boot_server", t->boot, "user", t->user,
        "password", *t->password ? POLYCOM_SECRET_MASK : ""));
}

static int admin_target_set(const polycom_admin_request *in, void *data,
                            admin_audit_row *audit, admin_error *err)
{
    admin_target *t = data;

    if (polycom_admin_target_store(in, t, 1) < 0) {
        return -1;
    }
    audit->action = "reprovision.set";
    audit->target = admin_target_name(in, t);
    audit->detail = polycom_admin_target_audit(in->pool, t);
    return 0;
}

static int admin_target_delete(const polycom_admin_request *in, void *data,
                               admin_audit_row *audit, admin_error *err)
{
    admin_target *t = data;

    if (polycom_store_exec(in->db, POLYCOM_SQL_REPROV_DELETE, &t->deleted,
                           t->scope, t->key, NULL) < 0
        || polycom_store_exec(in->db, POLYCOM_SQL_REPROV_PRUNE, NULL,
                              NULL) < 0) {
        return -1;
    }
    if (t->deleted) {
        audit->action = "reprovision.delete";
        audit->target = admin_target_name(in, t);
    }
    return 0;
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
    { "applied",     "applied",       ADMIN_NUMBER },
    { "done",        "done",          ADMIN_NUMBER },
    { NULL }
};

static void admin_target_list(const polycom_admin_request *in,
                              polycom_admin_response *out)
{
    apr_array_header_t *rows;

    if (polycom_store_select(in->db, POLYCOM_SQL_REPROV_LIST, &rows,
                             NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    polycom_admin_list_reply(in, out, NULL, "targets",
                             polycom_admin_rows_json(in->pool, rows,
                                                     admin_target_fields));
}

void polycom_admin_reprovision(const polycom_admin_request *in,
                               polycom_admin_response *out,
                               const admin_path *path)
{
    apr_array_header_t *rows;
    admin_target t;

    if (!strcmp(in->method, "GET")) {
        admin_target_list(in, out);
        return;
    }
    memset(&t, 0, sizeof(t));
    t.scope = path->mac ? "phone" : path->site ? "site" : "fleet";
    t.key = path->mac ? path->mac : path->site ? path->site : "";
    t.user = t.password = t.deadline = "";
    if (path->mac) {
        if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows,
                                 path->mac, NULL) < 0) {
            polycom_admin_db_failed(in, out);
            return;
        }
        if (!rows->nelts) {
            polycom_admin_problem(in->pool, out, 404, "no such phone");
            return;
        }
    }
    if (!strcmp(in->method, "DELETE")) {
        polycom_admin_delete(in, out, admin_target_delete, &t, &t.deleted,
                             "no reprovisioning target is set here");
        return;
    }
    if (admin_target_from_body(in, out, &t) < 0
        || polycom_admin_change(in, out, admin_target_set, &t) < 0) {
        return;
    }
    polycom_admin_answer(in, out, 201, json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "scope", t.scope,
        "key", t.key, "server", t.server, "type", t.type,
        "boot_server", t.boot, "user", t.user,
        "password", *t.password ? POLYCOM_SECRET_MASK : "",
        "deadline", polycom_admin_time_json(in->pool, t.deadline)));
}

/* A move an admin marks done by hand: the phone reached a server that
 * shares no database with this one (its requests never show here), or
 * was moved by other means. The stanza is no longer served to it, and its
 * layers' own values are again. A later request at the target's address
 * still records applied. */
typedef struct {
    const char *mac;
    polycom_reprovision_target target;
} admin_move_done;

static int admin_done_write(const polycom_admin_request *in, void *data,
                            admin_audit_row *audit, admin_error *err)
{
    admin_move_done *d = data;

    if (polycom_store_exec(in->db, POLYCOM_SQL_REPROV_DONE, NULL, d->mac,
                           apr_psprintf(in->pool, "%" APR_INT64_T_FMT,
                                        d->target.id), NULL) < 0) {
        return -1;
    }
    audit->action = "reprovision.done";
    audit->target = apr_pstrcat(in->pool, "phone/", d->mac, NULL);
    audit->detail = polycom_admin_own(in->pool, json_pack(
        "{s:s, s:s, s:s}", "server",
        polycom_reprovision_server_public(in->pool, d->target.server),
        "scope", d->target.scope, "was", d->target.state));
    return 0;
}

void polycom_admin_reprovision_done(const polycom_admin_request *in,
                                    polycom_admin_response *out,
                                    const admin_path *path)
{
    apr_array_header_t *rows;
    admin_move_done d;

    memset(&d, 0, sizeof(d));
    d.mac = path->mac;
    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows, d.mac,
                             NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    if (!rows->nelts) {
        polycom_admin_problem(in->pool, out, 404, "no such phone");
        return;
    }
    if (polycom_store_reprovision(in->db, d.mac,
                                  polycom_rows_first(rows, "site"), in->now,
                                  &d.target) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    if (!d.target.id) {
        polycom_admin_problem(in->pool, out, 404, "no move applies to this "
                              "phone: no reprovisioning target, or its "
                              "deadline has passed");
        return;
    }
    if (!strcmp(d.target.state, "applied") || !strcmp(d.target.state, "done")) {
        polycom_admin_answer(in, out, 200, json_pack(
            "{s:s, s:s}", "mac", d.mac, "state", d.target.state));
        return;                 /* nothing to change, nothing to audit */
    }
    if (polycom_admin_change(in, out, admin_done_write, &d) < 0) {
        return;
    }
    polycom_admin_answer(in, out, 200, json_pack(
        "{s:s, s:s, s:s}", "mac", d.mac, "state", "done", "was",
        d.target.state));
}

/* The files to drop onto an old server that cannot run this module: its
 * default master names one file, and that file moves every phone reading
 * it to the fleet-wide target. Every phone may read that file, so the
 * target's credentials (user, password, and any user:password@ in the
 * server) stay out of it unless the admin asks with ?with_credentials=1
 * in a location that allows it (PolycomBundleCredentials On): the same
 * rule as 000000000000-device.cfg served here, with a deliberate,
 * two-key exception for an old server that has no other way. */
void polycom_admin_bundle(const polycom_admin_request *in,
                          polycom_admin_response *out, const admin_path *path)
{
    apr_array_header_t *rows, *files;
    polycom_master_spec spec;
    polycom_reprovision t;
    const polycom_row *r;
    const char *master, *device, *error;
    const char *asked = in->args ? apr_table_get(in->args,
                                                 "with_credentials") : NULL;
    apr_size_t mlen, dlen;
    int with_credentials = asked && !strcmp(asked, "1");
    json_t *answer;

    if (asked && strcmp(asked, "0") && strcmp(asked, "1")) {
        polycom_admin_problem(in->pool, out, 400, "with_credentials must be "
                              "0 or 1");
        return;
    }
    if (with_credentials && !in->bundle_credentials) {
        polycom_admin_problem(in->pool, out, 403, "credentials in the bundle "
                              "need PolycomBundleCredentials On in this "
                              "admin location: every phone that asks may "
                              "read 000000000000-device.cfg");
        return;
    }
    if (polycom_store_select(in->db, POLYCOM_SQL_REPROV_FLEET, &rows,
                             NULL) < 0) {
        polycom_admin_db_failed(in, out);
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
    if (!with_credentials) {
        t.server = polycom_reprovision_server_public(in->pool, t.server);
    }
    files = apr_array_make(in->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(files, const char *) = "000000000000-device.cfg";
    memset(&spec, 0, sizeof(spec));
    spec.app_file_path = "";            /* leave firmware alone */
    spec.config_files = files;
    if (polycom_render_master(in->pool, &spec, &master, &mlen, &error) < 0
        || polycom_render_config(in->pool,
                                 polycom_reprovision_params(in->pool, &t,
                                                            with_credentials),
                                 &device, &dlen, &error) < 0) {
        polycom_admin_problem(in->pool, out, 500, error);
        return;
    }
    answer = json_pack("{s:s, s:b, s:{s:s, s:s}}", "server", t.server,
                       "credentials", with_credentials, "files",
                       "000000000000.cfg", master, "000000000000-device.cfg",
                       device);
    if (with_credentials) {
        json_object_set_new(answer, "warning", json_string(
            "000000000000-device.cfg carries the target's provisioning "
            "user and password: every phone, and anyone, that can reach "
            "the old server may read it. Serve it only on a closed "
            "network, and remove it once the phones have moved."));
        out->credentials_disclosed = 1;
    }
    polycom_admin_answer(in, out, 200, answer);
}
