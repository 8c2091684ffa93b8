/* mod_polycom: check-ins. A request's check-in is filled in after the
 * response (log_transaction), queued in the child and handed on in
 * batches by one thread per child: to the node's check-in writer
 * (mod_polycom_writer.c), or written here when there is none. Runs in
 * request threads (the queue) and the child's batch thread.
 */

#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_proc.h"

#include "http_protocol.h"

#include "mod_polycom_private.h"

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
    /* Once stopping, the queue's pool may be gone (polycom_batch_stop):
     * its rows are not even counted. */
    full = !b->stopping && b->rows->nelts >= polycom_conf_checkin_queue();
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
                         polycom_conf_checkin_queue());
        }
        return -1;
    }
    q = apr_array_push(b->rows);
    q->server = s;
    polycom_checkin_copy(b->pool, &q->checkin, c);
    if (b->rows->nelts >= POLYCOM_BATCH_ROWS) {
        apr_thread_cond_signal(b->wake);
    }
    apr_thread_mutex_unlock(b->lock);
    return 0;
}

/* The check-in writer asks for its session (no automatic WAL
 * checkpoints, a larger page cache) on each connection it uses. */
#define POLYCOM_WRITER_SESSION "mod_polycom: writer session"

/* The databases whose every statement the writer has tried, by mod_dbd's
 * group (the writer's thread alone reads and writes this): virtual hosts
 * of the same DBD settings share one, and are said once together. */
static apr_hash_t *polycom_checked_databases = NULL;

static ap_dbd_t *polycom_checkin_db(server_rec *s, int writer_session,
                                    apr_pool_t *pool, polycom_db *db)
{
    ap_dbd_t *dbd = polycom_dbd_open(pool, s);
    const void *group;

    if (!dbd) {
        return NULL;
    }
    polycom_db_bind(db, dbd, s, pool);
    if (!writer_session) {
        return dbd;
    }
    if (!apr_hash_get(db->prepared, POLYCOM_WRITER_SESSION,
                      APR_HASH_KEY_STRING)
        && polycom_store_writer_session(db) == 0) {
        apr_hash_set(db->prepared, POLYCOM_WRITER_SESSION,
                     APR_HASH_KEY_STRING, db->prepared);
    }
    /* The statements connections prepare at their first use, here at
     * once, on the first connection to a database set up in full: one
     * that does not prepare is said when the writer first uses that
     * database (at its start, or at its first batch), once, not at an
     * admin's first request that runs it. */
    group = polycom_db_group(db);
    if (!polycom_checked_databases) {
        polycom_checked_databases = apr_hash_make(s->process->pool);
    }
    if (group && !apr_hash_get(polycom_checked_databases, &group,
                               sizeof(group))) {
        apr_hash_set(polycom_checked_databases,
                     apr_pmemdup(s->process->pool, &group, sizeof(group)),
                     sizeof(group), group);
        if (polycom_store_prepare_all(db) < 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00052)
                         "check-in writer: not every statement prepares "
                         "on this server's database (requests that run "
                         "it will fail): %s", db->error);
        }
    }
    return dbd;
}

/* Commit check-ins of one server in one transaction, in this process;
 * *error says why not. The writer brings last_seen up to date apart
 * (polycom_seen_commit) unless it says @a seen; a child does it in the
 * same transaction. */
int polycom_checkins_commit(server_rec *s, apr_array_header_t *list,
                            int writer_session, int seen, apr_pool_t *pool,
                            const char **error)
{
    polycom_db db;
    ap_dbd_t *dbd = polycom_checkin_db(s, writer_session, pool, &db);
    int rv;

    if (!dbd) {
        *error = "database unavailable";
        return -1;
    }
    rv = polycom_store_checkins(&db,
                                (const polycom_checkin *const *)list->elts,
                                list->nelts, !writer_session || seen);
    *error = db.error ? db.error : "unknown database error";
    polycom_dbd_close(s, dbd);
    return rv;
}

int polycom_seen_commit(server_rec *s, const polycom_seen_row *rows,
                        int count, apr_pool_t *pool, const char **error)
{
    polycom_db db;
    ap_dbd_t *dbd = polycom_checkin_db(s, 1, pool, &db);
    int rv;

    if (!dbd) {
        *error = "database unavailable";
        return -1;
    }
    rv = polycom_store_seen_rows(&db, rows, count);
    *error = db.error ? db.error : "unknown database error";
    polycom_dbd_close(s, dbd);
    return rv;
}

int polycom_seen_flush(server_rec *s, polycom_seen_mark *mark,
                       apr_interval_time_t replay, int *macs,
                       apr_pool_t *pool, const char **error)
{
    polycom_db db;
    ap_dbd_t *dbd = polycom_checkin_db(s, 1, pool, &db);
    int rv;

    *macs = 0;
    if (!dbd) {
        *error = "database unavailable";
        return -1;
    }
    rv = polycom_store_seen_flush(&db, mark, replay, macs);
    *error = db.error ? db.error : "unknown database error";
    polycom_dbd_close(s, dbd);
    return rv;
}

