/* Unit tests of src/store.c against a real SQLite database through
 * apr_dbd (sql/sqlite.sql, loaded by the sqlite3 CLI; run from the top of
 * the tree): the page cache a connection keeps, the check-in writer's
 * session and checkpoint, and what batches of check-ins leave in
 * last_seen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>

#include <sqlite3.h>

#include "polycom_store.h"
#include "polycom_store_private.h"
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

/* From the WAL-index header in @a path's -shm file, as SQLite documents
 * it (https://www.sqlite.org/walformat.html, native byte order): the
 * frames the WAL holds (mxFrame, at byte 16) and how many of them are
 * copied into the database (nBackfill, at byte 96). Read from the file,
 * so that looking does not checkpoint. */
static int wal_index(const char *path, apr_uint32_t *frames,
                     apr_uint32_t *copied)
{
    unsigned char header[100];
    FILE *shm = fopen(apr_pstrcat(pool, path, "-shm", NULL), "rb");
    int ok = shm && fread(header, 1, sizeof(header), shm) == sizeof(header);

    if (shm) {
        fclose(shm);
    }
    if (ok) {
        memcpy(frames, header + 16, sizeof(*frames));
        memcpy(copied, header + 96, sizeof(*copied));
    }
    return ok;
}

/* A check-in of phone 0004f2000001 at @a time (microseconds). */
static polycom_checkin seen_checkin(apr_time_t time, const char *ip,
                                    const char *file, int status,
                                    const char *etag)
{
    polycom_checkin c;
    polycom_name name;

    memset(&c, 0, sizeof(c));
    c.time = time;
    c.kind = polycom_name_parse(file, &name) ? name.kind : POLYCOM_FILE_NONE;
    c.mac = "0004f2000001";
    c.ip = ip;
    c.method = "GET";
    c.file = file;
    c.status = status;
    c.etag = etag;
    c.family = c.stage = c.user_agent = "";
    c.model = "VVX411";
    c.firmware = "6.4.3.5018";
    return c;
}

#define SEEN_ROW "SELECT ip || ' ' || time_us || ' ' || file || ' ' ||" \
                 " status || ' ' || settings_etag || ' ' || settings_us" \
                 " FROM last_seen WHERE mac = '0004f2000001'"
#define SETTINGS "0004f2000001-settings.cfg"

static void test_last_seen(polycom_db *db)
{
    polycom_checkin a = seen_checkin(2000, "192.0.2.2", SETTINGS, 200, "\"e2\"");
    polycom_checkin b = seen_checkin(1000, "192.0.2.1", SETTINGS, 200, "\"e1\"");
    polycom_checkin c = seen_checkin(3000, "192.0.2.3", "0004f2000001.cfg",
                                     200, "\"m\"");
    polycom_checkin d = seen_checkin(3000, "192.0.2.4", SETTINGS, 404, "");
    polycom_checkin e = seen_checkin(4000, "192.0.2.5", SETTINGS, 304, "\"e4\"");
    const polycom_checkin *newer_first[2] = { &a, &b };
    const polycom_checkin *tie[2] = { &c, &d };
    const polycom_checkin *older[1] = { &b };
    const polycom_checkin *not_modified[1] = { &e };

    tap_ok(polycom_store_checkins(db, newer_first, 2, 1) == 0,
           "a batch with a phone's check-ins out of order is written");
    tap_is_str(first_value(SEEN_ROW),
               "192.0.2.2 2000 " SETTINGS " 200 \"e2\" 2000",
               "last_seen holds the newer one, and its settings ETag");
    tap_ok(polycom_store_checkins(db, tie, 2, 1) == 0,
           "a batch of two check-ins at the same time is written");
    tap_is_str(first_value(SEEN_ROW),
               "192.0.2.4 3000 " SETTINGS " 404 \"e2\" 2000",
               "of two at the same time the later written wins, and a "
               "failed fetch leaves the settings ETag alone");
    tap_ok(polycom_store_checkins(db, older, 1, 1) == 0,
           "an older check-in arriving late is written");
    tap_is_str(first_value(SEEN_ROW),
               "192.0.2.4 3000 " SETTINGS " 404 \"e2\" 2000",
               "and changes nothing in last_seen");
    tap_is_str(first_value("SELECT count(*) FROM checkins"
                           " WHERE mac = '0004f2000001'"), "5",
               "while every check-in is in the history");
    tap_ok(polycom_store_checkins(db, not_modified, 1, 1) == 0,
           "a 304 of the settings is written");
    tap_is_str(first_value(SEEN_ROW),
               "192.0.2.5 4000 " SETTINGS " 304 \"e4\" 4000",
               "and counts as a good fetch");
}

