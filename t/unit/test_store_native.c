/* Unit tests of src/store_native.c against a real SQLite database through
 * apr_dbd (sql/sqlite.sql, loaded by the sqlite3 CLI; run from the top of
 * the tree): SQLite's reads outside a transaction run on the connection's
 * own handle, without apr_dbd's process-wide mutex. They must read what
 * apr_dbd_sqlite3 reads, fail with the statement's label and SQLite's
 * reason, notice a schema changed elsewhere, run side by side in
 * threads, and let mod_dbd close the connection afterwards. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "polycom_store.h"
#include "polycom_store_private.h"
#include "tap.h"

#define KNOWN "0004f2000001"
#define UNKNOWN "0004f2000099"

static const apr_dbd_driver_t *driver;
static const char *path;

/* A connection as mod_dbd makes one: opened in its own pool, the
 * statements prepared in a sub-pool that is destroyed first. */
typedef struct {
    apr_pool_t *pool;
    apr_pool_t *statements;
    apr_dbd_t *handle;
    polycom_db db;
} connection;

static apr_status_t close_connection(void *data)
{
    connection *c = data;

    apr_dbd_close(driver, c->handle);
    return APR_SUCCESS;
}

static int connect_to(connection *c, apr_pool_t *parent)
{
    const char *error;
    apr_hash_t *prepared;

    apr_pool_create(&c->pool, parent);
    if (apr_dbd_open(driver, c->pool, path, &c->handle) != APR_SUCCESS) {
        return -1;
    }
    apr_pool_cleanup_register(c->pool, c, close_connection,
                              apr_pool_cleanup_null);
    apr_pool_create(&c->statements, c->pool);
    prepared = apr_hash_make(c->statements);
    if (polycom_store_session(c->statements, driver, c->handle, &error) < 0
        || polycom_store_prepare(c->statements, driver, c->handle, prepared,
                                 &error) < 0) {
        return -1;
    }
    polycom_store_init(&c->db, driver, c->handle, prepared, c->pool);
    return 0;
}

static int run(connection *c, const char *sql)
{
    int nrows;

    return apr_dbd_query(driver, c->handle, &nrows, sql);
}

/* Every row of a result, its columns joined by '|' and rows by '\n'. */
static const char *flat(apr_pool_t *pool, const char *label,
                        const apr_array_header_t *rows)
{
    const polycom_statement *st = polycom_store_statement(label);
    char *names = apr_pstrdup(pool, st->columns), *name, *last;
    const char *out = "";
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *row = APR_ARRAY_IDX(rows, i, const polycom_row *);
        char *copy = apr_pstrdup(pool, names);

        for (name = apr_strtok(copy, " ", &last); name;
             name = apr_strtok(NULL, " ", &last)) {
            out = apr_pstrcat(pool, out, polycom_row_get(row, name), "|",
                              NULL);
        }
        out = apr_pstrcat(pool, out, "\n", NULL);
    }
    return out;
}

/* One statement with one value, outside a transaction (natively) and
 * inside one (through apr_dbd), flattened; NULL when it failed. */
static const char *select_one(connection *c, const char *label,
                              const char *value, int in_transaction)
{
    apr_array_header_t *rows;
    apr_dbd_transaction_t *txn = NULL;
    int failed;

    if (in_transaction && polycom_store_txn_begin(&c->db, &txn) < 0) {
        return NULL;
    }
    failed = polycom_store_select(&c->db, label, &rows, value, NULL) < 0;
    if (in_transaction) {
        polycom_store_txn_end(&c->db, txn, failed);
    }
    return failed ? NULL : flat(c->db.pool, label, rows);
}

static int native_kept(connection *c, const char *label)
{
    return polycom_store_native_prepared(&c->db, label);
}

/* ST_UPLOAD_GET of phone KNOWN's directory. */
static const char *upload_of(connection *c, int in_transaction)
{
    apr_array_header_t *rows;
    apr_dbd_transaction_t *txn = NULL;
    int failed;

    if (in_transaction && polycom_store_txn_begin(&c->db, &txn) < 0) {
        return NULL;
    }
    failed = polycom_store_select(&c->db, ST_UPLOAD_GET, &rows, KNOWN,
                                  "directory", NULL) < 0;
    if (in_transaction) {
        polycom_store_txn_end(&c->db, txn, failed);
    }
    return failed ? NULL : flat(c->db.pool, ST_UPLOAD_GET, rows);
}

