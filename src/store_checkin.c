/* What the check-in path writes through the store: the check-ins of a
 * batch (their rows, the hourly counts, what they did to a move under
 * way, and for a child's own batch last_seen) in one transaction, and
 * the check-in writer's bringing last_seen up to date apart. */

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "polycom_name.h"
#include "polycom_param.h"
#include "polycom_seen.h"
#include "polycom_store_private.h"

/* One check-in: its row, and for a known phone whatever its request did
 * to a move under way; an unknown MAC is recorded as discovered. */
static int store_checkin_rows(polycom_db *db, const polycom_checkin *c,
                              int moves)
{
    apr_dbd_prepared_t *insert = polycom_store_prepared(db, ST_CHECKIN);
    const char *time_us;
    int rv, nrows = 0;

    if (!insert) {
        return -1;
    }
    time_us = apr_psprintf(db->pool, "%" APR_TIME_T_FMT, c->time);
    rv = apr_dbd_pquery(db->driver, db->pool, db->handle, &nrows, insert,
                        polycom_checkin_columns(),
                        polycom_checkin_insert_values(db->pool, c));
    if (!rv && c->mac[0] && c->unknown_phone) {
        apr_dbd_prepared_t *seen = polycom_store_prepared(db, ST_SEEN_UNKNOWN);

        rv = seen ? apr_dbd_pvquery(db->driver, db->pool, db->handle,
                                    &nrows, seen, c->mac, time_us, time_us,
                                    c->ip, c->model, c->firmware, NULL)
                  : -1;
    }
    else if (!rv && c->mac[0]) {
        if (c->delivered_target) {
            apr_dbd_prepared_t *deliver =
                polycom_store_prepared(db, ST_REPROV_DELIVER);

            rv = deliver ? apr_dbd_pvquery(db->driver, db->pool, db->handle,
                                           &nrows, deliver, c->mac,
                                           apr_psprintf(db->pool, "%"
                                                        APR_INT64_T_FMT,
                                                        c->delivered_target),
                                           time_us, NULL)
                         : -1;
        }
        if (!rv && moves && c->server_address && c->status < 400
            && polycom_checkin_names_its_mac(c)) {
            apr_dbd_prepared_t *confirm =
                polycom_store_prepared(db, ST_REPROV_CONFIRM);

            rv = confirm ? apr_dbd_pvquery(db->driver, db->pool, db->handle,
                                           &nrows, confirm, c->mac, time_us,
                                           c->server_address, c->mac, c->mac,
                                           NULL)
                         : -1;
        }
    }
    /* What the phone was served, once per distinct file: written here,
     * off the request path, with the check-in that tells who got it. */
    if (!rv && c->snapshot && c->etag[0] && c->status < 400) {
        apr_dbd_prepared_t *snap = polycom_store_prepared(db,
                                                          ST_SNAPSHOT_PUT);

        rv = snap ? apr_dbd_pvquery(db->driver, db->pool, db->handle,
                                    &nrows, snap, c->etag, time_us,
                                    c->snapshot, NULL)
                  : -1;
    }
    if (rv) {
        /* Flag the failure so that ending the transaction rolls it back. */
        return polycom_store_failed(db, ST_CHECKIN, rv);
    }
    return 0;
}

/* Worth another try: a MySQL deadlock or lock wait, or statements that
 * were just prepared again after the server had forgotten them. */
static int store_retryable(const polycom_db *db, int repaired_before)
{
    if (db->repaired > 0 && !repaired_before) {
        return 1;
    }
    return db->dialect == POLYCOM_DIALECT_MYSQL
           && (db->error_code == 1213 || db->error_code == 1205);
}

/* Runs @a once, again while store_retryable() says another try is worth
 * it, at most STORE_DEADLOCK_TRIES times. */
static int store_retried(polycom_db *db,
                         int (*once)(polycom_db *db, void *data), void *data)
{
    int tries = 0, rv, repaired;

    do {
        db->error_code = 0;
        repaired = db->repaired > 0;
        rv = once(db, data);
    } while (rv < 0 && store_retryable(db, repaired)
             && ++tries < STORE_DEADLOCK_TRIES);
    return rv;
}

int polycom_store_checkin(polycom_db *db, const polycom_checkin *c)
{
    return polycom_store_checkins(db, &c, 1, 1);
}

/* Upsert last_seen's rows, in the order given (MAC order: every
 * transaction that writes check-ins takes these rows last and in the same
 * order, so two nodes' batches never wait for each other in a circle):
 * STORE_SEEN_ROWS a statement, then STORE_SEEN_ROWS_FEW, then one. */
