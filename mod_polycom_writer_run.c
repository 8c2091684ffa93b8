/* mod_polycom: the check-in writer process itself (forked by the parent,
 * mod_polycom_writer.c): it reads the children's batches, commits them a
 * transaction per server, brings last_seen up to date apart, checkpoints
 * the WAL and runs the retention rounds.
 */

#include "apr_strings.h"
#include "apr_poll.h"
#include "apr_signal.h"

#include "http_core.h"

#include "ap_listen.h"
#include "ap_mpm.h"
#include "mod_unixd.h"
#include "mpm_common.h"
#include "unixd.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mod_polycom_private.h"
#include "polycom_wire.h"

#define POLYCOM_WRITER_READ_TIMEOUT  apr_time_from_sec(5)
#define POLYCOM_WRITER_CLIENTS       1024
/* How much the writer raises its priority above httpd's (below). */
#define POLYCOM_WRITER_NICER         5

/* When a write that failed is tried again: a second later, then twice as
 * long each time up to a minute, so that a database that cannot take it
 * (its schema older than the module's) is not asked every second for as
 * long as httpd runs. */
typedef struct {
    apr_time_t at;              /* not before then (0: no wait) */
    apr_interval_time_t wait;   /* the last wait */
    int failing;                /* the last try failed, and was said */
} polycom_writer_retry;

/* What the writer keeps per server (by index), in one array of the
 * servers' number: whether it was written to since the last checkpoint,
 * and how far its last_seen is up to date (below). */
typedef struct {
    server_rec *server;
    polycom_seen_mark mark;     /* the check-in id it is up to date with */
    apr_interval_time_t replay; /* the window of its first flush */
    polycom_writer_retry catch_up;  /* of the catch-up from the mark */
    polycom_writer_retry gathered;  /* of the round's part */
    apr_pool_t *seen_pool;      /* seen's, cleared when a round starts */
    polycom_seen_map *seen;     /* last_seen's rows from its batches */
    apr_pool_t *round_pool;     /* the round's rows (seen's before) */
    polycom_seen_round round;   /* the flush under way, in parts */
    apr_time_t checkpoint_at;   /* from when to checkpoint it (0: never) */
    char timed;                 /* checkpointed without batches too */
    char watched;               /* its statements are prepared */
    char catching_up;           /* going over the history from the mark */
    char unchecked;             /* written since the last checkpoint */
    char committed;             /* a batch was written to it */
    char catch_up_waits;        /* its first look failed: at a batch */
} polycom_writer_server;

static polycom_writer_server *polycom_writer_servers = NULL;
static unsigned polycom_writer_nservers = 0;

/* Set by SIGTERM: the parent's configuration went (a restart, a stop).
 * Set by SIGUSR2: the writer before this one did not finish as it should
 * have (it crashed, or left last_seen behind), after this one started
 * from the newest moment. */
static volatile sig_atomic_t polycom_writer_stopping = 0;
static volatile sig_atomic_t polycom_writer_replay_asked = 0;

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

/* How many children's connections it watches. */
static unsigned polycom_writer_clients = 0;

static void polycom_writer_drop(apr_pollset_t *pollset,
                                polycom_writer_client *client)
{
    apr_pollset_remove(pollset, &client->pfd);
    apr_pool_destroy(client->pool);
    polycom_writer_clients--;
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
    if (!batch->rows || batch->server >= polycom_writer_nservers) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00035)
                     "check-in writer: a batch that could not be read; "
                     "the child writes it itself");
        polycom_writer_drop(pollset, c);
        return NULL;
    }
    batch->client = c;
    return batch;
}

#define POLYCOM_WRITER_CHECKPOINT apr_time_from_msec(250)

/* Four times a second (polycom_checkpoint_server: the children leave
 * checkpoints to the writer). After every commit, the syncs stalled
 * requests (make bench, 1,000 phones, new connections: p99 24 -> 10-12
 * ms); the price is a larger WAL: 30 MB at 20,000 check-ins a second. */
