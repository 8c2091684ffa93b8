/* mod_polycom: Apache httpd as a Polycom provisioning server.
 *
 * This file is the httpd glue only: directives, per-directory merging,
 * hooks and the handler. Parsing (name.c, useragent.c), rendering
 * (render.c) and SQL (store.c) know nothing of httpd.
 */

#include "apr_lib.h"
#include "apr_optional.h"
#include "apr_strings.h"

#include <libxml/parser.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_dbd.h"
#include "mod_auth.h"
#include "mod_dbd.h"
#include "mod_ssl.h"
#include "util_script.h"

#include "apr_shm.h"
#include "apr_thread_cond.h"
#include "apr_thread_proc.h"
#include "apr_poll.h"
#include "apr_signal.h"
#include "ap_listen.h"
#include "ap_mpm.h"
#include "mod_unixd.h"
#include "mpm_common.h"
#include "unixd.h"
#include "mod_watchdog.h"

#include "polycom_admin.h"
#include "polycom_metrics.h"
#include "polycom_name.h"
#include "polycom_private.h"
#include "polycom_render.h"
#include "polycom_resync.h"
#include "polycom_reprovision.h"
#include "polycom_store.h"
#include "polycom_upload.h"
#include "polycom_useragent.h"
#include "polycom_wire.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define POLYCOM_HANDLER "polycom-provisioning"
#define POLYCOM_ADMIN_HANDLER "polycom-admin"
#define POLYCOM_DEFAULT_PREVIEW_BASE "/prov"
#define POLYCOM_DEFAULT_APP_FILE_PATH "sip.ld"
#define POLYCOM_PATH_MAX 255
#define POLYCOM_MODEL_MAX 32
#define POLYCOM_DEFAULT_UPLOAD_LIMIT  (256 * 1024)
#define POLYCOM_DEFAULT_LOG_LIMIT     (512 * 1024)
#define POLYCOM_DEFAULT_LOG_KEEP      (1024 * 1024)
#define POLYCOM_DEFAULT_LOG_DAYS      30
#define POLYCOM_SIZE_MAX              (64 * 1024 * 1024)
#define POLYCOM_DEFAULT_RESYNC_RATE   60     /* NOTIFYs per minute */
#define POLYCOM_DEFAULT_RESYNC_NET    10     /* per minute per network */
#define POLYCOM_DEFAULT_SIP_T1_MS     500    /* RFC 3261 T1 */
#define POLYCOM_WATCHDOG_NAME         "mod_polycom_resync"
#define POLYCOM_WATCHDOG_INTERVAL     apr_time_from_msec(200)

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    int provisioning;                    /* -1: unset (off)              */
    int checkins;                        /* -1: unset (on)               */
    const char *app_file_path;           /* NULL: unset (sip.ld)         */
    apr_array_header_t *model_firmware;  /* polycom_model_firmware       */
    int uploads;                         /* -1: unset (off)              */
    apr_off_t upload_limit;              /* -1: unset (256 KiB)          */
    apr_off_t log_limit;                 /* -1: unset (512 KiB)          */
    apr_off_t log_keep;                  /* -1: unset (1 MiB)            */
    int log_days;                        /* -1: unset (30); 0: no limit  */
    int admin;                           /* -1: unset (off)              */
    const char *admin_base;              /* the <Location> of PolycomAdmin */
    const char *preview_base;            /* NULL: unset (/prov)          */
    int resync_rate;                     /* -1: unset (60 per minute)    */
    int resync_per_network;              /* -1: unset (10 per minute)    */
    int sip_t1_ms;                       /* -1: unset (500 ms)           */
    int guard_limit;                     /* -1: unset (30); 0: off       */
    int guard_window;                    /* seconds (60)                 */
    int guard_cooldown;                  /* seconds (300)                */
} polycom_dir_conf;

typedef struct {
    int statements_prepared;
} polycom_server_conf;

/* What the module learned about a request it claimed. */
typedef struct {
    polycom_name name;
    polycom_useragent ua;
    const char *file;         /* the base name asked for, lower-cased     */
    const char *mac;          /* from the name, or the UA's (SN:...)      */
    const char *etag;         /* of the body served, "" if none           */
    int unknown_phone;        /* a lookup found no such phone             */
    apr_off_t bytes_in;       /* size of a stored upload                  */
    apr_int64_t delivered_target; /* served this reprovisioning target     */
    const char *admin_path;   /* an admin API request: the resource path  */
    int db_unavailable;       /* already logged: skip the check-in        */
} polycom_request;

static ap_dbd_t *(*polycom_dbd_acquire)(request_rec *) = NULL;
static ap_dbd_t *(*polycom_dbd_open)(apr_pool_t *, server_rec *) = NULL;
static void (*polycom_dbd_close)(server_rec *, ap_dbd_t *) = NULL;

/* Counters shared by all children (shared memory made in post_config). */
static polycom_metrics *polycom_shared_metrics = NULL;
static polycom_metrics polycom_local_metrics;

static polycom_metrics *polycom_metrics_get(void)
{
    return polycom_shared_metrics ? polycom_shared_metrics
                                  : &polycom_local_metrics;
}
static void (*polycom_dbd_prepare)(server_rec *, const char *,
                                   const char *) = NULL;

static void *polycom_create_dir_conf(apr_pool_t *p, char *dir)
{
    polycom_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->provisioning = -1;
    conf->checkins = -1;
    conf->uploads = -1;
    conf->upload_limit = -1;
    conf->log_limit = -1;
    conf->log_keep = -1;
    conf->log_days = -1;
    conf->admin = -1;
    conf->resync_rate = -1;
    conf->resync_per_network = -1;
    conf->sip_t1_ms = -1;
    conf->guard_limit = -1;
    conf->model_firmware = apr_array_make(p, 4,
                                          sizeof(polycom_model_firmware));
    return conf;
}

/* A child's pin for a model replaces the parent's pin for that model;
 * pins for other models are inherited. */
static apr_array_header_t *polycom_merge_firmware(apr_pool_t *p,
                                                  const apr_array_header_t *base,
                                                  const apr_array_header_t *add)
{
    apr_array_header_t *merged = apr_array_copy(p, base);
    int i, j;

    for (i = 0; i < add->nelts; i++) {
        const polycom_model_firmware *a =
            &APR_ARRAY_IDX(add, i, polycom_model_firmware);
        int replaced = 0;

        for (j = 0; j < merged->nelts; j++) {
            polycom_model_firmware *m =
                &APR_ARRAY_IDX(merged, j, polycom_model_firmware);

            if (!strcmp(m->model, a->model)) {
                m->path = a->path;
                replaced = 1;
            }
        }
        if (!replaced) {
            APR_ARRAY_PUSH(merged, polycom_model_firmware) = *a;
        }
    }
    return merged;
}

static void *polycom_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const polycom_dir_conf *base = basev;
    const polycom_dir_conf *add = addv;
    polycom_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->provisioning = add->provisioning != -1 ? add->provisioning
                                                 : base->provisioning;
    conf->checkins = add->checkins != -1 ? add->checkins : base->checkins;
    conf->app_file_path = add->app_file_path ? add->app_file_path
                                             : base->app_file_path;
    conf->model_firmware = polycom_merge_firmware(p, base->model_firmware,
                                                  add->model_firmware);
    conf->uploads = add->uploads != -1 ? add->uploads : base->uploads;
    conf->upload_limit = add->upload_limit != -1 ? add->upload_limit
                                                 : base->upload_limit;
    conf->log_limit = add->log_limit != -1 ? add->log_limit
                                           : base->log_limit;
    conf->log_keep = add->log_keep != -1 ? add->log_keep : base->log_keep;
    conf->log_days = add->log_days != -1 ? add->log_days : base->log_days;
    conf->admin = add->admin != -1 ? add->admin : base->admin;
    conf->admin_base = add->admin != -1 ? add->admin_base : base->admin_base;
    conf->preview_base = add->preview_base ? add->preview_base
                                           : base->preview_base;
    conf->resync_rate = add->resync_rate != -1 ? add->resync_rate
                                               : base->resync_rate;
    conf->resync_per_network = add->resync_per_network != -1
                               ? add->resync_per_network
                               : base->resync_per_network;
    conf->sip_t1_ms = add->sip_t1_ms != -1 ? add->sip_t1_ms
                                           : base->sip_t1_ms;
    if (add->guard_limit != -1) {
        conf->guard_limit = add->guard_limit;
        conf->guard_window = add->guard_window;
        conf->guard_cooldown = add->guard_cooldown;
    }
    else {
        conf->guard_limit = base->guard_limit;
        conf->guard_window = base->guard_window;
        conf->guard_cooldown = base->guard_cooldown;
    }
    return conf;
}

static void *polycom_create_server_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(polycom_server_conf));
}

/* Defaults are applied where values are read, so that "unset" survives
 * every merge and a child can set a value back to the default. */
static int polycom_conf_provisioning(const polycom_dir_conf *conf)
{
    return conf->provisioning == 1;
}

static int polycom_conf_checkins(const polycom_dir_conf *conf)
{
    return conf->checkins != 0;
}

static const char *polycom_conf_app_file_path(const polycom_dir_conf *conf)
{
    return conf->app_file_path ? conf->app_file_path
                               : POLYCOM_DEFAULT_APP_FILE_PATH;
}

static int polycom_conf_uploads(const polycom_dir_conf *conf)
{
    return conf->uploads == 1;
}

static apr_off_t polycom_conf_upload_limit(const polycom_dir_conf *conf,
                                           polycom_file_kind kind)
{
    if (polycom_upload_is_log(kind)) {
        return conf->log_limit != -1 ? conf->log_limit
                                     : POLYCOM_DEFAULT_LOG_LIMIT;
    }
    return conf->upload_limit != -1 ? conf->upload_limit
                                    : POLYCOM_DEFAULT_UPLOAD_LIMIT;
}

static polycom_resync_pacing polycom_conf_pacing(const polycom_dir_conf *conf)
{
    polycom_resync_pacing pacing;

    pacing.per_minute = conf->resync_rate != -1
                        ? conf->resync_rate : POLYCOM_DEFAULT_RESYNC_RATE;
    pacing.per_network = conf->resync_per_network != -1
                         ? conf->resync_per_network
                         : POLYCOM_DEFAULT_RESYNC_NET;
    return pacing;
}

static apr_interval_time_t polycom_conf_sip_t1(const polycom_dir_conf *conf)
{
    return apr_time_from_msec(conf->sip_t1_ms != -1
                              ? conf->sip_t1_ms : POLYCOM_DEFAULT_SIP_T1_MS);
}

static polycom_log_retention polycom_conf_log_retention(
    const polycom_dir_conf *conf)
{
    polycom_log_retention retention;
    int days = conf->log_days != -1 ? conf->log_days
                                    : POLYCOM_DEFAULT_LOG_DAYS;

    retention.max_bytes = conf->log_keep != -1 ? conf->log_keep
                                               : POLYCOM_DEFAULT_LOG_KEEP;
    retention.max_age = apr_time_from_sec((apr_interval_time_t)days * 86400);
    return retention;
}

/* Statements are prepared once per connection, in the connection's own
 * SQL dialect, which is known only once mod_dbd has a connection: mod_dbd
 * prepares one statement common to all dialects (registered here, when the
 * first provisioning location of a server is configured) and its
 * post_connect hook, below, the rest. */
static const char *polycom_prepare_statements(cmd_parms *cmd)
{
    polycom_server_conf *sconf =
        ap_get_module_config(cmd->server->module_config, &polycom_module);
    const polycom_statement *marker;

    if (sconf->statements_prepared) {
        return NULL;
    }
    if (!polycom_dbd_prepare) {
        polycom_dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
        polycom_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
        if (!polycom_dbd_prepare || !polycom_dbd_acquire) {
            return "PolycomProvisioning: mod_dbd must be loaded first "
                   "(LoadModule dbd_module ...)";
        }
    }
    marker = polycom_store_marker();
    polycom_dbd_prepare(cmd->server, marker->sql, marker->label);
    sconf->statements_prepared = 1;
    return NULL;
}

