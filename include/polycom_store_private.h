/**
 * @file polycom_store_private.h
 * @brief What the store's files (store.c, store_sql.c, store_phone.c,
 * store_checkin.c) share with each other only: statement labels, the
 * numeric placeholder and the helpers every query uses. Pure: APR only.
 */
#ifndef POLYCOM_STORE_PRIVATE_H
#define POLYCOM_STORE_PRIVATE_H

#include "polycom_store.h"

#define ST_PHONE          "mod_polycom_phone"
#define ST_PARAMS_PHONE   "mod_polycom_params_phone"
#define ST_PARAMS_GLOBAL  "mod_polycom_params_global"
#define ST_CHECKIN        "mod_polycom_checkin"
#define ST_LAST_IP        "mod_polycom_last_ip"
#define ST_SEEN           "mod_polycom_seen"
#define ST_SEEN_UNKNOWN   "mod_polycom_seen_unknown"
#define ST_SEEN_FLUSH     "mod_polycom_seen_flush"
#define ST_SEEN_ROWS      "mod_polycom_seen_rows"
#define ST_SEEN_ROWS_FEW  "mod_polycom_seen_rows_few"
#define ST_SEEN_REPLAY    "mod_polycom_seen_replay"
#define ST_CHECKIN_LAST   "mod_polycom_checkin_last"
#define ST_UPLOAD_GET     "mod_polycom_upload_get"
#define ST_UPLOAD_PUT     "mod_polycom_upload_put"
#define ST_LOG_GET        "mod_polycom_log_get"
#define ST_LOG_ADD        "mod_polycom_log_add"
#define ST_LOG_SIZES      "mod_polycom_log_sizes"
#define ST_LOG_PRUNE      "mod_polycom_log_prune"
#define ST_USAGE          "mod_polycom_usage"
#define ST_PRUNE_CHECKINS "mod_polycom_prune_checkins"
#define ST_CHECKIN_HOUR   "mod_polycom_checkin_hour"
#define ST_PRUNE_CHECKIN_HOURS "mod_polycom_prune_checkin_hours"
#define ST_PRUNE_LOGS     "mod_polycom_prune_logs"
#define ST_REPROV_DELIVER "mod_polycom_reprov_deliver"
#define ST_REVISION       "mod_polycom_revision"
#define ST_MARKER         "mod_polycom_marker"
/* The first statement prepared at its first use on a connection (the
 * statements after it in store_sql.c too). */
#define STORE_FIRST_ON_USE ST_SEEN_ROWS
#define ST_REPROV_ANY     "mod_polycom_reprov_any"
#define ST_PHONE_AT       "mod_polycom_phone_at"
#define ST_PHONE_OWN_AT   "mod_polycom_phone_own_at"
#define ST_LAYERS_AT      "mod_polycom_layers_at"
#define ST_REPROV_CONFIRM "mod_polycom_reprov_confirm"
#define ST_REVISION_LOCK  "mod_polycom_revision_lock"
#define ST_SNAPSHOT_PUT   "mod_polycom_snapshot_put"
#define ST_PRUNE_SNAPSHOTS "mod_polycom_prune_snapshots"
#define ST_SCOPES_SINCE   "mod_polycom_scopes_since"


/* How often a transaction the database chose as a deadlock's victim is
 * run again before its check-ins count as lost. */
#define STORE_DEADLOCK_TRIES 3


/* apr_dbd turns each %s into the driver's own placeholder; values are
 * always bound, never spliced into the text. Every value is passed as a
 * string; PostgreSQL types such a parameter as varchar, so each one that
 * meets a number is cast (NUM), which SQLite reads the same way. MySQL
 * spells that cast "AS SIGNED" and allows only a bare placeholder after
 * LIMIT and OFFSET: polycom_store_sql_for() rewrites NUM for it. */
#define NUM "CAST(%s AS BIGINT)"


/* A row of a SELECT (polycom_row_get reads it by name). */
struct polycom_row {
    const char *columns;        /* the statement's names */
    const char **values;        /* one per name */
};


