/* SQLite's reads on the connection's own sqlite3 handle.
 *
 * apr_dbd_sqlite3 runs each statement of a process behind apr_dbd's one
 * process-wide mutex (apr_dbd_mutex_lock), from its reset to its last row.
 * A child's threads therefore read one at a time: a thread preempted while
 * it holds the mutex, or waiting for a page to be read, stalls every other
 * read of the child, the one-row revision read of each cache hit too.
 * SQLite locks each connection itself (Debian builds it THREADSAFE=1), and
 * mod_dbd lends a connection to one thread at a time, so the mutex guards
 * nothing these reads share. make bench (100,000 phones, the first poll
 * after a change, on one fleet in interleaved runs): about 0.71x the
 * static file with the mutex, 0.84x without it.
 *
 * The statements are the same (polycom_store_sql_for), prepared on the
 * connection at their first use here, kept for its life, and finalized
 * before mod_dbd closes it: mod_dbd hands the post_connect hook a
 * sub-pool of the connection's (polycom_store_prepared_pool), destroyed
 * before the connection is. Values are bound and read back as text, as
 * apr_dbd_sqlite3 does, so a row reads the same either way. Writes and
 * everything inside a transaction stay with apr_dbd, whose transaction
 * must see each statement's failure to roll back. One difference: a read
 * that meets a busy database waits the connection's busy timeout once
 * (5 s), where apr_dbd_sqlite3 waited it up to 16 times. In WAL mode a
 * read is busy only while another process recovers the WAL. */

#include <string.h>

#include <apr_strings.h>
#include <sqlite3.h>

#include "polycom_store_private.h"

/* The connection's native statements (statement -> sqlite3_stmt), kept
 * under this name in its table of prepared statements. */
#define NATIVE_STATEMENTS "mod_polycom: native statements"

/* @a sql with apr_dbd's placeholders (%s, and %% for a %) as SQLite's
 * numbered ones, or NULL for any other: apr_dbd's typed placeholders
 * (%d, %pDi...) would need its conversions, and no statement uses them. */
static const char *native_sql(apr_pool_t *pool, const char *sql)
{
    apr_array_header_t *parts = apr_array_make(pool, 16, sizeof(char *));
    const char *at;
    int n = 0;

    while ((at = strchr(sql, '%')) != NULL) {
        APR_ARRAY_PUSH(parts, char *) = apr_pstrmemdup(pool, sql, at - sql);
        if (at[1] == 's') {
            APR_ARRAY_PUSH(parts, char *) = apr_psprintf(pool, "?%d", ++n);
        }
        else if (at[1] == '%') {
            APR_ARRAY_PUSH(parts, char *) = "%";
        }
        else {
            return NULL;
        }
        sql = at + 2;
    }
    APR_ARRAY_PUSH(parts, char *) = apr_pstrdup(pool, sql);
    return apr_array_pstrcat(pool, parts, 0);
}

static apr_status_t native_finalize(void *stmt)
{
    sqlite3_finalize(stmt);
    return APR_SUCCESS;
}

/* @a st on this connection, prepared at its first use; NULL when it cannot
 * be (a connection whose set-up failed, SQL that does not prepare: then
 * apr_dbd runs it, or says why not). The statements' pool, and the table
 * of native statements kept in it, are looked up again only to add one. */
static sqlite3_stmt *native_statement(polycom_db *db,
                                      const polycom_statement *st)
{
    apr_hash_t *natives = apr_hash_get(db->prepared, NATIVE_STATEMENTS,
                                       APR_HASH_KEY_STRING);
    sqlite3_stmt *stmt = natives ? apr_hash_get(natives, &st, sizeof(st))
                                 : NULL;
    apr_pool_t *lifetime;
    sqlite3 *conn;
    const char *sql;

    if (stmt) {
        return stmt;
    }
    /* A connection whose set-up failed has no pool to keep them in. */
    lifetime = polycom_store_prepared_pool(db->prepared);
    if (!lifetime) {
        return NULL;
    }
    conn = apr_dbd_native_handle(db->driver, db->handle);
    sql = native_sql(db->pool, polycom_store_sql_for(db->pool, st,
                                                     db->dialect));
    if (!conn || !sql
        || sqlite3_prepare_v3(conn, sql, -1, SQLITE_PREPARE_PERSISTENT,
                              &stmt, NULL) != SQLITE_OK) {
        sqlite3_finalize(stmt);     /* NULL, or a statement half made */
        return NULL;
    }
    apr_pool_cleanup_register(lifetime, stmt, native_finalize,
                              apr_pool_cleanup_null);
    if (!natives) {
        natives = apr_hash_make(lifetime);
        apr_hash_set(db->prepared, NATIVE_STATEMENTS, APR_HASH_KEY_STRING,
                     natives);
    }
    apr_hash_set(natives, apr_pmemdup(lifetime, &st, sizeof(st)),
                 sizeof(st), stmt);
    return stmt;
}

