/* The store's machinery: statements found by label, rows read by column
 * name, the SQL dialects, transactions and their retries, generic SELECT
 * and exec for the admin API (a connection's set-up and its statements'
 * preparation: store_session.c). Together with
 * store_sql.c and store_phone.c, the only code that speaks SQL. */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_global_mutex.h>
#include <apr_thread_mutex.h>

#include "polycom_schema.h"
#include "polycom_store_private.h"

/* The statement of @a label (a few dozen: a scan costs less than the
 * query it precedes). */
const polycom_statement *polycom_store_statement(const char *label)
{
    apr_size_t i, count;
    const polycom_statement *all = polycom_store_statements(&count);

    for (i = 0; i < count; i++) {
        if (!strcmp(all[i].label, label)) {
            return &all[i];
        }
    }
    return strcmp(label, polycom_store_marker()->label)
           ? NULL : polycom_store_marker();
}

/* The place of @a name in a statement's column list, or -1. */
static int store_column_index(const char *columns, const char *name)
{
    apr_size_t len = strlen(name), n;
    int i = 0;

    while (columns && *columns) {
        n = strcspn(columns, " ");
        if (n == len && !strncmp(columns, name, len)) {
            return i;
        }
        columns += n;
        columns += strspn(columns, " ");
        i++;
    }
    return -1;
}

static int store_column_count(const char *columns)
{
    int i = 0;

    while (columns && *columns) {
        columns += strcspn(columns, " ");
        columns += strspn(columns, " ");
        i++;
    }
    return i;
}

/* The place of column @a name in the rows of @a label: for the loops that
 * read a result as it comes (polycom_store_params), without rows. */
int polycom_store_column_of(const char *label, const char *name)
{
    const polycom_statement *st = polycom_store_statement(label);

    return st ? store_column_index(st->columns, name) : -1;
}

const char *polycom_row_get(const polycom_row *row, const char *column)
{
    int i = store_column_index(row->columns, column);

    return i < 0 ? NULL : row->values[i];
}

const char *polycom_row_at(const polycom_row *row, int column)
{
    return column < 0 ? NULL : row->values[column];
}

const char *polycom_rows_first(const apr_array_header_t *rows,
                               const char *column)
{
    return rows->nelts ? polycom_row_get(APR_ARRAY_IDX(rows, 0,
                                                       const polycom_row *),
                                         column)
                       : NULL;
}

polycom_dialect polycom_store_dialect(const apr_dbd_driver_t *driver)
{
    const char *name = apr_dbd_name(driver);

    if (!strcmp(name, "sqlite3")) {
        return POLYCOM_DIALECT_SQLITE;
    }
    if (!strcmp(name, "pgsql")) {
        return POLYCOM_DIALECT_PGSQL;
    }
    if (!strcmp(name, "mysql")) {
        return POLYCOM_DIALECT_MYSQL;
    }
    return POLYCOM_DIALECT_UNKNOWN;
}

void polycom_store_init(polycom_db *db, const apr_dbd_driver_t *driver,
                        apr_dbd_t *handle, apr_hash_t *prepared,
                        apr_pool_t *pool)
{
    db->driver = driver;
    db->handle = handle;
    db->prepared = prepared;
    db->pool = pool;
    db->error = NULL;
    db->in_transaction = 0;
    db->error_code = 0;
    db->dialect = polycom_store_dialect(driver);
    db->repair = NULL;
    db->repair_data = NULL;
    db->repaired = 0;
    db->repair_pending = 0;
    db->write_turn = 0;
}

/* Statements the connection lost (polycom_store_statements_lost): prepared
 * again through the caller's repair function, at once or, inside a
 * transaction (which the failure aborted), when it has ended. */
static void store_repair(polycom_db *db)
{
    if (db->in_transaction) {
        db->repair_pending = 1;
        return;
    }
    db->repair_pending = 0;
    db->repaired = db->repair(db, db->repair_data) == 0 ? 1 : -1;
}

