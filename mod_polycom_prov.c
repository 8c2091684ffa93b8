/* mod_polycom: the provisioning namespace. Claims the names a phone asks
 * for (translate_name), finds the phone, renders its master and settings
 * (through the caches of mod_polycom_prov_cache.c) and serves stored
 * uploads back (new ones are stored by mod_polycom_upload.c). Runs in
 * request threads.
 */

#include "apr_strings.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_polycom_private.h"
#include "polycom_admin.h"
#include "polycom_device.h"
#include "polycom_digest.h"
#include "polycom_flat.h"
#include "polycom_guard.h"
#include "polycom_param.h"
#include "polycom_reprovision.h"
#include "polycom_scopes.h"
#include "polycom_upload.h"

/* Claims the request in translate_name, the first hook that sees the
 * <Location> configuration: a name of ours is mapped to no file at all,
 * anything else is left to Apache exactly as if the module were not there
 * (firmware, sounds and dictionaries come from the file system). */
/* Under an admin location, the API's resources are the module's; every
 * other path (the dashboard's files) is Apache's. */
static int polycom_claim_admin(request_rec *r, const polycom_dir_conf *conf)
{
    apr_size_t blen = strlen(conf->admin_base);
    polycom_request *req;
    const char *rel;

    while (blen > 1 && conf->admin_base[blen - 1] == '/') {
        blen--;
    }
    if (strncmp(r->uri, conf->admin_base, blen)
        || (r->uri[blen] != '/' && r->uri[blen] != '\0')) {
        return DECLINED;
    }
    for (rel = r->uri + blen; *rel == '/'; rel++) {
    }
    if (!polycom_admin_is_resource(rel)) {
        return DECLINED;
    }
    req = apr_pcalloc(r->pool, sizeof(*req));
    req->admin_path = rel;
    req->mac = req->file = req->etag = "";
    ap_set_module_config(r->request_config, &polycom_module, req);
    r->handler = POLYCOM_ADMIN_HANDLER;
    r->filename = apr_pstrcat(r->pool, "polycom-admin:", rel, NULL);
    return OK;
}

int polycom_translate_name(request_rec *r)
{
    polycom_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                  &polycom_module);
    polycom_request *req;
    const char *base;

    if (!conf || !r->uri) {
        return DECLINED;
    }
    if (conf->admin == 1 && conf->admin_base
        && polycom_claim_admin(r, conf) == OK) {
        return OK;
    }
    if (!polycom_conf_provisioning(conf)) {
        return DECLINED;
    }
    base = strrchr(r->uri, '/');
    base = base ? base + 1 : r->uri;
    req = apr_pcalloc(r->pool, sizeof(*req));
    if (!polycom_name_parse(base, &req->name)) {
        return DECLINED;
    }
    polycom_useragent_parse(r->pool, apr_table_get(r->headers_in,
                                                   "User-Agent"), &req->ua);
    req->file = apr_pstrdup(r->pool, base);
    ap_str_tolower((char *)req->file);
    req->mac = req->name.is_default ? req->ua.serial : req->name.mac;
    req->etag = "";
    ap_set_module_config(r->request_config, &polycom_module, req);
    r->handler = POLYCOM_HANDLER;
    r->filename = apr_pstrcat(r->pool, "polycom:", base, NULL);

    /* Request notes, so that LogFormat "%{polycom-mac}n" works. */
    if (req->mac[0]) {
        apr_table_setn(r->notes, "polycom-mac", req->mac);
    }
    if (req->ua.known) {
        apr_table_setn(r->notes, "polycom-model", req->ua.model);
        apr_table_setn(r->notes, "polycom-firmware", req->ua.firmware);
    }
    return OK;
}

/* A claimed name exists only in the database: skip core's directory walk
 * and its stat() of a file that is not there. */
int polycom_map_to_storage(request_rec *r)
{
    return ap_get_module_config(r->request_config, &polycom_module)
           ? OK : DECLINED;
}

/* A known, enabled phone, or an HTTP status saying why not (looked_up:
 * *phone was read already, NULL for an unknown MAC). An address
 * that probes too many unknown MACs is answered 429 for a cool-down, except
 * for the phones that last checked in from that very address (an office
 * behind one NAT is not punished for its own phones). */