/* Note in @a map a good GET of @a mac's file @a suffix at @a time. */
static void note_seen(polycom_seen_map *map, const char *mac,
                      const char *suffix, apr_time_t time, const char *ip,
                      const char *etag)
{
    polycom_checkin c = seen_checkin(time, ip,
                                     apr_pstrcat(pool, mac, suffix, NULL),
                                     200, etag);

    c.mac = mac;
    polycom_seen_note(map, &c);
}

/* The check-in writer's way: what it gathered of the batches it wrote
 * (polycom_seen.h), a hundred MACs a statement, then ten, then one. */
static void test_seen_rows(polycom_db *db)
{
    polycom_seen_map *map = polycom_seen_map_make(pool);
    const polycom_seen_row *rows;
    int i, n;

    for (i = 0; i < 117; i++) {
        note_seen(map, apr_psprintf(pool, "0004f2a%05d", i), "-settings.cfg",
                  5000 + i, "192.0.2.9", "\"r\"");
    }
    rows = polycom_seen_rows(map, pool, &n);
    tap_ok(polycom_store_seen_rows(db, rows, n) == 0,
           "117 MACs' rows upserted (100, 10 and 7 a statement)");
    tap_is_str(first_value("SELECT count(*) || ' ' || min(time_us) || ' '"
                           " || max(time_us) FROM last_seen"
                           " WHERE mac LIKE '0004f2a%' AND ip = '192.0.2.9'"
                           " AND settings_etag = '\"r\"'"
                           " AND settings_us = time_us"),
               "117 5000 5116", "each MAC's row, with its settings fetch");

    map = polycom_seen_map_make(pool);
    note_seen(map, "0004f2a00005", ".cfg", 4000, "192.0.2.10", "");
    note_seen(map, "0004f2a00006", ".cfg", 9000, "192.0.2.11", "");
    rows = polycom_seen_rows(map, pool, &n);
    tap_ok(polycom_store_seen_rows(db, rows, n) == 0,
           "an older and a newer check-in upserted");
    tap_is_str(first_value("SELECT group_concat(ip || ' ' || time_us || ' '"
                           " || settings_us, ', ') FROM (SELECT * FROM"
                           " last_seen WHERE mac IN ('0004f2a00005',"
                           " '0004f2a00006') ORDER BY mac)"),
               "192.0.2.9 5005 5005, 192.0.2.11 9000 5006",
               "a row only moves forward; a newer check-in keeps the "
               "settings fetch it had");
}

#define SEEN_WINDOW apr_time_from_sec(30)
#define SEEN_ROW3 "SELECT ip || ' ' || time_us || ' ' || file || ' ' ||" \
                  " status || ' ' || settings_etag || ' ' || settings_us" \
                  " FROM last_seen WHERE mac = '0004f2000003'"

static apr_int64_t last_checkin_id(void)
{
    return apr_atoi64(first_value("SELECT coalesce(max(id), 0)"
                                  " FROM checkins"));
}

/* A batch written as the check-in writer writes it, then last_seen
 * brought up to date from @a mark. */
static int written_and_flushed(polycom_db *db,
                               const polycom_checkin *const *list, int count,
                               polycom_seen_mark *mark)
{
    int macs;

    return polycom_store_checkins(db, list, count, 0) == 0
           && polycom_store_seen_flush(db, mark, SEEN_WINDOW, &macs) == 0;
}

/* What the check-in writer does: batches written without last_seen, then
 * one statement over the check-ins since (polycom_store_seen_flush). It
 * must leave what the batches themselves left (test_last_seen). */