/* mod_dbd's post_connect hook: a new connection of a group that serves
 * mod_polycom (its queries hold our marker) gets the other statements. A
 * failure cannot refuse the connection (mod_dbd uses it either way), so
 * it is logged and the hook succeeds: the post_connect steps after it
 * (DBDInitSQL) still run. Requests that need a missing statement answer
 * 500, "statement ... was not prepared", and this line says why.
 *
 * It runs first: mod_dbd runs DBDInitSQL as a post_connect hook too, and
 * the hooks after one that fails are skipped. A DBDInitSQL whose last
 * statement returns a row (PRAGMA busy_timeout=N does) "fails" that way,
 * silently, and would have left every statement unprepared. So the
 * statements are prepared before it, a flag on the connection says "the
 * other post_connect steps have not finished", and the last hook clears
 * it; polycom_db_bind() reports a connection that kept the flag. */
#define POLYCOM_INIT_PENDING "mod_polycom: post_connect unfinished"
#define POLYCOM_DBD_CFG      "mod_polycom: dbd_cfg"
#define POLYCOM_DBD_POOL     "mod_polycom: prepared pool"

static int polycom_mysql_warned = 0;

static apr_status_t polycom_dbd_post_connect(apr_pool_t *pool,
                                             dbd_cfg_t *cfg, ap_dbd_t *dbd)
{
    const char *error;

    if (!apr_hash_get(cfg->queries, polycom_store_marker()->label,
                      APR_HASH_KEY_STRING)) {
        return APR_SUCCESS;
    }
    if (polycom_store_prepare(pool, dbd->driver, dbd->handle, dbd->prepared,
                              &error) < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, cfg->server, PCLOGNO(00029)
                     "cannot prepare the statements on a new %s "
                     "connection: %s", cfg->name, error);
        return APR_SUCCESS;
    }
    apr_hash_set(dbd->prepared, POLYCOM_INIT_PENDING, APR_HASH_KEY_STRING,
                 apr_hash_get(dbd->prepared, polycom_store_marker()->label,
                              APR_HASH_KEY_STRING));
    /* Kept for polycom_db_repair(): what mod_dbd prepared, and where. */
    apr_hash_set(dbd->prepared, POLYCOM_DBD_CFG, APR_HASH_KEY_STRING, cfg);
    apr_hash_set(dbd->prepared, POLYCOM_DBD_POOL, APR_HASH_KEY_STRING, pool);
    /* The mysql driver reconnects by itself unless told not to, and a
     * reconnected handle has lost every prepared statement: each request
     * on it would fail until the child exits. With reconnect=0 mod_dbd
     * sees the dead connection and opens a new one. */
    if (polycom_store_dialect(dbd->driver) == POLYCOM_DIALECT_MYSQL
        && !ap_strstr_c(cfg->params, "reconnect=0")
        && !polycom_mysql_warned) {
        polycom_mysql_warned = 1;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cfg->server,
                     PCLOGNO(00030) "DBDParams for mysql lacks reconnect=0: "
                     "after the database restarts, connections of this "
                     "process will fail instead of being replaced");
    }
    return APR_SUCCESS;
}

/* Reached only when every post_connect step before it succeeded. */
static apr_status_t polycom_dbd_post_connect_done(apr_pool_t *pool,
                                                  dbd_cfg_t *cfg,
                                                  ap_dbd_t *dbd)
{
    apr_hash_set(dbd->prepared, POLYCOM_INIT_PENDING, APR_HASH_KEY_STRING,
                 NULL);
    return APR_SUCCESS;
}

/* A polycom_db over a connection from mod_dbd. A connection whose
 * post_connect steps stopped early is still used (its statements are
 * prepared), once with a warning: its DBDInitSQL settings may be missing,
 * and without busy_timeout an SQLite writer gives up on a busy database. */
static int polycom_db_repair(polycom_db *db, void *data);

static void polycom_db_bind(polycom_db *db, ap_dbd_t *dbd, server_rec *s,
                            apr_pool_t *pool)
{
    if (apr_hash_get(dbd->prepared, POLYCOM_INIT_PENDING,
                     APR_HASH_KEY_STRING)) {
        apr_hash_set(dbd->prepared, POLYCOM_INIT_PENDING,
                     APR_HASH_KEY_STRING, NULL);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00031)
                     "DBDInitSQL failed on a new database connection, "
                     "which is used without it: check each statement, "
                     "and that the last one returns no row (PRAGMA "
                     "busy_timeout=N returns one: put it first)");
    }
    polycom_store_init(db, dbd->driver, dbd->handle, dbd->prepared, pool);
    db->repair = polycom_db_repair;
    db->repair_data = s;
}

/* When a PostgreSQL server restarts, libpq resets the pooled connections
 * mod_dbd checks (apr_dbd_pgsql's check_conn calls PQreset), and the new
 * session knows none of the statements prepared on the old one; an SQLite
 * connection's statements fail for good once the schema was changed
 * elsewhere (apr_dbd_sqlite3 prepares with SQLite's legacy interface).
 * Either way every query on it would fail until the child exits. After
 * such a failure store.c calls this (polycom_db.repair), and the
 * statements, mod_dbd's (all modules') and ours, are prepared again on
 * that connection; 0 when that was done. */
static int polycom_db_repair(polycom_db *db, void *data)
{
    server_rec *s = data;
    dbd_cfg_t *cfg = apr_hash_get(db->prepared, POLYCOM_DBD_CFG,
                                  APR_HASH_KEY_STRING);
    apr_pool_t *pool = apr_hash_get(db->prepared, POLYCOM_DBD_POOL,
                                    APR_HASH_KEY_STRING);
    apr_hash_t *fresh;
    apr_hash_index_t *hi;
    const char *error = NULL;

    if (!cfg || !pool) {
        return -1;
    }
    fresh = apr_hash_make(db->pool);
    for (hi = apr_hash_first(db->pool, cfg->queries); hi && !error;
         hi = apr_hash_next(hi)) {
        const void *label;
        void *sql;
        apr_dbd_prepared_t *stmt = NULL;

        apr_hash_this(hi, &label, NULL, &sql);
        if (!*(const char *)sql) {
            continue;
        }
        if (apr_dbd_prepare(db->driver, pool, db->handle, sql, label,
                            &stmt)) {
            error = apr_psprintf(db->pool, "%s: %s", (const char *)label,
                                 apr_dbd_error(db->driver, db->handle, 1));
            break;
        }
        apr_hash_set(db->prepared, label, APR_HASH_KEY_STRING, stmt);
        apr_hash_set(fresh, label, APR_HASH_KEY_STRING, label);
    }
    if (!error) {
        polycom_store_reprepare(pool, db->driver, db->handle, db->prepared,
                                fresh, &error);
    }
    ap_log_error(APLOG_MARK, error ? APLOG_ERR : APLOG_NOTICE, 0, s,
                 PCLOGNO(00038) "a database connection lost its prepared "
                 "statements (a server restart, or a schema change made "
                 "elsewhere): %s%s",
                 error ? "preparing them again failed: " : "prepared again",
                 error ? error : "");
    return error ? -1 : 0;
}

/* The names are claimed before the file system is looked at, so only
 * <Location> (and <LocationMatch>) sections can hold our directives. */
static const char *polycom_check_context(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_FILES
                                     | NOT_IN_HTACCESS);
}

static const char *polycom_set_provisioning(cmd_parms *cmd, void *dconf,
                                            int on)
{
    polycom_dir_conf *conf = dconf;
    const char *err = polycom_check_context(cmd);

    if (err) {
        return err;
    }
    conf->provisioning = on;
    return on ? polycom_prepare_statements(cmd) : NULL;
}

static const char *polycom_set_checkins(cmd_parms *cmd, void *dconf, int on)
{
    const char *err = polycom_check_context(cmd);

    if (err) {
        return err;
    }
    ((polycom_dir_conf *)dconf)->checkins = on;
    return NULL;
}

static int polycom_model_token_valid(const char *model)
{
    apr_size_t i;

    for (i = 0; model[i]; i++) {
        if (i >= POLYCOM_MODEL_MAX || !apr_isalnum(model[i])) {
            return 0;
        }
    }
    return i > 0;
}

static const char *polycom_check_path(cmd_parms *cmd, const char *path)
{
    apr_size_t i;

    if (strlen(path) > POLYCOM_PATH_MAX) {
        return apr_psprintf(cmd->pool, "%s: a firmware path is at most %d "
                            "characters", cmd->cmd->name, POLYCOM_PATH_MAX);
    }
    for (i = 0; path[i]; i++) {
        if (apr_iscntrl(path[i]) || path[i] == ',' || path[i] == ' ') {
            return apr_psprintf(cmd->pool, "%s: firmware path \"%s\" may not "
                                "contain spaces, commas or control "
                                "characters", cmd->cmd->name, path);
        }
    }
    return NULL;
}

/* PolycomFirmware <path>            APP_FILE_PATH for every model
 * PolycomFirmware <MODEL> <path>    APP_FILE_PATH_<MODEL>; "" removes it */
static const char *polycom_set_firmware(cmd_parms *cmd, void *dconf,
                                        const char *arg1, const char *arg2)
{
    polycom_dir_conf *conf = dconf;
    polycom_model_firmware *mf;
    const char *path = arg2 ? arg2 : arg1;
    const char *err = polycom_check_context(cmd);
    int i;

    if (!err) {
        err = polycom_check_path(cmd, path);
    }
    if (err) {
        return err;
    }
    if (!arg2) {
        conf->app_file_path = path;
        return NULL;
    }
    if (!polycom_model_token_valid(arg1)) {
        return apr_psprintf(cmd->pool, "PolycomFirmware: model \"%s\" must be "
                            "a master token of letters and digits, as in "
                            "SPIP330 or VVX411", arg1);
    }
    for (i = 0; i < conf->model_firmware->nelts; i++) {
        mf = &APR_ARRAY_IDX(conf->model_firmware, i, polycom_model_firmware);
        if (!strcmp(mf->model, arg1)) {
            mf->path = path;
            return NULL;
        }
    }
    mf = apr_array_push(conf->model_firmware);
    mf->model = arg1;
    mf->path = path;
    return NULL;
}

static const char *polycom_set_uploads(cmd_parms *cmd, void *dconf, int on)
{
    const char *err = polycom_check_context(cmd);

    if (err) {
        return err;
    }
    ((polycom_dir_conf *)dconf)->uploads = on;
    return NULL;
}

/* The API's resources are named relative to the <Location> that turns it
 * on, so PolycomAdmin belongs in a plain <Location>. */
static const char *polycom_set_admin(cmd_parms *cmd, void *dconf, int on)
{
    polycom_dir_conf *conf = dconf;
    const char *err = polycom_check_context(cmd);

    if (err) {
        return err;
    }
    if (on && (!cmd->path || cmd->path[0] != '/')) {
        return "PolycomAdmin On belongs in a <Location /path> section";
    }
    conf->admin = on;
    conf->admin_base = on ? cmd->path : NULL;
    return on ? polycom_prepare_statements(cmd) : NULL;
}

static const char *polycom_set_preview_base(cmd_parms *cmd, void *dconf,
                                            const char *path)
{
    const char *err = polycom_check_context(cmd);

    if (err) {
        return err;
    }
    if (path[0] != '/' || strpbrk(path, "?#")) {
        return "PolycomAdminPreview: give the URL path of the provisioning "
               "location, such as /prov";
    }
    ((polycom_dir_conf *)dconf)->preview_base = path;
    return NULL;
}

/* PolycomCacheSize: bytes of rendered files each child keeps (0: none).
 * Set at configuration time, before the children; reset to the default
 * before each reading of the configuration (pre_config). */
#define POLYCOM_DEFAULT_CACHE_SIZE ((apr_off_t)32 * 1024 * 1024)
#define POLYCOM_CACHE_SIZE_MAX     ((apr_off_t)4096 * 1024 * 1024)
static apr_off_t polycom_cache_size = POLYCOM_DEFAULT_CACHE_SIZE;

/* "512K", "1M", "2G", "65536": a number of bytes, or -1 when the text is
 * not one. */