static int polycom_admit_phone(request_rec *r, polycom_request *req,
                               polycom_db *db, polycom_phone **phone,
                               int looked_up)
{
    const polycom_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &polycom_module);
    polycom_guard_settings guard = polycom_conf_guard(conf);
    int limit = guard.limit;
    apr_interval_time_t window = guard.window;
    apr_interval_time_t cooldown = guard.cooldown;
    const char *ip = r->useragent_ip ? r->useragent_ip : "";
    polycom_metrics *m = polycom_metrics_get();
    apr_interval_time_t blocked = limit
        ? polycom_guard_blocked(m, ip, r->request_time) : 0;

    const char *last_ip = "";

    if (!looked_up && polycom_store_phone(db, req->name.mac, phone) < 0) {
        return polycom_db_failed(r, db);
    }
    if (blocked && *phone && (*phone)->enabled
        && polycom_store_last_ip(db, req->name.mac, &last_ip) < 0) {
        return polycom_db_failed(r, db);
    }
    if (blocked && !(*phone && (*phone)->enabled && !strcmp(last_ip, ip))) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00027)
                      "%s is blocked for probing unknown MACs: 429", ip);
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                                    apr_time_sec(blocked) + 1));
        return HTTP_TOO_MANY_REQUESTS;
    }
    if (!*phone) {
        req->unknown_phone = 1;
        if (limit && polycom_guard_unknown(m, ip, r->request_time, limit,
                                           window, cooldown)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00026)
                          "%s asked for more than %d unknown MACs within %"
                          APR_TIME_T_FMT " s: 429 for %" APR_TIME_T_FMT
                          " s, except for phones last seen there", ip, limit,
                          apr_time_sec(window), apr_time_sec(cooldown));
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00003)
                      "unknown phone %s: 404, recorded as discovered",
                      req->name.mac);
        return HTTP_NOT_FOUND;
    }
    if (!(*phone)->enabled) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00004)
                      "phone %s is disabled: 404", req->name.mac);
        return HTTP_NOT_FOUND;
    }
    return OK;
}

int polycom_find_phone(request_rec *r, polycom_request *req,
                       polycom_db *db, polycom_phone **phone)
{
    return polycom_admit_phone(r, req, db, phone, 0);
}

/* The master: the reprovisioning stanza's file first when a move is under
 * way (the first file wins on the phone), then the settings, then the
 * static files of PolycomConfigFiles, which they override. */
static polycom_master_spec *polycom_master_for(request_rec *r,
                                               const polycom_dir_conf *conf,
                                               const char *mac,
                                               int reprovisioning)
{
    polycom_master_spec *spec = apr_pcalloc(r->pool, sizeof(*spec));
    apr_array_header_t *files = apr_array_make(r->pool, 2,
                                               sizeof(const char *));
    apr_array_header_t *models = apr_array_make(r->pool,
                                                conf->model_firmware->nelts,
                                                sizeof(polycom_model_firmware));
    int i;

    if (reprovisioning) {
        APR_ARRAY_PUSH(files, const char *) =
            polycom_name_file(r->pool, mac, POLYCOM_FILE_DEVICE);
    }
    APR_ARRAY_PUSH(files, const char *) =
        polycom_name_file(r->pool, mac, POLYCOM_FILE_SETTINGS);
    for (i = 0; i < conf->model_firmware->nelts; i++) {
        const polycom_model_firmware *mf =
            &APR_ARRAY_IDX(conf->model_firmware, i, polycom_model_firmware);

        if (mf->path[0]) {
            APR_ARRAY_PUSH(models, polycom_model_firmware) = *mf;
        }
    }
    spec->app_file_path = polycom_conf_app_file_path(conf);
    spec->config_files = files;
    spec->static_files = conf->config_files;
    spec->model_firmware = models;
    spec->model_files = conf->model_files;
    return spec;
}

static int prov_hit(apr_time_t start)
{
    polycom_metrics_cache(polycom_metrics_get(), 1);
    polycom_metrics_generation(polycom_metrics_get(),
                               apr_time_now() - start);
    return OK;
}

