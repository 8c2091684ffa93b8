/* mod_polycom: the check-in writer, one process per node forked by the
 * parent, which writes every child's check-in batches so that children
 * only read; and the children's side of its socket. Runs in the parent
 * (start, restart), the forked writer, and each child's batch thread
 * (sending).
 */

#include "apr_strings.h"
#include "apr_poll.h"
#include "apr_signal.h"
#include "apr_thread_proc.h"

#include "http_core.h"

#include "ap_listen.h"
#include "ap_mpm.h"
#include "mod_unixd.h"
#include "mpm_common.h"
#include "unixd.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mod_polycom_private.h"
#include "polycom_reach.h"
#include "polycom_wire.h"

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
/* Written by the batch thread, read by the resync worker's thread
 * (polycom_writer_prunes): atomic loads and stores. */
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
    if (!__atomic_load_n(&polycom_writer_unreachable, __ATOMIC_RELAXED)) {
        __atomic_store_n(&polycom_writer_unreachable, 1, __ATOMIC_RELAXED);
        ap_log_error(APLOG_MARK, APLOG_NOTICE, rv, s, PCLOGNO(00032)
                     "check-in writer %s (%s): this child writes its "
                     "check-ins itself until it is back", what,
                     polycom_writer_path);
    }
}

/* 0 when the writer has committed the rows. */
int polycom_writer_send(server_rec *s,
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
    if (__atomic_load_n(&polycom_writer_unreachable, __ATOMIC_RELAXED)) {
        __atomic_store_n(&polycom_writer_unreachable, 0, __ATOMIC_RELAXED);
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, PCLOGNO(00033)
                     "check-in writer reachable again");
    }
    return memcmp(reply, POLYCOM_WIRE_OK, POLYCOM_WIRE_REPLY) ? -1 : 0;
}

/* The writer runs the retention while this child reaches it. A child that
 * found it gone prunes in its resync worker meanwhile (both at once only
 * repeat a DELETE that finds nothing); one that never sent a batch since
 * the writer went does not know, and leaves the rounds to it. */