static void polycom_writer_checkpoint(apr_pool_t *pool)
{
    apr_hash_t *done = apr_hash_make(pool);
    apr_time_t now = apr_time_now();
    unsigned i;

    for (i = 0; i < polycom_writer_nservers; i++) {
        polycom_writer_server *state = &polycom_writer_servers[i];

        if (state->checkpoint_at && now >= state->checkpoint_at
            && (state->unchecked || state->timed)
            && polycom_checkpoint_server(state->server, done,
                                         state->unchecked,
                                         &state->checkpoint_at, pool) == 0) {
            state->unchecked = 0;
        }
    }
}

/* last_seen is brought up to date apart from the batches: as soon as no
 * batch came for POLYCOM_WRITER_SEEN_IDLE, and under a steady load once
 * every POLYCOM_WRITER_SEEN_EVERY, from what the writer gathered of the
 * rows it wrote (polycom_seen.h: each MAC's newest check-in and settings
 * fetch), a hundred MACs a statement. So with a writer, last_seen is up
 * to five seconds behind the history under load. On a large fleet a
 * flush rewrites most of last_seen's pages whatever it holds (100,000
 * phones, 12,000 check-ins a second: nearly every page each second), so
 * fewer flushes write less: every 5 s instead of every second, the
 * writer's CPU a check-in went from about 12 to 9-10 µs (100,000
 * phones, settings with keep-alive, medians of six runs). A statement per
 * MAC in each batch was 42 % of the writer's work; one statement a
 * second over the check-ins since the last (sorting them by MAC and time,
 * ST_SEEN_FLUSH) was half of it: that is now only how a writer starting
 * goes over what the one before may have left out (polycom_seen_flush,
 * from the mark), at most POLYCOM_SEEN_FLUSH_IDS a statement, writing the
 * batches that came meanwhile between two. A server whose flush failed is
 * tried again a second later, then twice as long each time up to a
 * minute, and holds up no other; past POLYCOM_WRITER_SEEN_BYTES gathered
 * (its flushes failing while its batches are written), the batches bring
 * last_seen up to date themselves, as a child's do. */
#define POLYCOM_WRITER_SEEN_IDLE  apr_time_from_msec(50)
#define POLYCOM_WRITER_SEEN_EVERY apr_time_from_sec(5)
#define POLYCOM_WRITER_SEEN_BYTES (32 * 1024 * 1024)
#define POLYCOM_WRITER_SEEN_RETRY apr_time_from_sec(1)
#define POLYCOM_WRITER_SEEN_RETRY_MAX apr_time_from_sec(60)

/* A flush of what was gathered is a round over its MACs in order, in
 * parts of POLYCOM_WRITER_SEEN_PART rows, a transaction each, with the
 * batches that came meanwhile written between two; what they bring is
 * gathered for the next round. In parts of 10,000 (100,000 phones,
 * settings with keep-alive) one part held the writer for 0.2-0.6 s on a
 * busy node, the children's queues filled (PC00039), and requests wrote
 * their own check-ins. A writer finishing has no batches to wait for,
 * and writes POLYCOM_SEEN_FLUSH_IDS a part. */
#define POLYCOM_WRITER_SEEN_PART  2000

static void polycom_writer_failed(server_rec *server,
                                  polycom_writer_retry *retry,
                                  const char *error, apr_time_t now)
{
    /* Said once while it lasts: the batches' own failures are what the
     * children log. */
    ap_log_error(APLOG_MARK, retry->failing ? APLOG_DEBUG : APLOG_WARNING,
                 0, server, PCLOGNO(00049) "check-in writer: last_seen not "
                 "brought up to date (%s); trying again", error);
    retry->wait = retry->failing ? retry->wait * 2
                                 : POLYCOM_WRITER_SEEN_RETRY;
    if (retry->wait > POLYCOM_WRITER_SEEN_RETRY_MAX) {
        retry->wait = POLYCOM_WRITER_SEEN_RETRY_MAX;
    }
    retry->failing = 1;
    retry->at = now + retry->wait;
}

static void polycom_writer_succeeded(polycom_writer_retry *retry)
{
    retry->failing = 0;
    retry->at = 0;
}

static int polycom_writer_catch_up_due(const polycom_writer_server *state,
                                       apr_time_t now)
{
    return state->catching_up && !state->catch_up_waits
           && state->catch_up.at <= now;
}

