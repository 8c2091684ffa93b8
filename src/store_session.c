/* A connection's set-up: its session (SQLite's busy timeout and page
 * cache, MySQL's strict UTF-8, PostgreSQL without JIT), its statements
 * prepared in its dialect, some when it opens and the rest at their first
 * use, prepared again when the server forgot them, the check-in writer's
 * own session, and the schema version the database records. */

#include <string.h>

#include <apr_strings.h>

#include "polycom_schema.h"
#include "polycom_store_private.h"

/* Every occurrence of @a from in @a text replaced by @a to. */
static const char *store_replace(apr_pool_t *pool, const char *text,
                                 const char *from, const char *to)
{
    apr_array_header_t *parts = apr_array_make(pool, 8, sizeof(char *));
    apr_size_t from_len = strlen(from);
    const char *at;

    while ((at = strstr(text, from)) != NULL) {
        APR_ARRAY_PUSH(parts, char *) = apr_pstrmemdup(pool, text,
                                                       at - text);
        APR_ARRAY_PUSH(parts, char *) = (char *)to;
        text = at + from_len;
    }
    APR_ARRAY_PUSH(parts, char *) = (char *)text;
    return apr_array_pstrcat(pool, parts, 0);
}

/* A statement's text in the connection's dialect. */
const char *polycom_store_sql_for(apr_pool_t *pool,
                                  const polycom_statement *st,
                                  polycom_dialect dialect)
{
    const char *sql = st->sql ? st->sql
                              : polycom_store_generated_sql(
                                    pool, st->label,
                                    dialect == POLYCOM_DIALECT_MYSQL);

    if (dialect != POLYCOM_DIALECT_MYSQL) {
        return sql;
    }
    sql = st->mysql ? st->mysql : sql;
    sql = store_replace(pool, sql, "LIMIT " NUM, "LIMIT %s");
    sql = store_replace(pool, sql, "OFFSET " NUM, "OFFSET %s");
    return store_replace(pool, sql, " AS BIGINT)", " AS SIGNED)");
}

/* What a MySQL session must be for the statements to mean what they mean
 * on the other databases: text as UTF-8 (the client library's default is
 * not), compared byte for byte; a value that does not fit refused rather
 * than cut short; and each statement seeing what others have committed, as
 * PostgreSQL's default does. */
static const char *const store_mysql_session[] = {
    "SET NAMES utf8mb4 COLLATE utf8mb4_bin",
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE'",
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
};

/* SQLite: a page cache of 256 KiB per connection instead of its default
 * 2 MB. A child holds up to DBDMax connections, and in WAL mode a
 * connection empties its cache whenever another one has committed (the
 * check-in writer commits several times a second), so a larger cache saves
 * no reads, while each connection filled it to 2 MB over hours, one
 * rarely-used connection after another: up to 64 MB a child at DBDMax 32,
 * which looked like a leak. A request's transaction reads 10 to 30 pages.
 *
 * And a busy timeout before anything reads the file. SQLite's default is
 * none, and DBDInitSQL's comes only after this module's post_connect
 * hook: the schema check and the statements it prepares failed at once,
 * "database is locked", whenever another process held SQLite's locks at
 * that moment (a starting writer's catch-up, the children of a start all
 * opening the file), and the connection was left without statements.
 * Both set before DBDInitSQL runs, which can override them. */
static const char *const store_sqlite_session[] = {
    "PRAGMA busy_timeout = 5000",
    "PRAGMA cache_size = -256",
};

/* PostgreSQL: no JIT compilation. Its default compiles a statement whose
 * estimated cost passes jit_above_cost, which the console's counts over
 * 100,000 phones do on every page: compiling took longer (120-160 ms of
 * 560) than it saved. Set through pg_settings so that a server without
 * the setting (before PostgreSQL 11) is left as it is instead of refusing
 * the session. */
static const char *const store_pgsql_session[] = {
    "SELECT set_config(name, 'off', false) FROM pg_settings"
    " WHERE name = 'jit'",
};

/* One statement of a session. SQLite's PRAGMAs are read as rows: one
 * that answers with a row (busy_timeout does) is an error to
 * apr_dbd_sqlite3's query. */
static int store_setting(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                         apr_dbd_t *handle, polycom_dialect dialect,
                         const char *sql)
{
    apr_dbd_results_t *results = NULL;
    apr_dbd_row_t *row = NULL;
    int rv, nrows;

    if (dialect != POLYCOM_DIALECT_SQLITE) {
        return apr_dbd_query(driver, handle, &nrows, sql);
    }
    rv = apr_dbd_select(driver, pool, handle, &results, sql, 0);
    while (!rv && apr_dbd_get_row(driver, pool, results, &row, -1) == 0) {
        /* every row read, as apr_dbd asks */
    }
    return rv;
}