int polycom_writer_prunes(void)
{
    return polycom_writer_path
           && !__atomic_load_n(&polycom_writer_unreachable, __ATOMIC_RELAXED);
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

/* last_seen is brought up to date apart from the batches, one statement
 * over all check-ins since the last time (polycom_seen_flush): as soon as
 * no batch came for POLYCOM_WRITER_SEEN_IDLE, and under a steady load
 * once every POLYCOM_WRITER_SEEN_EVERY. A statement per MAC in each batch
 * was 42 % of the writer's work (perf, make bench, 100,000 phones); one a
 * second halved its CPU time per check-in. So with a writer, last_seen
 * is up to a second behind the history. A statement goes over at most
 * POLYCOM_SEEN_FLUSH_IDS check-ins; when more are left (a writer catching
 * up after its start, or a load above that a second), the next one
 * follows right after the batches that came meanwhile are written, so
 * the children's queues never wait for the whole catch-up. Per server:
 * the check-in id it is up to date with (polycom_seen_mark), whether it
 * may not be, when a flush that failed is tried again (0: no wait), so
 * that a server whose database is away holds up no other, and whether
 * that failure was said. */
#define POLYCOM_WRITER_SEEN_IDLE  apr_time_from_msec(50)
#define POLYCOM_WRITER_SEEN_EVERY apr_time_from_sec(1)
static polycom_seen_mark *polycom_writer_seen_mark = NULL;
static char *polycom_writer_seen_pending = NULL;
static char *polycom_writer_seen_committed = NULL;
static apr_time_t *polycom_writer_seen_retry = NULL;
static char *polycom_writer_seen_failing = NULL;

/* Whether a server's last_seen may be behind and is not waiting to try
 * a failed flush again. */
static int polycom_writer_seen_due(unsigned servers, apr_time_t now)
{
    unsigned i;

    for (i = 0; i < servers; i++) {
        if (polycom_writer_seen_pending[i]
            && polycom_writer_seen_retry[i] <= now) {
            return 1;
        }
    }
    return 0;
}

/* Flushes each server that is due; returns 1 when one has more check-ins
 * to go over, 0 when not. A failed flush is tried again a second later. */
static int polycom_writer_seen(apr_pool_t *pool, apr_time_t now)
{
    server_rec *server;
    unsigned i;
    int more = 0;

    for (server = polycom_main_server, i = 0; server;
         server = server->next, i++) {
        const char *error;
        int macs, rv;

        if (!polycom_writer_seen_pending[i]
            || polycom_writer_seen_retry[i] > now) {
            continue;
        }
        rv = polycom_seen_flush(server, &polycom_writer_seen_mark[i], &macs,
                                pool, &error);
        if (rv < 0 && polycom_writer_seen_mark[i].id < 0
            && !polycom_writer_seen_committed[i]) {
            /* The first look of a writer starting, at a server whose
             * database is away or not the module's: again at its first
             * batch, if one ever comes. */
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, server, PCLOGNO(00050)
                         "check-in writer: last_seen not gone over at its "
                         "start (%s): again at the first batch", error);
            polycom_writer_seen_pending[i] = 0;
            continue;
        }
        if (rv < 0) {
            /* Said once while it lasts: the batches' own failures are
             * what the children log. */
            ap_log_error(APLOG_MARK, polycom_writer_seen_failing[i]
                         ? APLOG_DEBUG : APLOG_WARNING, 0, server,
                         PCLOGNO(00049) "check-in writer: last_seen not "
                         "brought up to date (%s); trying again", error);
            polycom_writer_seen_failing[i] = 1;
            polycom_writer_seen_retry[i] = now + POLYCOM_WRITER_SEEN_EVERY;
            continue;
        }
        polycom_writer_seen_failing[i] = 0;
        polycom_writer_seen_retry[i] = 0;
        polycom_writer_seen_pending[i] = rv > 0;
        polycom_writer_unchecked[i] |= macs > 0;
        more |= rv > 0;
    }
    return more;
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
            polycom_writer_seen_pending[first->server] = 1;
            polycom_writer_seen_committed[first->server] = 1;
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
    apr_time_t seen_at = 0;
    apr_status_t rv;
    int idle = 0, seen_more = 0;
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
    polycom_dbd_retrieve();
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
    /* A writer before this one may have stopped (a restart, a crash) with
     * check-ins it left out of last_seen: each server's first flush, at
     * once, goes over them. */
    polycom_writer_seen_mark = apr_palloc(pool, servers
                                          * sizeof(polycom_seen_mark));
    polycom_writer_seen_pending = apr_pcalloc(pool, servers);
    polycom_writer_seen_committed = apr_pcalloc(pool, servers);
    polycom_writer_seen_retry = apr_pcalloc(pool, servers
                                                  * sizeof(apr_time_t));
    polycom_writer_seen_failing = apr_pcalloc(pool, servers);
    for (v = s, servers = 0; v; v = v->next, servers++) {
        const polycom_server_conf *sconf =
            ap_get_module_config(v->module_config, &polycom_module);

        polycom_writer_seen_mark[servers].id = -1;
        polycom_writer_seen_mark[servers].time_us = -1;
        polycom_writer_seen_pending[servers] = sconf->statements_prepared;
    }
    for (;;) {
        const apr_pollfd_t *ready;
        apr_array_header_t *batches;
        apr_time_t now = apr_time_now();
        int seen_due = polycom_writer_seen_due(servers, now);
        apr_int32_t n, i;

        /* Before a retention round too: its snapshot prune keeps what
         * last_seen names, which must name the newest fetches. */
        if (seen_due
            && (idle || seen_more
                || now - seen_at >= POLYCOM_WRITER_SEEN_EVERY
                || polycom_retention_due(s))) {
            apr_pool_clear(iteration);
            seen_at = now;
            seen_more = polycom_writer_seen(iteration, now);
            seen_due = polycom_writer_seen_due(servers, now);
        }
        if (apr_time_now() - last_checkpoint >= POLYCOM_WRITER_CHECKPOINT) {
            apr_pool_clear(iteration);
            polycom_writer_checkpoint(iteration);
            last_checkpoint = apr_time_now();
        }
        /* It returns at once unless a round is due (every ten seconds,
         * every second while a backlog lasts). */
        polycom_retention_round(s, iteration);
        /* With more to go over, only what is ready now: its batches
         * are written, then the next part. */
        rv = apr_pollset_poll(pollset, seen_more ? 0
                                       : seen_due ? POLYCOM_WRITER_SEEN_IDLE
                                       : POLYCOM_WRITER_CHECKPOINT,
                              &n, &ready);
        idle = APR_STATUS_IS_TIMEUP(rv);
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

/* A parent started as root hands the socket to the children's user: a
 * directory on its way that this user cannot search (a checkout under a
 * 0700 home, a DefaultRuntimeDir of mode 0700) would refuse every child's
 * connection. Said here, once, instead of once per child at its first
 * check-in. NULL when the children reach the socket. */
static const char *polycom_writer_blocked(apr_pool_t *pool, const char *path)
{
    const char *slash = strrchr(path, '/');
    gid_t groups[NGROUPS_MAX];
    int ngroups = NGROUPS_MAX;

    if (geteuid() != 0 || !slash) {
        return NULL;                    /* the children are this very user */
    }
    if (getgrouplist(ap_unixd_config.user_name, ap_unixd_config.group_id,
                     groups, &ngroups) < 0) {
        ngroups = 0;                    /* the primary group is checked */
    }
    return polycom_reach_blocked(pool,
                                 slash == path ? "/"
                                     : apr_pstrmemdup(pool, path,
                                                      (apr_size_t)(slash
                                                                   - path)),
                                 ap_unixd_config.user_id,
                                 ap_unixd_config.group_id, groups, ngroups);
}

/* In the parent, once per generation: the socket (made here, as root, then
 * given to the children's user) and the process. */
void polycom_writer_start(apr_pool_t *pconf, server_rec *s, int wanted)
{
    apr_array_header_t *hooks = ap_hook_get_child_init();
    ap_LINK_child_init_t *hook = (ap_LINK_child_init_t *)hooks->elts;
    apr_sockaddr_t *address;
    const char *path, *blocked;
    apr_status_t rv;
    int i;

    /* Children of this generation look for a writer only if one starts. */
    polycom_writer_path = NULL;
    polycom_dbd_child_init = NULL;
    if (!wanted) {
        return;
    }
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
    blocked = polycom_writer_blocked(pconf, path);
    if (blocked) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00150)
                     "no check-in writer: its socket %s is out of reach of "
                     "the children's user %s (it cannot search %s); the "
                     "children write their check-ins. Set DefaultRuntimeDir "
                     "to a directory that user can reach", path,
                     ap_unixd_config.user_name, blocked);
        return;
    }
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