static apr_int64_t polycom_size_of(const char *arg)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10), unit = 1;

    if (end == arg || n < 0) {
        return -1;
    }
    switch (apr_tolower(*end)) {
    case 'k':
        unit = 1024;
        break;
    case 'm':
        unit = 1024 * 1024;
        break;
    case 'g':
        unit = 1024 * 1024 * 1024;
        break;
    }
    if (unit > 1) {
        end++;
    }
    return *end || n > APR_INT64_MAX / unit ? -1 : n * unit;
}

static const char *polycom_set_cache_size(cmd_parms *cmd, void *dconf,
                                          const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t n = strcasecmp(arg, "Off") ? polycom_size_of(arg) : 0;

    if (err) {
        return err;
    }
    if (n < 0 || n > POLYCOM_CACHE_SIZE_MAX) {
        return apr_psprintf(cmd->pool, "PolycomCacheSize: \"%s\" is not "
                            "Off or a size up to 4G (examples: 0, 64M, 1G)",
                            arg);
    }
    polycom_cache_size = (apr_off_t)n;
    return NULL;
}

/* A whole number from min to max. */
static const char *polycom_parse_count(cmd_parms *cmd, const char *arg,
                                       long min, long max, int *count)
{
    char *end;
    long n = strtol(arg, &end, 10);

    if (end == arg || *end || n < min || n > max) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a whole number "
                            "from %ld to %ld", cmd->cmd->name, arg, min, max);
    }
    *count = (int)n;
    return NULL;
}

static int polycom_writer_enabled;

/* How many check-ins a child holds while the batch before them is being
 * written (PolycomCheckinQueue). Past it a request writes its own
 * check-in, as when no batch thread runs: slower, but memory stays bounded
 * and nothing is lost when the writer falls behind (make bench saw a
 * child's queue, and its memory, grow by 10 MB in one stall; under strace,
 * 200 MB). */
#define POLYCOM_DEFAULT_CHECKIN_QUEUE 8192
static int polycom_checkin_queue;

static const char *polycom_set_checkin_queue(cmd_parms *cmd, void *dconf,
                                             const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : polycom_parse_count(cmd, arg, 16, 1000000,
                                           &polycom_checkin_queue);
}

static const char *polycom_set_checkin_writer(cmd_parms *cmd, void *dconf,
                                              int flag)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    polycom_writer_enabled = flag;
    return NULL;
}

/* A size in bytes, 1 byte to 64 MiB. */
static const char *polycom_parse_size(cmd_parms *cmd, const char *arg,
                                      apr_off_t *size)
{
    apr_int64_t n = polycom_size_of(arg);

    if (n < 1 || n > POLYCOM_SIZE_MAX) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a size from 1 "
                            "byte to 64M (examples: 65536, 512K, 1M)",
                            cmd->cmd->name, arg);
    }
    *size = (apr_off_t)n;
    return NULL;
}

static const char *polycom_set_size(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    apr_off_t *field = (apr_off_t *)((char *)dconf
                                     + (apr_size_t)cmd->info);
    const char *err = polycom_check_context(cmd);

    return err ? err : polycom_parse_size(cmd, arg, field);
}

/* A whole number from 1 to 100000 into the int at cmd->info. */
static const char *polycom_set_count(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    int *field = (int *)((char *)dconf + (apr_size_t)cmd->info);
    const char *err = polycom_check_context(cmd);

    return err ? err : polycom_parse_count(cmd, arg, 1, 100000, field);
}

/* PolycomEnumerationGuard Off | <count> <seconds> [<cool-down seconds>] */
static const char *polycom_set_guard(cmd_parms *cmd, void *dconf,
                                     const char *count, const char *window,
                                     const char *cooldown)
{
    polycom_dir_conf *conf = dconf;
    const char *err = polycom_check_context(cmd);
    char *end;
    long n, w, c = 300;

    if (err) {
        return err;
    }
    if (!strcasecmp(count, "Off") && !window) {
        conf->guard_limit = 0;
        return NULL;
    }
    n = strtol(count, &end, 10);
    if (end == count || *end || n < 1 || n > 100000 || !window) {
        return "PolycomEnumerationGuard: Off, or <count> <seconds> "
               "[<cool-down seconds>] with a count from 1 to 100000";
    }
    w = strtol(window, &end, 10);
    if (end == window || *end || w < 1 || w > 86400) {
        return "PolycomEnumerationGuard: the window is 1 to 86400 seconds";
    }
    if (cooldown) {
        c = strtol(cooldown, &end, 10);
        if (end == cooldown || *end || c < 1 || c > 86400) {
            return "PolycomEnumerationGuard: the cool-down is 1 to 86400 "
                   "seconds";
        }
    }
    conf->guard_limit = (int)n;
    conf->guard_window = (int)w;
    conf->guard_cooldown = (int)c;
    return NULL;
}

/* PolycomLogRetention <size> [<days>] */
static const char *polycom_set_log_retention(cmd_parms *cmd, void *dconf,
                                             const char *size,
                                             const char *days)
{
    polycom_dir_conf *conf = dconf;
    const char *err = polycom_check_context(cmd);
    char *end;
    long n;

    if (!err) {
        err = polycom_parse_size(cmd, size, &conf->log_keep);
    }
    if (err || !days) {
        return err;
    }
    n = strtol(days, &end, 10);
    if (end == days || *end || n < 0 || n > 3650) {
        return "PolycomLogRetention: days must be a whole number from 0 "
               "(no age limit) to 3650";
    }
    conf->log_days = (int)n;
    return NULL;
}

static const command_rec polycom_cmds[] = {
    AP_INIT_FLAG("PolycomProvisioning", polycom_set_provisioning, NULL,
                 ACCESS_CONF,
                 "On to serve the Polycom provisioning file names here"),
    AP_INIT_FLAG("PolycomCheckins", polycom_set_checkins, NULL, ACCESS_CONF,
                 "Off to stop recording one check-in row per request"),
    AP_INIT_TAKE12("PolycomFirmware", polycom_set_firmware, NULL, ACCESS_CONF,
                   "[model] path: the master's APP_FILE_PATH, or a model's "
                   "APP_FILE_PATH_<model>"),
    AP_INIT_FLAG("PolycomAdmin", polycom_set_admin, NULL, ACCESS_CONF,
                 "On to serve the JSON admin API in this <Location>; protect "
                 "it with Apache's own AuthType and Require"),
    AP_INIT_TAKE1("PolycomAdminPreview", polycom_set_preview_base, NULL,
                  ACCESS_CONF, "URL path of the provisioning location the "
                  "admin API previews files from (default /prov)"),
    AP_INIT_TAKE1("PolycomResyncRate", polycom_set_count,
                  (void *)APR_OFFSETOF(polycom_dir_conf, resync_rate),
                  RSRC_CONF | ACCESS_CONF, "SIP NOTIFY check-syncs per "
                  "minute, overall (default 60)"),
    AP_INIT_TAKE1("PolycomResyncPerNetwork", polycom_set_count,
                  (void *)APR_OFFSETOF(polycom_dir_conf, resync_per_network),
                  RSRC_CONF | ACCESS_CONF, "SIP NOTIFY check-syncs per "
                  "minute to one /24 network or host (default 10)"),
    AP_INIT_TAKE1("PolycomSipTimerT1", polycom_set_count,
                  (void *)APR_OFFSETOF(polycom_dir_conf, sip_t1_ms),
                  RSRC_CONF | ACCESS_CONF, "RFC 3261 T1 in milliseconds for "
                  "NOTIFY retransmissions (default 500; timeout 64*T1)"),
    AP_INIT_TAKE123("PolycomEnumerationGuard", polycom_set_guard, NULL,
                    ACCESS_CONF, "Off, or <count> <seconds> [<cool-down>]: "
                    "an address asking for more unknown MACs than that gets "
                    "429 (default 30 60 300)"),
    AP_INIT_FLAG("PolycomUploads", polycom_set_uploads, NULL, ACCESS_CONF,
                 "On to accept the phones' PUT of logs, overrides, "
                 "directories and call lists"),
    AP_INIT_TAKE1("PolycomUploadLimit", polycom_set_size,
                  (void *)APR_OFFSETOF(polycom_dir_conf, upload_limit),
                  ACCESS_CONF, "largest override, directory or call list "
                  "upload (default 256K)"),
    AP_INIT_TAKE1("PolycomLogLimit", polycom_set_size,
                  (void *)APR_OFFSETOF(polycom_dir_conf, log_limit),
                  ACCESS_CONF, "largest single log upload (default 512K)"),
    AP_INIT_TAKE12("PolycomLogRetention", polycom_set_log_retention, NULL,
                   ACCESS_CONF, "size [days]: how much of each phone's log "
                   "to keep (default 1M, 30 days)"),
    AP_INIT_TAKE1("PolycomCacheSize", polycom_set_cache_size, NULL, RSRC_CONF,
                  "bytes of rendered masters and settings each child keeps "
                  "while the database does not change (default 32M; Off)"),
    AP_INIT_FLAG("PolycomCheckinWriter", polycom_set_checkin_writer, NULL,
                 RSRC_CONF, "On (default): one process per server writes "
                 "the check-ins of all children; Off: each child writes "
                 "its own"),
    AP_INIT_TAKE1("PolycomCheckinQueue", polycom_set_checkin_queue, NULL,
                  RSRC_CONF, "check-ins a child holds while the batch "
                  "before them is written; past it requests write their "
                  "own (default 8192)"),
    { NULL }
};

/* ------------------------------------------------------------------ */
/* Claiming the namespace                                              */
/* ------------------------------------------------------------------ */

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

static int polycom_translate_name(request_rec *r)
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
static int polycom_map_to_storage(request_rec *r)
{
    return ap_get_module_config(r->request_config, &polycom_module)
           ? OK : DECLINED;
}

/* ------------------------------------------------------------------ */
/* The handler                                                         */
/* ------------------------------------------------------------------ */

/* A constant probe, used only while an outage is being recovered from. */
static int polycom_db_answers(request_rec *r, ap_dbd_t *dbd)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    if (apr_dbd_select(dbd->driver, r->pool, dbd->handle, &res, "SELECT 1",
                       1) != 0) {
        return 0;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
    }
    return 1;
}

static int polycom_db_open(request_rec *r, polycom_request *req,
                           polycom_db *db)
{
    ap_dbd_t *dbd = polycom_dbd_acquire ? polycom_dbd_acquire(r) : NULL;
    apr_uintptr_t key = (apr_uintptr_t)r->server;
    polycom_metrics *m = polycom_metrics_get();

    /* During an outage a pooled connection may look fine until it is used:
     * only a query that works calls the database back. */
    if (dbd && polycom_metrics_db_is_down(m, key)
        && !polycom_db_answers(r, dbd)) {
        dbd = NULL;
    }
    if (!dbd) {
        req->db_unavailable = 1;
        polycom_metrics_db_error(m);
        /* One line per outage for all children; the rest at debug. */
        if (polycom_metrics_db_down(m, key)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00001)
                          "database unavailable: answering 503 until it is "
                          "back (see mod_dbd's messages for the cause)");
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00021)
                          "database still unavailable: 503 for %s", r->uri);
        }
        apr_table_setn(r->err_headers_out, "Retry-After", "30");
        apr_table_setn(r->headers_out, "Retry-After", "30");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (polycom_metrics_db_up(m, key)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, PCLOGNO(00022)
                      "database available again");
    }
    polycom_db_bind(db, dbd, r->server, r->pool);
    return OK;
}

