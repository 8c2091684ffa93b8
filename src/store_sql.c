/* Every SQL statement of mod_polycom, with the names of each SELECT's
 * result columns beside it. The statements are prepared once per
 * connection (store.c); t/unit/test_store.c checks the names against what
 * SQLite calls the columns. */

#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "polycom_name.h"
#include "polycom_store_private.h"

/* Each SELECT names its result columns beside its SQL, in order: rows are
 * read by these names (polycom_row_get), and t/unit/test_store.c checks
 * them against the names SQLite gives the columns. */
static const polycom_statement store_statements[] = {
    { ST_REVISION, "SELECT value FROM revision WHERE id = 1", NULL, "value" },
    /* Taking the revision row first, before any other row: see
     * store_lock_revision(). */
    { ST_REVISION_LOCK,
      "UPDATE revision SET value = value WHERE id = 1", NULL, NULL },
    { ST_REPROV_ANY,
      "SELECT count(*) AS targets FROM reprovision", NULL,
      "targets" },
    { ST_PHONE,
      "SELECT model, site, label, enabled FROM phones WHERE mac = %s",
      NULL, "model site label enabled" },
    /* Where a phone last checked in from: its newest check-in. */
    { ST_LAST_IP,
      "SELECT ip FROM last_seen WHERE mac = %s", NULL, "ip" },
    /* Every row that can apply, grouped by name; which one wins is
     * src/layers.c's to decide (the same code explains it). */
    { ST_PARAMS_PHONE,
      "SELECT name, value, scope, scope_key FROM params"
      " WHERE (scope = 'global' AND scope_key = '')"
      "    OR (scope = 'site' AND scope_key = %s)"
      "    OR (scope = 'model' AND scope_key = %s)"
      "    OR (scope = 'phone' AND scope_key = %s)"
      " ORDER BY name", NULL,
      "name value scope scope_key" },
    { ST_PARAMS_GLOBAL,
      "SELECT name, value, scope, scope_key FROM params"
      " WHERE scope = 'global' AND scope_key = '' ORDER BY name", NULL,
      "name value scope scope_key" },
    /* The cold path (mod_polycom_prov.c): everything one request for a
     * phone's file reads, in one statement and so one snapshot (each
     * statement is a read transaction of its own, and under check-ins
     * SQLite re-reads every page it touches: its transaction, not its
     * rows, was most of a request's cost). The revision, whether any move
     * is set up at all, the phone (mac NULL: unknown) and, for its
     * settings, its own parameters, one row each (one row without them).
     * The layers above the phone come from polycom_layers. */
#define PHONE_AT \
      "SELECT r.value AS revision," \
      " CASE WHEN EXISTS (SELECT 1 FROM reprovision) THEN 1 ELSE 0 END" \
      " AS moves, p.mac, p.model, p.site, p.label, p.enabled"
#define PHONE_AT_COLUMNS "revision moves mac model site label enabled"
    { ST_PHONE_AT,
      PHONE_AT " FROM revision r LEFT JOIN phones p ON p.mac = %s"
      " WHERE r.id = 1", NULL, PHONE_AT_COLUMNS },
    { ST_PHONE_OWN_AT,
      PHONE_AT ", x.name, x.value"
      " FROM revision r LEFT JOIN phones p ON p.mac = %s"
      " LEFT JOIN params x ON x.scope = 'phone' AND x.scope_key = p.mac"
      " WHERE r.id = 1", NULL, PHONE_AT_COLUMNS " name value" },
    /* The layers above a phone of a site and model, with the revision of
     * the same snapshot, grouped by name for polycom_layers, which decides
     * which of them wins (as it does for ST_PARAMS_PHONE). */
    { ST_LAYERS_AT,
      "SELECT r.value AS revision, x.name, x.value, x.scope, x.scope_key"
      " FROM revision r LEFT JOIN"
      " (SELECT name, value, scope, scope_key FROM params"
      "   WHERE (scope = 'global' AND scope_key = '')"
      "      OR (scope = 'site' AND scope_key = %s)"
      "      OR (scope = 'model' AND scope_key = %s)) x ON 1 = 1"
      " WHERE r.id = 1 ORDER BY x.name", NULL,
      "revision name value scope scope_key" },
    /* Generated from the one definition of a check-in (polycom_checkin.h)
     * by polycom_store_sql_for(), as are its values in
     * store_checkin_rows(). */
    { ST_CHECKIN, NULL, NULL, NULL },
    /* A batch's check-ins of one hour added to that hour's count (the
     * console's check-in pictures), whatever hour it is: a late batch
     * counts in the hour its check-ins were made. */
    { ST_CHECKIN_HOUR,
      "INSERT INTO checkin_hours (hour, n) VALUES (" NUM ", " NUM ")"
      " ON CONFLICT (hour) DO UPDATE SET n = checkin_hours.n + excluded.n",
      "INSERT INTO checkin_hours (hour, n) VALUES (" NUM ", " NUM ")"
      " ON DUPLICATE KEY UPDATE n = n + VALUES(n)", NULL },
    /* The MAC's newest check-in, and its newest good fetch of its settings
     * (settings_us 0: this one is not). Batches of several children may
     * arrive out of order: an older check-in changes nothing; of two at
     * the same time, the later written wins, as the larger id would.
     * MySQL assigns left to right, so the times it compares go last. */
#define SEEN_NEWER(column) \
      " " column " = CASE WHEN excluded.time_us >= last_seen.time_us" \
      " THEN excluded." column " ELSE last_seen." column " END,"
#define SEEN_NEWER_MY(column) \
      " " column " = IF(VALUES(time_us) >= time_us, VALUES(" column "), " \
      column "),"
#define SEEN_INSERT \
      "INSERT INTO last_seen (mac, time_us, ip, file, status, model," \
      " firmware, settings_etag, settings_us)" \
      " VALUES (%s, " NUM ", %s, %s, " NUM ", %s, %s, %s, " NUM ")"
#define SEEN_NEWEST(newer) \
      newer("ip") newer("file") newer("status") newer("model") \
      newer("firmware")
#define SEEN_UPSERT \
      " ON CONFLICT (mac) DO UPDATE SET" SEEN_NEWEST(SEEN_NEWER) \
      " settings_etag = CASE WHEN excluded.settings_us > 0" \
      "   AND excluded.settings_us >= last_seen.settings_us" \
      "   THEN excluded.settings_etag ELSE last_seen.settings_etag END," \
      " settings_us = CASE WHEN excluded.settings_us > last_seen.settings_us" \
      "   THEN excluded.settings_us ELSE last_seen.settings_us END," \
      " time_us = CASE WHEN excluded.time_us > last_seen.time_us" \
      "   THEN excluded.time_us ELSE last_seen.time_us END"
#define SEEN_UPSERT_MY \
      " ON DUPLICATE KEY UPDATE" SEEN_NEWEST(SEEN_NEWER_MY) \
      " settings_etag = IF(VALUES(settings_us) > 0" \
      "   AND VALUES(settings_us) >= settings_us, VALUES(settings_etag)," \
      "   settings_etag)," \
      " settings_us = GREATEST(settings_us, VALUES(settings_us))," \
      " time_us = GREATEST(time_us, VALUES(time_us))"
    { ST_SEEN, SEEN_INSERT SEEN_UPSERT, SEEN_INSERT SEEN_UPSERT_MY, NULL },
    /* The newest check-in's id and time, and the time of the one a flush
     * went up to: SQLite gives the ids of rows deleted from the top out
     * again, so an id alone does not say the row is the same. */
    { ST_CHECKIN_LAST,
      "SELECT coalesce(max(id), 0) AS last_id,"
      " coalesce((SELECT c.time_us FROM checkins c"
      "   WHERE c.id = (SELECT max(id) FROM checkins)), -1) AS last_us,"
      " coalesce((SELECT m.time_us FROM checkins m WHERE m.id = " NUM "),"
      "   -1) AS mark_us"
      " FROM checkins", NULL, "last_id last_us mark_us" },
    /* Where a check-in writer starting begins: the check-ins of the last
     * moments before the newest, which one that stopped may have written
     * without bringing last_seen up to date (the upsert only moves
     * forward, so going over them again changes nothing else). */
    { ST_SEEN_REPLAY,
      "SELECT coalesce((SELECT min(id) FROM checkins WHERE time_us >="
      " (SELECT max(time_us) FROM checkins) - " NUM ") - 1, 0)"
      " AS replay_after", NULL, "replay_after" },
    { ST_SEEN_UNKNOWN,
      "INSERT INTO discovered (mac, first_seen_us, last_seen_us, last_ip,"
      " model, firmware) VALUES (%s, " NUM ", " NUM ", %s, %s, %s)"
      " ON CONFLICT (mac) DO UPDATE SET last_seen_us = excluded.last_seen_us,"
      " last_ip = excluded.last_ip, model = excluded.model,"
      " firmware = excluded.firmware, requests = discovered.requests + 1",
      "INSERT INTO discovered (mac, first_seen_us, last_seen_us, last_ip,"
      " model, firmware) VALUES (%s, " NUM ", " NUM ", %s, %s, %s)"
      " ON DUPLICATE KEY UPDATE last_seen_us = VALUES(last_seen_us),"
      " last_ip = VALUES(last_ip), model = VALUES(model),"
      " firmware = VALUES(firmware), requests = requests + 1",
      NULL },
    { ST_UPLOAD_GET,
      "SELECT content, size FROM uploads WHERE mac = %s AND kind = %s", NULL,
      "content size" },
    /* One statement: a concurrent PUT of the same file sees either the old
     * or the new row, whole, never a mix. */
    { ST_UPLOAD_PUT,
      "INSERT INTO uploads (mac, kind, content, size, time_us)"
      " VALUES (%s, %s, %s, " NUM ", " NUM ")"
      " ON CONFLICT (mac, kind) DO UPDATE SET content = excluded.content,"
      " size = excluded.size, time_us = excluded.time_us",
      "INSERT INTO uploads (mac, kind, content, size, time_us)"
      " VALUES (%s, %s, %s, " NUM ", " NUM ")"
      " ON DUPLICATE KEY UPDATE content = VALUES(content),"
      " size = VALUES(size), time_us = VALUES(time_us)",
      NULL },
    { ST_LOG_GET,
      "SELECT content, size FROM log_chunks WHERE mac = %s AND kind = %s"
      " ORDER BY id", NULL, "content size" },
    { ST_LOG_ADD,
      "INSERT INTO log_chunks (mac, kind, time_us, size, content)"
      " VALUES (%s, %s, " NUM ", " NUM ", %s)", NULL, NULL },
    { ST_LOG_SIZES,
      "SELECT id, size, time_us FROM log_chunks WHERE mac = %s AND kind = %s"
      " ORDER BY id DESC", NULL, "id size time_us" },
    { ST_LOG_PRUNE,
      "DELETE FROM log_chunks WHERE mac = %s AND kind = %s AND id <= " NUM,
      NULL, NULL },
    /* What a phone stores (PolycomUploadQuota): the file or log of this
     * kind, and everything else it uploaded. */
    { ST_USAGE,
      "SELECT coalesce(sum(CASE WHEN kind = %s THEN size ELSE 0 END), 0)"
      " AS same_kind,"
      " coalesce(sum(CASE WHEN kind = %s THEN 0 ELSE size END), 0)"
      " AS other_kinds"
      " FROM (SELECT kind, size FROM uploads WHERE mac = %s"
      "       UNION ALL SELECT kind, size FROM log_chunks WHERE mac = %s)"
      " AS phone_files", NULL, "same_kind other_kinds" },
    /* Retention, one bounded round: rows older than the cut-off among the
     * oldest PRUNE_BATCH by id (the order they were written in, which is
     * their time's order but for batches a few seconds late). Reading the
     * primary key's first rows needs no index on time_us, which every
     * check-in would pay for; DELETE ... LIMIT is not portable, and MySQL
     * reads its own table in a DELETE only through a derived table. */
#define PRUNE_BATCH "10000"
#define PRUNE_ROUND(table) \
      "DELETE FROM " table " WHERE time_us < " NUM \
      " AND id <= (SELECT max(id) FROM (SELECT id FROM " table \
      "            ORDER BY id LIMIT " PRUNE_BATCH ") AS head)"
    { ST_PRUNE_CHECKINS, PRUNE_ROUND("checkins"), NULL, NULL },
    { ST_PRUNE_LOGS, PRUNE_ROUND("log_chunks"), NULL, NULL },

    /* From here on (STORE_FIRST_ON_USE), statements are prepared on a
     * connection at their first use there, not when it opens: of the 1 MB
     * SQLite took for all of them on each connection, these were 0.9 MB
     * (the writer's many-row upserts, 0.13 MB; the admin API's, 0.77 MB),
     * most of which a connection that serves phones never runs (the few
     * it may, a move's delivery or a settings snapshot, it prepares when
     * first needed). The check-in writer prepares them all when it opens
     * its own, so that one that does not prepare is said at start-up
     * (PC00052). */
    /* The same for many MACs a statement (polycom_store_generated_sql):
     * a statement per MAC was 42 % of the check-in writer's work. */
    { ST_SEEN_ROWS, NULL, NULL, NULL },
    { ST_SEEN_ROWS_FEW, NULL, NULL, NULL },
    /* The same for every check-in after one id up to another, in one
     * statement: a starting check-in writer's catch-up on what the one
     * before may have left out (its batches' rows it gathers itself and
     * writes with ST_SEEN_ROWS). Of each MAC's
     * check-ins in the range that name it, the newest, and the newest
     * good fetch of its settings file, the larger id winning a tie in
     * time. In MAC order, as store_seen() takes the rows; columns named
     * apart from last_seen's, which MySQL's update clause names bare. */
#define SEEN_RANKED(columns, condition) \
      " (SELECT " columns ", row_number() OVER (PARTITION BY mac" \
      " ORDER BY time_us DESC, id DESC) AS newest FROM checkins" \
      " WHERE id > " NUM " AND id <= " NUM " AND length(mac) = 12" \
      " AND " condition ")"
#define SEEN_FLUSH(settings_file) \
      "INSERT INTO last_seen (mac, time_us, ip, file, status, model," \
      " firmware, settings_etag, settings_us)" \
      " SELECT n.seen_mac, n.seen_us, n.seen_ip, n.seen_file," \
      " n.seen_status, n.seen_model, n.seen_firmware," \
      " coalesce(f.fetch_etag, ''), coalesce(f.fetch_us, 0) FROM" \
      SEEN_RANKED("mac AS seen_mac, time_us AS seen_us, ip AS seen_ip," \
                  " file AS seen_file, status AS seen_status," \
                  " model AS seen_model, firmware AS seen_firmware", \
                  "substr(file, 1, 12) = mac" \
                  " AND substr(file, 13, 1) IN ('-', '.')") " n" \
      " LEFT JOIN" \
      SEEN_RANKED("mac AS fetch_mac, etag AS fetch_etag," \
                  " time_us AS fetch_us", \
                  "method = 'GET' AND status IN (200, 304)" \
                  " AND file = " settings_file) " f" \
      " ON f.fetch_mac = n.seen_mac AND f.newest = 1" \
      " WHERE n.newest = 1 ORDER BY n.seen_mac"
    { ST_SEEN_FLUSH,
      SEEN_FLUSH("mac || '" POLYCOM_SETTINGS_SUFFIX "'") SEEN_UPSERT,
      SEEN_FLUSH("CONCAT(mac, '" POLYCOM_SETTINGS_SUFFIX "')")
      SEEN_UPSERT_MY, NULL },

    /* The admin API. Optional filters are passed as '' when unused. */
    /* A phone with its newest check-in (when, from where, what file and
     * status, which model and firmware it said it was). The stale filter
     * keeps phones with no check-in since the cut-off. */
#define PHONE_COLUMNS "p.mac, p.model, p.site, p.label, p.enabled," \
                      " c.time_us AS seen_us, c.ip AS seen_ip," \
                      " c.file AS seen_file, c.status AS seen_status," \
                      " c.model AS seen_model, c.firmware AS seen_firmware," \
                      " p.sip_address"
#define PHONE_NAMES   "mac model site label enabled seen_us seen_ip" \
                      " seen_file seen_status seen_model seen_firmware" \
                      " sip_address"
#define PHONE_SEEN    " FROM phones p LEFT JOIN last_seen c ON c.mac = p.mac"
/* The fleet view (GET phones): the arguments, all bound, '' when unused,
 * are site x2, model x2, the cut-off of stale= (phones with no check-in
 * since), then the search: q and its LIKE pattern x6 (lower case, '!' the
 * escape). MAC, label, site, model, firmware and IP are each searched;
 * lower() on both sides because LIKE's case differs between the three
 * databases. */
#define PHONE_WHERE \
      " WHERE (%s = '' OR p.site = %s)" \
      " AND (%s = '' OR p.model = %s)" \
      " AND (c.mac IS NULL OR c.time_us < " NUM ")" \
      " AND (%s = '' OR p.mac LIKE %s ESCAPE '!'" \
      "   OR lower(p.label) LIKE %s ESCAPE '!'" \
      "   OR lower(p.site) LIKE %s ESCAPE '!'" \
      "   OR lower(p.model) LIKE %s ESCAPE '!'" \
      "   OR lower(c.firmware) LIKE %s ESCAPE '!'" \
      "   OR c.ip LIKE %s ESCAPE '!')"
/* Not up to date (filter=outdated): an enabled phone that has not fetched
 * its settings since it was created (never, or before created_us), or
 * whose phone, site, model or global layer changed after its last good
 * fetch of them. A change is a row of that layer's history, which every
 * write makes, whatever made it: the API, an import, a bulk action, a
 * restore, or SQL by hand; a trigger on history keeps each layer's newest
 * in layer_changes. The phone's own is one key look-up per phone; the
 * sites' and models' are read once, grouped (PHONE_LAYERS: a few rows;
 * the grouping keeps every database from turning them into a look-up per
 * phone), and joined. The times are the database's (history) and the web
 * node's (the fetch): they keep the same time (NTP). A change that leaves
 * the file the same (a label) still counts here; the per-phone up_to_date
 * compares the ETags themselves. */
#define PHONE_LAYER_CHANGES(scope, alias, column) \
      " LEFT JOIN (SELECT scope_key, max(changed_us) AS changed" \
      " FROM layer_changes WHERE scope = '" scope "' GROUP BY scope_key) " \
      alias " ON " alias ".scope_key = " column
#define PHONE_LAYERS \
      PHONE_SEEN PHONE_LAYER_CHANGES("site", "hs", "p.site") \
      PHONE_LAYER_CHANGES("model", "hm", "p.model") \
      " LEFT JOIN layer_changes hp ON hp.scope = 'phone'" \
      " AND hp.scope_key = p.mac"
#define PHONE_OUTDATED \
      "p.enabled = 1 AND (c.mac IS NULL OR c.settings_us = 0" \
      " OR c.settings_us < p.created_us" \
      " OR (SELECT g.changed_us FROM layer_changes g" \
      "  WHERE g.scope = 'global' AND g.scope_key = '') > c.settings_us" \
      " OR hs.changed > c.settings_us OR hm.changed > c.settings_us" \
      " OR hp.changed_us > c.settings_us)"
/* A phone's move in that state: the few MACs in it, read once (a look-up
 * per phone cost the counts a sixth of their time at 100,000 phones). */
#define PHONE_MOVE(state) \
      "p.mac IN (SELECT r.mac FROM reprovision_state r" \
      " WHERE r.state = '" state "')"
/* One filter: filter x7 with the stale cut-off after the first. */
#define PHONE_FILTER \
      " AND (%s = '' OR (%s = 'stale' AND c.time_us < " NUM ")" \
      "   OR (%s = 'never' AND c.mac IS NULL)" \
      "   OR (%s = 'disabled' AND p.enabled = 0)" \
      "   OR (%s = 'outdated' AND " PHONE_OUTDATED ")" \
      "   OR (%s = 'delivered' AND " PHONE_MOVE("delivered") ")" \
      "   OR (%s = 'confirmed' AND " PHONE_MOVE("confirmed") "))"
#define PHONE_PAGE(label, order) \
    { label, \
      "SELECT " PHONE_COLUMNS PHONE_LAYERS PHONE_WHERE PHONE_FILTER \
      " ORDER BY " order " LIMIT " NUM " OFFSET " NUM, NULL, PHONE_NAMES }
    /* One statement per order, each prepared once; the MAC breaks ties
     * so that pages never overlap. */
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_mac_asc", "p.mac"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_mac_desc", "p.mac DESC"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_label_asc", "p.label, p.mac"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_label_desc",
               "p.label DESC, p.mac DESC"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_site_asc", "p.site, p.mac"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_site_desc", "p.site DESC, p.mac DESC"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_model_asc", "p.model, p.mac"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_model_desc",
               "p.model DESC, p.mac DESC"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_firmware_asc",
               "coalesce(c.firmware, ''), p.mac"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_firmware_desc",
               "coalesce(c.firmware, '') DESC, p.mac DESC"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_seen_asc",
               "coalesce(c.time_us, 0), p.mac"),
    PHONE_PAGE(POLYCOM_SQL_PHONE_LIST "_seen_desc",
               "coalesce(c.time_us, 0) DESC, p.mac DESC"),
    /* Every phone of a view, for a bulk action on it (POST phones/bulk):
     * the arguments of PHONE_WHERE and PHONE_FILTER. */
    { POLYCOM_SQL_PHONE_VIEW,
      "SELECT p.mac, p.model, p.site, p.label, p.enabled, p.sip_address"
      PHONE_LAYERS PHONE_WHERE PHONE_FILTER " ORDER BY p.mac", NULL,
      "mac model site label enabled sip_address" },
    /* How many phones the search finds, and how many of them each filter
     * keeps: the stale cut-off, then the arguments of PHONE_WHERE. */