int polycom_store_failed(polycom_db *db, const char *label, int rv)
{
    const char *msg = apr_dbd_error(db->driver, db->handle, rv);

    db->error_code = rv;

    db->error = apr_psprintf(db->pool, "%s: %s", label,
                             msg ? msg : "unknown database error");
    if (db->repair && !db->repaired && polycom_store_statements_lost(db)) {
        store_repair(db);
    }
    return -1;
}

/* A statement that failed because the connection had lost its prepared
 * statements (polycom_store_statements_lost), outside a transaction: they
 * have just been prepared again, and the statement, which never ran, runs
 * once more with its new handle, so the request that found them lost is
 * answered instead of refused. Inside a transaction the failure stands:
 * the transaction is over, and the repair waits for its end. */
static int store_retry_after_repair(polycom_db *db, const char *label,
                                    int rv, apr_dbd_prepared_t **stmt)
{
    int repaired_before = db->repaired;

    if (db->in_transaction || repaired_before) {
        return 0;
    }
    polycom_store_failed(db, label, rv);
    if (db->repaired <= 0) {
        return 0;
    }
    *stmt = polycom_store_prepared(db, label);
    if (!*stmt) {
        return 0;
    }
    /* Answered after all: a later failure of the request is its own (a
     * 500 and its log line), not "statements lost, come back" (503). */
    db->error = NULL;
    db->error_code = 0;
    db->repaired = 0;
    return 1;
}

/* Read the whole result. The driver must see every row (or the -1 that
 * ends the set) to release it, so callers consume rows in a loop that never
 * breaks out early. SELECTs ask for a random-access result: the pgsql
 * driver then fetches it whole and reports a lost connection as an error,
 * where a sequential result would just end, empty. Not from the mysql
 * driver, whose random-access result yields no row to "next" (-1); it
 * fetches every result whole anyway. */
int polycom_store_random_access(const polycom_db *db)
{
    return db->dialect != POLYCOM_DIALECT_MYSQL;
}

const char *polycom_store_entry(polycom_db *db, apr_dbd_row_t *row, int col)
{
    const char *v = apr_dbd_get_entry(db->driver, row, col);

    /* apr_dbd_sqlite3 copies every value of a result into db->pool as it
     * runs the statement, so a value lives as long as a copy would: used
     * as it is, where a copy cost a request's cold path one per column of
     * every row. The pgsql driver frees its result once the last row has
     * been read, and the mysql driver reuses its buffers for the next row:
     * theirs are copied. */
    if (!v) {
        return "";
    }
    return db->dialect == POLYCOM_DIALECT_SQLITE ? v
                                                 : apr_pstrdup(db->pool, v);
}

/* SQLite has one writer at a time, and apr_dbd_sqlite3 runs every call of
 * a process behind one mutex, waiting out a busy database while holding
 * it. A thread whose write waits for another thread's open transaction
 * would hold that mutex, so the other could never commit: a deadlock until
 * the busy timeout. Writers of one process therefore take turns here
 * first. PostgreSQL needs no such thing and does not get it.
 *
 * And between the processes of a node (its children and the check-in
 * writer), the gate: a write that met another process's transaction
 * waited in SQLite's busy handler, inside that same mutex, so every
 * statement of the child, the one-row reads of its cache hits too, waited
 * with it. Waiting at the gate holds nothing else up (make bench, 100,000
 * phones, boot sequence with keep-alive). Other writers of the file (a
 * second node, the sqlite3 shell) are still waited out by SQLite. */
static apr_thread_mutex_t *store_write_lock = NULL;
static apr_global_mutex_t *store_write_gate = NULL;

void polycom_store_child_init(apr_pool_t *pool)
{
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&store_write_lock, APR_THREAD_MUTEX_DEFAULT,
                                pool) != APR_SUCCESS) {
        store_write_lock = NULL;
    }
#endif
}

void polycom_store_write_gate(apr_global_mutex_t *gate)
{
    store_write_gate = gate;
}

static int store_serialised(polycom_db *db)
{
    return (store_write_lock || store_write_gate)
           && db->dialect == POLYCOM_DIALECT_SQLITE;
}

/* The turns a write holds (db->write_turn): the process's, the node's. */
#define STORE_GATE_WAIT apr_time_from_sec(5)
#define STORE_TURN_THREAD 1
#define STORE_TURN_GATE   2