static int polycom_db_failed(request_rec *r, const polycom_db *db)
{
    polycom_metrics_db_error(polycom_metrics_get());
    /* A connection that died under us (the server went away) is an outage,
     * not a bug: 503, logged once like a connection that cannot be made. */
    if (apr_dbd_check_conn(db->driver, r->pool, db->handle) != APR_SUCCESS) {
        polycom_request *req = ap_get_module_config(r->request_config,
                                                    &polycom_module);

        if (req) {
            req->db_unavailable = 1;
        }
        /* Right after a recovery, a dead connection is one the outage left
         * in a pool, not a new outage: mod_dbd drops it on its next check. */
        if (polycom_metrics_db_up_for(polycom_metrics_get(),
                                      (apr_uintptr_t)r->server)
            < apr_time_from_sec(60)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00023)
                          "a connection left over from the outage: 503");
        }
        else if (polycom_metrics_db_down(polycom_metrics_get(),
                                         (apr_uintptr_t)r->server)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00040)
                          "database unavailable: answering 503 until it is "
                          "back (the connection was lost)");
        }
        apr_table_setn(r->err_headers_out, "Retry-After", "30");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    /* Statements lost to a server restart: prepared again, and the phone
     * asked to come back (it retries on its own). */
    if (db->repaired > 0) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00002)
                  "database query failed for %s: %s", r->uri,
                  ap_escape_logitem(r->pool, db->error));
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* A known, enabled phone, or an HTTP status saying why not. */
/* A known, enabled phone, or an HTTP status saying why not. An address
 * that probes too many unknown MACs is answered 429 for a cool-down, except
 * for the phones that last checked in from that very address (an office
 * behind one NAT is not punished for its own phones). */
static int polycom_find_phone(request_rec *r, polycom_request *req,
                              polycom_db *db, polycom_phone **phone)
{
    const polycom_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &polycom_module);
    int limit = conf->guard_limit == -1 ? 30 : conf->guard_limit;
    apr_interval_time_t window = apr_time_from_sec(conf->guard_limit == -1
                                                   ? 60 : conf->guard_window);
    apr_interval_time_t cooldown = apr_time_from_sec(
        conf->guard_limit == -1 ? 300 : conf->guard_cooldown);
    const char *ip = r->useragent_ip ? r->useragent_ip : "";
    polycom_metrics *m = polycom_metrics_get();
    apr_interval_time_t blocked = limit
        ? polycom_guard_blocked(m, ip, r->request_time) : 0;

    const char *last_ip = "";

    if (polycom_store_phone(db, req->name.mac, phone) < 0) {
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

/* The master: the reprovisioning stanza's file first when a move is under
 * way (the first file wins on the phone), then the settings. */
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
    spec->model_firmware = models;
    return spec;
}

/* Rendered masters and settings, kept per child while the database's
 * revision stands still (every change to served data moves it, SQL made by
 * hand included, through triggers). Only complete 200 bodies are kept, so a
 * hit is always a known, enabled phone.
 *
 * Bounded by PolycomCacheSize bytes in two generations: new entries go to
 * the young one, a hit in the old one moves there; when the young one holds
 * half the budget, the old one is dropped whole and the young one becomes
 * old. What is asked for again stays; what is not ages out; memory is freed
 * a generation at a time (pools, no fragmentation). A new revision empties
 * both: nothing rendered before it can be served again. */


typedef struct {
    apr_int64_t revision;
    const char *body;
    apr_size_t len;
    const char *etag;
} polycom_cached;

typedef struct {
    apr_pool_t *pool;
    apr_hash_t *entries;
    apr_size_t bytes;
} polycom_cache_generation;

static struct {
    apr_thread_mutex_t *lock;
    polycom_cache_generation young, old;
    apr_int64_t revision;
    apr_size_t half;
    int enabled;
} polycom_cache;

static void polycom_cache_generation_init(polycom_cache_generation *g,
                                          apr_pool_t *pchild)
{
    apr_pool_create(&g->pool, pchild);
    apr_pool_tag(g->pool, "polycom_cache");
    g->entries = apr_hash_make(g->pool);
    g->bytes = 0;
}

static void polycom_cache_generation_clear(polycom_cache_generation *g)
{
    apr_pool_clear(g->pool);
    g->entries = apr_hash_make(g->pool);
    g->bytes = 0;
}

static void polycom_cache_init(apr_pool_t *pchild)
{
    if (polycom_cache_size <= 0) {
        return;
    }
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&polycom_cache.lock,
                                APR_THREAD_MUTEX_DEFAULT, pchild)
        != APR_SUCCESS) {
        return;
    }
#endif
    polycom_cache_generation_init(&polycom_cache.young, pchild);
    polycom_cache_generation_init(&polycom_cache.old, pchild);
    polycom_cache.revision = -1;
    polycom_cache.half = (apr_size_t)(polycom_cache_size / 2);
    polycom_cache.enabled = 1;
}

static const char *polycom_cache_key(request_rec *r)
{
    return apr_psprintf(r->pool, "%pp %s", (void *)r->server, r->uri);
}

/* What an entry costs its generation, roughly: the copies and the hash's
 * own bookkeeping. */
static apr_size_t polycom_cache_cost(const char *key, apr_size_t len,
                                     const char *etag)
{
    return strlen(key) + len + strlen(etag) + sizeof(polycom_cached) + 64;
}

/* Called with the lock held. */
static void polycom_cache_store(const char *key, apr_int64_t revision,
                                const char *body, apr_size_t len,
                                const char *etag)
{
    polycom_cache_generation *young = &polycom_cache.young;
    apr_size_t cost = polycom_cache_cost(key, len, etag);
    polycom_cached *entry;

    if (cost > polycom_cache.half) {
        return;
    }
    if (young->bytes + cost > polycom_cache.half) {
        polycom_cache_generation old = polycom_cache.old;

        polycom_cache.old = *young;
        *young = old;
        polycom_cache_generation_clear(young);
    }
    entry = apr_palloc(young->pool, sizeof(*entry));
    entry->revision = revision;
    entry->body = apr_pstrmemdup(young->pool, body, len);
    entry->len = len;
    entry->etag = apr_pstrdup(young->pool, etag);
    apr_hash_set(young->entries, apr_pstrdup(young->pool, key),
                 APR_HASH_KEY_STRING, entry);
    young->bytes += cost;
}

/* Copies a hit into @a pool: the entry may be dropped while it is sent. */
static int polycom_cache_get(const char *key, apr_int64_t revision,
                             polycom_request *req, apr_pool_t *pool,
                             const char **body, apr_size_t *len)
{
    const polycom_cached *hit;
    int found = 0, promote = 0;

#if APR_HAS_THREADS
    apr_thread_mutex_lock(polycom_cache.lock);
#endif
    hit = apr_hash_get(polycom_cache.young.entries, key,
                       APR_HASH_KEY_STRING);
    if (!hit) {
        hit = apr_hash_get(polycom_cache.old.entries, key,
                           APR_HASH_KEY_STRING);
        promote = hit != NULL;
    }
    if (hit && hit->revision == revision) {
        *body = apr_pstrmemdup(pool, hit->body, hit->len);
        *len = hit->len;
        req->etag = apr_pstrdup(pool, hit->etag);
        found = 1;
        if (promote) {
            apr_hash_set(polycom_cache.old.entries, key, APR_HASH_KEY_STRING,
                         NULL);
            polycom_cache_store(key, revision, *body, *len, req->etag);
        }
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(polycom_cache.lock);
#endif
    return found;
}

static void polycom_cache_put(const char *key, apr_int64_t revision,
                              const char *body, apr_size_t len,
                              const char *etag)
{
    if (revision < 0) {
        return;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_lock(polycom_cache.lock);
#endif
    if (revision > polycom_cache.revision) {
        /* Everything kept was rendered from an older state. */
        polycom_cache_generation_clear(&polycom_cache.young);
        polycom_cache_generation_clear(&polycom_cache.old);
        polycom_cache.revision = revision;
    }
    /* A request that read the revision before a change was made: its body
     * is already stale, keep it out. */
    if (revision == polycom_cache.revision) {
        polycom_cache_store(key, revision, body, len, etag);
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(polycom_cache.lock);
#endif
}

/* Build the body of a generated file whole, or fail with a status. */
static int polycom_generate(request_rec *r, const polycom_dir_conf *conf,
                            polycom_request *req, const char **body,
                            apr_size_t *len)
{
    polycom_db db;
    polycom_phone *phone = NULL;
    polycom_reprovision_target target;
    apr_array_header_t *params;
    const char *error = NULL;
    apr_time_t start = apr_time_now();
    apr_int64_t revision = -1;
    const char *cache_key = NULL;
    int status, moving, cacheable;

    status = polycom_db_open(r, req, &db);
    if (status != OK) {
        return status;
    }
    /* A phone's master and settings come from the cache while nothing
     * changed, unless its address is blocked (then the phone decides).
     * Without a cache the revision is not even read. */
    cacheable = polycom_cache.enabled
                && req->name.kind != POLYCOM_FILE_DEVICE
                && !polycom_guard_blocked(polycom_metrics_get(),
                                          r->useragent_ip
                                          ? r->useragent_ip : "",
                                          r->request_time);
    if (cacheable) {
        if (polycom_store_revision(&db, &revision) < 0) {
            return polycom_db_failed(r, &db);
        }
        cache_key = polycom_cache_key(r);
        if (polycom_cache_get(cache_key, revision, req, r->pool, body,
                              len)) {
            polycom_metrics_cache(polycom_metrics_get(), 1);
            polycom_metrics_generation(polycom_metrics_get(),
                                       apr_time_now() - start);
            return OK;
        }
    }
    if (!req->name.is_default) {
        status = polycom_find_phone(r, req, &db, &phone);
        if (status != OK) {
            return status;
        }
    }
    if (req->name.kind != POLYCOM_FILE_SETTINGS
        && polycom_store_reprovision(&db, phone ? phone->mac : "",
                                     phone ? phone->site : "",
                                     r->request_time, &target) < 0) {
        return polycom_db_failed(r, &db);
    }
    moving = req->name.kind != POLYCOM_FILE_SETTINGS && target.id
             && strcmp(target.state, "confirmed");
    if (req->name.kind != POLYCOM_FILE_SETTINGS && target.id) {
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
    else if (polycom_store_params(&db, phone, &params) < 0) {
        return polycom_db_failed(r, &db);
    }
    else {
        status = polycom_render_config(r->pool, params, body, len, &error);
    }
    if (status != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00005)
                      "cannot generate %s: %s", r->uri,
                      ap_escape_logitem(r->pool, error));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    req->etag = polycom_etag(r->pool, *body, *len);
    if (cacheable) {
        polycom_metrics_cache(polycom_metrics_get(), 0);
        polycom_cache_put(cache_key, revision, *body, *len, req->etag);
    }
    polycom_metrics_generation(polycom_metrics_get(),
                               apr_time_now() - start);
    return OK;
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
        ap_rwrite(body, (int)len, r);
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
    int status, failed;

    if (req->name.kind == POLYCOM_FILE_LICENSE) {
        return HTTP_NOT_FOUND;          /* licences are not managed yet */
    }
    status = polycom_db_open(r, req, &db);
    if (status != OK) {
        return status;
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

/* Read the whole body into memory, or nothing: past @a limit the answer is
 * 413 at once (before reading when Content-Length says so), and a body cut
 * short by the client or a timeout is 400. */
static int polycom_read_body(request_rec *r, apr_off_t limit,
                             const char **body, apr_size_t *len)
{
    char *buf;
    apr_size_t got = 0;
    long n;
    int status = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);

    if (status != OK) {
        return status;
    }
    if (r->remaining > limit) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00010)
                      "upload of %s refused: Content-Length %" APR_OFF_T_FMT
                      " is over the limit of %" APR_OFF_T_FMT " bytes",
                      r->uri, r->remaining, limit);
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    buf = apr_palloc(r->pool, (apr_size_t)limit + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + got,
                                        (apr_size_t)limit + 1 - got)) > 0) {
            got += (apr_size_t)n;
            if (got > (apr_size_t)limit) {
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00011)
                              "upload of %s refused: the body grew over the "
                              "limit of %" APR_OFF_T_FMT " bytes", r->uri,
                              limit);
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00012)
                          "upload of %s not stored: the body ended early "
                          "after %" APR_SIZE_T_FMT " bytes (client gone or "
                          "timed out)", r->uri, got);
            return HTTP_BAD_REQUEST;
        }
    }
    buf[got] = '\0';
    *body = buf;
    *len = got;
    return OK;
}