/* Build the body of a generated file whole, or fail with a status. */
static int polycom_generate(request_rec *r, const polycom_dir_conf *conf,
                            polycom_request *req, const char **body,
                            apr_size_t *len)
{
    polycom_db db;
    polycom_phone *phone = NULL;
    polycom_reprovision_target target;
    apr_array_header_t *params, *served = NULL;
    const char *error = NULL;
    apr_time_t start = apr_time_now();
    apr_int64_t revision = -1;
    const char *cache_key = NULL;
    polycom_moved *moved = NULL;
    polycom_phone_at at;
    int status, moving, cacheable, looked = 0, held = 0, reused = 0;
    /* A phone's master and settings: one statement reads all that a
     * request needs but the layers above the phone (the cold path). */
    int snapshot = !req->name.is_default
                   && (req->name.kind == POLYCOM_FILE_MASTER
                       || req->name.kind == POLYCOM_FILE_SETTINGS);
    /* Of those, the settings are made of the layers; a master is not. */
    int of_layers = snapshot && req->name.kind == POLYCOM_FILE_SETTINGS;

    memset(&target, 0, sizeof(target));
    status = polycom_db_open(r, req, &db);
    if (status != OK) {
        return status;
    }
    /* A phone's master and settings come from the cache while nothing
     * changed, unless its address is blocked (then the phone decides).
     * Without a cache the revision is not even read. */
    cacheable = polycom_prov_cacheable()
                && req->name.kind != POLYCOM_FILE_DEVICE
                && !polycom_guard_blocked(polycom_metrics_get(),
                                          r->useragent_ip
                                          ? r->useragent_ip : "",
                                          r->request_time);
    if (cacheable) {
        cache_key = polycom_prov_cache_key(r);
        moved = polycom_moved_of(&db);
        looked = !(snapshot && polycom_prov_surely_missed(moved, cache_key,
                                                          of_layers));
    }
    if (looked) {
        if (polycom_store_revision(&db, &revision) < 0) {
            return polycom_db_failed(r, &db);
        }
        polycom_prov_revision_read(revision);
        polycom_moved_read(moved, &db, revision);
        if (polycom_prov_cache_get(r, &db, moved, cache_key, revision,
                                   body, len, &req->etag, req->name.mac,
                                   of_layers ? &at : NULL, &reused)) {
            return prov_hit(start);
        }
    }
    /* A miss: what the file is made of, from one snapshot, and the
     * revision of that snapshot is the one it is kept under. When the
     * revision was not read above, the cache is asked at this one: another
     * child may have rendered the file at it meanwhile. */
    if (reused) {
        polycom_metrics_cache_phone_kept(polycom_metrics_get());
    }
    else if (snapshot) {
        if (polycom_store_phone_at(&db, req->name.mac,
                                   req->name.kind == POLYCOM_FILE_SETTINGS,
                                   &at) < 0) {
            return polycom_db_failed(r, &db);
        }
        revision = at.revision;
        polycom_prov_revision_read(revision);
        polycom_moved_read(moved, &db, revision);
        if (cacheable && !looked
            && polycom_prov_cache_get(r, &db, moved, cache_key, revision,
                                      body, len, &req->etag, req->name.mac,
                                      NULL, NULL)) {
            return prov_hit(start);
        }
    }
    if (!req->name.is_default) {
        phone = snapshot ? at.phone : NULL;
        status = polycom_admit_phone(r, req, &db, &phone, snapshot);
        if (status != OK) {
            return status;
        }
    }
    /* Settings depend on a move only through the stanza's parameters set
     * in a layer (polycom_device_settings): without them, no look-up. */
    if (req->name.kind == POLYCOM_FILE_SETTINGS) {
        if ((snapshot ? polycom_prov_layered_params(r, &db, &at, &params)
                      : polycom_store_params(&db, phone, &params)) < 0) {
            return polycom_db_failed(r, &db);
        }
        held = polycom_device_move_params(params);
    }
    /* No move set up at all in the snapshot: none to look for. */
    if ((req->name.kind != POLYCOM_FILE_SETTINGS || held)
        && (!snapshot || at.moves)
        && polycom_store_reprovision(&db, phone ? phone->mac : "",
                                     phone ? phone->site : "",
                                     r->request_time, &target) < 0) {
        return polycom_db_failed(r, &db);
    }
    moving = POLYCOM_REPROVISION_MOVING(&target);
    if (target.id) {
        cacheable = 0;      /* a deadline ends a move without a revision */
    }

    if (req->name.kind == POLYCOM_FILE_MASTER) {
        status = polycom_render_master(r->pool, polycom_master_for(r, conf,
                                       req->name.mac, moving), body, len,
                                       &error);
    }
    else if (req->name.kind == POLYCOM_FILE_DEVICE) {
        polycom_reprovision stanza;

        if (!moving) {
            return HTTP_NOT_FOUND;      /* no move under way for it */
        }
        stanza.server = target.server;
        stanza.server_type = target.server_type;
        stanza.boot_server = target.boot_server;
        stanza.user = target.user;
        stanza.password = target.password;
        /* Credentials go to a known phone only, never into the files that
         * every unknown phone may read. */
        status = polycom_render_config(r->pool,
                                       polycom_reprovision_params(r->pool,
                                           &stanza, phone != NULL),
                                       body, len, &error);
        if (phone) {
            req->delivered_target = target.id;
        }
    }
    else {
        /* The move's target is the admin's newer word for this phone, and
         * its file comes first: a layer's server must not reach the phone
         * beside it. Every device.* value gets its .set flags. */
        if (moving && held) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00100)
                          "a move is under way for %s: %d stanza "
                          "parameters or flags of its layers are left "
                          "out of %s",
                          phone ? phone->mac : "unknown phones", held,
                          req->file);
        }
        served = polycom_device_settings(r->pool, params, moving);
        status = polycom_render_config(r->pool, served, body, len, &error);
    }
    if (status != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00005)
                      "cannot generate %s: %s", r->uri,
                      ap_escape_logitem(r->pool, error));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    req->etag = polycom_etag(r->pool, *body, *len);
    /* Rendered anew (the cache missed): what a phone gets in these bytes
     * goes with the check-in, which the writer keeps once per ETag (GET
     * /admin/phones/{mac}/diff), the first time this child makes them.
     * Hits need none: the render that filled the cache sent it. */
    if (req->name.kind == POLYCOM_FILE_SETTINGS && served && phone
        && polycom_prov_snapshot_new(req->etag)) {
        req->snapshot = polycom_flat_snapshot(r->pool, served);
    }
    if (cacheable) {
        /* A phone's settings read from one snapshot are made of its
         * layers, its own row and the moves, its master of its row and
         * the moves (polycom_master_for reads no layer); any other file
         * (a default file, one whose phone was read apart) is kept for
         * its very revision only. */
        const char *made_of = NULL;
        apr_size_t made_of_len = 0;
        const char *aside = NULL;
        apr_size_t aside_len = 0;

        if (snapshot && phone) {
            made_of = of_layers
                      ? polycom_scopes_of(r->pool, phone->site,
                                          phone->model, phone->mac,
                                          &made_of_len)
                      : polycom_scopes_of_phone(r->pool, phone->mac,
                                                &made_of_len);
        }
        if (snapshot && phone && of_layers) {
            aside = polycom_phone_at_pack(r->pool, &at, &aside_len);
        }
        polycom_metrics_cache(polycom_metrics_get(), 0);
        polycom_prov_cache_put(cache_key, revision, made_of, made_of_len,
                               *body, *len, req->etag, aside, aside_len);
    }
    polycom_metrics_generation(polycom_metrics_get(),
                               apr_time_now() - start);
    return OK;
}