void polycom_store_write_begin(polycom_db *db)
{
    if (!store_serialised(db) || db->in_transaction) {
        return;
    }
    db->write_turn = 0;
#if APR_HAS_THREADS
    if (store_write_lock
        && apr_thread_mutex_lock(store_write_lock) == APR_SUCCESS) {
        db->write_turn |= STORE_TURN_THREAD;
    }
#endif
    /* Waited for as long as SQLite's busy timeout would have: a process
     * that never lets go (stopped inside a transaction, say) must not
     * keep every writer of the node waiting for ever. Without the turn,
     * SQLite's busy timeout waits as before and then fails the write. */
    if (store_write_gate
        && apr_global_mutex_timedlock(store_write_gate,
                                      STORE_GATE_WAIT)
           == APR_SUCCESS) {
        db->write_turn |= STORE_TURN_GATE;
    }
}

void polycom_store_write_end(polycom_db *db)
{
    if (!store_serialised(db) || db->in_transaction) {
        return;
    }
    if (db->write_turn & STORE_TURN_GATE) {
        apr_global_mutex_unlock(store_write_gate);
    }
#if APR_HAS_THREADS
    if (db->write_turn & STORE_TURN_THREAD) {
        apr_thread_mutex_unlock(store_write_lock);
    }
#endif
    db->write_turn = 0;
}

/* polycom_store_write_begin for work that can wait for its next round: 0 with
 * the turn taken (or none needed), 1 when another thread or process has
 * it. */
static int store_write_try(polycom_db *db)
{
    if (!store_serialised(db) || db->in_transaction) {
        return 0;
    }
    db->write_turn = 0;
#if APR_HAS_THREADS
    if (store_write_lock) {
        if (apr_thread_mutex_trylock(store_write_lock) != APR_SUCCESS) {
            return 1;
        }
        db->write_turn |= STORE_TURN_THREAD;
    }
#endif
    if (store_write_gate) {
        if (apr_global_mutex_trylock(store_write_gate) != APR_SUCCESS) {
            polycom_store_write_end(db);
            return 1;
        }
        db->write_turn |= STORE_TURN_GATE;
    }
    return 0;
}

/* Room for the pgsql driver's transaction record (an int mode, an int
 * error number and its handle), with margin. */
#define STORE_PGSQL_TXN_SIZE 64

int polycom_store_txn_begin(polycom_db *db, apr_dbd_transaction_t **txn)
{
    int rv;

    polycom_store_write_begin(db);
    /* apr_dbd_pgsql allocates the record only when BEGIN succeeds, then
     * writes into it either way: a BEGIN on a connection whose server went
     * away (its first query after an outage) crashed the process. Given a
     * record, it fills that one in. (The sqlite3 driver must make its own:
     * it links the record to its handle only when it allocates it.) */
    *txn = db->dialect == POLYCOM_DIALECT_PGSQL
        ? apr_pcalloc(db->pool, STORE_PGSQL_TXN_SIZE) : NULL;
    rv = apr_dbd_transaction_start(db->driver, db->pool, db->handle, txn);
    if (rv) {
        if (db->dialect == POLYCOM_DIALECT_PGSQL) {
            /* Unlink the failed record from the handle. */
            apr_dbd_transaction_mode_set(db->driver, *txn,
                                         APR_DBD_TRANSACTION_ROLLBACK);
            apr_dbd_transaction_end(db->driver, db->pool, *txn);
        }
        polycom_store_write_end(db);
        return polycom_store_failed(db, "begin", rv);
    }
    db->in_transaction = 1;
    return 0;
}

int polycom_store_txn_end(polycom_db *db, apr_dbd_transaction_t *txn,
                          int failed)
{
    int rv = apr_dbd_transaction_end(db->driver, db->pool, txn);

    db->in_transaction = 0;
    polycom_store_write_end(db);
    if (db->repair_pending) {
        store_repair(db);
    }
    if (failed) {
        return -1;
    }
    return rv ? polycom_store_failed(db, "commit", rv) : 0;
}