/* PUT of an upload: checked whole, then stored in one transaction, so the
 * previous version stays intact on any failure. */
static int polycom_upload(request_rec *r, const polycom_dir_conf *conf,
                          polycom_request *req)
{
    const char *kind = polycom_name_kind_label(req->name.kind);
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;
    polycom_db db;
    int status, failed, created = 0;

    status = polycom_read_body(r, polycom_conf_upload_limit(conf,
                                                            req->name.kind),
                               &body, &len);
    if (status != OK) {
        return status;
    }
    if (polycom_upload_check(r->pool, req->name.kind, body, len,
                             &error) < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00013)
                      "upload of %s refused: %s", r->uri,
                      ap_escape_logitem(r->pool, error));
        return HTTP_BAD_REQUEST;
    }
    status = polycom_db_open(r, req, &db);
    if (status != OK) {
        return status;
    }
    if (polycom_upload_is_log(req->name.kind)) {
        polycom_log_retention retention = polycom_conf_log_retention(conf);

        failed = polycom_store_log_append(&db, req->name.mac, kind, body,
                                          len, r->request_time, &retention,
                                          &created);
    }
    else {
        failed = polycom_store_upload_put(&db, req->name.mac, kind, body,
                                          len, r->request_time, &created);
    }
    if (failed < 0) {
        return polycom_db_failed(r, &db);
    }
    req->bytes_in = (apr_off_t)len;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00014)
                  "stored %s of %s: %" APR_SIZE_T_FMT " bytes", kind,
                  req->name.mac, len);
    r->status = created ? HTTP_CREATED : HTTP_NO_CONTENT;
    if (created) {
        apr_table_setn(r->headers_out, "Location", r->uri);
    }
    return OK;
}

static int polycom_handler(request_rec *r)
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

/* ------------------------------------------------------------------ */
/* The admin API                                                       */
/* ------------------------------------------------------------------ */

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
    const char *base = conf->preview_base ? conf->preview_base
                                          : POLYCOM_DEFAULT_PREVIEW_BASE;
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

static int polycom_admin_handler(request_rec *r)
{
    polycom_dir_conf *conf;
    polycom_request *req;
    polycom_admin_request in;
    polycom_admin_response out;
    polycom_db db;
    apr_off_t limit;
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
    polycom_admin_handle(&in, &out);
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

/* ------------------------------------------------------------------ */
/* Authorization: Require polycom-phone                                */
/* ------------------------------------------------------------------ */

/* The MAC in a verified client certificate's subject CN (Polycom's factory
 * certificates name the phone: "0004f2e62aa4" or "00:04:f2:e6:2a:a4"),
 * or NULL. */
static const char *polycom_cert_mac(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup =
        APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    const char *verify, *cn;
    char *mac;
    int i = 0;

    if (!lookup) {
        return NULL;
    }
    verify = lookup(r->pool, r->server, r->connection, r,
                    "SSL_CLIENT_VERIFY");
    if (!verify || strcmp(verify, "SUCCESS")) {
        return NULL;
    }
    cn = lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_S_DN_CN");
    mac = apr_palloc(r->pool, 13);
    for (; cn && *cn && i < 13; cn++) {
        if (*cn == ':' || *cn == '-') {
            continue;
        }
        mac[i++] = (char)apr_tolower(*cn);
    }
    if (i != 12 || (cn && *cn)) {
        return NULL;
    }
    mac[12] = '\0';
    return polycom_mac_valid(mac) ? mac : NULL;
}

static int polycom_is_https(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ssl_is_https) *is_https =
        APR_RETRIEVE_OPTIONAL_FN(ssl_is_https);

    return is_https && is_https(r->connection);
}

/* Allows a phone's own files only to that phone: the authenticated user
 * must be one of its credentials, or a verified client certificate must
 * name its MAC. Files that belong to no phone (000000000000 names,
 * firmware, sounds) carry no secret and stay open, so a phone fresh out of
 * the box can bootstrap. A leaked credential unlocks one phone. */
static authz_status polycom_phone_check(request_rec *r,
                                        const char *require_args,
                                        const void *parsed)
{
    polycom_request *req = ap_get_module_config(r->request_config,
                                                &polycom_module);
    const char *cert_mac;
    apr_array_header_t *rows;
    polycom_db db;

    if (!req || req->admin_path || req->name.is_default) {
        return AUTHZ_GRANTED;
    }
    if (r->main) {
        return AUTHZ_GRANTED;   /* the admin's preview: authorised there */
    }
    cert_mac = polycom_cert_mac(r);
    if (cert_mac && !strcmp(cert_mac, req->name.mac)) {
        return AUTHZ_GRANTED;
    }
    if (!r->user) {
        /* A verified certificate of another phone is a definite no. */
        return cert_mac ? AUTHZ_DENIED : AUTHZ_DENIED_NO_USER;
    }
    if (r->ap_auth_type && !strcasecmp(r->ap_auth_type, "Basic")
        && !polycom_is_https(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00024)
                      "Basic credentials over plain HTTP refused for %s: use "
                      "Digest, or Basic over HTTPS", r->uri);
        return AUTHZ_DENIED;
    }
    if (polycom_db_open(r, req, &db) != OK) {
        return AUTHZ_GENERAL_ERROR;
    }
    if (polycom_store_select(&db, POLYCOM_SQL_CRED_MAC, &rows, r->user,
                             NULL) < 0) {
        polycom_db_failed(r, &db);
        return AUTHZ_GENERAL_ERROR;
    }
    if (rows->nelts
        && !strcmp(polycom_rows_first(rows, "mac"), req->name.mac)) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00025)
                  "user \"%s\" is not a credential of phone %s: denied",
                  ap_escape_logitem(r->pool, r->user), req->name.mac);
    return AUTHZ_DENIED;
}

static const authz_provider polycom_authz_provider = {
    &polycom_phone_check,
    NULL,
};

/* ------------------------------------------------------------------ */
/* Check-ins                                                           */
/* ------------------------------------------------------------------ */

/* Check-ins are queued per child and handed on by one thread in batches
 * (every 20 ms or 512 rows) to the check-in writer process, or written
 * here in one transaction when there is none: one commit for many requests
 * instead of one per request, and the phone never waits for it. Each
 * commit makes every pooled SQLite connection drop its page cache, so
 * longer batches make reads cheaper; shorter ones keep check-ins visible
 * sooner (measured before the writer existed, 100,000 phones, keep-alive:
 * 10 ms 0.61 of static, 20 ms 0.80, 50 ms 0.70-0.79 with a higher p99).
 * The queue is flushed when the child exits (a graceful restart loses
 * nothing); a child killed outright loses at most its last 20 ms. */
#define POLYCOM_BATCH_INTERVAL apr_time_from_msec(20)
#define POLYCOM_BATCH_ROWS     512

/* Freed queue memory a child keeps for the next batches; the rest goes
 * back to malloc instead of staying in the process-wide allocator. */
#define POLYCOM_BATCH_KEEP     (256 * 1024)
/* At most one "queue full" line a minute per child. */
#define POLYCOM_QUEUE_FULL_LOG apr_time_from_sec(60)

typedef struct {
    server_rec *server;
    polycom_checkin checkin;
} polycom_queued;

typedef struct {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    apr_allocator_t *allocator; /* the queues' own, bounded free list */
    apr_pool_t *pool;           /* the queued rows' memory */
    apr_array_header_t *rows;   /* polycom_queued */
    apr_thread_t *thread;
    apr_time_t full_logged;     /* when a full queue was last logged */
    int stopping;
} polycom_batch;

static polycom_batch *polycom_checkin_batch = NULL;

static void polycom_batch_fresh(polycom_batch *b)
{
    apr_pool_create_ex(&b->pool, NULL, NULL, b->allocator);
    apr_pool_tag(b->pool, "polycom_checkins");
    b->rows = apr_array_make(b->pool, POLYCOM_BATCH_ROWS,
                             sizeof(polycom_queued));
}

#define BATCH_COPY(field) \
    q->checkin.field = apr_pstrdup(b->pool, c->field ? c->field : "")

/* Queue a copy of the check-in; returns 0 when it was queued, -1 when
 * the caller writes it itself. */
static int polycom_batch_push(server_rec *s, const polycom_checkin *c)
{
    polycom_batch *b = polycom_checkin_batch;
    polycom_queued *q;
    int full, log_full = 0;

    if (!b) {
        return -1;
    }
    apr_thread_mutex_lock(b->lock);
    full = b->rows->nelts >= polycom_checkin_queue;
    if (full && c->time - b->full_logged >= POLYCOM_QUEUE_FULL_LOG) {
        b->full_logged = c->time;
        log_full = 1;
    }
    if (b->stopping || full) {
        apr_thread_mutex_unlock(b->lock);
        if (log_full) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00039)
                         "%d check-ins wait while the batch before them is "
                         "written (PolycomCheckinQueue): the check-in "
                         "writer or the database is behind, and requests "
                         "write their own check-ins until it catches up",
                         polycom_checkin_queue);
        }
        return -1;
    }
    q = apr_array_push(b->rows);
    q->server = s;
    q->checkin = *c;
    BATCH_COPY(mac);
    BATCH_COPY(ip);
    BATCH_COPY(method);
    BATCH_COPY(file);
    BATCH_COPY(etag);
    BATCH_COPY(family);
    BATCH_COPY(model);
    BATCH_COPY(firmware);
    BATCH_COPY(stage);
    BATCH_COPY(user_agent);
    q->checkin.server_address = c->server_address
        ? apr_pstrdup(b->pool, c->server_address) : NULL;
    if (b->rows->nelts >= POLYCOM_BATCH_ROWS) {
        apr_thread_cond_signal(b->wake);
    }
    apr_thread_mutex_unlock(b->lock);
    return 0;
}

/* Commit check-ins of one server in one transaction, in this process;
 * *error says why not. The check-in writer asks for its session (no
 * automatic WAL checkpoints) on each connection it uses. */
#define POLYCOM_WRITER_SESSION "mod_polycom: writer session"

static int polycom_checkins_commit(server_rec *s, apr_array_header_t *list,
                                   int writer_session, apr_pool_t *pool,
                                   const char **error)
{
    ap_dbd_t *dbd = polycom_dbd_open ? polycom_dbd_open(pool, s) : NULL;
    polycom_db db;
    int rv;

    if (!dbd) {
        *error = "database unavailable";
        return -1;
    }
    polycom_db_bind(&db, dbd, s, pool);
    if (writer_session
        && !apr_hash_get(db.prepared, POLYCOM_WRITER_SESSION,
                         APR_HASH_KEY_STRING)
        && polycom_store_writer_session(&db) == 0) {
        apr_hash_set(db.prepared, POLYCOM_WRITER_SESSION,
                     APR_HASH_KEY_STRING, db.prepared);
    }
    rv = polycom_store_checkins(&db,
                                (const polycom_checkin *const *)list->elts,
                                list->nelts);
    *error = db.error ? db.error : "unknown database error";
    polycom_dbd_close(s, dbd);
    return rv;
}

/* ------------------------------------------------------------------ */
/* The check-in writer process                                         */
/* ------------------------------------------------------------------ */

/* apr_dbd_sqlite3 runs all SQLite work of a process behind one mutex, so a
 * child that commits its own check-ins (and, every thousand pages or so,
 * checkpoints the WAL and syncs the file) stalls every request thread of
 * that child meanwhile. One process per node, forked by the parent, writes
 * the batches of all children instead, and the children only read. A
 * child hands each batch over a local socket (src/wire.c) and waits for
 * "committed". When the writer is not there, says no, or does not answer,
 * the child writes the batch itself, as before: the writer may die at any
 * moment without a check-in being lost (a batch it committed but could
 * not confirm is written twice). The writer puts the batches that arrive
 * together into one transaction. PolycomCheckinWriter Off keeps the
 * writing in the children. */
#define POLYCOM_WRITER_REPLY_TIMEOUT apr_time_from_sec(30)
#define POLYCOM_WRITER_READ_TIMEOUT  apr_time_from_sec(5)
#define POLYCOM_WRITER_RETRY         apr_time_from_sec(1)
#define POLYCOM_WRITER_MIN_LIFE      apr_time_from_sec(10)
#define POLYCOM_WRITER_CLIENTS       1024