static void test_seen_flush(polycom_db *db)
{
    polycom_checkin a = seen_checkin(2000, "192.0.2.2", SETTINGS, 200, "\"e2\"");
    polycom_checkin b = seen_checkin(1000, "192.0.2.1", SETTINGS, 200, "\"e1\"");
    polycom_checkin c = seen_checkin(3000, "192.0.2.3", "0004f2000003.cfg",
                                     200, "\"m\"");
    polycom_checkin d = seen_checkin(3000, "192.0.2.4", SETTINGS, 404, "");
    polycom_checkin e = seen_checkin(4000, "192.0.2.5", SETTINGS, 304, "\"e4\"");
    polycom_checkin f = seen_checkin(5000, "192.0.2.6", "000000000000.cfg",
                                     200, "\"d\"");
    const polycom_checkin *newer_first[2] = { &a, &b };
    const polycom_checkin *tie[2] = { &c, &d };
    const polycom_checkin *older[1] = { &b };
    const polycom_checkin *later[2] = { &e, &f };
    apr_time_t newest = apr_time_now() + APR_INT64_C(3600000000);
    polycom_checkin old = seen_checkin(newest - apr_time_from_sec(60),
                                       "192.0.2.7", SETTINGS, 200, "\"o\"");
    polycom_checkin recent = seen_checkin(newest - apr_time_from_sec(10),
                                          "192.0.2.8", SETTINGS, 200, "\"r\"");
    polycom_checkin now = seen_checkin(newest, "192.0.2.9", SETTINGS, 200,
                                       "\"n\"");
    polycom_checkin again = seen_checkin(newest + 1, "192.0.2.10",
                                         "0004f2000005.cfg", 200, "\"a\"");
    const polycom_checkin *stopped[3] = { &old, &recent, &now };
    const polycom_checkin *reused[1] = { &again };
    polycom_seen_mark mark, before;
    int macs = -1, rounds, rv = -1;

    mark.id = last_checkin_id();
    mark.time_us = -1;
    a.mac = b.mac = c.mac = d.mac = e.mac = f.mac = "0004f2000003";
    a.file = b.file = d.file = e.file = "0004f2000003-settings.cfg";
    tap_ok(polycom_store_checkins(db, newer_first, 2, 0) == 0
           && polycom_store_checkins(db, older, 1, 0) == 0,
           "the writer's batches are written without last_seen");
    tap_is_str(first_value("SELECT count(*) FROM last_seen"
                           " WHERE mac = '0004f2000003'"), "0",
               "which they leave alone");
    tap_is_int(polycom_store_seen_flush(db, &mark, SEEN_WINDOW, &macs), 0,
               "one statement brings last_seen up to date");
    tap_ok(mark.id == last_checkin_id() && macs == 1,
           "with every check-in since, one MAC's row");
    tap_is_str(first_value(SEEN_ROW3),
               "192.0.2.2 2000 0004f2000003-settings.cfg 200 \"e2\" 2000",
               "the newest of them, and the settings ETag of the newest "
               "good fetch");
    tap_ok(written_and_flushed(db, tie, 2, &mark),
           "two check-ins at the same time go over");
    tap_is_str(first_value(SEEN_ROW3),
               "192.0.2.4 3000 0004f2000003-settings.cfg 404 \"e2\" 2000",
               "the later written wins, and a failed fetch leaves the "
               "settings ETag alone");
    tap_ok(written_and_flushed(db, older, 1, &mark),
           "an older check-in arriving late goes over");
    tap_is_str(first_value(SEEN_ROW3),
               "192.0.2.4 3000 0004f2000003-settings.cfg 404 \"e2\" 2000",
               "and changes nothing");
    tap_ok(written_and_flushed(db, later, 2, &mark),
           "a 304 of the settings, then a fetch of the default file, go "
           "over");
    tap_is_str(first_value(SEEN_ROW3),
               "192.0.2.5 4000 0004f2000003-settings.cfg 304 \"e4\" 4000",
               "the 304 counts as a good fetch; the default file, which "
               "does not name the MAC, is not where the phone was seen");
    before = mark;
    tap_ok(polycom_store_seen_flush(db, &mark, SEEN_WINDOW, &macs) == 0
           && mark.id == before.id && macs == 0,
           "with nothing new, nothing is written");
    before = mark;
    mark.id += 50;
    mark.time_us = -1;
    tap_ok(polycom_store_seen_flush(db, &mark, SEEN_WINDOW, &macs) == 0
           && mark.id == before.id,
           "past the newest id (a history emptied), it starts again and is "
           "up to date");

    /* A writer that stopped before its flush: the next one (its mark not
     * known) starts from the check-ins within 30 s of the newest. */
    old.mac = "0004f2000006";
    old.file = "0004f2000006-settings.cfg";
    recent.mac = now.mac = "0004f2000004";
    recent.file = now.file = "0004f2000004-settings.cfg";
    tap_ok(polycom_store_checkins(db, stopped, 3, 0) == 0,
           "three check-ins 60 s, 10 s and 0 s before the newest are "
           "written without last_seen");
    mark.id = mark.time_us = -1;
    tap_is_int(polycom_store_seen_flush(db, &mark, SEEN_WINDOW, &macs), 0,
               "a writer starting brings last_seen up to date");
    tap_is_str(first_value("SELECT ip || ' ' || settings_etag FROM last_seen"
                           " WHERE mac = '0004f2000004'"),
               "192.0.2.9 \"n\"", "from the check-ins of the last 30 s");
    tap_is_str(first_value("SELECT count(*) FROM last_seen"
                           " WHERE mac = '0004f2000006'"), "0",
               "not from the one 60 s old");

    /* A backlog of more than one statement's ids (another node's, while
     * this one wrote nothing): only its last 30 s are gone over. */
    first_value(apr_psprintf(pool, "INSERT INTO checkins (time_us, mac,"
                             " file, status) WITH RECURSIVE n(i) AS"
                             " (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                             " WHERE i < %d) SELECT %" APR_TIME_T_FMT
                             " - 120000000, '0004f2000007',"
                             " '0004f2000007.cfg', 200 FROM n",
                             POLYCOM_SEEN_BACKLOG_IDS + 10, newest));
    again.time = newest + apr_time_from_sec(60);
    again.mac = "0004f2000008";
    again.file = "0004f2000008.cfg";
    tap_ok(polycom_store_checkins(db, reused, 1, 0) == 0
           && polycom_store_seen_flush(db, &mark, SEEN_WINDOW, &macs) == 0
           && mark.id == last_checkin_id(),
           "a backlog of more ids than POLYCOM_SEEN_BACKLOG_IDS is caught "
           "up at once");
    tap_is_str(first_value("SELECT count(*) FROM last_seen WHERE mac IN"
                           " ('0004f2000007', '0004f2000008')"), "1",
               "from its last 30 s: the newest check-in in, the old "
               "backlog's not");
    again.time = newest + 1;

    /* SQLite gives the id of the newest row out again once it is gone. */
    again.mac = "0004f2000005";
    again.file = "0004f2000005.cfg";
    tap_ok(first_value(apr_psprintf(pool, "DELETE FROM checkins WHERE id = %"
                                    APR_INT64_T_FMT, mark.id)) == NULL
           && polycom_store_checkins(db, reused, 1, 0) == 0
           && last_checkin_id() == mark.id,
           "the newest check-in deleted, the next one gets its id");
    /* Gone over again from 30 s before it, the backlog above included:
     * a statement a POLYCOM_SEEN_FLUSH_IDS ids, as the writer does, with
     * the batches that came meanwhile written between them. */
    for (rounds = 0; rounds < 20
         && (rv = polycom_store_seen_flush(db, &mark, SEEN_WINDOW, &macs))
            == 1; rounds++) {
        if (rounds == 0) {
            tap_ok(mark.time_us == -1,
                   "a range of more ids than one statement goes over is "
                   "gone over in parts: the first says there is more");
        }
    }
    tap_ok(rv == 0 && rounds >= (POLYCOM_SEEN_BACKLOG_IDS
                                 / POLYCOM_SEEN_FLUSH_IDS),
           "each part goes over POLYCOM_SEEN_FLUSH_IDS ids at most");
    tap_ok(rv == 0 && first_value("SELECT ip FROM last_seen"
                                  " WHERE mac = '0004f2000005'") != NULL,
           "and is not taken for the one gone over: it is in last_seen");
    first_value("DELETE FROM checkins WHERE mac = '0004f2000007'");
}