#define PHONE_COUNT_OF(condition, name) \
      " coalesce(sum(CASE WHEN " condition " THEN 1 ELSE 0 END), 0) AS " name
#define PHONE_COUNTS \
      "SELECT count(*) AS total," \
      PHONE_COUNT_OF("c.time_us < " NUM, "stale") "," \
      PHONE_COUNT_OF("c.mac IS NULL", "never") "," \
      PHONE_COUNT_OF("p.enabled = 0", "disabled") "," \
      PHONE_COUNT_OF(PHONE_OUTDATED, "outdated") "," \
      PHONE_COUNT_OF(PHONE_MOVE("delivered"), "delivered") "," \
      PHONE_COUNT_OF(PHONE_MOVE("confirmed"), "confirmed") \
      PHONE_LAYERS
    { POLYCOM_SQL_PHONE_COUNT,
      PHONE_COUNTS PHONE_WHERE, NULL,
      "total stale never disabled outdated delivered confirmed" },
    /* The same for the whole fleet (no search, site, model or stale=): the
     * console's first view. PostgreSQL plans a prepared statement once for
     * any arguments, and the search's "'' or ..." conditions made it
     * expect a dozen phones and look up each phone's layer one by one
     * (0.5 s at 100,000 phones, against 0.15 s hashed). */
    { POLYCOM_SQL_PHONE_COUNT_ALL,
      PHONE_COUNTS, NULL,
      "total stale never disabled outdated delivered confirmed" },
    /* The console's pictures (GET stats): each one pass over phones and
     * last_seen (one row per phone), or the index checkins_time. */
    { POLYCOM_SQL_STATS_FIRMWARE,
      "SELECT p.model, coalesce(c.firmware, '') AS firmware,"
      " count(*) AS phones" PHONE_SEEN
      " GROUP BY p.model, coalesce(c.firmware, '')"
      " ORDER BY p.model, coalesce(c.firmware, '')", NULL,
      "model firmware phones" },
    /* The cut-offs: an hour ago, stale_after ago and a week ago. */
    { POLYCOM_SQL_STATS_SEEN,
      "SELECT count(*) AS total,"
      PHONE_COUNT_OF("c.time_us >= " NUM, "hour") ","
      PHONE_COUNT_OF("c.time_us >= " NUM, "fresh") ","
      PHONE_COUNT_OF("c.time_us >= " NUM, "week") ","
      PHONE_COUNT_OF("c.mac IS NULL", "never") ","
      PHONE_COUNT_OF("p.enabled = 0", "disabled")
      PHONE_SEEN, NULL, "total hour fresh week never disabled" },
    /* Check-ins per hour since the cut-off: at most 168 rows of the
     * rollup the check-in writer keeps (checkin_hours), at any history
     * size. The cut-off is an hour number (time_us / 3600000000). */
    { POLYCOM_SQL_STATS_CHECKINS,
      "SELECT hour, n AS checkins FROM checkin_hours"
      " WHERE hour >= " NUM " ORDER BY hour", NULL, "hour checkins" },
    /* The rollup's hours that retention has emptied: those wholly before
     * the cut-off (a time), so an hour partly pruned keeps its count. */
    { ST_PRUNE_CHECKIN_HOURS,
      "DELETE FROM checkin_hours WHERE hour < " NUM " / 3600000000",
      "DELETE FROM checkin_hours WHERE hour < " NUM " DIV 3600000000",
      NULL },
    { POLYCOM_SQL_STATS_DISCOVERED,
      "SELECT model, count(*) AS macs FROM discovered"
      " WHERE mac NOT IN (SELECT mac FROM phones)"
      " GROUP BY model ORDER BY model", NULL, "model macs" },
    { POLYCOM_SQL_PHONE_GET,
      "SELECT " PHONE_COLUMNS PHONE_SEEN " WHERE p.mac = %s", NULL,
      PHONE_NAMES },
    { POLYCOM_SQL_PHONE_UPSERT,
      "INSERT INTO phones (mac, model, site, label, enabled, created_us,"
      " sip_address) VALUES (%s, %s, %s, %s, " NUM ","
      " " NUM ", %s)"
      " ON CONFLICT (mac) DO UPDATE SET model = excluded.model,"
      " site = excluded.site, label = excluded.label,"
      " enabled = excluded.enabled, sip_address = excluded.sip_address",
      "INSERT INTO phones (mac, model, site, label, enabled, created_us,"
      " sip_address) VALUES (%s, %s, %s, %s, " NUM ","
      " " NUM ", %s)"
      " ON DUPLICATE KEY UPDATE model = VALUES(model),"
      " site = VALUES(site), label = VALUES(label),"
      " enabled = VALUES(enabled), sip_address = VALUES(sip_address)",
      NULL },
    { POLYCOM_SQL_PHONE_DELETE,
      "DELETE FROM phones WHERE mac = %s", NULL, NULL },
    { POLYCOM_SQL_SCOPE_PARAMS,
      "SELECT name, value FROM params WHERE scope = %s AND scope_key = %s"
      " ORDER BY name", NULL, "name value" },
    { POLYCOM_SQL_SCOPE_CLEAR,
      "DELETE FROM params WHERE scope = %s AND scope_key = %s", NULL, NULL },
    { POLYCOM_SQL_PARAM_INSERT,
      "INSERT INTO params (scope, scope_key, name, value)"
      " VALUES (%s, %s, %s, %s)", NULL, NULL },
    { POLYCOM_SQL_DISCOVERED_LIST,
      "SELECT mac, first_seen_us, last_seen_us, last_ip, model, firmware,"
      " requests FROM discovered"
      " WHERE mac NOT IN (SELECT mac FROM phones)"
      " ORDER BY last_seen_us DESC LIMIT " NUM
      " OFFSET " NUM, NULL,
      "mac first_seen_us last_seen_us last_ip model firmware requests" },
    { POLYCOM_SQL_DISCOVERED_DROP,
      "DELETE FROM discovered WHERE mac = %s", NULL, NULL },
    { POLYCOM_SQL_CHECKIN_LIST,
      "SELECT id, time_us, mac, ip, method, file, status, bytes, etag,"
      " family, model, firmware, stage, user_agent FROM checkins"
      " WHERE (%s = '' OR mac = %s) AND time_us >= " NUM
      " ORDER BY id DESC LIMIT " NUM, NULL,
      "id time_us mac ip method file status bytes etag family model"
      " firmware stage user_agent" },
    { POLYCOM_SQL_LAST_FETCH,
      "SELECT settings_etag FROM last_seen WHERE mac = %s"
      " AND settings_us > 0", NULL, "settings_etag" },
    { POLYCOM_SQL_UPLOAD_LIST,
      "SELECT kind, size, time_us FROM uploads WHERE mac = %s"
      " UNION ALL"
      " SELECT kind, sum(size), max(time_us) FROM log_chunks WHERE mac = %s"
      " GROUP BY kind ORDER BY 1", NULL, "kind size time_us" },
    { POLYCOM_SQL_UPLOAD_DELETE,
      "DELETE FROM uploads WHERE mac = %s AND kind = %s", NULL, NULL },
    { POLYCOM_SQL_LOG_DELETE,
      "DELETE FROM log_chunks WHERE mac = %s AND kind = %s", NULL, NULL },
    { POLYCOM_SQL_AUDIT_INSERT,
      "INSERT INTO audit (time_us, admin, action, target, detail)"
      " VALUES (" NUM ", %s, %s, %s, %s)", NULL, NULL },
    { POLYCOM_SQL_AUDIT_LIST,
      "SELECT id, time_us, admin, action, target, detail FROM audit"
      " ORDER BY id DESC LIMIT " NUM
      " OFFSET " NUM, NULL, "id time_us admin action target detail" },

    /* Reprovisioning. The most specific target that has not expired
     * applies; its state for this phone comes along ('pending' if none). */
    { POLYCOM_SQL_REPROV_ACTIVE,
      "SELECT r.id, r.server, r.server_type, r.boot_server, r.prov_user,"
      " r.prov_password, r.scope, r.scope_key, r.deadline_us,"
      " coalesce(s.state, 'pending') AS state, s.delivered_us,"
      " s.confirmed_us"
      " FROM reprovision r LEFT JOIN reprovision_state s"
      "   ON s.target_id = r.id AND s.mac = %s"
      " WHERE ((r.scope = 'phone' AND r.scope_key = %s)"
      "     OR (r.scope = 'site' AND r.scope_key = %s) OR r.scope = 'fleet')"
      " AND (r.deadline_us IS NULL OR r.deadline_us > " NUM ")"
      " ORDER BY CASE r.scope WHEN 'phone' THEN 0 WHEN 'site' THEN 1"
      "          ELSE 2 END LIMIT 1", NULL,
      "id server server_type boot_server prov_user prov_password scope"
      " scope_key deadline_us state delivered_us confirmed_us" },
    { POLYCOM_SQL_REPROV_INSERT,
      "INSERT INTO reprovision (scope, scope_key, server, server_address,"
      " server_type, boot_server, prov_user, prov_password, deadline_us,"
      " created_us, admin) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
      " CAST(NULLIF(%s, '') AS BIGINT), " NUM ", %s)", NULL, NULL },
    { POLYCOM_SQL_REPROV_DELETE,
      "DELETE FROM reprovision WHERE scope = %s AND scope_key = %s",
      NULL, NULL },
    { POLYCOM_SQL_REPROV_PRUNE,
      "DELETE FROM reprovision_state"
      " WHERE target_id NOT IN (SELECT id FROM reprovision)", NULL, NULL },
    { POLYCOM_SQL_REPROV_LIST,
      "SELECT r.id, r.scope, r.scope_key, r.server, r.server_type,"
      " r.boot_server, r.prov_user, r.prov_password, r.deadline_us,"
      " r.created_us, r.admin,"
      " (SELECT count(*) FROM reprovision_state s WHERE s.target_id = r.id"
      "  AND s.state = 'delivered') AS delivered,"
      " (SELECT count(*) FROM reprovision_state s WHERE s.target_id = r.id"
      "  AND s.state = 'confirmed' AND s.confirmed_us IS NOT NULL)"
      "  AS applied,"
      " (SELECT count(*) FROM reprovision_state s WHERE s.target_id = r.id"
      "  AND s.state = 'confirmed' AND s.confirmed_us IS NULL) AS done"
      " FROM reprovision r ORDER BY r.id", NULL,
      "id scope scope_key server server_type boot_server prov_user"
      " prov_password deadline_us created_us admin delivered applied done" },
    /* An admin marks a phone's move done by hand: 'confirmed' without a
     * time (a request at the target's address sets one: applied). */
    { POLYCOM_SQL_REPROV_DONE,
      "INSERT INTO reprovision_state (mac, target_id, state)"
      " VALUES (%s, " NUM ", 'confirmed')"
      " ON CONFLICT (mac, target_id) DO UPDATE SET state = 'confirmed'"
      " WHERE reprovision_state.state <> 'confirmed'",
      "INSERT INTO reprovision_state (mac, target_id, state)"
      " VALUES (%s, " NUM ", 'confirmed')"
      " ON DUPLICATE KEY UPDATE state = 'confirmed'", NULL },
    { POLYCOM_SQL_REPROV_FLEET,
      "SELECT server, server_type, boot_server, prov_user, prov_password"
      " FROM reprovision WHERE scope = 'fleet'", NULL,
      "server server_type boot_server prov_user prov_password" },
    { ST_REPROV_DELIVER,
      "INSERT INTO reprovision_state (mac, target_id, state, delivered_us)"
      " VALUES (%s, " NUM ", 'delivered', " NUM ")"
      " ON CONFLICT (mac, target_id) DO UPDATE"
      " SET delivered_us = excluded.delivered_us"
      " WHERE reprovision_state.state = 'delivered'",
      "INSERT INTO reprovision_state (mac, target_id, state, delivered_us)"
      " VALUES (%s, " NUM ", 'delivered', " NUM ")"
      " ON DUPLICATE KEY UPDATE delivered_us ="
      " IF(state = 'delivered', VALUES(delivered_us), delivered_us)",
      NULL },
    /* A check-in at a target's own address proves that phone's move
     * applied (stored 'confirmed' with its time), also after an admin
     * marked it done by hand. */