typedef void polycom_child_init_fn(apr_pool_t *, server_rec *);

/* Configuration (reset in pre_config) and what the parent made for this
 * generation; the children inherit them. */
static const char *polycom_writer_path = NULL;
static apr_socket_t *polycom_writer_listener = NULL;
static server_rec *polycom_main_server = NULL;
static apr_pool_t *polycom_writer_pconf = NULL;
static apr_time_t polycom_writer_started = 0;
static polycom_child_init_fn *polycom_dbd_child_init = NULL;

/* A child's connection to the writer, used by its batch thread alone. */
static apr_pool_t *polycom_writer_conn_pool = NULL;
static apr_socket_t *polycom_writer_conn = NULL;
static apr_time_t polycom_writer_retry_at = 0;
static int polycom_writer_unreachable = 0;

/* Servers are named on the wire by their place in the list, which the
 * children and the writer inherited alike from the parent. */
static unsigned polycom_server_index(server_rec *s)
{
    server_rec *v;
    unsigned i = 0;

    for (v = polycom_main_server; v; v = v->next, i++) {
        if (v == s) {
            return i;
        }
    }
    return UINT_MAX;
}

static server_rec *polycom_server_at(unsigned index)
{
    server_rec *v = polycom_main_server;

    while (v && index--) {
        v = v->next;
    }
    return v;
}

/* Send or receive exactly length bytes. */
static apr_status_t polycom_writer_io(apr_socket_t *sock, char *buf,
                                      apr_size_t length, int sending)
{
    while (length) {
        apr_size_t n = length;
        apr_status_t rv = sending ? apr_socket_send(sock, buf, &n)
                                  : apr_socket_recv(sock, buf, &n);

        buf += n;
        length -= n;
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (!n) {
            return APR_EOF;
        }
    }
    return APR_SUCCESS;
}

static void polycom_writer_disconnect(server_rec *s, apr_status_t rv,
                                      const char *what)
{
    if (polycom_writer_conn_pool) {
        apr_pool_destroy(polycom_writer_conn_pool);
    }
    polycom_writer_conn_pool = NULL;
    polycom_writer_conn = NULL;
    polycom_writer_retry_at = apr_time_now() + POLYCOM_WRITER_RETRY;
    if (!polycom_writer_unreachable) {
        polycom_writer_unreachable = 1;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, rv, s, PCLOGNO(00032)
                     "check-in writer %s (%s): this child writes its "
                     "check-ins itself until it is back", what,
                     polycom_writer_path);
    }
}

/* 0 when the writer has committed the rows. */
static int polycom_writer_send(server_rec *s,
                               const polycom_checkin *const *list,
                               int count, apr_pool_t *pool)
{
    unsigned index = polycom_server_index(s);
    char reply[POLYCOM_WIRE_REPLY];
    apr_size_t length;
    apr_status_t rv;
    char *message;

    if (!polycom_writer_path || index == UINT_MAX) {
        return -1;
    }
    if (!polycom_writer_conn) {
        apr_sockaddr_t *address;

        if (apr_time_now() < polycom_writer_retry_at) {
            return -1;
        }
        apr_pool_create(&polycom_writer_conn_pool, NULL);
        apr_pool_tag(polycom_writer_conn_pool, "polycom_writer_conn");
        rv = apr_sockaddr_info_get(&address, polycom_writer_path, APR_UNIX,
                                   0, 0, polycom_writer_conn_pool);
        if (rv == APR_SUCCESS) {
            rv = apr_socket_create(&polycom_writer_conn, APR_UNIX,
                                   SOCK_STREAM, 0, polycom_writer_conn_pool);
        }
        if (rv == APR_SUCCESS) {
            apr_socket_timeout_set(polycom_writer_conn,
                                   POLYCOM_WRITER_REPLY_TIMEOUT);
            rv = apr_socket_connect(polycom_writer_conn, address);
        }
        if (rv != APR_SUCCESS) {
            polycom_writer_disconnect(s, rv, "not reachable");
            return -1;
        }
    }
    message = polycom_wire_encode(pool, index, list, count, &length);
    rv = polycom_writer_io(polycom_writer_conn, message, length, 1);
    if (rv == APR_SUCCESS) {
        rv = polycom_writer_io(polycom_writer_conn, reply, sizeof(reply), 0);
    }
    if (rv != APR_SUCCESS) {
        polycom_writer_disconnect(s, rv, "did not answer");
        return -1;
    }
    if (polycom_writer_unreachable) {
        polycom_writer_unreachable = 0;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, PCLOGNO(00033)
                     "check-in writer reachable again");
    }
    return memcmp(reply, POLYCOM_WIRE_OK, POLYCOM_WIRE_REPLY) ? -1 : 0;
}

/* The writer's side of one child's connection. */
typedef struct {
    apr_pool_t *pool;
    apr_pollfd_t pfd;
} polycom_writer_client;

typedef struct {
    polycom_writer_client *client;
    unsigned server;
    apr_array_header_t *rows;       /* polycom_checkin */
    int written;
} polycom_writer_batch;

static void polycom_writer_drop(apr_pollset_t *pollset,
                                polycom_writer_client *client)
{
    apr_pollset_remove(pollset, &client->pfd);
    apr_pool_destroy(client->pool);
}

/* Read one message; NULL when the child went away or sent nonsense (then
 * its connection is dropped: it writes that batch itself). */
static polycom_writer_batch *polycom_writer_read(server_rec *s,
                                                 apr_pollset_t *pollset,
                                                 polycom_writer_client *c,
                                                 apr_pool_t *pool)
{
    polycom_writer_batch *batch = apr_pcalloc(pool, sizeof(*batch));
    char header[POLYCOM_WIRE_HEADER];
    apr_size_t length;
    unsigned count;
    char *payload;
    apr_status_t rv;

    rv = polycom_writer_io(c->pfd.desc.s, header, sizeof(header), 0);
    if (rv == APR_EOF) {
        polycom_writer_drop(pollset, c);
        return NULL;
    }
    if (rv == APR_SUCCESS && polycom_wire_header(header, &batch->server,
                                                 &count, &length) == 0) {
        payload = apr_palloc(pool, length + 1);
        rv = polycom_writer_io(c->pfd.desc.s, payload, length, 0);
        if (rv == APR_SUCCESS) {
            batch->rows = polycom_wire_decode(pool, payload, length, count);
        }
    }
    if (!batch->rows || !polycom_server_at(batch->server)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00035)
                     "check-in writer: a batch that could not be read; "
                     "the child writes it itself");
        polycom_writer_drop(pollset, c);
        return NULL;
    }
    batch->client = c;
    return batch;
}

/* Which servers (by index) were written to since the last checkpoint. */
static char *polycom_writer_unchecked = NULL;
#define POLYCOM_WRITER_CHECKPOINT apr_time_from_msec(250)

/* With SQLite the writer checkpoints the WAL four times a second instead
 * of after every commit: each checkpoint syncs the files, and the syncs
 * stalled requests (make bench, 1,000 phones, a new connection each: p99
 * of a config with check-ins about 24 ms -> 10-12 ms, p50 2.0 -> 1.2 ms).
 * The price is a larger WAL under load: about 30 MB at 20,000 check-ins a
 * second, against about 13 MB. */
static void polycom_writer_checkpoint(apr_pool_t *pool)
{
    server_rec *server;
    unsigned i;

    for (server = polycom_main_server, i = 0; server;
         server = server->next, i++) {
        ap_dbd_t *dbd;
        polycom_db db;

        if (!polycom_writer_unchecked[i]
            || !(dbd = polycom_dbd_open(pool, server))) {
            continue;
        }
        polycom_writer_unchecked[i] = 0;
        polycom_db_bind(&db, dbd, server, pool);
        if (polycom_store_checkpoint(&db) < 0) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, server, PCLOGNO(00036)
                         "check-in writer: %s", db.error);
        }
        polycom_dbd_close(server, dbd);
    }
}

/* Write the batches that arrived together: one transaction per server. */
static void polycom_writer_commit(apr_array_header_t *batches,
                                  apr_pool_t *pool)
{
    int i, j, k;

    for (i = 0; i < batches->nelts; i++) {
        polycom_writer_batch *first =
            APR_ARRAY_IDX(batches, i, polycom_writer_batch *);
        server_rec *server = polycom_server_at(first->server);
        apr_array_header_t *list;
        const char *error;
        int ok;

        if (first->written) {
            continue;                   /* with an earlier server */
        }
        list = apr_array_make(pool, 64, sizeof(const polycom_checkin *));
        for (j = i; j < batches->nelts; j++) {
            polycom_writer_batch *b =
                APR_ARRAY_IDX(batches, j, polycom_writer_batch *);

            for (k = 0; b->server == first->server && k < b->rows->nelts;
                 k++) {
                APR_ARRAY_PUSH(list, const polycom_checkin *) =
                    &APR_ARRAY_IDX(b->rows, k, polycom_checkin);
            }
        }
        ok = polycom_checkins_commit(server, list, 1, pool, &error) == 0;
        if (!ok) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, server, PCLOGNO(00042)
                         "check-in writer: %d check-ins not written (%s); "
                         "their children write them", list->nelts, error);
        }
        if (ok) {
            polycom_metrics_writer_rows(polycom_metrics_get(), list->nelts);
            polycom_writer_unchecked[first->server] = 1;
        }
        for (j = i; j < batches->nelts; j++) {
            polycom_writer_batch *b =
                APR_ARRAY_IDX(batches, j, polycom_writer_batch *);

            if (b->server == first->server) {
                b->written = ok ? 1 : -1;
            }
        }
    }
}

/* The writer process: never returns. It leaves with _exit() so that the
 * parent's cleanups (which remove the socket) do not run here. */