/* A transaction that changes served data moves the revision row, through
 * the triggers, at whatever point it reaches such a table: the revision is
 * the one row every such transaction locks. Taking it first, before any
 * other row, orders them all the same way, so two of them never wait for
 * each other in a circle (InnoDB and PostgreSQL would end one as a
 * deadlock: seen with a check-in delivering a move while an admin replaced
 * that move). For SQLite it is the write lock it takes anyway. */
int polycom_store_lock_revision(polycom_db *db)
{
    apr_dbd_prepared_t *stmt = polycom_store_prepared(db, ST_REVISION_LOCK);
    int rv, nrows = 0;

    if (!stmt) {
        return -1;
    }
    rv = apr_dbd_pvquery(db->driver, db->pool, db->handle, &nrows, stmt,
                         NULL);
    return rv ? polycom_store_failed(db, ST_REVISION_LOCK, rv) : 0;
}

/* Gather NULL-terminated string arguments into an array. */
static apr_array_header_t *store_args(apr_pool_t *pool, va_list ap)
{
    apr_array_header_t *values = apr_array_make(pool, 8,
                                                sizeof(const char *));
    const char *value;

    while ((value = va_arg(ap, const char *)) != NULL) {
        APR_ARRAY_PUSH(values, const char *) = value;
    }
    return values;
}

int polycom_store_select(polycom_db *db, const char *label,
                         apr_array_header_t **rows, ...)
{
    const polycom_statement *st = polycom_store_statement(label);
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *args;
    va_list ap;
    int rv, ncols, i, width, wrong = -1;

    *rows = apr_array_make(db->pool, 16, sizeof(const polycom_row *));
    width = st ? store_column_count(st->columns) : 0;
    if (st && !width) {
        db->error = apr_psprintf(db->pool, "%s names no columns to read",
                                 label);
        return -1;
    }
    va_start(ap, rows);
    args = store_args(db->pool, ap);
    va_end(ap);
    /* SQLite's reads outside a transaction skip apr_dbd's process-wide
     * mutex (store_native.c); inside one, apr_dbd must see their errors,
     * which decide whether it commits. Asked first: a statement apr_dbd
     * could not prepare on this connection (a table an upgrade added
     * since) may prepare now. */
    if (st && db->dialect == POLYCOM_DIALECT_SQLITE && !db->in_transaction) {
        rv = polycom_store_native_select(db, st, width, args, *rows);
        if (rv != POLYCOM_NATIVE_UNPREPARED) {
            return rv;
        }
    }
    /* NULL for a label that names no statement (st NULL) too. */
    stmt = polycom_store_prepared(db, label);
    if (!stmt) {
        return -1;
    }
    rv = apr_dbd_pselect(db->driver, db->pool, db->handle, &res, stmt,
                         polycom_store_random_access(db), args->nelts,
                         (const char **)args->elts);
    if (rv && store_retry_after_repair(db, label, rv, &stmt)) {
        rv = apr_dbd_pselect(db->driver, db->pool, db->handle, &res, stmt,
                             polycom_store_random_access(db), args->nelts,
                             (const char **)args->elts);
    }
    if (rv) {
        return polycom_store_failed(db, label, rv);
    }
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        polycom_row *r;

        /* Asked per row: the pgsql driver knows the width of a sequential
         * result only once a row has arrived. */
        ncols = apr_dbd_num_cols(db->driver, res);
        if (ncols != width) {
            wrong = ncols;      /* read on: the driver must see every row */
            continue;
        }
        r = apr_palloc(db->pool, sizeof(*r));
        r->columns = st->columns;
        r->values = apr_palloc(db->pool, sizeof(const char *) * width);
        for (i = 0; i < width; i++) {
            r->values[i] = polycom_store_entry(db, row, i);
        }
        APR_ARRAY_PUSH(*rows, const polycom_row *) = r;
    }
    if (wrong != -1) {
        db->error = apr_psprintf(db->pool, "%s returned %d columns where it "
                                 "names %d", label, wrong, width);
        return -1;
    }
    return 0;
}

/* Run a prepared write with the turn taken (polycom_store_write_begin, or
 * store_write_try when @a wait is 0: then 1 when it was not free). */