/* Whether a response may be written out in the handler, as a static file
 * is (httpd writes a file while the handler runs). httpd looks for the
 * client's next request on the connection before it writes a response
 * still buffered, and finds none then, since the client has not had this
 * one yet; so every keep-alive connection went back to the listener's
 * poll (two epoll_ctl, a worker thread woken). Written first, a client
 * that asks again at once is served by the same thread (make bench:
 * settings 87.5 -> 68 µs of CPU a request). Not when a filter would
 * answer otherwise: httpd's byte-range filter serves a Range only from a
 * body it sees whole, and mod_deflate (which Debian sets on XML) would
 * send a flushed body chunked, without its length. A client that accepts
 * no encoding has its body compressed by no filter; one that does is
 * kept to the old way when any content filter is set. */
static int polycom_send_now(request_rec *r)
{
    ap_filter_t *f;

    if (apr_table_get(r->headers_in, "Range")) {
        return 0;
    }
    if (!apr_table_get(r->headers_in, "Accept-Encoding")) {
        return 1;
    }
    for (f = r->output_filters; f; f = f->next) {
        if (f->frec->ftype < AP_FTYPE_PROTOCOL) {
            return 0;
        }
    }
    return 1;
}

/* Send a complete body with its validators; conditional requests get 304. */
static int polycom_send(request_rec *r, polycom_request *req,
                        const char *body, apr_size_t len,
                        const char *content_type)
{
    int status;

    if (!req->etag || !*req->etag) {
        req->etag = polycom_etag(r->pool, body, len);
    }
    apr_table_setn(r->headers_out, "ETag", req->etag);
    /* Per-phone files carry secrets: the phone may keep a copy, shared
     * caches may not, and every use is revalidated against the database. */
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    ap_set_content_type(r, content_type);
    status = ap_meets_conditions(r);
    if (status != OK) {
        return status;
    }
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        int flush = polycom_send_now(r);

        ap_rwrite(body, (int)len, r);
        if (flush) {
            ap_rflush(r);
        }
    }
    return OK;
}