static int store_seen_upsert(polycom_db *db, const polycom_seen_row *rows,
                             int count)
{
    int done = 0;

    while (done < count) {
        int left = count - done;
        int n = left >= STORE_SEEN_ROWS ? STORE_SEEN_ROWS
                : left >= STORE_SEEN_ROWS_FEW ? STORE_SEEN_ROWS_FEW : 1;
        const char *label = n == STORE_SEEN_ROWS ? ST_SEEN_ROWS
                            : n == STORE_SEEN_ROWS_FEW ? ST_SEEN_ROWS_FEW
                            : ST_SEEN;
        apr_dbd_prepared_t *stmt = polycom_store_prepared(db, label);
        const char **values;
        int i, rv, nrows = 0;

        if (!stmt) {
            return -1;
        }
        values = apr_palloc(db->pool, sizeof(*values) * (9 * n + 1));
        for (i = 0; i < n; i++) {
            const polycom_seen_row *row = &rows[done + i];
            const char **v = values + 9 * i;

            v[0] = row->mac;
            v[1] = apr_psprintf(db->pool, "%" APR_TIME_T_FMT, row->time_us);
            v[2] = row->ip;
            v[3] = row->file;
            v[4] = apr_itoa(db->pool, row->status);
            v[5] = row->model;
            v[6] = row->firmware;
            v[7] = row->settings_etag;
            v[8] = apr_psprintf(db->pool, "%" APR_TIME_T_FMT,
                                row->settings_us);
        }
        values[9 * n] = NULL;
        rv = apr_dbd_pquery(db->driver, db->pool, db->handle, &nrows, stmt,
                            9 * n, values);
        if (rv) {
            return polycom_store_failed(db, label, rv);
        }
        done += n;
    }
    return 0;
}

/* Bring last_seen up to date with a batch: per MAC, its newest check-in
 * and its newest good fetch of its settings file (polycom_seen.h). */
static int store_seen(polycom_db *db, const polycom_checkin *const *list,
                      int count)
{
    polycom_seen_map *map = polycom_seen_map_make(db->pool);
    const polycom_seen_row *rows;
    int i, n;

    for (i = 0; i < count; i++) {
        polycom_seen_note(map, list[i]);
    }
    rows = polycom_seen_rows(map, db->pool, &n);
    return store_seen_upsert(db, rows, n);
}

static int store_seen_rows_once(polycom_db *db, const polycom_seen_row *rows,
                                int count)
{
    apr_dbd_transaction_t *txn = NULL;
    int failed;

    if (polycom_store_txn_begin(db, &txn) < 0) {
        return -1;
    }
    failed = store_seen_upsert(db, rows, count) < 0;
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    return polycom_store_txn_end(db, txn, failed);
}