static int polycom_writer_gathered(const polycom_writer_server *state)
{
    return !polycom_seen_round_over(&state->round)
           || polycom_seen_count(state->seen) > 0;
}

/* Whether a server's last_seen may be behind (a writer leaving with one
 * is BEHIND); a catch-up waiting for the first batch is not counted. */
static int polycom_writer_behind(const polycom_writer_server *state)
{
    return (state->catching_up && !state->catch_up_waits)
           || polycom_writer_gathered(state);
}

/* Whether a server has a flush to do now. */
static int polycom_writer_seen_due(apr_time_t now)
{
    unsigned i;

    for (i = 0; i < polycom_writer_nservers; i++) {
        const polycom_writer_server *state = &polycom_writer_servers[i];

        if (polycom_writer_catch_up_due(state, now)
            || (polycom_writer_gathered(state)
                && state->gathered.at <= now)) {
            return 1;
        }
    }
    return 0;
}

/* The next part of a server's round, a round started from what it
 * gathered when none is under way: its map goes to the round, with its
 * pool, and a fresh one gathers for the next. Returns 1 when the round
 * has more parts, 0 when not, -1 when the part failed. */
static int polycom_writer_seen_part(polycom_writer_server *state,
                                    apr_pool_t *pool, int *macs,
                                    const char **error)
{
    const polycom_seen_row *rows;
    int n;

    if (polycom_seen_round_over(&state->round)) {
        apr_pool_t *gathering = state->round_pool;

        state->round_pool = state->seen_pool;
        state->seen_pool = gathering;
        polycom_seen_round_start(&state->round, state->seen,
                                 state->round_pool);
        state->seen = polycom_seen_map_make(state->seen_pool);
    }
    rows = polycom_seen_round_part(&state->round,
                                   polycom_writer_stopping
                                   ? POLYCOM_SEEN_FLUSH_IDS
                                   : POLYCOM_WRITER_SEEN_PART, &n);
    if (n && polycom_seen_commit(state->server, rows, n, pool, error) < 0) {
        return -1;
    }
    polycom_seen_round_written(&state->round, n);
    *macs += n;
    if (!polycom_seen_round_over(&state->round)) {
        return 1;
    }
    apr_pool_clear(state->round_pool);
    memset(&state->round, 0, sizeof(state->round));
    return 0;
}

/* Flushes each server that is due; returns 1 when one has more to go
 * over now (a catch-up, or a round under way), 0 when not. */
