/* mod_polycom: the httpd side of the admin API. Reads the request into a
 * polycom_admin_request, lets src/admin*.c answer it, and sends the
 * answer; also the Prometheus metrics and the config preview (a
 * subrequest into the provisioning location). Runs in request threads.
 */

#include "apr_strings.h"

#include "http_core.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_script.h"

#include "mod_polycom_private.h"
#include "polycom_admin.h"
#include "polycom_upload.h"

/* Whether the main server, whose worker sends the NOTIFYs, can ask the
 * site's registrar (PolycomResyncProxy or PolycomResyncRegistrar). */
static int polycom_main_has_registrar(void)
{
    const polycom_server_conf *main_conf =
        ap_get_module_config(ap_server_conf->module_config, &polycom_module);

    return main_conf->resync_route.proxy_host != NULL
           || main_conf->resync_route.registrar;
}

static int polycom_admin_send(request_rec *r,
                              const polycom_admin_response *out)
{
    const polycom_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &polycom_module);

    r->status = out->status;
    if (out->location && conf->admin_base) {
        const char *base = conf->admin_base;

        apr_table_setn(r->headers_out, "Location",
                       ap_construct_url(r->pool, apr_pstrcat(r->pool, base,
                           base[strlen(base) - 1] == '/' ? "" : "/",
                           out->location, NULL), r));
    }
    if (out->allow) {
        apr_table_setn(r->headers_out, "Allow", out->allow);
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (out->status == HTTP_NO_CONTENT) {
        return OK;
    }
    ap_set_content_type(r, out->content_type);
    ap_set_content_length(r, (apr_off_t)out->len);
    if (!r->header_only) {
        ap_rwrite(out->body, (int)out->len, r);
    }
    return OK;
}

static int polycom_admin_problem_send(request_rec *r, int status,
                                      const char *detail)
{
    polycom_admin_response out;

    memset(&out, 0, sizeof(out));
    polycom_admin_problem(r->pool, &out, status, detail);
    return polycom_admin_send(r, &out);
}

/* Exactly the bytes a phone would get, through a subrequest to the
 * provisioning location: subrequests record no check-in. */