#define REPROV_CONFIRM_ROWS \
      "INSERT INTO reprovision_state (mac, target_id, state, confirmed_us)" \
      " SELECT %s, r.id, 'confirmed', " NUM " FROM reprovision r" \
      " WHERE r.server_address = %s AND (r.scope = 'fleet'" \
      "   OR (r.scope = 'phone' AND r.scope_key = %s)" \
      "   OR (r.scope = 'site' AND r.scope_key =" \
      "       (SELECT site FROM phones WHERE mac = %s)))"
    { ST_REPROV_CONFIRM,
      REPROV_CONFIRM_ROWS
      " ON CONFLICT (mac, target_id) DO UPDATE SET state = 'confirmed',"
      " confirmed_us = excluded.confirmed_us"
      " WHERE reprovision_state.state <> 'confirmed'"
      " OR reprovision_state.confirmed_us IS NULL",
      /* MySQL assigns left to right: confirmed_us reads the old state. */
      REPROV_CONFIRM_ROWS
      " ON DUPLICATE KEY UPDATE confirmed_us = IF(state <> 'confirmed'"
      " OR confirmed_us IS NULL, VALUES(confirmed_us), confirmed_us),"
      " state = 'confirmed'",
      NULL },

    /* Resync queue: pacing reads the latest slot taken, overall and per
     * network; a node claims a due job by moving it to 'sending'. */
    { POLYCOM_SQL_RESYNC_LAST_ALL,
      "SELECT coalesce(max(not_before_us), 0) AS last_us FROM resync_queue"
      " WHERE state IN ('queued', 'sending')", NULL, "last_us" },
    { POLYCOM_SQL_RESYNC_LAST_NET,
      "SELECT coalesce(max(not_before_us), 0) AS last_us FROM resync_queue"
      " WHERE state IN ('queued', 'sending') AND network = %s", NULL,
      "last_us" },
    { POLYCOM_SQL_RESYNC_INSERT,
      "INSERT INTO resync_queue (mac, reboot, host, port, network,"
      " not_before_us, created_us, admin)"
      " VALUES (%s, " NUM ", %s, " NUM ", %s,"
      " " NUM ", " NUM ", %s)", NULL, NULL },
    { POLYCOM_SQL_RESYNC_TARGET,
      "SELECT p.sip_address, coalesce((SELECT c.ip FROM last_seen c"
      "   WHERE c.mac = p.mac), '') AS last_ip,"
      " coalesce((SELECT value FROM params"
      "   WHERE name = 'voIpProt.SIP.local.port'"
      "   AND ((scope = 'phone' AND scope_key = p.mac)"
      "     OR (scope = 'model' AND scope_key = p.model)"
      "     OR (scope = 'site' AND scope_key = p.site)"
      "     OR (scope = 'global' AND scope_key = ''))"
      "   ORDER BY CASE scope WHEN 'phone' THEN 0 WHEN 'model' THEN 1"
      "            WHEN 'site' THEN 2 ELSE 3 END LIMIT 1), '') AS sip_port"
      " FROM phones p WHERE p.mac = %s", NULL, "sip_address last_ip sip_port" },
    { POLYCOM_SQL_SITE_MACS,
      "SELECT mac FROM phones WHERE site = %s AND enabled = 1 ORDER BY mac",
      NULL, "mac" },
    { POLYCOM_SQL_ALL_MACS,
      "SELECT mac FROM phones WHERE enabled = 1 ORDER BY mac", NULL, "mac" },
    { POLYCOM_SQL_RESYNC_JOBS,
      "SELECT id, state, reboot, host, port, not_before_us, created_us,"
      " admin, status, reason, transmissions, challenged, finished_us"
      " FROM resync_queue WHERE mac = %s ORDER BY id DESC LIMIT 20", NULL,
      "id state reboot host port not_before_us created_us admin status"
      " reason transmissions challenged finished_us" },
    /* A phone without a sip_address of the admin's is asked about at the
     * registrar first, when there is one. */
    { POLYCOM_SQL_RESYNC_DUE,
      "SELECT q.id, q.mac, q.reboot, q.host, q.port,"
      " coalesce(p.sip_address, '') AS sip_address"
      " FROM resync_queue q LEFT JOIN phones p ON p.mac = q.mac"
      " WHERE (q.state = 'queued' AND q.not_before_us <= " NUM ")"
      "    OR (q.state = 'sending' AND q.claimed_us < " NUM ")"
      " ORDER BY q.not_before_us, q.id LIMIT 1", NULL,
      "id mac reboot host port sip_address" },
    /* A phone nothing can address: its failed job says why. */
    { POLYCOM_SQL_RESYNC_UNADDRESSED,
      "INSERT INTO resync_queue (mac, reboot, host, port, network,"
      " not_before_us, state, created_us, admin, reason, finished_us)"
      " VALUES (%s, " NUM ", '', 0, '', " NUM ", 'failed', " NUM ", %s, %s,"
      " " NUM ")", NULL, NULL },
    { POLYCOM_SQL_RESYNC_CLAIM,
      "UPDATE resync_queue SET state = 'sending', claimed_by = %s,"
      " claimed_us = " NUM
      " WHERE id = " NUM " AND (state = 'queued'"
      "   OR (state = 'sending' AND claimed_us < " NUM "))", NULL, NULL },
    { POLYCOM_SQL_RESYNC_CREDS,
      "SELECT name, value FROM params WHERE scope = 'phone'"
      " AND scope_key = %s AND name IN ('reg.1.address',"
      " 'reg.1.auth.userId', 'reg.1.auth.password')", NULL, "name value" },
    { POLYCOM_SQL_RESYNC_FINISH,
      "UPDATE resync_queue SET state = %s, status = " NUM ","
      " reason = %s, transmissions = " NUM ","
      " challenged = " NUM ", finished_us = " NUM
      " WHERE id = " NUM, NULL, NULL },

    /* Phone credentials (Apache authenticates; we bind user to MAC). */
    { POLYCOM_SQL_CRED_MAC,
      "SELECT mac FROM phone_credentials WHERE username = %s", NULL, "mac" },
    { POLYCOM_SQL_CRED_LIST,
      "SELECT username, realm, created_us FROM phone_credentials"
      " WHERE mac = %s ORDER BY created_us, username", NULL,
      "username realm created_us" },
    { POLYCOM_SQL_CRED_INSERT,
      "INSERT INTO phone_credentials (username, mac, realm, password_hash,"
      " digest_ha1, created_us) VALUES (%s, %s, %s, %s, %s, " NUM ")",
      NULL, NULL },
    { POLYCOM_SQL_CRED_DELETE,
      "DELETE FROM phone_credentials WHERE mac = %s AND username = %s",
      NULL, NULL },

    /* What phones were served (snapshots) and every change to the layers
     * and phones (history, written by triggers). */
    { ST_SNAPSHOT_PUT,
      "INSERT INTO snapshots (etag, created_us, params)"
      " VALUES (%s, " NUM ", %s) ON CONFLICT (etag) DO NOTHING",
      "INSERT INTO snapshots (etag, created_us, params)"
      " VALUES (%s, " NUM ", %s) ON DUPLICATE KEY UPDATE etag = etag",
      NULL },
    { ST_PRUNE_SNAPSHOTS,
      "DELETE FROM snapshots WHERE created_us < " NUM
      " AND etag NOT IN (SELECT settings_etag FROM last_seen)", NULL, NULL },
    /* What moved after a revision a child has read up to
     * (polycom_scopes.h), once per move of the revision and child: a few
     * rows by the index on revision, with the revision and the schema's
     * version of the same snapshot (one row when nothing moved). The
     * version says whether the table records every move: a database
     * upgraded while the module runs has the table before the triggers
     * that fill it on MariaDB, and records 4 only once they are there.
     * Prepared at its first use, so that a database of schema 3 (without
     * the table) still serves, each file for its very revision only. */
    { ST_SCOPES_SINCE,
      "SELECT r.value AS snapshot_revision, v.version, s.scope,"
      " s.scope_key, s.revision"
      " FROM revision r JOIN schema_version v ON v.id = 1"
      " LEFT JOIN scope_revisions s ON s.revision > " NUM
      " WHERE r.id = 1", NULL,
      "snapshot_revision version scope scope_key revision" },
    { POLYCOM_SQL_SNAPSHOT_GET,
      "SELECT params, created_us FROM snapshots WHERE etag = %s", NULL,
      "params created_us" },
    /* The phone's last good fetch of its settings at or before a time. */
    { POLYCOM_SQL_FETCH_AT,
      "SELECT etag, time_us FROM checkins WHERE mac = %s AND file = %s"
      " AND method = 'GET' AND status IN (200, 304) AND time_us <= " NUM
      " ORDER BY time_us DESC, id DESC LIMIT 1", NULL, "etag time_us" },
    { POLYCOM_SQL_HISTORY_MARK,
      "SELECT coalesce(max(id), 0) AS last FROM history", NULL, "last" },
    /* The rows a write of the API made (after the mark, under the
     * revision's lock) are its own: who made them, and its audit row. */
    { POLYCOM_SQL_HISTORY_CLAIM,
      "UPDATE history SET admin = %s, audit_id = CASE WHEN %s = '1'"
      " THEN (SELECT max(id) FROM audit) END WHERE id > " NUM, NULL,
      NULL },