static int polycom_writer_seen(apr_pool_t *pool, apr_time_t now)
{
    unsigned i;
    int more = 0;

    for (i = 0; i < polycom_writer_nservers; i++) {
        polycom_writer_server *state = &polycom_writer_servers[i];
        server_rec *server = state->server;
        const char *error = NULL;
        int macs = 0, rv;

        if (polycom_writer_catch_up_due(state, now)) {
            rv = polycom_seen_flush(server, &state->mark, state->replay,
                                    &macs, pool, &error);
            if (rv < 0 && state->mark.id < 0 && !state->committed) {
                /* The first look of a writer starting, at a server whose
                 * database is away or not the module's: again at its
                 * first batch, if one ever comes. */
                ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, server,
                             PCLOGNO(00050) "check-in writer: last_seen not "
                             "gone over at its start (%s): again at the "
                             "first batch", error);
                state->catch_up_waits = 1;
            }
            else if (rv < 0) {
                polycom_writer_failed(server, &state->catch_up, error, now);
            }
            else {
                if (state->mark.id >= 0) {
                    state->replay = POLYCOM_SEEN_REPLAY;
                }
                state->catching_up = rv > 0;
                polycom_writer_succeeded(&state->catch_up);
                more |= rv > 0;
            }
        }
        /* What it gathered, whatever the catch-up did (a row only moves
         * forward): a part of the round under way, or of a new one. */
        if (polycom_writer_gathered(state) && state->gathered.at <= now) {
            rv = polycom_writer_seen_part(state, pool, &macs, &error);
            if (rv < 0) {
                polycom_writer_failed(server, &state->gathered, error, now);
            }
            else {
                polycom_writer_succeeded(&state->gathered);
                more |= rv;
            }
        }
        state->unchecked |= macs > 0;
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
        polycom_writer_server *state = &polycom_writer_servers[first->server];
        server_rec *server = state->server;
        apr_array_header_t *list;
        const char *error;
        int ok, gathered_full;

        if (first->written) {
            continue;                   /* with an earlier server */
        }
        gathered_full = polycom_seen_bytes(state->seen)
                        > POLYCOM_WRITER_SEEN_BYTES;
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
        ok = polycom_checkins_commit(server, list, 1, gathered_full, pool,
                                     &error) == 0;
        if (!ok) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, server, PCLOGNO(00042)
                         "check-in writer: %d check-ins not written (%s); "
                         "their children write them", list->nelts, error);
        }
        else {
            polycom_metrics_writer_rows(polycom_metrics_get(), list->nelts);
            state->unchecked = state->committed = 1;
            state->catch_up_waits = 0;
            for (j = 0; !gathered_full && j < list->nelts; j++) {
                polycom_seen_note(state->seen,
                                  APR_ARRAY_IDX(list, j,
                                                const polycom_checkin *));
            }
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

static void polycom_writer_on_signal(int signo)
{
    if (signo == SIGTERM) {
        polycom_writer_stopping = 1;
    }
    else {
        polycom_writer_replay_asked = 1;
    }
}

/* The writer before this one did not finish: each server's last_seen
 * goes over the last POLYCOM_SEEN_REPLAY of check-ins again, which that
 * one may have left out (it wrote what it gathered as it finished, so it
 * left out at most its last moments). */
static void polycom_writer_replay(server_rec *s)
{
    unsigned i;

    polycom_writer_replay_asked = 0;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00051)
                 "check-in writer: the one before it did not finish "
                 "cleanly; last_seen goes over the last 30 s of check-ins");
    for (i = 0; i < polycom_writer_nservers; i++) {
        polycom_writer_server *state = &polycom_writer_servers[i];

        if (state->watched) {
            state->mark.id = -1;
            state->mark.time_us = -1;
            state->replay = POLYCOM_SEEN_REPLAY;
            state->catching_up = 1;
            state->catch_up_waits = 0;
            state->catch_up.at = 0;
        }
    }
}


/* Told to stop, the writer takes no new child, and goes on writing the
 * batches of the children it has until the last is gone: after a
 * graceful restart the old generation's children serve on (for as long
 * as their connections last), and each of them writing its own batches
 * under SQLite's write lock held up the new writer enough to fill the new
 * children's queues (make bench, 100,000 phones, keep-alive). When httpd
 * stops, its children are gone first. Then it brings last_seen up to
 * date with what it wrote, and says by its exit status whether it did.
 * The next writer, started meanwhile, goes over no more than the newest
 * moment's check-ins: going over the whole fleet's last 30 s again, under
 * load, filled every child's queue after each graceful restart, and
 * Debian's logrotate restarts httpd gracefully every day. A server whose
 * database it never reached, and never wrote to, does not hold that up: a
 * vhost whose database is gone would otherwise keep every restart from
 * it. (What a writer that crashed left out of such a server's last_seen,
 * or one that crashed while finishing, stays out until each of those
 * phones checks in again.) */
static void polycom_writer_leave(apr_pool_t *pool)
{
    apr_time_t deadline = apr_time_now() + POLYCOM_WRITER_LEAVE;
    unsigned i;
    int due = 1;

    /* A failed flush is tried again within the time it has, a tenth of a
     * second apart, rather than a second later as while it runs. */
    while (due && apr_time_now() < deadline) {
        for (i = 0, due = 0; i < polycom_writer_nservers; i++) {
            polycom_writer_servers[i].catch_up.at = 0;
            polycom_writer_servers[i].gathered.at = 0;
            due |= polycom_writer_behind(&polycom_writer_servers[i]);
        }
        if (due) {
            apr_pool_clear(pool);
            polycom_writer_seen(pool, apr_time_now());
            if (polycom_writer_seen_due(apr_time_now()) == 0) {
                apr_sleep(apr_time_from_msec(100));
            }
        }
    }
    for (i = 0; i < polycom_writer_nservers; i++) {
        if (polycom_writer_behind(&polycom_writer_servers[i])) {
            _exit(POLYCOM_WRITER_EXIT_BEHIND);
        }
    }
    _exit(POLYCOM_WRITER_EXIT_HANDED_OVER);
}