#define HOUR_US APR_INT64_C(3600000000)
#define HOURS_EXACT \
    "SELECT count(*) FROM (SELECT time_us / 3600000000 AS hour," \
    " count(*) AS n FROM checkins GROUP BY 1) c" \
    " FULL JOIN checkin_hours h ON h.hour = c.hour" \
    " WHERE h.n IS NOT c.n"

/* The hourly counts the console draws (checkin_hours) are written with
 * the check-ins: a late check-in counts in its own hour, and retention
 * takes an hour's count with the hour. */
static void test_checkin_hours(polycom_db *db)
{
    /* A thousand hours ago: no other test writes check-ins near then. */
    apr_time_t now = (apr_time_now() / HOUR_US - 1000) * HOUR_US + 60;
    polycom_checkin a = seen_checkin(now, "192.0.2.6", SETTINGS, 200, "\"h\"");
    polycom_checkin b = seen_checkin(now + 1, "192.0.2.6", SETTINGS, 304,
                                     "\"h\"");
    polycom_checkin late = seen_checkin(now - 50 * HOUR_US, "192.0.2.6",
                                        SETTINGS, 200, "\"h\"");
    const polycom_checkin *batch[3] = { &a, &late, &b };
    const char *hour = apr_psprintf(pool, "%" APR_INT64_T_FMT, now / HOUR_US);
    const char *late_hour = apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                         now / HOUR_US - 50);
    int deleted = 0;

    a.mac = b.mac = late.mac = "0004f2000002";
    tap_ok(polycom_store_checkins(db, batch, 3, 1) == 0,
           "a batch with a late check-in 50 hours old is written");
    tap_is_str(first_value(apr_pstrcat(pool, "SELECT n FROM checkin_hours"
                                       " WHERE hour = ", hour, NULL)), "2",
               "the hour counts its two check-ins");
    tap_is_str(first_value(apr_pstrcat(pool, "SELECT n FROM checkin_hours"
                                       " WHERE hour = ", late_hour, NULL)),
               "1", "the late one counts in its own hour");
    tap_is_str(first_value(HOURS_EXACT), "0",
               "every hour's count is the history's count");
    tap_ok(polycom_store_prune_checkins(db, now - 10 * HOUR_US, &deleted)
           == 0, "retention prunes the check-ins older than 10 hours");
    tap_is_str(first_value(apr_pstrcat(pool, "SELECT count(*) FROM"
                                       " checkin_hours WHERE hour = ",
                                       late_hour, NULL)), "0",
               "and the late check-in's hour with them");
    tap_is_str(first_value(HOURS_EXACT), "0",
               "the counts still match the history");
}