#define HISTORY_COLUMNS "h.id, h.time_us, h.admin, h.audit_id," \
      " coalesce(a.action, '') AS action, h.kind, h.scope, h.scope_key," \
      " h.name, h.old_value, h.new_value," \
      " CASE WHEN h.old_value IS NULL THEN 1 ELSE 0 END AS old_absent," \
      " CASE WHEN h.new_value IS NULL THEN 1 ELSE 0 END AS new_absent" \
      " FROM history h LEFT JOIN audit a ON a.id = h.audit_id"
#define HISTORY_NAMES "id time_us admin audit_id action kind scope" \
      " scope_key name old_value new_value old_absent new_absent"
    /* Newest first, optionally of one layer or phone, before an id. */
    { POLYCOM_SQL_HISTORY_LIST,
      "SELECT " HISTORY_COLUMNS
      " WHERE (%s = '' OR h.scope = %s) AND (%s = '' OR h.scope_key = %s)"
      " AND h.id < " NUM " ORDER BY h.id DESC LIMIT " NUM, NULL,
      HISTORY_NAMES },
    /* A layer's or a phone's changes after a version, newest first: read
     * backwards, they give its state at that version. */
    { POLYCOM_SQL_HISTORY_AFTER,
      "SELECT " HISTORY_COLUMNS
      " WHERE h.scope = %s AND h.scope_key = %s AND h.id > " NUM
      " ORDER BY h.id DESC", NULL, HISTORY_NAMES },
    /* Phones whose layers or own record changed after a time or a history
     * id, with when their settings were fetched last. */