/* Each server's state. After a writer that left last_seen up to date,
 * each server's first flush goes over the check-ins of the newest moment
 * only; otherwise over the last POLYCOM_SEEN_REPLAY, which a writer that
 * stopped otherwise (a crash, a kill) may have left out. */
static void polycom_writer_servers_init(server_rec *s, apr_pool_t *pool,
                                        int handed_over)
{
    const polycom_server_conf *main_conf =
        ap_get_module_config(s->module_config, &polycom_module);
    int main_watched = main_conf->statements_prepared;
    apr_allocator_t *allocator;
    server_rec *v;
    unsigned i;

    for (v = s, polycom_writer_nservers = 0; v; v = v->next) {
        polycom_writer_nservers++;
    }
    /* What each server gathers for last_seen is freed after each round
     * and gathered again at once under a steady load: its allocator keeps
     * what the gathering may take at most (POLYCOM_WRITER_SEEN_BYTES), or
     * each round unmapped and mapped it again (4 MiB kept: 1,000-1,400
     * munmap and mmap calls in 6 s, each munmap flushing the other CPU's
     * TLB; 100,000 phones, settings with keep-alive). */
    if (apr_allocator_create(&allocator) != APR_SUCCESS) {
        _exit(POLYCOM_WRITER_EXIT_FAILED);
    }
    apr_allocator_max_free_set(allocator, POLYCOM_WRITER_SEEN_BYTES);
    polycom_writer_servers = apr_pcalloc(pool, polycom_writer_nservers
                                               * sizeof(polycom_writer_server));
    for (v = s, i = 0; v; v = v->next, i++) {
        const polycom_server_conf *sconf =
            ap_get_module_config(v->module_config, &polycom_module);
        polycom_writer_server *state = &polycom_writer_servers[i];

        state->server = v;
        state->mark.id = -1;
        state->mark.time_us = -1;
        state->replay = handed_over ? 0 : POLYCOM_SEEN_REPLAY;
        state->watched = sconf->statements_prepared;
        state->catching_up = state->watched;
        /* Until its database is not SQLite: on a timer where it serves
         * phones (the main server's locations too), else after batches. */
        state->checkpoint_at = 1;
        state->timed = state->watched || main_watched;
        apr_pool_create_ex(&state->seen_pool, pool, NULL, allocator);
        apr_pool_create_ex(&state->round_pool, pool, NULL, allocator);
        state->seen = polycom_seen_map_make(state->seen_pool);
    }
}

/* A new child's connection; not watched when the pollset is full. */
static apr_status_t polycom_writer_accept(apr_pollset_t *pollset,
                                          apr_socket_t *listener,
                                          apr_pool_t *pool)
{
    polycom_writer_client *client;
    apr_pool_t *cpool;
    apr_socket_t *sock;
    apr_status_t rv;

    apr_pool_create(&cpool, pool);
    rv = apr_socket_accept(&sock, listener, cpool);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(cpool);
        return rv;
    }
    client = apr_pcalloc(cpool, sizeof(*client));
    client->pool = cpool;
    client->pfd.p = cpool;
    client->pfd.desc_type = APR_POLL_SOCKET;
    client->pfd.reqevents = APR_POLLIN;
    client->pfd.desc.s = sock;
    client->pfd.client_data = client;
    apr_socket_timeout_set(sock, POLYCOM_WRITER_READ_TIMEOUT);
    rv = apr_pollset_add(pollset, &client->pfd);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(cpool);
        return rv;
    }
    polycom_writer_clients++;
    return APR_SUCCESS;
}

/* Told to stop, the writer answers the children that were already
 * connecting (the parent removes the socket only after telling it), then
 * closes its socket: one connecting later is refused at once, and writes
 * its batch itself, where it would otherwise wait for an answer that
 * never comes. */