int polycom_store_native_prepared(polycom_db *db, const char *label)
{
    const polycom_statement *st = polycom_store_statement(label);
    apr_hash_t *natives = apr_hash_get(db->prepared, NATIVE_STATEMENTS,
                                       APR_HASH_KEY_STRING);

    return st && natives && apr_hash_get(natives, &st, sizeof(st)) != NULL;
}

/* The statement's failure, said as apr_dbd would say it (the
 * connection's message, read before the reset that would clear it). */
static int native_failed(polycom_db *db, sqlite3_stmt *stmt,
                         const polycom_statement *st, int rv)
{
    int failed = polycom_store_failed(db, st->label, rv);

    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return failed;
}

/* Column @a i of the current row as apr_dbd_sqlite3 reads it: text and
 * numbers as text, a BLOB's bytes as they are, NULL as "" (which
 * polycom_store_entry makes of apr_dbd's NULL). */
static const char *native_value(apr_pool_t *pool, sqlite3_stmt *stmt, int i)
{
    /* The type first: asking for the text may convert the value. */
    int type = sqlite3_column_type(stmt, i);
    const void *value;

    if (type == SQLITE_NULL) {
        return "";
    }
    value = type == SQLITE_BLOB ? sqlite3_column_blob(stmt, i)
                                : (const void *)sqlite3_column_text(stmt, i);
    return value ? apr_pstrmemdup(pool, value, sqlite3_column_bytes(stmt, i))
                 : "";
}

int polycom_store_native_select(polycom_db *db, const polycom_statement *st,
                                int width, const apr_array_header_t *args,
                                apr_array_header_t *rows)
{
    sqlite3_stmt *stmt = native_statement(db, st);
    int i, rv;

    if (!stmt) {
        return POLYCOM_NATIVE_UNPREPARED;
    }
    if (sqlite3_column_count(stmt) != width) {
        db->error = apr_psprintf(db->pool, "%s returns %d columns where it "
                                 "names %d", st->label,
                                 sqlite3_column_count(stmt), width);
        return -1;
    }
    if (sqlite3_bind_parameter_count(stmt) != args->nelts) {
        db->error = apr_psprintf(db->pool, "%s takes %d values, given %d",
                                 st->label,
                                 sqlite3_bind_parameter_count(stmt),
                                 args->nelts);
        return -1;
    }
    for (i = 0; i < args->nelts; i++) {
        /* The values outlive the statement's run: bound without a copy,
         * and let go of (sqlite3_clear_bindings) before it returns. */
        rv = sqlite3_bind_text(stmt, i + 1,
                               APR_ARRAY_IDX(args, i, const char *), -1,
                               SQLITE_STATIC);
        if (rv != SQLITE_OK) {
            return native_failed(db, stmt, st, rv);
        }
    }
    while ((rv = sqlite3_step(stmt)) == SQLITE_ROW) {
        polycom_row *row = apr_palloc(db->pool, sizeof(*row));

        row->columns = st->columns;
        row->values = apr_palloc(db->pool, sizeof(const char *) * width);
        for (i = 0; i < width; i++) {
            row->values[i] = native_value(db->pool, stmt, i);
        }
        APR_ARRAY_PUSH(rows, const polycom_row *) = row;
    }
    if (rv != SQLITE_DONE) {
        return native_failed(db, stmt, st, rv);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    /* Prepared again by SQLite itself: the schema changed (an upgrade
     * while httpd runs), or, for a LIKE, a bound pattern did. apr_dbd's
     * statements find a changed schema when they next run (SQLITE_SCHEMA)
     * and are prepared again then; but one that could not be prepared on
     * this connection before (a table the upgrade added) is remembered as
     * failed and never runs to find out: tried again at its next use. */
    if (sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 1)) {
        polycom_store_schema_changed(db);
    }
    return 0;
}