/* sql/sqlite.sql run again over the database by the sqlite3 CLI, with
 * this connection opened anew: apr_dbd_sqlite3 prepares with SQLite's
 * legacy interface, so the first statement after another process changed
 * the schema fails (SQLITE_SCHEMA) instead of being prepared again. */
static int apply_schema(const char *path)
{
    int rv;

    apr_dbd_close(driver, handle);
    rv = system(apr_psprintf(pool, "sqlite3 '%s' '.read sql/sqlite.sql' "
                             ">/dev/null", path));
    return apr_dbd_open(driver, pool, path, &handle) == APR_SUCCESS ? rv : -1;
}

#define OLD_INDEX "SELECT count(*) FROM sqlite_master" \
                  " WHERE name = 'checkins_mac_time'"

/* A database of the schema before last_seen: the history and its index on
 * mac, and no last_seen rows. */
static void test_schema_upgrade(const char *path)
{
    int nrows;

    apr_dbd_query(driver, handle, &nrows, "DELETE FROM last_seen");
    tap_ok(apr_dbd_query(driver, handle, &nrows,
                         "CREATE INDEX checkins_mac_time"
                         " ON checkins (mac, time_us)") == 0
           && apply_schema(path) == 0,
           "the schema applies to a database made before last_seen");
    tap_is_str(first_value(SEEN_ROW),
               "192.0.2.5 4000 " SETTINGS " 304 \"e4\" 4000",
               "last_seen is filled from the history: the newest check-in "
               "and the newest good fetch of the settings");
    tap_is_str(first_value(OLD_INDEX), "0", "and the old index is dropped");

    apr_dbd_query(driver, handle, &nrows, "DELETE FROM last_seen");
    tap_ok(apply_schema(path) == 0, "the schema applies again");
    tap_is_str(first_value("SELECT count(*) FROM last_seen"), "0",
               "without the old index the history is not read again "
               "(each row's lookup would read the whole table)");
}