/* Write the rows of one server in this child, in one transaction. */
static void polycom_batch_write_here(server_rec *s, apr_array_header_t *list,
                                     apr_pool_t *pool)
{
    const char *error;
    int j;

    if (polycom_checkins_commit(s, list, 0, 1, pool, &error) < 0) {
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
        int taken;

        apr_thread_mutex_lock(b->lock);
        if (!b->stopping && b->rows->nelts < POLYCOM_BATCH_ROWS) {
            apr_thread_cond_timedwait(b->wake, b->lock,
                                      POLYCOM_BATCH_INTERVAL);
        }
        stop = b->stopping;
        rows = b->rows;
        pool = b->pool;
        /* Decided under the lock, once: an empty queue stays the
         * requests' own. Asking rows->nelts again after the unlock saw
         * a row that a request had pushed meanwhile, and this thread
         * then wrote and destroyed the pool the requests were still
         * filling (a child's crash in apr_palloc under make bench). */
        taken = rows->nelts > 0;
        if (taken) {
            polycom_batch_fresh(b);
        }
        apr_thread_mutex_unlock(b->lock);
        if (taken) {
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

void polycom_batch_start(apr_pool_t *pchild, server_rec *s)
{
#if APR_HAS_THREADS
    polycom_batch *b = apr_pcalloc(pchild, sizeof(*b));
    apr_thread_mutex_t *allocator_lock;

    /* Request threads fill one queue while the batch thread frees the
     * last: the allocator they share needs its lock. */
    if (!polycom_dbd_retrieve()
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
    checkin->kind = req->name.kind;
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
    checkin->snapshot = req->snapshot;
}

/* Runs after the response is sent, so the row holds the final status and
 * byte count. A failed write is logged and never affects the phone. */
int polycom_log_transaction(request_rec *r)
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
        /* The outage was logged once; each check-in it costs is named, so
         * that every lost check-in has its line (issue 17). */
        if (polycom_conf_checkins(conf)) {
            polycom_metrics_checkin_failure(polycom_metrics_get());
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCLOGNO(00213)
                          "database unavailable, check-in of %s not "
                          "recorded", r->uri);
        }
        return DECLINED;
    }
    if (!polycom_conf_checkins(conf)) {
        return DECLINED;
    }
    if (!polycom_dbd_can_acquire()) {
        /* Said once per process, not once per request: the metric counts
         * every check-in lost this way. */
        static int said = 0;

        polycom_metrics_checkin_failure(polycom_metrics_get());
        if (!said) {
            said = 1;
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCLOGNO(00214)
                          "no mod_dbd: check-ins are not recorded (the "
                          "first was of %s)", r->uri);
        }
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

/* The check-in writer checkpoints each SQLite database of the module four
 * times a second, its WAL restarted where a batch came in since, once per
 * round for the servers that share a DBD configuration: @a done maps each
 * one checkpointed this round to "r" (restart asked) or "c" (copied
 * only). A database that cannot be opened or checkpointed now is tried
 * again in 30 s (mod_dbd logs each failure). With DBDPersist Off each
 * round opens a new connection per server. */
#define POLYCOM_CHECKPOINT_RETRY apr_time_from_sec(30)

int polycom_checkpoint_server(server_rec *s, apr_hash_t *done, int restart,
                              apr_time_t *next_at, apr_pool_t *pool)
{
    ap_dbd_t *dbd = polycom_dbd_open(pool, s);
    apr_time_t now = apr_time_now();
    const char *did = NULL;
    const void *group;
    polycom_db db;
    int rv = 0;

    if (!dbd) {
        *next_at = now + POLYCOM_CHECKPOINT_RETRY;
        return -1;
    }
    polycom_db_bind(&db, dbd, s, pool);
    *next_at = db.dialect == POLYCOM_DIALECT_SQLITE ? now : 0;
    /* A connection whose set-up failed has no group: no sharing known. */
    group = polycom_db_group(&db);
    if (group) {
        did = apr_hash_get(done, &group, sizeof(group));
    }
    if (*next_at && !(did && (*did == 'r' || !restart))) {
        rv = polycom_store_checkpoint(&db, restart);
        if (rv < 0) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PCLOGNO(00036)
                         "check-in writer: %s", db.error);
            *next_at = now + POLYCOM_CHECKPOINT_RETRY;
        }
        else if (group) {
            apr_hash_set(done, apr_pmemdup(pool, &group, sizeof(group)),
                         sizeof(group), restart ? "r" : "c");
        }
    }
    polycom_dbd_close(s, dbd);
    return rv;
}