int polycom_store_setting(polycom_db *db, const char *sql)
{
    return store_setting(db->pool, db->driver, db->handle, db->dialect, sql);
}

/* @a count settings in turn; -1 with *error naming the one that failed. */
static int store_settings(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                          apr_dbd_t *handle, polycom_dialect dialect,
                          const char *const *settings, apr_size_t count,
                          const char **error)
{
    apr_size_t i;
    int rv;

    for (i = 0; i < count; i++) {
        rv = store_setting(pool, driver, handle, dialect, settings[i]);
        if (rv) {
            *error = apr_psprintf(pool, "%s: %s", settings[i],
                                  apr_dbd_error(driver, handle, rv));
            return -1;
        }
    }
    return 0;
}

int polycom_store_session(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                          apr_dbd_t *handle, const char **error)
{
    polycom_dialect dialect = polycom_store_dialect(driver);
    const char *const *session = NULL;
    apr_size_t settings = 0;

    /* A driver not ours has no session: polycom_store_prepare() says so. */
    *error = NULL;
    if (dialect == POLYCOM_DIALECT_MYSQL) {
        session = store_mysql_session;
        settings = sizeof(store_mysql_session) / sizeof(char *);
    }
    else if (dialect == POLYCOM_DIALECT_SQLITE) {
        session = store_sqlite_session;
        settings = sizeof(store_sqlite_session) / sizeof(char *);
    }
    else if (dialect == POLYCOM_DIALECT_PGSQL) {
        session = store_pgsql_session;
        settings = sizeof(store_pgsql_session) / sizeof(char *);
    }
    return store_settings(pool, driver, handle, dialect, session, settings,
                          error);
}

/* Where the node's check-in writer runs, it checkpoints each SQLite
 * database four times a second (polycom_store_checkpoint), and a child's
 * connection leaves it the job: SQLite's default, a checkpoint by the
 * commit that finds 1,000 pages in the WAL, made a phone's log upload pay
 * for one now and then, its syncs included, while it held the node's turn
 * to write, and every other upload waited too (make bench's rig, 100,000
 * phones, PUTs of logs at 1,600 a second: 24 turns held over 3 ms, up to
 * 30 ms, in 6 s; 5 in 18 s at 10,000 pages). At 10,000 pages (40 MB of
 * 4 KiB pages) a commit still checkpoints while the writer is away. */
static const char *const store_sqlite_checkpoints_left[] = {
    "PRAGMA wal_autocheckpoint = 10000",
};

int polycom_store_leave_checkpoints(apr_pool_t *pool,
                                    const apr_dbd_driver_t *driver,
                                    apr_dbd_t *handle, const char **error)
{
    *error = NULL;
    if (polycom_store_dialect(driver) != POLYCOM_DIALECT_SQLITE) {
        return 0;
    }
    return store_settings(pool, driver, handle, POLYCOM_DIALECT_SQLITE,
                          store_sqlite_checkpoints_left, 1, error);
}

/* Where a connection's statements live (the pool its statements were
 * first prepared in), for those prepared at their first use. */
#define STORE_PREPARED_POOL "mod_polycom: statements' pool"

/* The statements of a connection that failed to prepare at their first
 * use there, with why (kept in the connection's table). */
#define STORE_FAILURES "mod_polycom: statements that failed"

static apr_hash_t *store_failures(apr_hash_t *prepared, apr_pool_t *pool)
{
    apr_hash_t *failures = apr_hash_get(prepared, STORE_FAILURES,
                                        APR_HASH_KEY_STRING);

    if (!failures) {
        failures = apr_hash_make(pool);
        apr_hash_set(prepared, STORE_FAILURES, APR_HASH_KEY_STRING,
                     failures);
    }
    return failures;
}

void polycom_store_schema_changed(polycom_db *db)
{
    apr_hash_t *failures = apr_hash_get(db->prepared, STORE_FAILURES,
                                        APR_HASH_KEY_STRING);

    if (failures) {
        apr_hash_clear(failures);
    }
}

