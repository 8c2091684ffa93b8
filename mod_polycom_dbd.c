/* mod_polycom: everything that speaks to mod_dbd. Its optional functions,
 * the statements prepared on each new connection (post_connect), a
 * polycom_db bound over a pooled connection, statements prepared again
 * when a server forgot them, and the outage bookkeeping that turns a
 * missing database into one log line and 503s. Runs in request threads,
 * the check-in batch thread, the resync watchdog and the forked check-in
 * writer; the function pointers are set once in the parent.
 */

#include "apr_strings.h"

#include "util_mutex.h"

#include "mod_polycom_private.h"
#include "polycom_schema.h"

/* mod_dbd's optional functions: found while the configuration is read
 * (prepare, acquire) or when a process starts a task outside requests
 * (open, close); the same in every process. */
static ap_dbd_t *(*dbd_acquire_fn)(request_rec *) = NULL;
static ap_dbd_t *(*dbd_open_fn)(apr_pool_t *, server_rec *) = NULL;
static void (*dbd_close_fn)(server_rec *, ap_dbd_t *) = NULL;

static void (*dbd_prepare_fn)(server_rec *, const char *,
                              const char *) = NULL;

int polycom_dbd_retrieve(void)
{
    if (!dbd_open_fn || !dbd_close_fn) {
        dbd_open_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
        dbd_close_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    }
    return dbd_open_fn && dbd_close_fn;
}

int polycom_dbd_can_acquire(void)
{
    return dbd_acquire_fn != NULL;
}

ap_dbd_t *polycom_dbd_acquire(request_rec *r)
{
    return dbd_acquire_fn ? dbd_acquire_fn(r) : NULL;
}

ap_dbd_t *polycom_dbd_open(apr_pool_t *pool, server_rec *s)
{
    return dbd_open_fn ? dbd_open_fn(pool, s) : NULL;
}

void polycom_dbd_close(server_rec *s, ap_dbd_t *dbd)
{
    if (dbd_close_fn) {
        dbd_close_fn(s, dbd);
    }
}

/* Statements are prepared once per connection, in the connection's own
 * SQL dialect, which is known only once mod_dbd has a connection: mod_dbd
 * prepares one statement common to all dialects (registered here, when the
 * first provisioning location of a server is configured) and its
 * post_connect hook, below, the rest. */
const char *polycom_prepare_statements(cmd_parms *cmd)
{
    polycom_server_conf *sconf =
        ap_get_module_config(cmd->server->module_config, &polycom_module);
    const polycom_statement *marker;

    if (sconf->statements_prepared) {
        return NULL;
    }
    if (!dbd_prepare_fn) {
        dbd_prepare_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
        dbd_acquire_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
        if (!dbd_prepare_fn || !dbd_acquire_fn) {
            return "PolycomProvisioning: mod_dbd must be loaded first "
                   "(LoadModule dbd_module ...)";
        }
    }
    marker = polycom_store_marker();
    dbd_prepare_fn(cmd->server, marker->sql, marker->label);
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
/* Set on a connection to a database of a newer schema: refused. */
#define POLYCOM_SCHEMA_REFUSED "mod_polycom: schema refused"

static int polycom_mysql_warned = 0;

/* A connection left without this module's statements: a request on it
 * finds none and fails (500, PC00002). Success to mod_dbd all the same,
 * so that the other post_connect hooks still run. */
static apr_status_t polycom_dbd_unprepared(dbd_cfg_t *cfg, const char *error)
{
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, cfg->server, PCLOGNO(00029)
                 "cannot prepare the statements on a new %s connection: %s",
                 cfg->name, error);
    return APR_SUCCESS;
}

apr_status_t polycom_dbd_post_connect(apr_pool_t *pool,
                                      dbd_cfg_t *cfg, ap_dbd_t *dbd)
{
    polycom_server_conf *sconf = ap_get_module_config(
        cfg->server->module_config, &polycom_module);
    const char *error;
    apr_int64_t version;

    if (!apr_hash_get(cfg->queries, polycom_store_marker()->label,
                      APR_HASH_KEY_STRING)) {
        return APR_SUCCESS;
    }
    /* The session first: SQLite's busy timeout before the schema is read
     * (a version read as 0 when the file was locked warned "older").
     *
     * A schema newer than this module knows may mean anything: nothing is
     * prepared on the connection and requests on it get 503 rather than
     * anything served from it (mod_dbd keeps a connection whatever this
     * hook answers). An older one is served as far as its tables allow,
     * and said once. */
    if (polycom_store_session(pool, dbd->driver, dbd->handle, &error) < 0
        || (polycom_writer_reached()
            && polycom_store_leave_checkpoints(pool, dbd->driver,
                                               dbd->handle, &error) < 0)) {
        return polycom_dbd_unprepared(cfg, error);
    }
    version = polycom_store_schema_version(pool, dbd->driver, dbd->handle);
    if (version > POLYCOM_SCHEMA_VERSION) {
        if (!sconf->schema_warned) {
            sconf->schema_warned = 1;
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, cfg->server,
                         PCLOGNO(00110) "the database's schema is version "
                         "%" APR_INT64_T_FMT ", newer than this module's "
                         "%d: upgrade mod_polycom (a schema is never "
                         "downgraded); its connections are refused",
                         version, POLYCOM_SCHEMA_VERSION);
        }
        apr_hash_set(dbd->prepared, POLYCOM_SCHEMA_REFUSED,
                     APR_HASH_KEY_STRING, "");
        return APR_SUCCESS;
    }
    if (version < POLYCOM_SCHEMA_VERSION && !sconf->schema_warned) {
        sconf->schema_warned = 1;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cfg->server,
                     PCLOGNO(00111) "the database's schema is version %"
                     APR_INT64_T_FMT ", older than this module's %d: run "
                     "polycom-dbupgrade", version, POLYCOM_SCHEMA_VERSION);
    }
    if (polycom_store_prepare(pool, dbd->driver, dbd->handle, dbd->prepared,
                              &error) < 0) {
        return polycom_dbd_unprepared(cfg, error);
    }
    apr_hash_set(dbd->prepared, POLYCOM_INIT_PENDING, APR_HASH_KEY_STRING,
                 apr_hash_get(dbd->prepared, polycom_store_marker()->label,
                              APR_HASH_KEY_STRING));
    /* Kept for polycom_db_repair(): what mod_dbd prepared (where: the
     * store keeps the pool). */
    apr_hash_set(dbd->prepared, POLYCOM_DBD_CFG, APR_HASH_KEY_STRING, cfg);
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