/* The same rows either way, for the statements of a phone's request. */
static void test_same_rows(connection *c)
{
    static const char *const labels[] = {
        ST_PHONE, ST_PHONE_AT, ST_PHONE_OWN_AT, ST_LAST_IP
    };
    static const char *const macs[] = { KNOWN, UNKNOWN, "0004f2%", "" };
    apr_size_t i, j;

    for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        for (j = 0; j < sizeof(macs) / sizeof(macs[0]); j++) {
            const char *apr = select_one(c, labels[i], macs[j], 1);
            const char *native = select_one(c, labels[i], macs[j], 0);

            tap_ok(apr && native, "%s('%s') runs both ways", labels[i],
                   macs[j]);
            tap_is_str(native, apr, "%s('%s') reads the same rows natively "
                       "as through apr_dbd", labels[i], macs[j]);
        }
    }
    tap_is_str(select_one(c, ST_PHONE, KNOWN, 0),
               "VVX411|B\xc3\xa2le 50%|it's \"quoted\"|1|\n",
               "UTF-8, a %% and quotes come back as stored");
    tap_is_str(select_one(c, ST_PHONE, "0004f2%", 0), "",
               "a value is bound, never matched as a pattern");
    tap_ok(native_kept(c, ST_PHONE) && native_kept(c, ST_PHONE_AT),
           "statements run natively are kept on the connection");
    tap_is_str(select_one(c, ST_PHONE_AT, UNKNOWN, 0),
               select_one(c, ST_PHONE_AT, UNKNOWN, 1),
               "an unknown phone's NULL columns read as \"\" both ways");
    tap_ok(run(c, "INSERT INTO uploads (mac, kind, content, size, time_us)"
               " VALUES ('" KNOWN "', 'directory', X'3c643e3c2f643e', 7,"
               " 1)") == 0, "an upload stored as a BLOB");
    tap_is_str(upload_of(c, 0), "<d></d>|7|\n",
               "a BLOB's bytes read natively, as they are");
    tap_is_str(upload_of(c, 0), upload_of(c, 1),
               "the same as through apr_dbd");
}

/* A statement used only inside transactions never runs natively: apr_dbd
 * must see a failure there to roll back. */
static void test_transactions(connection *c)
{
    tap_ok(select_one(c, ST_SCOPES_SINCE, "0", 1) != NULL
           && !native_kept(c, ST_SCOPES_SINCE),
           "a read inside a transaction goes through apr_dbd");
    tap_ok(select_one(c, ST_SCOPES_SINCE, "0", 0) != NULL
           && native_kept(c, ST_SCOPES_SINCE),
           "the same read outside one runs natively");
}

/* A statement that fails natively fails as through apr_dbd: -1, the
 * statement's label and SQLite's message; and it runs again once the
 * schema is back. */
static void test_failure(connection *c)
{
    const char *before = select_one(c, ST_PHONE, KNOWN, 0);

    tap_ok(run(c, "ALTER TABLE phones RENAME TO phones_gone") == 0,
           "the phones table is renamed away");
    c->db.error = NULL;
    tap_ok(select_one(c, ST_PHONE, KNOWN, 0) == NULL, "the read fails");
    tap_ok(c->db.error && strstr(c->db.error, ST_PHONE)
           && strstr(c->db.error, "no such table"),
           "with the statement's label and SQLite's reason (%s)",
           c->db.error ? c->db.error : "none");
    tap_ok(run(c, "ALTER TABLE phones_gone RENAME TO phones") == 0,
           "the table is back");
    tap_is_str(select_one(c, ST_PHONE, KNOWN, 0), before,
               "the same statement reads it again");
}

/* A schema changed elsewhere (polycom-dbupgrade while httpd runs). A
 * statement that could not be prepared on the connection before (its
 * table missing) is remembered as failed; the connection's next native
 * read, which SQLite prepares again by itself, has it tried again.
 * apr_dbd's own statements find the change when they next run. */
static void test_schema_change(connection *c, apr_pool_t *pool)
{
    connection other;

    tap_ok(connect_to(&other, pool) == 0
           && run(&other, "ALTER TABLE last_seen RENAME TO last_seen_old")
              == 0,
           "another connection renames a table away");
    tap_ok(select_one(c, ST_REVISION, NULL, 0) != NULL,
           "a read on this connection (it sees the schema now)");
    tap_ok(polycom_store_prepared(&c->db, ST_SEEN_ROWS) == NULL,
           "a statement on that table fails to prepare at its first use");
    tap_ok(run(&other, "ALTER TABLE last_seen_old RENAME TO last_seen") == 0,
           "the table is back (an upgrade made it)");
    tap_ok(polycom_store_prepared(&c->db, ST_SEEN_ROWS) == NULL,
           "until the connection notices, the failure is remembered");
    tap_ok(select_one(c, ST_REVISION, NULL, 0) != NULL,
           "a read: SQLite prepares it again by itself");
    tap_ok(polycom_store_prepared(&c->db, ST_SEEN_ROWS) != NULL,
           "then the statement prepares");
    apr_pool_destroy(other.pool);
}

/* Threads reading at once, each on its own connection, while this one
 * writes: every read answers, with a revision that only goes up. */
#define READERS 4
#define READS 3000

typedef struct {
    connection c;
    int failures;
    int backwards;
} reader;