#define AFFECTED(after) \
      "SELECT p.mac, max(h.time_us) AS changed_us," \
      " coalesce(max(s.settings_us), 0) AS fetched_us" \
      " FROM phones p JOIN history h ON " after \
      " AND ((h.scope = 'global')" \
      "   OR (h.scope = 'site' AND h.scope_key = p.site)" \
      "   OR (h.scope = 'model' AND h.scope_key = p.model)" \
      "   OR (h.scope = 'phone' AND h.scope_key = p.mac))" \
      " LEFT JOIN last_seen s ON s.mac = p.mac" \
      " GROUP BY p.mac ORDER BY p.mac"
    { POLYCOM_SQL_AFFECTED_SINCE, AFFECTED("h.time_us >= " NUM), NULL,
      "mac changed_us fetched_us" },
    { POLYCOM_SQL_AFFECTED_AFTER, AFFECTED("h.id > " NUM), NULL,
      "mac changed_us fetched_us" },
    /* Phones a write removed: their MACs in the rows it made. */
    { POLYCOM_SQL_HISTORY_PHONES,
      "SELECT DISTINCT scope_key AS mac FROM history WHERE id > " NUM
      " AND kind = 'phone'", NULL, "mac" },
};

static const polycom_statement store_marker = {
    ST_MARKER, "SELECT 1 AS marker", NULL, "marker"
};

