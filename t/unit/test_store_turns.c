/* Unit tests of the turns SQLite writers take (src/store.c), against a
 * real SQLite database through apr_dbd (sql/sqlite.sql, loaded by the
 * sqlite3 CLI; run from the top of the tree): between the threads of one
 * process, and between the processes of a node at its gate. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_global_mutex.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "polycom_store.h"
#include "polycom_store_private.h"
#include "tap.h"

static apr_pool_t *pool;
static const apr_dbd_driver_t *driver;

/* A child's retention prune beside a transaction of another thread of the
 * same child (a batch of check-ins the child writes itself). When the
 * prune waited for that transaction inside apr_dbd_sqlite3's process-wide
 * mutex, the transaction could not run its next statement, and both (and
 * every request of the child) stood still until the busy timeout. The
 * prune now leaves its round for later instead, and runs once the
 * transaction is over. */
typedef struct {
    polycom_db *db;
    volatile apr_uint32_t in_transaction;
    volatile apr_uint32_t done;         /* committed */
    apr_interval_time_t rest_took;  /* the transaction after its pause */
    int ok;
} prune_peer;

static void *APR_THREAD_FUNC transaction_thread(apr_thread_t *thread,
                                                void *data)
{
    prune_peer *peer = data;
    apr_dbd_transaction_t *txn = NULL;
    apr_time_t start;

    peer->ok = polycom_store_txn_begin(peer->db, &txn) == 0;
    apr_atomic_set32(&peer->in_transaction, 1);
    apr_sleep(apr_time_from_msec(300));    /* the prune starts meanwhile */
    start = apr_time_now();
    peer->ok = peer->ok && polycom_store_lock_revision(peer->db) == 0;
    peer->ok = polycom_store_txn_end(peer->db, txn, !peer->ok) == 0
               && peer->ok;
    peer->rest_took = apr_time_now() - start;
    apr_atomic_set32(&peer->done, 1);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static polycom_db *second_connection(const char *path, apr_pool_t *p,
                                     apr_dbd_t **h)
{
    polycom_db *db = apr_pcalloc(p, sizeof(*db));
    apr_hash_t *prepared = apr_hash_make(p);
    const char *error;
    int nrows;

    if (apr_dbd_open(driver, p, path, h) != APR_SUCCESS
        || polycom_store_session(p, driver, *h, &error) != 0
        || polycom_store_prepare(p, driver, *h, prepared, &error) != 0) {
        return NULL;
    }
    /* Answers with a row, which the driver calls a failure: unchecked. */
    apr_dbd_query(driver, *h, &nrows, "PRAGMA busy_timeout = 3000");
    polycom_store_init(db, driver, *h, prepared, p);
    return db;
}

static void test_prune_beside_transaction(const char *path)
{
    apr_pool_t *pa, *pb;
    apr_dbd_t *ha = NULL, *hb = NULL;
    prune_peer peer;
    polycom_db *pruner;
    apr_thread_t *thread;
    apr_status_t rv;
    apr_time_t start;
    apr_interval_time_t took;
    int deleted = -1, pruned, still_open;

    polycom_store_child_init(pool);     /* the writers' turns */
    apr_pool_create(&pa, pool);
    apr_pool_create(&pb, pool);
    memset(&peer, 0, sizeof(peer));
    peer.db = second_connection(path, pa, &ha);
    pruner = second_connection(path, pb, &hb);
    if (!peer.db || !pruner) {
        tap_ok(0, "two more connections to the test database");
        return;
    }
    apr_thread_create(&thread, NULL, transaction_thread, &peer, pool);
    while (!apr_atomic_read32(&peer.in_transaction)) {
        apr_sleep(1000);
    }
    start = apr_time_now();
    pruned = polycom_store_prune_snapshots(pruner, apr_time_now(), &deleted);
    took = apr_time_now() - start;
    still_open = !apr_atomic_read32(&peer.done);
    apr_thread_join(&rv, thread);
    tap_ok(peer.ok, "a transaction of one thread commits while another "
           "thread of the process prunes");
    tap_ok(peer.rest_took < apr_time_from_msec(1000),
           apr_psprintf(pool, "without waiting for the prune: its last "
                        "statement and commit took %" APR_TIME_T_FMT " ms "
                        "(the busy timeout is 3000)",
                        apr_time_as_msec(peer.rest_took)));
    tap_ok(pruned == 1 && deleted == 0 && still_open,
           apr_psprintf(pool, "the prune, beside the open transaction, "
                        "leaves its round for later (returned %d, deleted "
                        "%d)", pruned, deleted));
    tap_ok(took < apr_time_from_msec(100),
           apr_psprintf(pool, "at once (%" APR_TIME_T_FMT " ms), without "
                        "waiting for the transaction's turn",
                        apr_time_as_msec(took)));
    pruned = polycom_store_prune_snapshots(pruner, apr_time_now(), &deleted);
    tap_ok(pruned == 0,
           "once the transaction is over, the prune runs");
    apr_dbd_close(driver, ha);
    apr_dbd_close(driver, hb);
}

/* The node's gate (polycom_store_write_gate): held by another process,
 * housekeeping leaves its round for later at once, and a transaction
 * waits for the gate (not its 5 s limit) instead of for SQLite's lock. */
static void test_gate(const char *path)
{
    apr_global_mutex_t *gate;
    apr_pool_t *pg;
    apr_dbd_t *hg = NULL;
    apr_dbd_transaction_t *txn = NULL;
    polycom_db *db;
    apr_proc_t other;
    apr_time_t start, begun, released = 0;
    apr_interval_time_t took;
    int ready[2], deleted = -1, pruned, began;

    apr_pool_create(&pg, pool);
    db = second_connection(path, pg, &hg);
    if (!db || pipe(ready) != 0
        || apr_global_mutex_create(&gate, NULL, APR_LOCK_DEFAULT, pg)
           != APR_SUCCESS) {
        tap_ok(0, "a connection and a gate for the test");
        return;
    }
    polycom_store_write_gate(gate);
    switch (apr_proc_fork(&other, pg)) {
    case APR_INCHILD:
        /* Another process of the node, writing for a second; it says
         * when it took the gate, then when it let it go. */
        close(ready[0]);
        apr_global_mutex_child_init(&gate, apr_global_mutex_lockfile(gate),
                                    pg);
        apr_global_mutex_lock(gate);
        start = apr_time_now();
        if (write(ready[1], &start, sizeof(start)) != sizeof(start)) {
            _exit(1);
        }
        apr_sleep(apr_time_from_sec(1));
        start = apr_time_now();
        apr_global_mutex_unlock(gate);
        if (write(ready[1], &start, sizeof(start)) != sizeof(start)) {
            _exit(1);
        }
        _exit(0);
    case APR_INPARENT:
        break;
    default:
        tap_ok(0, "another process for the test");
        polycom_store_write_gate(NULL);
        return;
    }
    close(ready[1]);
    if (read(ready[0], &start, sizeof(start)) != sizeof(start)) {
        tap_ok(0, "the other process holds the gate");
    }
    start = apr_time_now();
    pruned = polycom_store_prune_snapshots(db, apr_time_now(), &deleted);
    took = apr_time_now() - start;
    tap_ok(pruned == 1 && deleted == 0 && took < apr_time_from_msec(100),
           apr_psprintf(pool, "another process at the gate: the prune "
                        "leaves its round for later at once (returned %d "
                        "in %" APR_TIME_T_FMT " ms)", pruned,
                        apr_time_as_msec(took)));
    began = polycom_store_txn_begin(db, &txn);
    begun = apr_time_now();
    took = begun - start;
    if (read(ready[0], &released, sizeof(released)) != sizeof(released)) {
        released = 0;
    }
    tap_ok(began == 0 && released && begun >= released
           && took < apr_time_from_sec(4),
           apr_psprintf(pool, "a transaction begins once the other process "
                        "lets the gate go (after %" APR_TIME_T_FMT " ms; "
                        "the gate's limit is 5 s)", apr_time_as_msec(took)));
    if (began == 0) {
        tap_ok(polycom_store_txn_end(db, txn, 0) == 0,
               "and commits");
    }
    else {
        tap_ok(0, "and commits");
    }
    apr_proc_wait(&other, NULL, NULL, APR_WAIT);
    polycom_store_write_gate(NULL);
    apr_dbd_close(driver, hg);
    close(ready[0]);
}

int main(void)
{
    apr_file_t *file;
    const char *dir;
    char *path;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    apr_dbd_init(pool);

    apr_temp_dir_get(&dir, pool);
    path = apr_pstrcat(pool, dir, "/polycom-test-turns-XXXXXX", NULL);
    if (apr_file_mktemp(&file, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                        | APR_FOPEN_EXCL | APR_FOPEN_DELONCLOSE, pool)
        != APR_SUCCESS
        || system(apr_psprintf(pool, "sqlite3 '%s' '.read sql/sqlite.sql' "
                               ">/dev/null", path)) != 0
        || apr_dbd_get_driver(pool, "sqlite3", &driver) != APR_SUCCESS) {
        printf("Bail out! no SQLite database at %s (sqlite3 CLI, "
               "libaprutil1-dbd-sqlite3, run from the top of the tree)\n",
               path);
        return 1;
    }

    test_prune_beside_transaction(path);
    test_gate(path);

    apr_file_remove(apr_pstrcat(pool, path, "-wal", NULL), pool);
    apr_file_remove(apr_pstrcat(pool, path, "-shm", NULL), pool);
    apr_file_close(file);
    return tap_done();
}