static void *APR_THREAD_FUNC read_many(apr_thread_t *thread, void *data)
{
    reader *r = data;
    apr_int64_t last = -1, now;
    int i;

    for (i = 0; i < READS; i++) {
        apr_pool_t *scratch;
        apr_array_header_t *rows;

        apr_pool_create(&scratch, r->c.pool);
        r->c.db.pool = scratch;
        if (polycom_store_select(&r->c.db, ST_PHONE_AT, &rows, KNOWN,
                                 NULL) < 0 || rows->nelts != 1) {
            r->failures++;
        }
        else {
            now = apr_atoi64(polycom_rows_first(rows, "revision"));
            r->backwards += now < last;
            last = now;
        }
        apr_pool_destroy(scratch);
    }
    r->c.db.pool = r->c.pool;
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static void test_threads(connection *writer, apr_pool_t *pool)
{
    reader readers[READERS];
    apr_thread_t *threads[READERS];
    apr_status_t rv;
    int i, connected = 0, started = 0, failures = 0, backwards = 0;
    int writes = 0;

    memset(readers, 0, sizeof(readers));
    for (i = 0; i < READERS; i++) {
        connected += connect_to(&readers[i].c, pool) == 0;
    }
    tap_is_int(connected, READERS, "%d reader connections", READERS);
    for (i = 0; i < READERS; i++) {
        started += apr_thread_create(&threads[i], NULL, read_many,
                                     &readers[i], pool) == APR_SUCCESS;
    }
    for (i = 0; i < 200; i++) {
        writes += run(writer, "UPDATE revision SET value = value + 1"
                      " WHERE id = 1") == 0;
    }
    for (i = 0; i < started; i++) {
        apr_thread_join(&rv, threads[i]);
        failures += readers[i].failures;
        backwards += readers[i].backwards;
    }
    tap_is_int(started, READERS, "the readers ran at once");
    tap_is_int(writes, 200, "the revision moved 200 times meanwhile");
    tap_is_int(failures, 0, "every one of %d reads answered",
               READERS * READS);
    tap_ok(native_kept(&readers[0].c, ST_PHONE_AT)
           && native_kept(&readers[READERS - 1].c, ST_PHONE_AT),
           "natively, on each reader's own connection");
    tap_is_int(backwards, 0, "no reader saw the revision go back");
    for (i = 0; i < READERS; i++) {
        apr_pool_destroy(readers[i].c.pool);
    }
}

/* How many of this process's descriptors are open on the database file. */
static int open_on_file(apr_pool_t *pool)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *entry;
    int count = 0;

    while (dir && (entry = readdir(dir)) != NULL) {
        char target[4096];
        ssize_t len = readlink(apr_pstrcat(pool, "/proc/self/fd/",
                                           entry->d_name, NULL),
                               target, sizeof(target) - 1);

        if (len > 0) {
            target[len] = '\0';
            count += !strcmp(target, path);
        }
    }
    if (dir) {
        closedir(dir);
    }
    return count;
}

int main(void)
{
    apr_pool_t *pool;
    apr_file_t *file;
    connection c;
    const char *dir;
    char *name;
    int before;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    apr_dbd_init(pool);

    apr_temp_dir_get(&dir, pool);
    name = apr_pstrcat(pool, dir, "/polycom-test-native-XXXXXX", NULL);
    if (apr_file_mktemp(&file, name, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                        | APR_FOPEN_EXCL | APR_FOPEN_DELONCLOSE, pool)
        != APR_SUCCESS
        || system(apr_psprintf(pool, "sqlite3 '%s' '.read sql/sqlite.sql' "
                               ">/dev/null", name)) != 0
        || apr_dbd_get_driver(pool, "sqlite3", &driver) != APR_SUCCESS) {
        printf("Bail out! no SQLite database at %s (sqlite3 CLI, "
               "libaprutil1-dbd-sqlite3, run from the top of the tree)\n",
               name);
        return 1;
    }
    path = name;
    before = open_on_file(pool);
    if (connect_to(&c, pool) < 0
        || run(&c, "INSERT INTO phones (mac, model, site, label) VALUES ('"
               KNOWN "', 'VVX411', 'B\xc3\xa2le 50%', 'it''s \"quoted\"')")
        || run(&c, "INSERT INTO params (scope, scope_key, name, value)"
               " VALUES ('phone', '" KNOWN "', 'reg.1.address', '2001'),"
               " ('phone', '" KNOWN "', 'reg.1.label', '')")) {
        printf("Bail out! the test's phone was not written: %s\n",
               apr_dbd_error(driver, c.handle, 0));
        return 1;
    }

    test_same_rows(&c);
    test_transactions(&c);
    test_failure(&c);
    test_schema_change(&c, pool);
    test_threads(&c, pool);

    tap_ok(open_on_file(pool) > before, "the connection has the file open");
    apr_pool_destroy(c.pool);
    tap_is_int(open_on_file(pool), before,
               "closed with mod_dbd's order (statements' pool first), the "
               "connection lets go of the file: no native statement kept "
               "it open");

    apr_file_remove(apr_pstrcat(pool, path, "-wal", NULL), pool);
    apr_file_remove(apr_pstrcat(pool, path, "-shm", NULL), pool);
    apr_file_close(file);
    return tap_done();
}