/* Every SELECT names its columns beside its SQL, and rows are read by
 * those names: each name must be the one SQLite gives the column in that
 * place (apr_dbd_get_name reports the same, but only once a row exists;
 * sqlite3 says it of the statement alone). */
static void test_column_names(const char *path)
{
    const polycom_statement *all;
    apr_size_t count, i;
    sqlite3 *conn;
    int selects = 0, agree = 0;

    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READONLY, NULL)
        != SQLITE_OK) {
        tap_ok(0, "the database opens for the column check");
        return;
    }
    all = polycom_store_statements(&count);
    for (i = 0; i <= count; i++) {
        const polycom_statement *st = i < count ? &all[i]
                                                : polycom_store_marker();
        const char *names = st->columns ? st->columns : "";
        const char *sql = st->sql ? st->sql : "", *at;  /* NULL: generated */
        apr_array_header_t *parts = apr_array_make(pool, 8, sizeof(char *));
        sqlite3_stmt *stmt = NULL;
        const char *got = "";
        int c;

        if (strncmp(sql, "SELECT", 6) && !*names) {
            continue;           /* a write, which names nothing */
        }
        selects++;
        /* apr_dbd_sqlite3 prepares %s as SQLite's ? */
        while ((at = strstr(sql, "%s")) != NULL) {
            APR_ARRAY_PUSH(parts, char *) = apr_pstrmemdup(pool, sql,
                                                           at - sql);
            APR_ARRAY_PUSH(parts, char *) = "?";
            sql = at + 2;
        }
        APR_ARRAY_PUSH(parts, char *) = (char *)sql;
        sql = apr_array_pstrcat(pool, parts, 0);
        if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) != SQLITE_OK) {
            got = apr_pstrcat(pool, "(does not prepare: ",
                              sqlite3_errmsg(conn), ")", NULL);
        }
        for (c = 0; stmt && c < sqlite3_column_count(stmt); c++) {
            got = apr_pstrcat(pool, got, c ? " " : "",
                              sqlite3_column_name(stmt, c), NULL);
        }
        sqlite3_finalize(stmt);
        if (strcmp(got, names)) {
            tap_is_str(got, names, apr_psprintf(pool, "%s: the columns are "
                                                "named as declared",
                                                st->label));
        }
        else {
            agree++;
        }
    }
    sqlite3_close(conn);
    tap_ok(selects > 20 && agree == selects,
           apr_psprintf(pool, "each of the %d SELECTs names its columns as "
                        "SQLite does, in order", selects));
}

/* The admin API's statements and the writer's many-row upserts are
 * prepared on a connection at their first use there (a phone's connection
 * never runs them: 0.9 MB of SQLite's memory each), the rest when it
 * opens; polycom_store_prepare_all() does the rest at once. */