static void polycom_writer_close_door(apr_pollset_t *pollset,
                                      apr_socket_t *listener,
                                      apr_pollfd_t *listen_pfd,
                                      apr_pool_t *pool)
{
    apr_pollset_remove(pollset, listen_pfd);
    apr_socket_timeout_set(listener, 0);
    while (polycom_writer_accept(pollset, listener, pool) == APR_SUCCESS) {
    }
    apr_socket_close(listener);
}

/* Answer each batch: written or not (then its child writes it). */
static void polycom_writer_answer(apr_pollset_t *pollset,
                                  apr_array_header_t *batches)
{
    int i;

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

/* The process's own set-up; the pools it works in. */
static apr_pollset_t *polycom_writer_setup(server_rec *s, apr_pool_t *pconf,
                                           polycom_child_init_fn *dbd_init,
                                           apr_socket_t *listener,
                                           apr_pool_t **pool,
                                           apr_pool_t **iteration,
                                           apr_pollfd_t **listen_out)
{
    apr_allocator_t *allocator;
    apr_pollfd_t *listen_pfd;
    apr_pollset_t *pollset;
    apr_status_t rv;
    sigset_t signals;
    int niceness;

    /* The MPM signals its process group for restarts; the parent stops
     * this process with SIGTERM when its configuration goes. */
    apr_signal(SIGHUP, SIG_IGN);
    apr_signal(AP_SIG_GRACEFUL, SIG_IGN);
    apr_signal(AP_SIG_GRACEFUL_STOP, SIG_IGN);
    apr_signal(SIGPIPE, SIG_IGN);
    apr_signal(SIGTERM, polycom_writer_on_signal);
    apr_signal(SIGUSR2, polycom_writer_on_signal);
    /* The parent forked this process with both blocked (one sent before
     * the handlers were set would have been lost); they come now. */
    polycom_writer_signals(&signals);
    pthread_sigmask(SIG_UNBLOCK, &signals, NULL);
    apr_signal(SIGINT, SIG_DFL);
    apr_signal(SIGCHLD, SIG_DFL);
    ap_close_listeners();
    /* Every child's check-ins wait for this one process: when the node's
     * CPUs are busy with requests it must not wait its turn behind them,
     * or the children's queues fill and requests write their own
     * check-ins, waiting for SQLite's lock (100,000 phones, settings with
     * keep-alive: p99 over six runs 22-457 ms at the children's priority,
     * 21-42 ms five steps above). Raising it takes CAP_SYS_NICE: while
     * still root, before it becomes User. */
    errno = 0;
    niceness = getpriority(PRIO_PROCESS, 0);
    if (errno != 0
        || setpriority(PRIO_PROCESS, 0,
                       niceness - POLYCOM_WRITER_NICER) != 0) {
        ap_log_error(APLOG_MARK, APLOG_INFO, APR_FROM_OS_ERROR(errno), s,
                     PCLOGNO(00053) "check-in writer: could not raise its "
                     "priority above the children's");
    }
    if (ap_unixd_setup_child()) {
        _exit(POLYCOM_WRITER_EXIT_FAILED);
    }
    apr_pool_create(pool, pconf);
    /* A loop's batches are freed when the next loop starts; an allocator
     * of its own returns what a burst took, where pconf's would keep it
     * for the life of the process. */
    if (apr_allocator_create(&allocator) != APR_SUCCESS) {
        _exit(POLYCOM_WRITER_EXIT_FAILED);
    }
    apr_allocator_max_free_set(allocator, POLYCOM_BATCH_KEEP);
    apr_pool_create_ex(iteration, *pool, NULL, allocator);
    apr_allocator_owner_set(allocator, *iteration);
    polycom_dbd_retrieve();
    /* mod_dbd's connection pools are made per process, in its child_init
     * hook: this process needs them, not the rest of a child's set-up. */
    dbd_init(*pool, s);

    rv = apr_pollset_create(&pollset, POLYCOM_WRITER_CLIENTS + 1, *pool, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PCLOGNO(00043)
                     "check-in writer: no pollset");
        _exit(POLYCOM_WRITER_EXIT_FAILED);
    }
    listen_pfd = apr_pcalloc(*pool, sizeof(*listen_pfd));
    listen_pfd->p = *pool;
    listen_pfd->desc_type = APR_POLL_SOCKET;
    listen_pfd->reqevents = APR_POLLIN;
    listen_pfd->desc.s = listener;
    apr_pollset_add(pollset, listen_pfd);
    *listen_out = listen_pfd;
    return pollset;
}