static void polycom_writer_run(server_rec *s, apr_pool_t *pconf)
{
    apr_pollset_t *pollset;
    apr_pool_t *pool, *iteration;
    apr_allocator_t *allocator;
    apr_pollfd_t listen_pfd;
    apr_time_t last_checkpoint = apr_time_now();
    apr_status_t rv;
    server_rec *v;
    unsigned servers;

    /* The MPM signals its process group for restarts; the parent stops
     * this process with SIGTERM when its configuration goes. */
    apr_signal(SIGHUP, SIG_IGN);
    apr_signal(AP_SIG_GRACEFUL, SIG_IGN);
    apr_signal(AP_SIG_GRACEFUL_STOP, SIG_IGN);
    apr_signal(SIGPIPE, SIG_IGN);
    apr_signal(SIGTERM, SIG_DFL);
    apr_signal(SIGINT, SIG_DFL);
    apr_signal(SIGCHLD, SIG_DFL);
    ap_close_listeners();
    if (ap_unixd_setup_child()) {
        _exit(APEXIT_CHILDFATAL);
    }
    apr_pool_create(&pool, pconf);
    /* A loop's batches are freed when the next loop starts; an allocator
     * of its own returns what a burst took, where pconf's would keep it
     * for the life of the process. */
    if (apr_allocator_create(&allocator) != APR_SUCCESS) {
        _exit(APEXIT_CHILDFATAL);
    }
    apr_allocator_max_free_set(allocator, POLYCOM_BATCH_KEEP);
    apr_pool_create_ex(&iteration, pool, NULL, allocator);
    apr_allocator_owner_set(allocator, iteration);
    polycom_dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    polycom_dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    /* mod_dbd's connection pools are made per process, in its child_init
     * hook: this process needs them, not the rest of a child's set-up. */
    polycom_dbd_child_init(pool, s);

    rv = apr_pollset_create(&pollset, POLYCOM_WRITER_CLIENTS + 1, pool, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PCLOGNO(00043)
                     "check-in writer: no pollset");
        _exit(APEXIT_CHILDFATAL);
    }
    memset(&listen_pfd, 0, sizeof(listen_pfd));
    listen_pfd.p = pool;
    listen_pfd.desc_type = APR_POLL_SOCKET;
    listen_pfd.reqevents = APR_POLLIN;
    listen_pfd.desc.s = polycom_writer_listener;
    apr_pollset_add(pollset, &listen_pfd);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, PCLOGNO(00037)
                 "check-in writer started (pid %" APR_PID_T_FMT ")",
                 getpid());

    for (v = s, servers = 0; v; v = v->next) {
        servers++;
    }
    polycom_writer_unchecked = apr_pcalloc(pool, servers);
    for (;;) {
        const apr_pollfd_t *ready;
        apr_array_header_t *batches;
        apr_int32_t n, i;

        if (apr_time_now() - last_checkpoint >= POLYCOM_WRITER_CHECKPOINT) {
            apr_pool_clear(iteration);
            polycom_writer_checkpoint(iteration);
            last_checkpoint = apr_time_now();
        }
        rv = apr_pollset_poll(pollset, POLYCOM_WRITER_CHECKPOINT, &n, &ready);
        if (APR_STATUS_IS_EINTR(rv) || APR_STATUS_IS_TIMEUP(rv)) {
            continue;
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PCLOGNO(00044)
                         "check-in writer: poll failed");
            _exit(APEXIT_CHILDFATAL);
        }
        apr_pool_clear(iteration);
        batches = apr_array_make(iteration, n,
                                 sizeof(polycom_writer_batch *));
        for (i = 0; i < n; i++) {
            polycom_writer_client *client = ready[i].client_data;
            polycom_writer_batch *batch;

            if (!client) {              /* the listener: a new child */
                apr_pool_t *cpool;
                apr_socket_t *sock;

                apr_pool_create(&cpool, pool);
                if (apr_socket_accept(&sock, polycom_writer_listener, cpool)
                    != APR_SUCCESS) {
                    apr_pool_destroy(cpool);
                    continue;
                }
                client = apr_pcalloc(cpool, sizeof(*client));
                client->pool = cpool;
                client->pfd.p = cpool;
                client->pfd.desc_type = APR_POLL_SOCKET;
                client->pfd.reqevents = APR_POLLIN;
                client->pfd.desc.s = sock;
                client->pfd.client_data = client;
                apr_socket_timeout_set(sock, POLYCOM_WRITER_READ_TIMEOUT);
                if (apr_pollset_add(pollset, &client->pfd) != APR_SUCCESS) {
                    apr_pool_destroy(cpool);    /* more than it can watch */
                }
                continue;
            }
            batch = polycom_writer_read(s, pollset, client, iteration);
            if (batch) {
                APR_ARRAY_PUSH(batches, polycom_writer_batch *) = batch;
            }
        }
        polycom_writer_commit(batches, iteration);
        for (i = 0; i < batches->nelts; i++) {
            polycom_writer_batch *b =
                APR_ARRAY_IDX(batches, i, polycom_writer_batch *);

            if (polycom_writer_io(b->client->pfd.desc.s,
                                  b->written > 0 ? POLYCOM_WIRE_OK
                                                 : POLYCOM_WIRE_NO,
                                  POLYCOM_WIRE_REPLY, 1) != APR_SUCCESS) {
                polycom_writer_drop(pollset, b->client);
            }
        }
    }
}

static apr_status_t polycom_writer_unlink(void *path)
{
    apr_pool_t *pool;

    /* pconf is being cleared: a pool of its own for the call. */
    if (apr_pool_create(&pool, NULL) == APR_SUCCESS) {
        apr_file_remove(path, pool);
        apr_pool_destroy(pool);
    }
    return APR_SUCCESS;
}

static void polycom_writer_spawn(void);

/* No writer from now on in this generation: children that try to reach
 * it are refused at once instead of waiting for an answer. */
static void polycom_writer_close(void)
{
    if (polycom_writer_listener) {
        apr_socket_close(polycom_writer_listener);
        polycom_writer_listener = NULL;
    }
    if (polycom_writer_path) {
        polycom_writer_unlink((void *)polycom_writer_path);
        polycom_writer_path = NULL;
    }
}

/* The parent learns here that its writer exited: another is started,
 * unless this one did not live long enough to be worth it. */
static void polycom_writer_maintenance(int reason, void *data,
                                       apr_wait_t status)
{
    apr_proc_t *proc = data;
    int mpm_state = AP_MPMQ_RUNNING;

    switch (reason) {
    case APR_OC_REASON_DEATH:
    case APR_OC_REASON_LOST:
        apr_proc_other_child_unregister(data);
        /* httpd stopping signals its whole process group: nothing to say */
        ap_mpm_query(AP_MPMQ_MPM_STATE, &mpm_state);
        if (mpm_state == AP_MPMQ_STOPPING) {
            break;
        }
        if (apr_time_now() - polycom_writer_started
            < POLYCOM_WRITER_MIN_LIFE) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, polycom_main_server,
                         PCLOGNO(00045) "check-in writer (pid %"
                         APR_PID_T_FMT ") exited soon after its start "
                         "(status %d): not started again; the children "
                         "write their check-ins until httpd restarts",
                         proc->pid, status);
            polycom_writer_close();
            break;
        }
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, polycom_main_server,
                     PCLOGNO(00034) "check-in writer (pid %" APR_PID_T_FMT
                     ") exited (status %d): starting another", proc->pid,
                     status);
        polycom_writer_spawn();
        break;
    default:
        break;          /* a restart: pconf's cleanup stops it */
    }
}

static void polycom_writer_spawn(void)
{
    apr_proc_t *proc = apr_pcalloc(polycom_writer_pconf, sizeof(*proc));
    apr_status_t rv = apr_proc_fork(proc, polycom_writer_pconf);

    if (rv == APR_INCHILD) {
        polycom_writer_run(polycom_main_server, polycom_writer_pconf);
        _exit(0);
    }
    if (rv != APR_INPARENT) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, polycom_main_server,
                     PCLOGNO(00046) "cannot start the check-in writer: the "
                     "children write their check-ins");
        polycom_writer_close();
        return;
    }
    polycom_writer_started = apr_time_now();
    apr_pool_note_subprocess(polycom_writer_pconf, proc,
                             APR_KILL_AFTER_TIMEOUT);
    apr_proc_other_child_register(proc, polycom_writer_maintenance, proc,
                                  NULL, polycom_writer_pconf);
}

/* In the parent, once per generation: the socket (made here, as root, then
 * given to the children's user) and the process. */
static void polycom_writer_start(apr_pool_t *pconf, server_rec *s)
{
    apr_array_header_t *hooks = ap_hook_get_child_init();
    ap_LINK_child_init_t *hook = (ap_LINK_child_init_t *)hooks->elts;
    apr_sockaddr_t *address;
    const char *path;
    apr_status_t rv;
    int i;

    polycom_writer_path = NULL;
    polycom_dbd_child_init = NULL;
    for (i = 0; i < hooks->nelts; i++) {
        if (!strcmp(hook[i].szName, "mod_dbd.c")) {
            polycom_dbd_child_init = hook[i].pFunc;
        }
    }
    if (!polycom_dbd_child_init) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00047)
                     "no check-in writer: mod_dbd's child set-up was not "
                     "found; the children write their check-ins");
        return;
    }
    path = ap_runtime_dir_relative(pconf,
               apr_psprintf(pconf, "polycom-checkins.%" APR_PID_T_FMT
                            ".%d.sock", getpid(),
                            ap_state_query(AP_SQ_CONFIG_GEN)));
    apr_file_remove(path, pconf);
    rv = apr_sockaddr_info_get(&address, path, APR_UNIX, 0, 0, pconf);
    if (rv == APR_SUCCESS) {
        rv = apr_socket_create(&polycom_writer_listener, APR_UNIX,
                               SOCK_STREAM, 0, pconf);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_socket_bind(polycom_writer_listener, address);
    }
    if (rv == APR_SUCCESS) {
        apr_pool_cleanup_register(pconf, path, polycom_writer_unlink,
                                  apr_pool_cleanup_null);
        rv = apr_socket_listen(polycom_writer_listener, 511);
    }
    if (rv == APR_SUCCESS && geteuid() == 0
        && (chown(path, ap_unixd_config.user_id, ap_unixd_config.group_id)
            || chmod(path, S_IRUSR | S_IWUSR))) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00048)
                     "no check-in writer: cannot listen on %s; the children "
                     "write their check-ins", path);
        return;
    }
    polycom_writer_path = path;
    polycom_writer_pconf = pconf;
    polycom_main_server = s;
    polycom_writer_spawn();
}

/* Write the rows of one server in this child, in one transaction. */
static void polycom_batch_write_here(server_rec *s, apr_array_header_t *list,
                                     apr_pool_t *pool)
{
    const char *error;
    int j;

    if (polycom_checkins_commit(s, list, 0, pool, &error) < 0) {
        for (j = 0; j < list->nelts; j++) {
            polycom_metrics_checkin_failure(polycom_metrics_get());
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00008)
                     "%d check-ins not recorded: %s", list->nelts, error);
    }
}

/* Write one batch, a transaction per server (each may have its database):
 * by the node's check-in writer, or here when it cannot. */
static void polycom_batch_write(apr_array_header_t *rows, apr_pool_t *pool)
{
    int i, j;

    for (i = 0; i < rows->nelts; i++) {
        polycom_queued *first = &APR_ARRAY_IDX(rows, i, polycom_queued);
        server_rec *server = first->server;
        apr_array_header_t *list;

        if (!server) {
            continue;                   /* written with an earlier server */
        }
        list = apr_array_make(pool, rows->nelts,
                              sizeof(const polycom_checkin *));
        for (j = i; j < rows->nelts; j++) {
            polycom_queued *q = &APR_ARRAY_IDX(rows, j, polycom_queued);

            if (q->server == server) {
                APR_ARRAY_PUSH(list, const polycom_checkin *) = &q->checkin;
                q->server = NULL;
            }
        }
        if (polycom_writer_send(server,
                                (const polycom_checkin *const *)list->elts,
                                list->nelts, pool) != 0) {
            polycom_batch_write_here(server, list, pool);
        }
    }
}

static void *APR_THREAD_FUNC polycom_batch_run(apr_thread_t *thread,
                                               void *data)
{
    polycom_batch *b = data;
    int stop = 0;

    while (!stop) {
        apr_array_header_t *rows;
        apr_pool_t *pool;

        apr_thread_mutex_lock(b->lock);
        if (!b->stopping && b->rows->nelts < POLYCOM_BATCH_ROWS) {
            apr_thread_cond_timedwait(b->wake, b->lock,
                                      POLYCOM_BATCH_INTERVAL);
        }
        stop = b->stopping;
        rows = b->rows;
        pool = b->pool;
        if (rows->nelts) {
            polycom_batch_fresh(b);
        }
        apr_thread_mutex_unlock(b->lock);
        if (rows->nelts) {
            polycom_batch_write(rows, pool);
            apr_pool_destroy(pool);
        }
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

/* A pre-cleanup of the child's pool: runs before mod_dbd's pools go, so
 * the last batch is written with connections that still exist. */
static apr_status_t polycom_batch_stop(void *data)
{
    polycom_batch *b = data;
    apr_status_t rv;

    apr_thread_mutex_lock(b->lock);
    b->stopping = 1;
    apr_thread_cond_signal(b->wake);
    apr_thread_mutex_unlock(b->lock);
    apr_thread_join(&rv, b->thread);
    polycom_checkin_batch = NULL;
    /* The thread wrote every row; a late request sees "stopping" and
     * writes its own, so the empty queue and its allocator can go. */
    apr_pool_destroy(b->pool);
    apr_allocator_destroy(b->allocator);
    return APR_SUCCESS;
}

static void polycom_batch_start(apr_pool_t *pchild, server_rec *s)
{
#if APR_HAS_THREADS
    polycom_batch *b = apr_pcalloc(pchild, sizeof(*b));
    apr_thread_mutex_t *allocator_lock;

    polycom_dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    polycom_dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    /* Request threads fill one queue while the batch thread frees the
     * last: the allocator they share needs its lock. */
    if (!polycom_dbd_open || !polycom_dbd_close
        || apr_thread_mutex_create(&b->lock, APR_THREAD_MUTEX_DEFAULT,
                                   pchild) != APR_SUCCESS
        || apr_thread_cond_create(&b->wake, pchild) != APR_SUCCESS
        || apr_thread_mutex_create(&allocator_lock, APR_THREAD_MUTEX_DEFAULT,
                                   pchild) != APR_SUCCESS
        || apr_allocator_create(&b->allocator) != APR_SUCCESS) {
        return;                         /* check-ins are written inline */
    }
    apr_allocator_mutex_set(b->allocator, allocator_lock);
    apr_allocator_max_free_set(b->allocator, POLYCOM_BATCH_KEEP);
    polycom_batch_fresh(b);
    if (apr_thread_create(&b->thread, NULL, polycom_batch_run, b, pchild)
        != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00028)
                     "no check-in writer thread: check-ins are written "
                     "inline");
        apr_pool_destroy(b->pool);
        apr_allocator_destroy(b->allocator);
        return;
    }
    polycom_checkin_batch = b;
    apr_pool_pre_cleanup_register(pchild, b, polycom_batch_stop);
#endif
}