static int store_hour_order(const void *a, const void *b)
{
    apr_int64_t x = *(const apr_int64_t *)a, y = *(const apr_int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Add a batch to the hourly counts (checkin_hours): one statement per
 * hour its check-ins were made in, a late one's too, in hour order, before
 * last_seen's rows: every check-in transaction takes the rows it shares
 * with others in the same order, so none waits for another in a circle. */
static int store_hours(polycom_db *db, const polycom_checkin *const *list,
                       int count)
{
    apr_dbd_prepared_t *stmt = polycom_store_prepared(db, ST_CHECKIN_HOUR);
    apr_int64_t *hours;
    int i, j;

    if (!stmt) {
        return -1;
    }
    hours = apr_palloc(db->pool, sizeof(*hours) * (count ? count : 1));
    for (i = 0; i < count; i++) {
        hours[i] = list[i]->time / APR_INT64_C(3600000000);
    }
    qsort(hours, count, sizeof(*hours), store_hour_order);
    for (i = 0; i < count; i = j) {
        int rv, nrows = 0;

        for (j = i; j < count && hours[j] == hours[i]; j++) {
        }
        rv = apr_dbd_pvquery(db->driver, db->pool, db->handle, &nrows, stmt,
                             apr_psprintf(db->pool, "%" APR_INT64_T_FMT,
                                          hours[i]),
                             apr_itoa(db->pool, j - i), NULL);
        if (rv) {
            return polycom_store_failed(db, ST_CHECKIN_HOUR, rv);
        }
    }
    return 0;
}

static int store_checkins_once(polycom_db *db,
                               const polycom_checkin *const *list, int count,
                               int seen)
{
    apr_dbd_transaction_t *txn = NULL;
    apr_array_header_t *rows;
    int i, failed = 0, moves;

    if (polycom_store_txn_begin(db, &txn) < 0) {
        return -1;
    }
    /* Confirming moves costs a statement per row: only while any move is
     * set up at all. Delivering and confirming move the revision. */
    failed = polycom_store_select(db, ST_REPROV_ANY, &rows, NULL) < 0;
    moves = !failed && rows->nelts
            && apr_atoi64(polycom_rows_first(rows, "targets")) > 0;
    for (i = 0; i < count && !failed && !moves; i++) {
        moves = list[i]->delivered_target != 0;
    }
    if (!failed && moves) {
        failed = polycom_store_lock_revision(db) < 0;
    }
    for (i = 0; i < count && !failed; i++) {
        failed = store_checkin_rows(db, list[i], moves) < 0;
    }
    if (!failed) {
        failed = store_hours(db, list, count) < 0;
    }
    if (!failed && seen) {
        failed = store_seen(db, list, count) < 0;
    }
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    return polycom_store_txn_end(db, txn, failed);
}

typedef struct {
    const polycom_checkin *const *list;
    int count;
    int seen;
} store_checkins_args;

static int store_checkins_call(polycom_db *db, void *data)
{
    store_checkins_args *args = data;

    return store_checkins_once(db, args->list, args->count, args->seen);
}

int polycom_store_checkins(polycom_db *db, const polycom_checkin *const *list,
                           int count, int seen)
{
    store_checkins_args args = { list, count, seen };

    return store_retried(db, store_checkins_call, &args);
}

/* The id before every check-in made within @a window of the newest. */
static int store_seen_replay_from(polycom_db *db, apr_interval_time_t window,
                                  apr_int64_t *after)
{
    apr_array_header_t *rows;

    if (polycom_store_select(db, ST_SEEN_REPLAY, &rows,
                             apr_psprintf(db->pool, "%" APR_TIME_T_FMT,
                                          window), NULL) < 0) {
        return -1;
    }
    *after = apr_atoi64(polycom_rows_first(rows, "replay_after"));
    return 0;
}

static int store_seen_flush_once(polycom_db *db, polycom_seen_mark *mark,
                                 apr_interval_time_t window, int *macs)
{
    apr_dbd_prepared_t *stmt = polycom_store_prepared(db, ST_SEEN_FLUSH);
    apr_array_header_t *rows;
    apr_int64_t after = mark->id, last, last_us, upto, replay;
    const char *from, *to;
    int rv, lost;

    *macs = 0;
    if (!stmt || polycom_store_select(db, ST_CHECKIN_LAST, &rows,
                                      apr_psprintf(db->pool, "%"
                                                   APR_INT64_T_FMT, after),
                                      NULL) < 0) {
        return -1;
    }
    last = apr_atoi64(polycom_rows_first(rows, "last_id"));
    last_us = apr_atoi64(polycom_rows_first(rows, "last_us"));
    /* Not known yet (a writer starting), or the check-in gone over last is
     * gone or another: the history was emptied or cut, a database
     * restored, or SQLite gave the id out again. */
    lost = after < 0 || last < after
           || (mark->time_us != -1
               && apr_atoi64(polycom_rows_first(rows, "mark_us"))
                  != mark->time_us);
    /* In the middle of a catch-up (a part gone over, its mark's time not
     * taken), the rest is gone over whatever its size: it is already
     * within the last moments, and looking them up again would read the
     * index of the whole range for each part. */
    if (lost || (mark->time_us != -1
                 && last - after > POLYCOM_SEEN_BACKLOG_IDS)) {
        /* From the check-ins of the last moments: a backlog older than
         * that (other nodes' check-ins since this one last wrote any)
         * holds none this one left out, unless its flushes failed that
         * long (PC00049). */
        if (store_seen_replay_from(db, window, &replay) < 0) {
            return -1;
        }
        after = lost || replay > after ? replay : after;
    }
    if (last == after) {
        mark->id = last;
        mark->time_us = last_us;
        return 0;
    }
    upto = last - after > POLYCOM_SEEN_FLUSH_IDS
           ? after + POLYCOM_SEEN_FLUSH_IDS : last;
    from = apr_psprintf(db->pool, "%" APR_INT64_T_FMT, after);
    to = apr_psprintf(db->pool, "%" APR_INT64_T_FMT, upto);
    /* One statement, its own transaction: it takes the turn as any write
     * outside a transaction does (a writer's catch-up after a restart, at
     * the busiest moment of the node). */
    polycom_store_write_begin(db);
    rv = apr_dbd_pvquery(db->driver, db->pool, db->handle, macs, stmt,
                         from, to, from, to, NULL);
    polycom_store_write_end(db);
    if (rv) {
        return polycom_store_failed(db, ST_SEEN_FLUSH, rv);
    }
    mark->id = upto;
    mark->time_us = upto == last ? last_us : -1;
    return upto < last;
}

typedef struct {
    polycom_seen_mark *mark;
    apr_interval_time_t window;
    int *macs;
} store_seen_flush_args;

static int store_seen_flush_call(polycom_db *db, void *data)
{
    store_seen_flush_args *args = data;

    return store_seen_flush_once(db, args->mark, args->window, args->macs);
}

int polycom_store_seen_flush(polycom_db *db, polycom_seen_mark *mark,
                             apr_interval_time_t window, int *macs)
{
    store_seen_flush_args args = { mark, window, macs };

    return store_retried(db, store_seen_flush_call, &args);
}

typedef struct {
    const polycom_seen_row *rows;
    int count;
} store_seen_rows_args;

static int store_seen_rows_call(polycom_db *db, void *data)
{
    store_seen_rows_args *args = data;

    return store_seen_rows_once(db, args->rows, args->count);
}

int polycom_store_seen_rows(polycom_db *db, const polycom_seen_row *rows,
                            int count)
{
    store_seen_rows_args args = { rows, count };

    return store_retried(db, store_seen_rows_call, &args);
}