/* The writer process: never returns. It leaves with _exit() so that the
 * parent's cleanups (which remove the socket) do not run here. */
void polycom_writer_run(server_rec *s, apr_pool_t *pconf,
                        apr_socket_t *listener,
                        polycom_child_init_fn *dbd_init, int handed_over)
{
    apr_pollset_t *pollset;
    apr_pool_t *pool, *iteration;
    apr_pollfd_t *listen_pfd;
    apr_time_t last_checkpoint = apr_time_now();
    apr_time_t seen_at = 0, finish_by = 0;
    apr_status_t rv;
    int idle = 0, seen_more = 0;

    pollset = polycom_writer_setup(s, pconf, dbd_init, listener, &pool,
                                   &iteration, &listen_pfd);
    polycom_writer_servers_init(s, pool, handed_over);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, PCLOGNO(00037)
                 "check-in writer started (pid %" APR_PID_T_FMT "): %s",
                 getpid(), handed_over
                 ? "the one before left last_seen up to date"
                 : "last_seen goes over the last 30 s of check-ins");
    for (;;) {
        const apr_pollfd_t *ready;
        apr_array_header_t *batches;
        apr_time_t now = apr_time_now();
        int seen_due = polycom_writer_seen_due(now);
        apr_int32_t n, i;

        if (polycom_writer_replay_asked) {
            polycom_writer_replay(s);
            seen_due = polycom_writer_seen_due(now);
        }
        if (polycom_writer_stopping && listen_pfd) {
            polycom_writer_close_door(pollset, listener, listen_pfd, pool);
            listen_pfd = NULL;
            finish_by = now + POLYCOM_WRITER_FINISH_MAX;
        }
        /* Its last children gone, or lingering past the time allowed
         * (their connections close as it exits: they write their own). */
        if (polycom_writer_stopping
            && (!polycom_writer_clients || now > finish_by)) {
            polycom_writer_leave(iteration);
        }
        /* Rounds start POLYCOM_WRITER_SEEN_EVERY apart, from the start
         * of the one before; a writer finishing writes what it can. And
         * before a retention round: its snapshot prune keeps what
         * last_seen names, which must name the newest fetches. */
        if (seen_due
            && (idle || seen_more || polycom_writer_stopping
                || now - seen_at >= POLYCOM_WRITER_SEEN_EVERY
                || polycom_retention_due(s))) {
            apr_pool_clear(iteration);
            if (!seen_more) {
                seen_at = now;
            }
            seen_more = polycom_writer_seen(iteration, now);
            seen_due = polycom_writer_seen_due(now);
        }
        if (apr_time_now() - last_checkpoint >= POLYCOM_WRITER_CHECKPOINT) {
            apr_pool_clear(iteration);
            polycom_writer_checkpoint(iteration);
            last_checkpoint = apr_time_now();
        }
        /* It returns at once unless a round is due (every ten seconds,
         * every second while a backlog lasts), and not in the middle of
         * a flush (above); a writer finishing leaves the rounds to the
         * next, which has the current retention. */
        if (!polycom_writer_stopping && !seen_more) {
            polycom_retention_round(s, iteration);
        }
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
            _exit(POLYCOM_WRITER_EXIT_FAILED);
        }
        apr_pool_clear(iteration);
        batches = apr_array_make(iteration, n,
                                 sizeof(polycom_writer_batch *));
        for (i = 0; i < n; i++) {
            polycom_writer_client *client = ready[i].client_data;
            polycom_writer_batch *batch;

            if (!client) {              /* the listener: a new child */
                polycom_writer_accept(pollset, listener, pool);
                continue;
            }
            batch = polycom_writer_read(s, pollset, client, iteration);
            if (batch) {
                APR_ARRAY_PUSH(batches, polycom_writer_batch *) = batch;
            }
        }
        polycom_writer_commit(batches, iteration);
        polycom_writer_answer(pollset, batches);
    }
}