/* Prepare @a st on a connection into @a prepared; -1 with *error set. */
static int store_prepare_one(apr_pool_t *pool,
                             const apr_dbd_driver_t *driver,
                             apr_dbd_t *handle, apr_hash_t *prepared,
                             const polycom_statement *st, const char **error)
{
    apr_dbd_prepared_t *stmt = NULL;
    const char *sql = polycom_store_sql_for(pool, st,
                                            polycom_store_dialect(driver));
    int rv = apr_dbd_prepare(driver, pool, handle, sql, st->label, &stmt);

    if (rv) {
        *error = apr_psprintf(pool, "statement %s: %s", st->label,
                              apr_dbd_error(driver, handle, rv));
        return -1;
    }
    apr_hash_set(prepared, st->label, APR_HASH_KEY_STRING, stmt);
    return 0;
}

/* The statements up to STORE_FIRST_ON_USE, or all of them (@a all). */
static int store_prepare_some(apr_pool_t *pool,
                              const apr_dbd_driver_t *driver,
                              apr_dbd_t *handle, apr_hash_t *prepared,
                              int all, const char **error)
{
    const polycom_statement *statements;
    apr_size_t i, count;

    *error = NULL;
    if (polycom_store_dialect(driver) == POLYCOM_DIALECT_UNKNOWN) {
        *error = apr_psprintf(pool, "DBDriver %s is not supported: use "
                              "sqlite3, pgsql or mysql", apr_dbd_name(driver));
        return -1;
    }
    statements = polycom_store_statements(&count);
    for (i = 0; i < count; i++) {
        const polycom_statement *st = &statements[i];
        const char *failed;

        if (!all && !strcmp(st->label, STORE_FIRST_ON_USE)) {
            break;
        }
        if (apr_hash_get(prepared, st->label, APR_HASH_KEY_STRING)
            || store_prepare_one(pool, driver, handle, prepared, st,
                                 &failed) == 0) {
            continue;
        }
        /* All of them (the writer's check): every one that fails named. */
        *error = *error ? apr_pstrcat(pool, *error, "; ", failed, NULL)
                        : failed;
        if (!all) {
            return -1;
        }
    }
    if (*error) {
        return -1;
    }
    /* Only a connection set up in full prepares the rest at first use. */
    apr_hash_set(prepared, STORE_PREPARED_POOL, APR_HASH_KEY_STRING, pool);
    return 0;
}

int polycom_store_prepare(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                          apr_dbd_t *handle, apr_hash_t *prepared,
                          const char **error)
{
    return store_prepare_some(pool, driver, handle, prepared, 0, error);
}

apr_pool_t *polycom_store_prepared_pool(apr_hash_t *prepared)
{
    return apr_hash_get(prepared, STORE_PREPARED_POOL, APR_HASH_KEY_STRING);
}

int polycom_store_prepare_all(polycom_db *db)
{
    apr_pool_t *pool = polycom_store_prepared_pool(db->prepared);
    const char *error;

    /* A connection whose set-up failed: that was said (PC00029). */
    if (!pool) {
        return 0;
    }
    if (store_prepare_some(pool, db->driver, db->handle, db->prepared, 1,
                           &error) < 0) {
        db->error = apr_pstrdup(db->pool, error);
        return -1;
    }
    return 0;
}

int polycom_store_reprepare(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                            apr_dbd_t *handle, apr_hash_t *prepared,
                            apr_hash_t *fresh, const char **error)
{
    apr_size_t i, count;
    const polycom_statement *all = polycom_store_statements(&count);
    polycom_dialect dialect = polycom_store_dialect(driver);
    apr_hash_t *failures = apr_hash_get(prepared, STORE_FAILURES,
                                        APR_HASH_KEY_STRING);
    int lazy = 0, nrows;

    for (i = 0; i < count; i++) {
        const char *label = all[i].label;

        lazy = lazy || !strcmp(label, STORE_FIRST_ON_USE);
        if (apr_hash_get(fresh, label, APR_HASH_KEY_STRING)) {
            continue;
        }
        /* PostgreSQL: one prepared at its first use since the server
         * forgot the others is still there, and preparing it again would
         * fail ("already exists"): let it go first. */
        if (lazy && dialect == POLYCOM_DIALECT_PGSQL
            && apr_hash_get(prepared, label, APR_HASH_KEY_STRING)) {
            apr_dbd_query(driver, handle, &nrows,
                          apr_pstrcat(pool, "DEALLOCATE \"", label, "\"",
                                      NULL));
        }
        apr_hash_set(prepared, label, APR_HASH_KEY_STRING, NULL);
    }
    if (failures) {
        apr_hash_clear(failures);
    }
    /* A reset session (PostgreSQL's, MySQL's) lost its settings too;
     * SQLite's is the same session, whose DBDInitSQL stands. */
    if (dialect != POLYCOM_DIALECT_SQLITE
        && polycom_store_session(pool, driver, handle, error) < 0) {
        return -1;
    }
    return polycom_store_prepare(pool, driver, handle, prepared, error);
}