/* GET of a file phones upload: the latest stored version, byte for byte. */
static int polycom_serve_stored(request_rec *r, polycom_request *req)
{
    const char *kind = polycom_name_kind_label(req->name.kind);
    const char *body = NULL;
    apr_size_t len = 0;
    polycom_db db;
    polycom_phone *phone = NULL;
    int status, failed;

    if (req->name.kind == POLYCOM_FILE_LICENSE) {
        return HTTP_NOT_FOUND;          /* licences are not managed yet */
    }
    status = polycom_db_open(r, req, &db);
    if (status != OK) {
        return status;
    }
    /* A phone's directory and call list are personal data: served to a
     * known, enabled phone only, and a probe of unknown MACs counts
     * against the enumeration guard as for generated files. */
    if (!req->name.is_default) {
        status = polycom_find_phone(r, req, &db, &phone);
        if (status != OK) {
            return status;
        }
    }
    failed = polycom_upload_is_log(req->name.kind)
             ? polycom_store_log_get(&db, req->name.mac, kind, &body, &len)
             : polycom_store_upload_get(&db, req->name.mac, kind, &body,
                                        &len);
    if (failed < 0) {
        return polycom_db_failed(r, &db);
    }
    if (!body) {
        return HTTP_NOT_FOUND;          /* nothing stored: the phone goes on */
    }
    return polycom_send(r, req, body, len,
                        polycom_upload_content_type(req->name.kind));
}

int polycom_handler(request_rec *r)
{
    polycom_dir_conf *conf;
    polycom_request *req;
    const char *body = NULL;
    apr_size_t len = 0;
    int status, uploadable;

    if (!r->handler || strcmp(r->handler, POLYCOM_HANDLER)) {
        return DECLINED;
    }
    req = ap_get_module_config(r->request_config, &polycom_module);
    if (!req) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &polycom_module);
    uploadable = polycom_conf_uploads(conf) && !req->name.is_default
                 && polycom_name_is_upload(req->name.kind);

    /* The Allow header of a 405 comes from allowed_methods (GET implies
     * HEAD there). */
    r->allowed |= (AP_METHOD_BIT << M_GET);
    ap_allow_standard_methods(r, MERGE_ALLOW, M_GET, -1);
    if (uploadable) {
        r->allowed |= (AP_METHOD_BIT << M_PUT);
        ap_allow_standard_methods(r, MERGE_ALLOW, M_PUT, -1);
    }
    if (r->method_number == M_PUT && uploadable) {
        return polycom_upload(r, conf, req);
    }
    if (r->method_number != M_GET) {
        /* HEAD is M_GET with header_only. */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00006)
                      "method %s not allowed on %s", r->method, r->uri);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!polycom_name_is_generated(req->name.kind)) {
        return polycom_serve_stored(r, req);
    }
    status = polycom_generate(r, conf, req, &body, &len);
    if (status != OK) {
        return status;
    }
    return polycom_send(r, req, body, len, "application/xml; charset=utf-8");
}