static int polycom_admin_preview(request_rec *r, const polycom_dir_conf *conf,
                                 const char *file)
{
    const char *base = polycom_conf_preview_base(conf);
    polycom_name name;
    request_rec *rr;
    int status;

    polycom_name_parse(file, &name);
    rr = ap_sub_req_lookup_uri(apr_pstrcat(r->pool, base,
                                           base[strlen(base) - 1] == '/'
                                           ? "" : "/", file, NULL),
                               r, r->output_filters);
    if (rr->status != HTTP_OK || !rr->handler
        || strcmp(rr->handler, POLYCOM_HANDLER)) {
        status = rr->status == HTTP_OK ? HTTP_NOT_FOUND : rr->status;
        ap_destroy_sub_req(rr);
        return polycom_admin_problem_send(r, status, apr_psprintf(r->pool,
            "%s is not served by a provisioning location at %s "
            "(PolycomAdminPreview)", file, base));
    }
    ap_set_content_type(r, polycom_upload_is_log(name.kind)
                           ? "text/plain; charset=utf-8"
                           : "application/xml; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    status = ap_run_sub_req(rr);
    ap_destroy_sub_req(rr);
    if (status != OK) {
        return polycom_admin_problem_send(r, status, apr_psprintf(r->pool,
            "the phone would get status %d for %s", status, file));
    }
    return OK;
}

/* This server's origin as the browser that sent the request names it in
 * Origin: the scheme and the Host it asked for (a server has several
 * names; ServerName is only one of them). NULL without a Host: then no
 * browser's write is let through. */
static const char *polycom_admin_self_origin(request_rec *r)
{
    const char *host = apr_table_get(r->headers_in, "Host");

    if (!host || !*host) {
        return NULL;
    }
    return apr_pstrcat(r->pool, ap_http_scheme(r), "://", host, NULL);
}

int polycom_admin_handler(request_rec *r)
{
    polycom_dir_conf *conf;
    polycom_request *req;
    polycom_admin_request in;
    polycom_admin_response out;
    polycom_db db;
    apr_off_t limit;
    const char *refusal;
    int status;

    if (!r->handler || strcmp(r->handler, POLYCOM_ADMIN_HANDLER)) {
        return DECLINED;
    }
    req = ap_get_module_config(r->request_config, &polycom_module);
    if (!req || !req->admin_path) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &polycom_module);
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_PUT)
                  | (AP_METHOD_BIT << M_POST) | (AP_METHOD_BIT << M_DELETE);

    if (!strcmp(req->admin_path, "metrics")) {
        const char *text;

        if (r->method_number != M_GET) {
            apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
            return polycom_admin_problem_send(r, HTTP_METHOD_NOT_ALLOWED,
                                              "metrics are read with GET");
        }
        text = polycom_metrics_render(r->pool, polycom_metrics_get());
        ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        ap_set_content_length(r, (apr_off_t)strlen(text));
        if (!r->header_only) {
            ap_rputs(text, r);
        }
        return OK;
    }

    /* No such resource, or a method it does not take: answered before the
     * body is read or a database connection is taken. The body is left
     * unread, so the connection closes after the answer. */
    memset(&out, 0, sizeof(out));
    if (polycom_admin_refuse(r->pool, r->header_only ? "GET" : r->method,
                             req->admin_path, &out)) {
        if (ap_request_has_body(r)) {
            r->connection->keepalive = AP_CONN_CLOSE;
        }
        return polycom_admin_send(r, &out);
    }

    refusal = polycom_admin_csrf_refusal(
        r->header_only ? "GET" : r->method,
        apr_table_get(r->headers_in, "Origin"),
        apr_table_get(r->headers_in, "Sec-Fetch-Site"),
        apr_table_get(r->headers_in, "X-Requested-With"),
        polycom_admin_self_origin(r));
    if (refusal) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, PCLOGNO(00230)
                      "admin %s %s refused: %s (Origin: %s)", r->method,
                      r->uri, refusal,
                      ap_escape_logitem(r->pool, apr_table_get(r->headers_in,
                                                               "Origin")));
        if (ap_request_has_body(r)) {
            r->connection->keepalive = AP_CONN_CLOSE;
        }
        return polycom_admin_problem_send(r, HTTP_FORBIDDEN, refusal);
    }

    memset(&in, 0, sizeof(in));
    in.body = "";
    if (r->method_number == M_PUT || r->method_number == M_POST) {
        limit = strncmp(req->admin_path, "import", 6)
                ? POLYCOM_ADMIN_BODY_MAX : POLYCOM_ADMIN_IMPORT_MAX;
        status = polycom_read_body(r, limit, &in.body, &in.len);
        if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
            return polycom_admin_problem_send(r, status, apr_psprintf(
                r->pool, "the body is larger than %" APR_OFF_T_FMT " bytes",
                limit));
        }
        if (status != OK) {
            return polycom_admin_problem_send(r, HTTP_BAD_REQUEST,
                                              "the body was not received "
                                              "whole");
        }
    }
    if (polycom_db_open(r, req, &db) != OK) {
        polycom_metrics_db_error(polycom_metrics_get());
        apr_table_setn(r->headers_out, "Retry-After", "60");
        return polycom_admin_problem_send(r, HTTP_SERVICE_UNAVAILABLE,
                                          "the database is unavailable");
    }
    in.pool = r->pool;
    in.db = &db;
    in.method = r->header_only ? "GET" : r->method;
    in.path = req->admin_path;
    ap_args_to_table(r, &in.args);
    in.content_type = apr_table_get(r->headers_in, "Content-Type");
    in.user = r->user ? r->user : "";
    in.now = r->request_time;
    in.pacing = polycom_conf_pacing(conf);
    in.pacing.via_registrar = polycom_main_has_registrar();
    in.bundle_credentials = conf->bundle_credentials == 1;
    in.static_files = conf->config_files;
    polycom_admin_handle(&in, &out);
    if (out.credentials_disclosed) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, PCLOGNO(00140)
                      "admin %s took the reprovisioning bundle with the "
                      "fleet target's provisioning credentials in "
                      "000000000000-device.cfg, a file every phone may read",
                      ap_escape_logitem(r->pool, in.user));
    }
    if (out.db_failed) {
        polycom_metrics_db_error(polycom_metrics_get());
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00015)
                      "admin %s %s: database error: %s", r->method, r->uri,
                      ap_escape_logitem(r->pool, db.error ? db.error
                                                          : "unknown"));
    }
    if (out.preview_file) {
        return polycom_admin_preview(r, conf, out.preview_file);
    }
    return polycom_admin_send(r, &out);
}