static int store_exec_args(polycom_db *db, const char *label, int *nrows,
                           int wait, va_list ap)
{
    apr_dbd_prepared_t *stmt = polycom_store_prepared(db, label);
    apr_array_header_t *args;
    int rv, changed = 0;

    if (!stmt) {
        return -1;
    }
    args = store_args(db->pool, ap);
    if (!wait) {
        if (store_write_try(db)) {
            return 1;
        }
    }
    else {
        polycom_store_write_begin(db);
    }
    rv = apr_dbd_pquery(db->driver, db->pool, db->handle, &changed, stmt,
                        args->nelts, (const char **)args->elts);
    if (rv && store_retry_after_repair(db, label, rv, &stmt)) {
        rv = apr_dbd_pquery(db->driver, db->pool, db->handle, &changed,
                            stmt, args->nelts, (const char **)args->elts);
    }
    polycom_store_write_end(db);
    if (nrows) {
        *nrows = changed;
    }
    return rv ? polycom_store_failed(db, label, rv) : 0;
}

int polycom_store_exec(polycom_db *db, const char *label, int *nrows, ...)
{
    va_list ap;
    int rv;

    va_start(ap, nrows);
    rv = store_exec_args(db, label, nrows, 1, ap);
    va_end(ap);
    return rv;
}

int polycom_store_exec_unless_busy(polycom_db *db, const char *label,
                                   int *nrows, ...)
{
    va_list ap;
    int rv;

    va_start(ap, nrows);
    rv = store_exec_args(db, label, nrows, 0, ap);
    va_end(ap);
    return rv;
}


int polycom_store_finish(polycom_db *db, apr_dbd_transaction_t *txn,
                         int failed)
{
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    return polycom_store_txn_end(db, txn, failed);
}

int polycom_store_begin(polycom_db *db, apr_dbd_transaction_t **txn)
{
    if (polycom_store_txn_begin(db, txn) < 0) {
        return -1;
    }
    /* The admin API's transactions change served data: revision first. */
    if (polycom_store_lock_revision(db) < 0) {
        polycom_store_finish(db, *txn, 1);
        return -1;
    }
    return 0;
}

int polycom_store_revision(polycom_db *db, apr_int64_t *revision)
{
    apr_array_header_t *rows;

    *revision = -1;
    if (polycom_store_select(db, ST_REVISION, &rows, NULL) < 0) {
        return -1;
    }
    if (rows->nelts) {
        *revision = apr_atoi64(polycom_rows_first(rows, "value"));
    }
    return 0;
}

int polycom_store_checkpoint(polycom_db *db, int restart)
{
    int rv;

    if (db->dialect != POLYCOM_DIALECT_SQLITE) {
        return 0;
    }
    /* The copying and its syncs first, without the node's turn to write:
     * a PASSIVE checkpoint waits for no one and no writer waits for it.
     * Done under the turn, they held every writer of the node (a phone's
     * log upload) for 20-30 ms, four times a second (make bench's rig,
     * 100,000 phones, log PUTs at 1,600 a second, the children's own
     * checkpoints off in both: the checkpoint's hold of the turn p50 22.7
     * -> 10.9 ms, the uploads' wait for the turn p99 35 -> 13 ms).
     *
     * Then RESTART, under the turn: it waits (busy_timeout) until the
     * readers are on the newest snapshot, copies what was committed
     * meanwhile, then waits until none reads the WAL, so that the next
     * commit writes it from its start. A passive checkpoint alone never
     * waits, and under steady reads some reader always held a part of the
     * WAL: it grew by megabytes a second (readers are never blocked by
     * either, only writers wait). Whether a RESTART was kept from
     * restarting (a reader on the WAL past the busy timeout) is not
     * asked: the writer's next batch asks for another. */
    rv = polycom_store_setting(db, "PRAGMA wal_checkpoint(PASSIVE)");
    if (!rv && restart) {
        polycom_store_write_begin(db);
        rv = polycom_store_setting(db, "PRAGMA wal_checkpoint(RESTART)");
        polycom_store_write_end(db);
    }
    return rv ? polycom_store_failed(db, "checkpoint", rv) : 0;
}