/* store.c: the statements, connections and transactions. */

/** The index of @a name among the result columns @a label declares. */
int polycom_store_column_of(const char *label, const char *name);
/** The value at @a column (polycom_store_column_of) of a row of that
 *  statement: for loops over many rows, where a look-up of the name in
 *  each row costs more than the rest of the row. */
const char *polycom_row_at(const polycom_row *row, int column);
/** The prepared statement of @a label on this connection, or NULL (with
 *  db->error set). */
apr_dbd_prepared_t *polycom_store_prepared(polycom_db *db, const char *label);
/* The statement of @a label (the marker's too), or NULL. */
const polycom_statement *polycom_store_statement(const char *label);
/** Records a failed statement in db (error text, driver error number,
 *  statements lost); returns -1. */
int polycom_store_failed(polycom_db *db, const char *label, int rv);
/** Non-zero when the driver's results may be read in any order. */
int polycom_store_random_access(const polycom_db *db);
/** A column of a row as text, "" for NULL. */
const char *polycom_store_entry(polycom_db *db, apr_dbd_row_t *row, int col);
/** A transaction on db, joined by every store call until it ends. */
int polycom_store_txn_begin(polycom_db *db, apr_dbd_transaction_t **txn);
int polycom_store_txn_end(polycom_db *db, apr_dbd_transaction_t *txn,
                          int failed);
/** A write outside any transaction takes its turn first (on SQLite: the
 *  process's lock, then the node's gate) and gives it back after. Inside a
 *  transaction both do nothing: polycom_store_txn_begin took the turn. */
void polycom_store_write_begin(polycom_db *db);
void polycom_store_write_end(polycom_db *db);
/* store_sql.c: the text of the statements that are generated (the
 * table has NULL for them): ST_CHECKIN from polycom_checkin.h, and
 * ST_SEEN_ROWS (STORE_SEEN_ROWS rows of last_seen a statement),
 * ST_SEEN_ROWS_FEW (STORE_SEEN_ROWS_FEW). */
#define STORE_SEEN_ROWS     100
#define STORE_SEEN_ROWS_FEW 10
const char *polycom_store_generated_sql(apr_pool_t *pool, const char *label,
                                        int mysql);

/** The schema may have changed under the connection (SQLite prepared a
 *  statement again by itself): the statements that failed to prepare on
 *  it are tried again at their next use (store_session.c). */
void polycom_store_schema_changed(polycom_db *db);

/** A statement's text in @a dialect (store_session.c). */
const char *polycom_store_sql_for(apr_pool_t *pool,
                                  const polycom_statement *st,
                                  polycom_dialect dialect);

/* store_native.c: SQLite's reads on the connection's own handle. */
/** What polycom_store_native_select answers when the statement could not
 *  be prepared that way: then apr_dbd runs it (and says why it fails). */
#define POLYCOM_NATIVE_UNPREPARED 1
/** Runs @a st, a SELECT of @a width columns, with @a args (const char *)
 *  on a SQLite connection outside any transaction, adding its rows to
 *  @a rows: 0, -1 (db->error set, as polycom_store_failed sets it) or
 *  POLYCOM_NATIVE_UNPREPARED. */
int polycom_store_native_select(polycom_db *db, const polycom_statement *st,
                                int width, const apr_array_header_t *args,
                                apr_array_header_t *rows);
/** Whether the statement of @a label was prepared natively on this
 *  connection (for tests). */
int polycom_store_native_prepared(polycom_db *db, const char *label);

/* store_session.c */
/** Runs @a sql, a setting or a PRAGMA (any row it answers is read and
 *  dropped, as apr_dbd asks); the driver's error number, or 0. */
int polycom_store_setting(polycom_db *db, const char *sql);

/** Locks the revision row first (see store.c). */
int polycom_store_lock_revision(polycom_db *db);

#endif /* POLYCOM_STORE_PRIVATE_H */