/* Where this request reached us, as a reprovisioning target names a
 * server: "host[:port]/path" of the directory the file was asked from. */
static const char *polycom_server_address(request_rec *r)
{
    const char *host = apr_table_get(r->headers_in, "Host");
    const char *slash = strrchr(r->uri, '/');
    char *address;

    if (!host || !slash) {
        return NULL;
    }
    address = apr_pstrdup(r->pool, host);
    ap_str_tolower(address);
    return apr_pstrcat(r->pool, address,
                       apr_pstrmemdup(r->pool, r->uri,
                                      (apr_size_t)(slash - r->uri)), NULL);
}

static void polycom_fill_checkin(request_rec *r, polycom_request *req,
                                 polycom_checkin *checkin)
{
    memset(checkin, 0, sizeof(*checkin));
    checkin->time = r->request_time;
    checkin->mac = req->mac;
    checkin->ip = r->useragent_ip ? r->useragent_ip : "";
    checkin->method = r->method;
    checkin->file = req->file;
    checkin->status = r->status;
    checkin->bytes = r->method_number == M_PUT ? req->bytes_in
                                              : r->bytes_sent;
    checkin->etag = req->etag;
    checkin->family = req->ua.family;
    checkin->model = req->ua.model;
    checkin->firmware = req->ua.firmware;
    checkin->stage = req->ua.stage;
    checkin->user_agent = apr_table_get(r->headers_in, "User-Agent");
    if (!checkin->user_agent) {
        checkin->user_agent = "";
    }
    checkin->unknown_phone = req->unknown_phone;
    checkin->delivered_target = r->status == HTTP_OK ? req->delivered_target
                                                    : 0;
    checkin->server_address = polycom_server_address(r);
}

/* Runs after the response is sent, so the row holds the final status and
 * byte count. A failed write is logged and never affects the phone. */
static int polycom_log_transaction(request_rec *r)
{
    polycom_request *req = ap_get_module_config(r->request_config,
                                                &polycom_module);
    polycom_dir_conf *conf;
    polycom_checkin checkin;
    polycom_db db;
    ap_dbd_t *dbd;

    if (!req || req->admin_path) {
        return DECLINED;
    }
    polycom_metrics_request(polycom_metrics_get(), req->name.kind, r->status);
    if (req->unknown_phone) {
        polycom_metrics_unknown_mac(polycom_metrics_get());
    }
    if (r->method_number == M_PUT && req->bytes_in > 0) {
        polycom_metrics_upload_bytes(polycom_metrics_get(), req->bytes_in);
    }
    conf = ap_get_module_config(r->per_dir_config, &polycom_module);
    if (req->db_unavailable) {
        /* Already logged once for the outage; counted as lost. */
        if (polycom_conf_checkins(conf)) {
            polycom_metrics_checkin_failure(polycom_metrics_get());
        }
        return DECLINED;
    }
    if (!polycom_conf_checkins(conf) || !polycom_dbd_acquire) {
        return DECLINED;
    }
    polycom_fill_checkin(r, req, &checkin);
    if (polycom_batch_push(r->server, &checkin) == 0) {
        return DECLINED;
    }
    dbd = polycom_dbd_acquire(r);
    if (!dbd) {
        polycom_metrics_checkin_failure(polycom_metrics_get());
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00007)
                      "database unavailable, check-in of %s not recorded",
                      r->uri);
        return DECLINED;
    }
    polycom_db_bind(&db, dbd, r->server, r->pool);

    if (polycom_store_checkin(&db, &checkin) < 0) {
        polycom_metrics_checkin_failure(polycom_metrics_get());
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00041)
                      "check-in of %s not recorded: %s", r->uri,
                      ap_escape_logitem(r->pool, db.error));
    }
    return DECLINED;
}

/* ------------------------------------------------------------------ */
/* Hooks                                                               */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* The resync worker                                                   */
/* ------------------------------------------------------------------ */


/* Set when this child starts to exit: the worker then stops taking jobs. */
static volatile int polycom_child_exiting = 0;

static apr_status_t polycom_child_exit(void *data)
{
    polycom_child_exiting = 1;
    return APR_SUCCESS;
}

static void polycom_child_init(apr_pool_t *pchild, server_rec *s)
{
    polycom_store_child_init(pchild);
    polycom_cache_init(pchild);
    polycom_batch_start(pchild, s);
    apr_pool_cleanup_register(pchild, NULL, polycom_child_exit,
                              apr_pool_cleanup_null);
}

/* A database handle from mod_dbd's pool, for a task outside any request;
 * NULL when the database is unavailable (mod_dbd logged why). */
static ap_dbd_t *polycom_worker_db(apr_pool_t *pool, server_rec *s,
                                   polycom_db *db)
{
    ap_dbd_t *dbd = polycom_dbd_open(pool, s);

    if (dbd) {
        polycom_db_bind(db, dbd, s, pool);
    }
    return dbd;
}

/* Runs every 200 ms in one child of the server (a singleton watchdog) and
 * sends the due NOTIFYs one by one. The database decides which node sends
 * a job, so several nodes may share one queue. A connection is held only
 * to claim a job and to record its outcome, never while waiting for the
 * phone (up to 64*T1), so a child can always exit cleanly. */
static apr_status_t polycom_resync_tick(int state, void *data,
                                        apr_pool_t *pool)
{
    server_rec *s = data;
    const polycom_dir_conf *conf = ap_get_module_config(s->lookup_defaults,
                                                        &polycom_module);
    apr_interval_time_t t1 = polycom_conf_sip_t1(conf);
    int sent;

    if (state != AP_WATCHDOG_STATE_RUNNING || !polycom_dbd_open) {
        return APR_SUCCESS;
    }
    for (sent = 0; sent < 20 && !polycom_child_exiting; sent++) {
        polycom_resync_job job;
        polycom_notify_outcome outcome;
        apr_pool_t *work;
        ap_dbd_t *dbd;
        polycom_db db;
        int claimed;

        apr_pool_create(&work, pool);
        apr_pool_tag(work, "polycom_resync");
        if (!(dbd = polycom_worker_db(work, s, &db))) {
            apr_pool_destroy(work);
            break;
        }
        claimed = polycom_resync_claim(&db, s->server_hostname
                                            ? s->server_hostname : "",
                                       apr_time_now(), &job);
        polycom_dbd_close(s, dbd);
        if (claimed < 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00017)
                         "resync queue: %s",
                         db.error ? db.error : "database error");
        }
        if (claimed != 1) {
            apr_pool_destroy(work);
            break;
        }
        job.target.t1 = t1;
        job.target.t2 = t1 * 8 > apr_time_from_sec(4) ? t1 * 8
                                                      : apr_time_from_sec(4);
        if (polycom_notify_send(work, &job.target, &outcome) < 0) {
            outcome.status = 0;
        }
        if ((dbd = polycom_worker_db(work, s, &db)) != NULL) {
            if (polycom_resync_finish(&db, &job, &outcome) < 0) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00020)
                             "resync of %s sent but not recorded: %s",
                             job.mac, db.error ? db.error : "database error");
            }
            polycom_dbd_close(s, dbd);
        }
        apr_pool_destroy(work);
    }
    return APR_SUCCESS;
}

static void polycom_start_worker(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    polycom_server_conf *sconf = ap_get_module_config(s->module_config,
                                                      &polycom_module);
    ap_watchdog_t *watchdog;
    apr_status_t rv;

    polycom_dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    polycom_dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!sconf->statements_prepared || !polycom_dbd_open) {
        return;                 /* no provisioning here: nothing to send */
    }
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00018)
                     "mod_watchdog is not loaded: queued resyncs will not "
                     "be sent by this server");
        return;
    }
    rv = get_instance(&watchdog, POLYCOM_WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = register_callback(watchdog, POLYCOM_WATCHDOG_INTERVAL, s,
                               polycom_resync_tick);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00019)
                     "cannot start the resync worker");
    }
}

static int polycom_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp)
{
    polycom_cache_size = POLYCOM_DEFAULT_CACHE_SIZE;
    polycom_writer_enabled = 1;
    polycom_checkin_queue = POLYCOM_DEFAULT_CHECKIN_QUEUE;
    return OK;
}

static int polycom_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv;
    server_rec *v;
    int in_use = 0;

    /* One worker, for the main server's database. */
    polycom_start_worker(pconf, s);

    /* Once per process; libxml2 must never be cleaned up by a module,
     * since other modules in the same process may use it. */
    xmlInitParser();

    /* Anonymous shared memory, made before the children fork, so that
     * every child counts into the same metrics. It lives in pconf: a
     * restart starts the counters again from zero. */
    rv = apr_shm_create(&shm, sizeof(polycom_metrics), NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00016)
                     "no shared memory for the metrics: each child will "
                     "count for itself");
        polycom_shared_metrics = NULL;
    }
    else {
        polycom_shared_metrics = apr_shm_baseaddr_get(shm);
        polycom_metrics_init(polycom_shared_metrics);
    }

    /* The check-in writer, for the configuration that will serve (not the
     * first reading, which only checks it), if any server uses us. */
    polycom_writer_path = NULL;
    for (v = s; v; v = v->next) {
        polycom_server_conf *sconf =
            ap_get_module_config(v->module_config, &polycom_module);

        in_use |= sconf->statements_prepared;
    }
    if (polycom_writer_enabled && in_use
        && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        polycom_writer_start(pconf, s);
    }
    return OK;
}

static void polycom_register_hooks(apr_pool_t *p)
{
    /* Before mod_alias, which would map the name into the file system. */
    ap_hook_translate_name(polycom_translate_name, NULL, NULL,
                           APR_HOOK_FIRST);
    /* Before core's map_to_storage, which would walk and stat the file
     * system for a file that only exists in the database. */
    ap_hook_map_to_storage(polycom_map_to_storage, NULL, NULL,
                           APR_HOOK_FIRST);
    ap_hook_handler(polycom_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(polycom_admin_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(polycom_log_transaction, NULL, NULL,
                            APR_HOOK_MIDDLE);
    ap_hook_pre_config(polycom_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(polycom_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(dbd, post_connect, polycom_dbd_post_connect, NULL, NULL,
                      APR_HOOK_FIRST);
    APR_OPTIONAL_HOOK(dbd, post_connect, polycom_dbd_post_connect_done, NULL,
                      NULL, APR_HOOK_REALLY_LAST);
    ap_hook_child_init(polycom_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "polycom-phone",
                              AUTHZ_PROVIDER_VERSION,
                              &polycom_authz_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(polycom) = {
    STANDARD20_MODULE_STUFF,
    polycom_create_dir_conf,     /* create per-directory config structure */
    polycom_merge_dir_conf,      /* merge per-directory config structures */
    polycom_create_server_conf,  /* create per-server config structure    */
    NULL,                        /* merge per-server config structures    */
    polycom_cmds,                /* command apr_table_t                   */
    polycom_register_hooks,      /* register hooks                        */
    AP_MODULE_FLAG_NONE          /* flags                                 */
};