/* PostgreSQL forgets a session's statements when it restarts. SQLite
 * keeps them, but apr_dbd_sqlite3 prepares with SQLite's legacy interface,
 * and such a statement fails for good once another connection changed the
 * schema (sqlite3 run by hand: CREATE INDEX, a new sql/sqlite.sql). */
int polycom_store_statements_lost(const polycom_db *db)
{
    if (!db->error) {
        return 0;
    }
    if (db->dialect == POLYCOM_DIALECT_SQLITE) {
        return strstr(db->error, "database schema has changed") != NULL;
    }
    return db->dialect == POLYCOM_DIALECT_PGSQL
           && strstr(db->error, "prepared statement")
           && strstr(db->error, "does not exist");
}

apr_dbd_prepared_t *polycom_store_prepared(polycom_db *db, const char *label)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(db->prepared, label,
                                            APR_HASH_KEY_STRING);
    apr_pool_t *pool;
    const polycom_statement *st;
    const char *error;

    if (stmt) {
        return stmt;
    }
    /* One of those prepared at their first use (STORE_FIRST_ON_USE), in
     * the connection's own pool: it lives as long as the connection. */
    pool = polycom_store_prepared_pool(db->prepared);
    st = polycom_store_statement(label);
    if (pool && st && st != polycom_store_marker()) {
        apr_hash_t *failures = store_failures(db->prepared, pool);

        /* Tried once per connection (each try takes memory from its
         * pool): again only after polycom_store_reprepare(). */
        error = apr_hash_get(failures, label, APR_HASH_KEY_STRING);
        if (!error) {
            if (store_prepare_one(pool, db->driver, db->handle, db->prepared,
                                  st, &error) == 0) {
                return apr_hash_get(db->prepared, label,
                                    APR_HASH_KEY_STRING);
            }
            apr_hash_set(failures, label, APR_HASH_KEY_STRING, error);
        }
        db->error = apr_pstrdup(db->pool, error);
        return NULL;
    }
    db->error = apr_psprintf(db->pool, "statement %s was not prepared "
                             "on this connection", label);
    return NULL;
}

/* The check-in writer's session, on each SQLite connection it uses:
 * - No automatic checkpoint. It runs after a commit once the WAL holds
 *   1000 pages; while readers keep the WAL busy it cannot finish, so it
 *   runs (and syncs the WAL) after every later commit too. The writer
 *   checkpoints on a timer instead.
 * - A page cache of POLYCOM_WRITER_CACHE_KIB, where a child's connection
 *   keeps 256 KiB. SQLite sorts in memory only up to the page cache's
 *   size: at 256 KiB the sorts of a last_seen flush (up to
 *   POLYCOM_SEEN_FLUSH_IDS check-ins, a few MB) went through temporary
 *   files, and the writer read 4 to 6 KB a check-in instead of about 2
 *   (make bench, 100,000 phones). Only the writer process has such
 *   connections and it uses one at a time; the cache fills with the
 *   pages it writes, to this bound. */
static const char *const store_writer_session[] = {
    "PRAGMA wal_autocheckpoint = 0",
    "PRAGMA cache_size = -" POLYCOM_WRITER_CACHE_KIB,
};

int polycom_store_writer_session(polycom_db *db)
{
    apr_size_t i;
    int rv;

    if (db->dialect != POLYCOM_DIALECT_SQLITE) {
        return 0;
    }
    for (i = 0; i < sizeof(store_writer_session)
                    / sizeof(store_writer_session[0]); i++) {
        rv = polycom_store_setting(db, store_writer_session[i]);
        if (rv) {
            return polycom_store_failed(db, "writer session", rv);
        }
    }
    return 0;
}

apr_int64_t polycom_store_schema_version(apr_pool_t *pool,
                                         const apr_dbd_driver_t *driver,
                                         apr_dbd_t *handle)
{
    apr_dbd_results_t *results = NULL;
    apr_dbd_row_t *row = NULL;
    apr_int64_t version = 0;

    /* No table (a database made before versions were recorded) fails the
     * query: version 0. Every row is read, as apr_dbd asks. */
    if (apr_dbd_select(driver, pool, handle, &results,
                       POLYCOM_SCHEMA_VERSION_QUERY, 0)) {
        return 0;
    }
    while (apr_dbd_get_row(driver, pool, results, &row, -1) == 0) {
        const char *value = apr_dbd_get_entry(driver, row, 0);

        version = value ? apr_atoi64(value) : 0;
    }
    return version;
}