/* The database a connection is to, as mod_dbd groups the servers of the
 * same DBD settings (one pool of connections each): the configuration its
 * statements were prepared from. NULL when its set-up failed. */
const void *polycom_db_group(const polycom_db *db)
{
    return apr_hash_get(db->prepared, POLYCOM_DBD_CFG, APR_HASH_KEY_STRING);
}

/* Reached only when every post_connect step before it succeeded. */
apr_status_t polycom_dbd_post_connect_done(apr_pool_t *pool,
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

void polycom_db_bind(polycom_db *db, ap_dbd_t *dbd, server_rec *s,
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
    apr_pool_t *pool = polycom_store_prepared_pool(db->prepared);
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

int polycom_db_open(request_rec *r, polycom_request *req,
                    polycom_db *db)
{
    ap_dbd_t *dbd = polycom_dbd_acquire(r);
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
    if (apr_hash_get(dbd->prepared, POLYCOM_SCHEMA_REFUSED,
                     APR_HASH_KEY_STRING)) {
        /* PC00110 said why, once per process. */
        req->db_unavailable = 1;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00112)
                      "database of a newer schema: 503 for %s", r->uri);
        apr_table_setn(r->err_headers_out, "Retry-After", "300");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (polycom_metrics_db_up(m, key)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, PCLOGNO(00022)
                      "database available again");
    }
    polycom_db_bind(db, dbd, r->server, r->pool);
    return OK;
}

int polycom_db_failed(request_rec *r, const polycom_db *db)
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

/* A database handle from mod_dbd's pool, for a task outside any request;
 * NULL when the database is unavailable (mod_dbd logged why). */
ap_dbd_t *polycom_worker_db(apr_pool_t *pool, server_rec *s,
                            polycom_db *db)
{
    ap_dbd_t *dbd = polycom_dbd_open(pool, s);

    if (dbd) {
        polycom_db_bind(db, dbd, s, pool);
    }
    return dbd;
}


/* The node's gate for SQLite writers (polycom_store_write_gate): one of
 * httpd's mutexes, so that "Mutex polycom-sqlite-write ..." picks its
 * mechanism, made before the children and the check-in writer fork.
 *
 * Made once and kept across restarts (in the process's pool, found again
 * through httpd's retained data): after a graceful restart the old
 * generation's children and check-in writer, still finishing, take turns
 * with the new ones at the same gate. A changed Mutex line for it
 * therefore takes a full stop and start. */
#define POLYCOM_GATE_MUTEX "polycom-sqlite-write"
#define POLYCOM_GATE_KEPT  "mod_polycom_gate"
static apr_global_mutex_t *polycom_gate = NULL;

void polycom_gate_register(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, POLYCOM_GATE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

void polycom_gate_post_config(server_rec *s)
{
    apr_global_mutex_t **kept = ap_retained_data_get(POLYCOM_GATE_KEPT);
    apr_status_t rv;

    if (!kept) {
        kept = ap_retained_data_create(POLYCOM_GATE_KEPT, sizeof(*kept));
    }
    polycom_gate = *kept;
    if (polycom_gate) {
        return;
    }
    rv = ap_global_mutex_create(&polycom_gate, NULL, POLYCOM_GATE_MUTEX,
                                NULL, s, s->process->pool, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00054)
                     "no %s mutex: a write to SQLite that waits for another "
                     "process of this node holds up every statement of its "
                     "own process meanwhile", POLYCOM_GATE_MUTEX);
        polycom_gate = NULL;
    }
    *kept = polycom_gate;
}

void polycom_gate_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (polycom_gate) {
        rv = apr_global_mutex_child_init(&polycom_gate,
                                         apr_global_mutex_lockfile(
                                             polycom_gate), pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00055)
                         "cannot open the %s mutex in process %"
                         APR_PID_T_FMT ": its writes to SQLite wait for "
                         "the others inside SQLite", POLYCOM_GATE_MUTEX,
                         getpid());
            polycom_gate = NULL;
        }
    }
    polycom_store_write_gate(polycom_gate);
}