static void first_use(polycom_db *db)
{
    const char *admin = POLYCOM_SQL_PHONE_LIST "_mac_asc";
    apr_size_t count, prepared = 0, i;
    const polycom_statement *all = polycom_store_statements(&count);

    tap_ok(apr_hash_get(db->prepared, ST_PHONE, APR_HASH_KEY_STRING) != NULL,
           "a phone's statements are prepared when the connection opens");
    tap_ok(!apr_hash_get(db->prepared, admin, APR_HASH_KEY_STRING)
           && !apr_hash_get(db->prepared, ST_SEEN_ROWS, APR_HASH_KEY_STRING),
           "the admin API's and the many-row upserts are not");
    tap_ok(polycom_store_prepared(db, admin) != NULL
           && apr_hash_get(db->prepared, admin, APR_HASH_KEY_STRING),
           "an admin statement is prepared at its first use, and kept");
    tap_ok(polycom_store_prepared(db, "mod_polycom_no_such") == NULL
           && db->error && strstr(db->error, "was not prepared"),
           "a label that names no statement is refused");
    tap_ok(polycom_store_prepare_all(db) == 0,
           "the check-in writer prepares all of them at once");
    for (i = 0; i < count; i++) {
        prepared += apr_hash_get(db->prepared, all[i].label,
                                 APR_HASH_KEY_STRING) != NULL;
    }
    tap_ok(prepared == count, "every statement is then prepared");
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
    apr_uint32_t frames = 0, frames_then = 0, copied = 0;
    int read_index;

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
    tap_ok(polycom_store_session(pool, driver, handle, &error) == 0,
           "a fresh connection's session is set");
    tap_is_str(first_value("PRAGMA busy_timeout"), "5000",
               "it waits 5 s for another process's lock (SQLite's default "
               "fails at once)");
    tap_ok(polycom_store_prepare(pool, driver, handle, prepared, &error) == 0,
           "the statements prepare on a fresh connection");
    tap_is_str(first_value("PRAGMA cache_size"), "-256",
               "its page cache is 256 KiB, not SQLite's 2 MB");
    tap_is_str(first_value("PRAGMA wal_autocheckpoint"), "1000",
               "a connection checkpoints at SQLite's 1,000 pages of WAL");
    tap_ok(polycom_store_leave_checkpoints(pool, driver, handle, &error) == 0,
           "where a check-in writer runs, a child's connection");
    tap_is_str(first_value("PRAGMA wal_autocheckpoint"), "10000",
               "leaves checkpoints to it up to 10,000 pages");

    polycom_store_init(&db, driver, handle, prepared, pool);
    first_use(&db);
    tap_ok(polycom_store_writer_session(&db) == 0,
           "the check-in writer's session is set");
    tap_is_str(first_value("PRAGMA wal_autocheckpoint"), "0",
               "the writer's connection does not checkpoint after commits");
    tap_is_str(first_value("PRAGMA cache_size"), "-" POLYCOM_WRITER_CACHE_KIB,
               "and a page cache large enough that a flush's sorts stay "
               "in memory");

    memset(&checkin, 0, sizeof(checkin));
    checkin.time = apr_time_now();
    checkin.mac = "0004f2e62aa4";
    checkin.ip = checkin.method = checkin.etag = "";
    checkin.file = "0004f2e62aa4.cfg";  /* its own file: it names the MAC */
    checkin.family = checkin.model = checkin.firmware = "";
    checkin.stage = checkin.user_agent = "";
    checkin.unknown_phone = 1;
    tap_ok(polycom_store_checkins(&db, list, 1, 1) == 0, "a check-in is written");
    tap_ok(wal_index(path, &frames, &copied) && frames > copied,
           "it is in the WAL, not yet copied into the database");
    tap_ok(polycom_store_checkpoint(&db, 0) == 0,
           "a checkpoint without restarting the WAL");
    read_index = wal_index(path, &frames_then, &copied);
    tap_ok(read_index && frames_then == frames && copied == frames,
           "copies all of the WAL into the database (%u frames of %u)",
           (unsigned)copied, (unsigned)frames);
    tap_ok(polycom_store_checkpoint(&db, 1) == 0, "the WAL is checkpointed");
    tap_is_str(first_value("SELECT count(*) FROM checkins"), "1",
               "the check-in is in the database");
    tap_is_str(first_value("SELECT count(*) FROM last_seen"
                           " WHERE mac = '0004f2e62aa4'"), "1",
               "and its MAC in last_seen");

    test_column_names(path);
    test_checkin_hours(&db);
    test_last_seen(&db);
    test_seen_flush(&db);
    test_seen_rows(&db);
    test_schema_upgrade(path);
    tap_ok(apply_schema(path) == 0
           && first_value("DELETE FROM checkin_hours") == NULL
           && apply_schema(path) == 0,
           "the schema is applied again over an emptied checkin_hours");
    tap_is_str(first_value(HOURS_EXACT), "0",
               "and fills it from the history, hour by hour");

    apr_dbd_close(driver, handle);
    apr_file_remove(apr_pstrcat(pool, path, "-wal", NULL), pool);
    apr_file_remove(apr_pstrcat(pool, path, "-shm", NULL), pool);
    apr_file_close(file);
    return tap_done();
}
