/* Unit tests of src/store.c's per-connection settings against a real
 * SQLite database through apr_dbd (sql/sqlite.sql, loaded by the sqlite3
 * CLI; run from the top of the tree): the page cache a connection keeps,
 * and the check-in writer's session and checkpoint. */
#include <stdlib.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_store.h"
#include "tap.h"

static apr_pool_t *pool;
static const apr_dbd_driver_t *driver;
static apr_dbd_t *handle;

/* The first column of the first row of @a sql, or NULL. */
static const char *first_value(const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *value = NULL;

    if (apr_dbd_select(driver, pool, handle, &res, sql, 0) != 0) {
        return NULL;
    }
    while (apr_dbd_get_row(driver, pool, res, &row, -1) == 0) {
        if (!value) {
            value = apr_pstrdup(pool, apr_dbd_get_entry(driver, row, 0));
        }
    }
    return value;
}

int main(void)
{
    apr_hash_t *prepared;
    apr_file_t *file;
    const char *error, *dir;
    char *path;
    polycom_db db;
    polycom_checkin checkin;
    const polycom_checkin *list[1] = { &checkin };

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    apr_dbd_init(pool);

    apr_temp_dir_get(&dir, pool);
    path = apr_pstrcat(pool, dir, "/polycom-test-store-XXXXXX", NULL);
    if (apr_file_mktemp(&file, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                        | APR_FOPEN_EXCL | APR_FOPEN_DELONCLOSE, pool)
        != APR_SUCCESS
        || system(apr_psprintf(pool, "sqlite3 '%s' '.read sql/sqlite.sql' "
                               ">/dev/null", path)) != 0
        || apr_dbd_get_driver(pool, "sqlite3", &driver) != APR_SUCCESS
        || apr_dbd_open(driver, pool, path, &handle) != APR_SUCCESS) {
        printf("Bail out! no SQLite database at %s (sqlite3 CLI, "
               "libaprutil1-dbd-sqlite3, run from the top of the tree)\n",
               path);
        return 1;
    }

    prepared = apr_hash_make(pool);
    tap_ok(polycom_store_prepare(pool, driver, handle, prepared, &error) == 0,
           "the statements prepare on a fresh connection");
    tap_is_str(first_value("PRAGMA cache_size"), "-256",
               "its page cache is 256 KiB, not SQLite's 2 MB");
    tap_is_str(first_value("PRAGMA wal_autocheckpoint"), "1000",
               "a child's connection keeps automatic checkpoints");

    polycom_store_init(&db, driver, handle, prepared, pool);
    tap_ok(polycom_store_writer_session(&db) == 0,
           "the check-in writer's session is set");
    tap_is_str(first_value("PRAGMA wal_autocheckpoint"), "0",
               "the writer's connection does not checkpoint after commits");
    tap_is_str(first_value("PRAGMA cache_size"), "-256",
               "and keeps the same page cache");

    memset(&checkin, 0, sizeof(checkin));
    checkin.time = apr_time_now();
    checkin.mac = "0004f2e62aa4";
    checkin.ip = checkin.method = checkin.file = checkin.etag = "";
    checkin.family = checkin.model = checkin.firmware = "";
    checkin.stage = checkin.user_agent = "";
    checkin.unknown_phone = 1;
    tap_ok(polycom_store_checkins(&db, list, 1) == 0, "a check-in is written");
    tap_ok(polycom_store_checkpoint(&db) == 0, "the WAL is checkpointed");
    tap_is_str(first_value("SELECT count(*) FROM checkins"), "1",
               "the check-in is in the database");

    apr_dbd_close(driver, handle);
    apr_file_remove(apr_pstrcat(pool, path, "-wal", NULL), pool);
    apr_file_remove(apr_pstrcat(pool, path, "-shm", NULL), pool);
    apr_file_close(file);
    return tap_done();
}