const polycom_statement *polycom_store_marker(void)
{
    return &store_marker;
}

const polycom_statement *polycom_store_statements(apr_size_t *count)
{
    *count = sizeof(store_statements) / sizeof(store_statements[0]);
    return store_statements;
}

/* One statement upserts many rows of last_seen, each row's values as in
 * ST_SEEN; their MACs must differ (PostgreSQL updates a row once a
 * statement). */
static const char *store_seen_rows_sql(apr_pool_t *pool, int rows, int mysql)
{
    apr_array_header_t *parts = apr_array_make(pool, 2 * rows + 2,
                                               sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(parts, const char *) =
        "INSERT INTO last_seen (mac, time_us, ip, file, status, model,"
        " firmware, settings_etag, settings_us) VALUES ";
    for (i = 0; i < rows; i++) {
        APR_ARRAY_PUSH(parts, const char *) = i ? ", " : "";
        APR_ARRAY_PUSH(parts, const char *) =
            "(%s, " NUM ", %s, %s, " NUM ", %s, %s, %s, " NUM ")";
    }
    APR_ARRAY_PUSH(parts, const char *) = mysql ? SEEN_UPSERT_MY
                                                : SEEN_UPSERT;
    return apr_array_pstrcat(pool, parts, 0);
}

const char *polycom_store_generated_sql(apr_pool_t *pool, const char *label,
                                        int mysql)
{
    if (!strcmp(label, ST_SEEN_ROWS)) {
        return store_seen_rows_sql(pool, STORE_SEEN_ROWS, mysql);
    }
    if (!strcmp(label, ST_SEEN_ROWS_FEW)) {
        return store_seen_rows_sql(pool, STORE_SEEN_ROWS_FEW, mysql);
    }
    return polycom_checkin_insert_sql(pool, NUM);
}
