/* The only file that speaks SQL. */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "polycom_name.h"
#include "polycom_param.h"
#include "polycom_store.h"

#define ST_PHONE          "mod_polycom_phone"
#define ST_PARAMS_PHONE   "mod_polycom_params_phone"
#define ST_PARAMS_GLOBAL  "mod_polycom_params_global"
#define ST_CHECKIN        "mod_polycom_checkin"
#define ST_LAST_IP        "mod_polycom_last_ip"
#define ST_SEEN           "mod_polycom_seen"
#define ST_SEEN_UNKNOWN   "mod_polycom_seen_unknown"
#define ST_UPLOAD_GET     "mod_polycom_upload_get"
#define ST_UPLOAD_PUT     "mod_polycom_upload_put"
#define ST_LOG_GET        "mod_polycom_log_get"
#define ST_LOG_ADD        "mod_polycom_log_add"
#define ST_LOG_SIZES      "mod_polycom_log_sizes"
#define ST_LOG_PRUNE      "mod_polycom_log_prune"
#define ST_USAGE          "mod_polycom_usage"
#define ST_PRUNE_CHECKINS "mod_polycom_prune_checkins"
#define ST_PRUNE_LOGS     "mod_polycom_prune_logs"
#define ST_REPROV_DELIVER "mod_polycom_reprov_deliver"
#define ST_REVISION       "mod_polycom_revision"
#define ST_REPROV_ANY     "mod_polycom_reprov_any"
#define ST_REPROV_CONFIRM "mod_polycom_reprov_confirm"
#define ST_REVISION_LOCK  "mod_polycom_revision_lock"

/* How often a transaction the database chose as a deadlock's victim is
 * run again before its check-ins count as lost. */
#define STORE_DEADLOCK_TRIES 3

/* apr_dbd turns each %s into the driver's own placeholder; values are
 * always bound, never spliced into the text. Every value is passed as a
 * string; PostgreSQL types such a parameter as varchar, so each one that
 * meets a number is cast (NUM), which SQLite reads the same way. MySQL
 * spells that cast "AS SIGNED" and allows only a bare placeholder after
 * LIMIT and OFFSET: store_sql_for() rewrites NUM for it. */
#define NUM "CAST(%s AS BIGINT)"

/* Each SELECT names its result columns beside its SQL, in order: rows are
 * read by these names (polycom_row_get), and t/unit/test_store.c checks
 * them against the names SQLite gives the columns. */
static const polycom_statement store_statements[] = {
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
    /* Every row that can apply, most specific first within each name, so
     * the first row of a name is its effective value. */
    { ST_PARAMS_PHONE,
      "SELECT name, value FROM params"
      " WHERE (scope = 'global' AND scope_key = '')"
      "    OR (scope = 'site' AND scope_key = %s)"
      "    OR (scope = 'model' AND scope_key = %s)"
      "    OR (scope = 'phone' AND scope_key = %s)"
      " ORDER BY name, CASE scope WHEN 'phone' THEN 0 WHEN 'model' THEN 1"
      "                           WHEN 'site' THEN 2 ELSE 3 END", NULL,
      "name value" },
    { ST_PARAMS_GLOBAL,
      "SELECT name, value FROM params"
      " WHERE scope = 'global' AND scope_key = '' ORDER BY name", NULL,
      "name value" },
    /* Generated from the one definition of a check-in (polycom_checkin.h)
     * by store_sql_for(), as are its values in store_checkin_rows(). */
    { ST_CHECKIN, NULL, NULL, NULL },
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
    { ST_SEEN,
      SEEN_INSERT
      " ON CONFLICT (mac) DO UPDATE SET" SEEN_NEWEST(SEEN_NEWER)
      " settings_etag = CASE WHEN excluded.settings_us > 0"
      "   AND excluded.settings_us >= last_seen.settings_us"
      "   THEN excluded.settings_etag ELSE last_seen.settings_etag END,"
      " settings_us = CASE WHEN excluded.settings_us > last_seen.settings_us"
      "   THEN excluded.settings_us ELSE last_seen.settings_us END,"
      " time_us = CASE WHEN excluded.time_us > last_seen.time_us"
      "   THEN excluded.time_us ELSE last_seen.time_us END",
      SEEN_INSERT
      " ON DUPLICATE KEY UPDATE" SEEN_NEWEST(SEEN_NEWER_MY)
      " settings_etag = IF(VALUES(settings_us) > 0"
      "   AND VALUES(settings_us) >= settings_us, VALUES(settings_etag),"
      "   settings_etag),"
      " settings_us = GREATEST(settings_us, VALUES(settings_us)),"
      " time_us = GREATEST(time_us, VALUES(time_us))",
      NULL },
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
#define PHONE_FILTER  " WHERE (%s = '' OR p.site = %s)" \
                      " AND (%s = '' OR p.model = %s)" \
                      " AND NOT EXISTS (SELECT 1 FROM last_seen s" \
                      "   WHERE s.mac = p.mac AND s.time_us >= " NUM ")"
    { POLYCOM_SQL_PHONE_LIST,
      "SELECT " PHONE_COLUMNS PHONE_SEEN PHONE_FILTER
      " ORDER BY p.mac LIMIT " NUM
      " OFFSET " NUM, NULL, PHONE_NAMES },
    { POLYCOM_SQL_PHONE_COUNT,
      "SELECT count(*) AS total FROM phones p" PHONE_FILTER, NULL, "total" },
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
      "DELETE FROM reprovision WHERE scope = %s AND scope_key = %s", NULL, NULL },
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
      "  AND s.state = 'confirmed') AS confirmed"
      " FROM reprovision r ORDER BY r.id", NULL,
      "id scope scope_key server server_type boot_server prov_user"
      " prov_password deadline_us created_us admin delivered confirmed" },
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
    /* A check-in at a target's own address confirms that phone's move. */
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
      " WHERE reprovision_state.state <> 'confirmed'",
      /* MySQL assigns left to right: confirmed_us reads the old state. */
      REPROV_CONFIRM_ROWS
      " ON DUPLICATE KEY UPDATE confirmed_us = IF(state <> 'confirmed',"
      " VALUES(confirmed_us), confirmed_us), state = 'confirmed'",
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
    { POLYCOM_SQL_RESYNC_DUE,
      "SELECT id, mac, reboot, host, port FROM resync_queue"
      " WHERE (state = 'queued' AND not_before_us <= " NUM ")"
      "    OR (state = 'sending' AND claimed_us < " NUM ")"
      " ORDER BY not_before_us, id LIMIT 1", NULL, "id mac reboot host port" },
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
      " digest_ha1, created_us) VALUES (%s, %s, %s, %s, %s, " NUM ")", NULL, NULL },
    { POLYCOM_SQL_CRED_DELETE,
      "DELETE FROM phone_credentials WHERE mac = %s AND username = %s", NULL, NULL },
};

static const polycom_statement store_marker = {
    ST_REVISION, "SELECT value FROM revision WHERE id = 1", NULL, "value"
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

/* The statement of @a label (a few dozen: a scan costs less than the
 * query it precedes). */
static const polycom_statement *store_statement(const char *label)
{
    apr_size_t i;

    for (i = 0; i < sizeof(store_statements) / sizeof(store_statements[0]);
         i++) {
        if (!strcmp(store_statements[i].label, label)) {
            return &store_statements[i];
        }
    }
    return strcmp(label, store_marker.label) ? NULL : &store_marker;
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
static int store_column_of(const char *label, const char *name)
{
    const polycom_statement *st = store_statement(label);

    return st ? store_column_index(st->columns, name) : -1;
}

struct polycom_row {
    const char *columns;        /* the statement's names */
    const char **values;        /* one per name */
};

const char *polycom_row_get(const polycom_row *row, const char *column)
{
    int i = store_column_index(row->columns, column);

    return i < 0 ? NULL : row->values[i];
}

const char *polycom_rows_first(const apr_array_header_t *rows,
                               const char *column)
{
    return rows->nelts ? polycom_row_get(APR_ARRAY_IDX(rows, 0,
                                                       const polycom_row *),
                                         column)
                       : NULL;
}

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
static const char *store_sql_for(apr_pool_t *pool,
                                 const polycom_statement *st,
                                 polycom_dialect dialect)
{
    const char *sql = st->sql ? st->sql
                              : polycom_checkin_insert_sql(pool, NUM);

    if (dialect != POLYCOM_DIALECT_MYSQL) {
        return sql;
    }
    sql = st->mysql ? st->mysql : sql;
    sql = store_replace(pool, sql, "LIMIT " NUM, "LIMIT %s");
    sql = store_replace(pool, sql, "OFFSET " NUM, "OFFSET %s");
    return store_replace(pool, sql, " AS BIGINT)", " AS SIGNED)");
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
 * Set before DBDInitSQL runs, which can override it. */
static const char *const store_sqlite_session[] = {
    "PRAGMA cache_size = -256",
};

int polycom_store_prepare(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                          apr_dbd_t *handle, apr_hash_t *prepared,
                          const char **error)
{
    polycom_dialect dialect = polycom_store_dialect(driver);
    const char *const *session = NULL;
    apr_size_t i, settings = 0;
    int rv, nrows;

    *error = NULL;
    if (dialect == POLYCOM_DIALECT_UNKNOWN) {
        *error = apr_psprintf(pool, "DBDriver %s is not supported: use "
                              "sqlite3, pgsql or mysql", apr_dbd_name(driver));
        return -1;
    }
    if (dialect == POLYCOM_DIALECT_MYSQL) {
        session = store_mysql_session;
        settings = sizeof(store_mysql_session) / sizeof(char *);
    }
    else if (dialect == POLYCOM_DIALECT_SQLITE) {
        session = store_sqlite_session;
        settings = sizeof(store_sqlite_session) / sizeof(char *);
    }
    for (i = 0; i < settings; i++) {
        rv = apr_dbd_query(driver, handle, &nrows, session[i]);
        if (rv) {
            *error = apr_psprintf(pool, "%s: %s", session[i],
                                  apr_dbd_error(driver, handle, rv));
            return -1;
        }
    }
    for (i = 0; i < sizeof(store_statements) / sizeof(store_statements[0]);
         i++) {
        const polycom_statement *st = &store_statements[i];
        apr_dbd_prepared_t *stmt = NULL;

        if (apr_hash_get(prepared, st->label, APR_HASH_KEY_STRING)) {
            continue;
        }
        rv = apr_dbd_prepare(driver, pool, handle,
                             store_sql_for(pool, st, dialect), st->label,
                             &stmt);
        if (rv) {
            *error = apr_psprintf(pool, "statement %s: %s", st->label,
                                  apr_dbd_error(driver, handle, rv));
            return -1;
        }
        apr_hash_set(prepared, st->label, APR_HASH_KEY_STRING, stmt);
    }
    return 0;
}

int polycom_store_reprepare(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                            apr_dbd_t *handle, apr_hash_t *prepared,
                            apr_hash_t *fresh, const char **error)
{
    apr_size_t i;

    for (i = 0; i < sizeof(store_statements) / sizeof(store_statements[0]);
         i++) {
        const char *label = store_statements[i].label;

        if (!apr_hash_get(fresh, label, APR_HASH_KEY_STRING)) {
            apr_hash_set(prepared, label, APR_HASH_KEY_STRING, NULL);
        }
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

static apr_dbd_prepared_t *store_prepared(polycom_db *db, const char *label)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(db->prepared, label,
                                            APR_HASH_KEY_STRING);

    if (!stmt) {
        db->error = apr_psprintf(db->pool, "statement %s was not prepared "
                                 "on this connection", label);
    }
    return stmt;
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

static int store_failed(polycom_db *db, const char *label, int rv)
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

/* Read the whole result. The driver must see every row (or the -1 that
 * ends the set) to release it, so callers consume rows in a loop that never
 * breaks out early. SELECTs ask for a random-access result: the pgsql
 * driver then fetches it whole and reports a lost connection as an error,
 * where a sequential result would just end, empty. Not from the mysql
 * driver, whose random-access result yields no row to "next" (-1); it
 * fetches every result whole anyway. */
static int store_random_access(const polycom_db *db)
{
    return db->dialect != POLYCOM_DIALECT_MYSQL;
}

static const char *store_entry(polycom_db *db, apr_dbd_row_t *row, int col)
{
    const char *v = apr_dbd_get_entry(db->driver, row, col);

    return v ? apr_pstrdup(db->pool, v) : "";
}

/* SQLite has one writer at a time, and apr_dbd_sqlite3 runs every call of
 * a process behind one mutex, waiting out a busy database while holding
 * it. A thread whose write waits for another thread's open transaction
 * would hold that mutex, so the other could never commit: a deadlock until
 * the busy timeout. Writers of one process therefore take turns here
 * first. PostgreSQL needs no such thing and does not get it. */
static apr_thread_mutex_t *store_write_lock = NULL;

void polycom_store_child_init(apr_pool_t *pool)
{
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&store_write_lock, APR_THREAD_MUTEX_DEFAULT,
                                pool) != APR_SUCCESS) {
        store_write_lock = NULL;
    }
#endif
}

static int store_serialised(polycom_db *db)
{
    return store_write_lock && !strcmp(apr_dbd_name(db->driver), "sqlite3");
}

static void store_write_begin(polycom_db *db)
{
#if APR_HAS_THREADS
    if (store_serialised(db) && !db->in_transaction) {
        apr_thread_mutex_lock(store_write_lock);
    }
#endif
}

static void store_write_end(polycom_db *db)
{
#if APR_HAS_THREADS
    if (store_serialised(db) && !db->in_transaction) {
        apr_thread_mutex_unlock(store_write_lock);
    }
#endif
}

/* Room for the pgsql driver's transaction record (an int mode, an int
 * error number and its handle), with margin. */
#define STORE_PGSQL_TXN_SIZE 64

static int store_begin(polycom_db *db, apr_dbd_transaction_t **txn)
{
    int rv;

    store_write_begin(db);
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
        store_write_end(db);
        return store_failed(db, "begin", rv);
    }
    db->in_transaction = 1;
    return 0;
}

static int store_end(polycom_db *db, apr_dbd_transaction_t *txn, int failed)
{
    int rv = apr_dbd_transaction_end(db->driver, db->pool, txn);

    db->in_transaction = 0;
    store_write_end(db);
    if (db->repair_pending) {
        store_repair(db);
    }
    if (failed) {
        return -1;
    }
    return rv ? store_failed(db, "commit", rv) : 0;
}

int polycom_store_phone(polycom_db *db, const char *mac,
                        polycom_phone **phone)
{
    apr_array_header_t *rows;
    const polycom_row *r;
    polycom_phone *p;

    *phone = NULL;
    if (polycom_store_select(db, ST_PHONE, &rows, mac, NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        return 0;
    }
    r = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    p = apr_pcalloc(db->pool, sizeof(*p));
    p->mac = apr_pstrdup(db->pool, mac);
    p->model = polycom_row_get(r, "model");
    p->site = polycom_row_get(r, "site");
    p->label = polycom_row_get(r, "label");
    p->enabled = atoi(polycom_row_get(r, "enabled")) != 0;
    *phone = p;
    return 0;
}

int polycom_store_last_ip(polycom_db *db, const char *mac, const char **ip)
{
    apr_array_header_t *rows;

    *ip = "";
    if (polycom_store_select(db, ST_LAST_IP, &rows, mac, NULL) < 0) {
        return -1;
    }
    if (rows->nelts) {
        *ip = polycom_rows_first(rows, "ip");
    }
    return 0;
}

int polycom_store_params(polycom_db *db, const polycom_phone *phone,
                         apr_array_header_t **params)
{
    const char *label = phone ? ST_PARAMS_PHONE : ST_PARAMS_GLOBAL;
    apr_dbd_prepared_t *stmt = store_prepared(db, label);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *last = NULL;
    int rv, name_col = store_column_of(label, "name");
    int value_col = store_column_of(label, "value");

    *params = apr_array_make(db->pool, 32, sizeof(polycom_param));
    if (!stmt) {
        return -1;
    }
    if (phone) {
        rv = apr_dbd_pvselect(db->driver, db->pool, db->handle, &res, stmt,
                              store_random_access(db), phone->site,
                              phone->model, phone->mac, NULL);
    }
    else {
        rv = apr_dbd_pvselect(db->driver, db->pool, db->handle, &res, stmt,
                              store_random_access(db), NULL);
    }
    if (rv) {
        return store_failed(db, label, rv);
    }
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        const char *name = apr_dbd_get_entry(db->driver, row, name_col);
        polycom_param *p;

        /* Rows of one name arrive together, the winning scope first. */
        if (!name || (last && !strcmp(last, name))
            || (!phone && polycom_param_is_secret(name))) {
            continue;
        }
        p = apr_array_push(*params);
        p->name = last = apr_pstrdup(db->pool, name);
        p->value = store_entry(db, row, value_col);
    }
    return 0;
}

/* One check-in: its row, and for a known phone whatever its request did
 * to a move under way; an unknown MAC is recorded as discovered. */
static int store_checkin_rows(polycom_db *db, const polycom_checkin *c,
                              int moves)
{
    apr_dbd_prepared_t *insert = store_prepared(db, ST_CHECKIN);
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
        apr_dbd_prepared_t *seen = store_prepared(db, ST_SEEN_UNKNOWN);

        rv = seen ? apr_dbd_pvquery(db->driver, db->pool, db->handle,
                                    &nrows, seen, c->mac, time_us, time_us,
                                    c->ip, c->model, c->firmware, NULL)
                  : -1;
    }
    else if (!rv && c->mac[0]) {
        if (c->delivered_target) {
            apr_dbd_prepared_t *deliver = store_prepared(db,
                                                         ST_REPROV_DELIVER);

            rv = deliver ? apr_dbd_pvquery(db->driver, db->pool, db->handle,
                                           &nrows, deliver, c->mac,
                                           apr_psprintf(db->pool, "%"
                                                        APR_INT64_T_FMT,
                                                        c->delivered_target),
                                           time_us, NULL)
                         : -1;
        }
        if (!rv && moves && c->server_address && c->status < 400) {
            apr_dbd_prepared_t *confirm = store_prepared(db,
                                                         ST_REPROV_CONFIRM);

            rv = confirm ? apr_dbd_pvquery(db->driver, db->pool, db->handle,
                                           &nrows, confirm, c->mac, time_us,
                                           c->server_address, c->mac, c->mac,
                                           NULL)
                         : -1;
        }
    }
    if (rv) {
        /* Flag the failure so that ending the transaction rolls it back. */
        return store_failed(db, ST_CHECKIN, rv);
    }
    return 0;
}

/* A transaction that changes served data moves the revision row, through
 * the triggers, at whatever point it reaches such a table: the revision is
 * the one row every such transaction locks. Taking it first, before any
 * other row, orders them all the same way, so two of them never wait for
 * each other in a circle (InnoDB and PostgreSQL would end one as a
 * deadlock: seen with a check-in delivering a move while an admin replaced
 * that move). For SQLite it is the write lock it takes anyway. */
static int store_lock_revision(polycom_db *db)
{
    apr_dbd_prepared_t *stmt = store_prepared(db, ST_REVISION_LOCK);
    int rv, nrows = 0;

    if (!stmt) {
        return -1;
    }
    rv = apr_dbd_pvquery(db->driver, db->pool, db->handle, &nrows, stmt,
                         NULL);
    return rv ? store_failed(db, ST_REVISION_LOCK, rv) : 0;
}

/* The database ended the transaction to break a deadlock, or gave up
 * waiting for a lock: running it again is the cure (MySQL's error numbers;
 * the pgsql driver does not tell one failure from another). */
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

int polycom_store_checkin(polycom_db *db, const polycom_checkin *c)
{
    return polycom_store_checkins(db, &c, 1);
}

/* A check-in of a batch, and its place in the batch. */
typedef struct {
    const polycom_checkin *checkin;
    int order;
} store_seen_entry;

static int store_seen_order(const void *a, const void *b)
{
    const store_seen_entry *x = a, *y = b;
    int by_mac = strcmp(x->checkin->mac, y->checkin->mac);

    return by_mac ? by_mac : x->order - y->order;
}

/* Bring last_seen up to date with a batch: one statement per MAC, with
 * its newest check-in and its newest good fetch of its settings file, in
 * MAC order. Every transaction that writes check-ins takes these rows
 * last and in the same order, so two nodes' batches never wait for each
 * other in a circle. On a tie in time the later check-in wins, as the
 * larger id does in checkins. */
static int store_seen(polycom_db *db, const polycom_checkin *const *list,
                      int count)
{
    apr_dbd_prepared_t *stmt = store_prepared(db, ST_SEEN);
    store_seen_entry *entries;
    int i, n = 0;

    if (!stmt) {
        return -1;
    }
    entries = apr_palloc(db->pool, sizeof(*entries) * count);
    for (i = 0; i < count; i++) {
        if (list[i]->mac[0]) {
            entries[n].checkin = list[i];
            entries[n].order = i;
            n++;
        }
    }
    qsort(entries, n, sizeof(*entries), store_seen_order);
    for (i = 0; i < n; ) {
        const polycom_checkin *newest = entries[i].checkin;
        const polycom_checkin *settings = NULL;
        const char *time_us, *settings_us;
        int rv, nrows = 0;

        for (; i < n && !strcmp(entries[i].checkin->mac, newest->mac); i++) {
            const polycom_checkin *c = entries[i].checkin;

            if (c->time >= newest->time) {
                newest = c;
            }
            if (polycom_checkin_is_settings_fetch(c)
                && (!settings || c->time >= settings->time)) {
                settings = c;
            }
        }
        time_us = apr_psprintf(db->pool, "%" APR_TIME_T_FMT, newest->time);
        settings_us = settings ? apr_psprintf(db->pool, "%" APR_TIME_T_FMT,
                                              settings->time)
                               : "0";
        rv = apr_dbd_pvquery(db->driver, db->pool, db->handle, &nrows, stmt,
                             newest->mac, time_us, newest->ip, newest->file,
                             apr_itoa(db->pool, newest->status),
                             newest->model, newest->firmware,
                             settings ? settings->etag : "", settings_us,
                             NULL);
        if (rv) {
            return store_failed(db, ST_SEEN, rv);
        }
    }
    return 0;
}

static int store_checkins_once(polycom_db *db,
                               const polycom_checkin *const *list, int count)
{
    apr_dbd_transaction_t *txn = NULL;
    apr_array_header_t *rows;
    int i, failed = 0, moves;

    if (store_begin(db, &txn) < 0) {
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
        failed = store_lock_revision(db) < 0;
    }
    for (i = 0; i < count && !failed; i++) {
        failed = store_checkin_rows(db, list[i], moves) < 0;
    }
    if (!failed) {
        failed = store_seen(db, list, count) < 0;
    }
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    return store_end(db, txn, failed);
}

int polycom_store_checkins(polycom_db *db, const polycom_checkin *const *list,
                           int count)
{
    int tries = 0, rv, repaired;

    do {
        db->error_code = 0;
        repaired = db->repaired > 0;
        rv = store_checkins_once(db, list, count);
    } while (rv < 0 && store_retryable(db, repaired)
             && ++tries < STORE_DEADLOCK_TRIES);
    return rv;
}

/* A stored text read back must be as long as it was when it was stored:
 * the mysql driver reads at most its fldsz bytes of a column and says
 * nothing when it cuts one short. */
static int store_whole(polycom_db *db, const char *content, const char *size)
{
    if ((apr_int64_t)strlen(content) != apr_atoi64(size)) {
        db->error = apr_psprintf(db->pool, "a stored upload of %s bytes read "
                                 "back as %" APR_SIZE_T_FMT " (with MySQL, "
                                 "raise fldsz in DBDParams)", size,
                                 strlen(content));
        return -1;
    }
    return 0;
}

int polycom_store_upload_get(polycom_db *db, const char *mac,
                             const char *kind, const char **body,
                             apr_size_t *len)
{
    apr_array_header_t *rows;

    *body = NULL;
    *len = 0;
    if (polycom_store_select(db, ST_UPLOAD_GET, &rows, mac, kind, NULL) < 0) {
        return -1;
    }
    if (rows->nelts) {
        const polycom_row *row = APR_ARRAY_IDX(rows, 0, const polycom_row *);

        if (store_whole(db, polycom_row_get(row, "content"),
                        polycom_row_get(row, "size")) < 0) {
            return -1;
        }
        *body = polycom_row_get(row, "content");
        *len = strlen(*body);
    }
    return 0;
}

/* Run one statement inside the caller's transaction; a failure marks the
 * transaction for rollback. */
static int store_exec(polycom_db *db, apr_dbd_transaction_t *txn,
                      const char *label, int *nrows, ...)
{
    apr_dbd_prepared_t *stmt = store_prepared(db, label);
    apr_array_header_t *values = apr_array_make(db->pool, 8,
                                                sizeof(const char *));
    const char *value;
    va_list args;
    int rv;

    if (!stmt) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
        return -1;
    }
    va_start(args, nrows);
    while ((value = va_arg(args, const char *)) != NULL) {
        APR_ARRAY_PUSH(values, const char *) = value;
    }
    va_end(args);
    rv = apr_dbd_pquery(db->driver, db->pool, db->handle, nrows, stmt,
                        values->nelts, (const char **)values->elts);
    if (rv) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
        return store_failed(db, label, rv);
    }
    return 0;
}

int polycom_store_upload_put(polycom_db *db, const char *mac,
                             const char *kind, const char *body,
                             apr_size_t len, apr_time_t now, int *created)
{
    apr_dbd_transaction_t *txn = NULL;
    const char *old;
    apr_size_t old_len;
    int nrows = 0, failed;

    if (store_begin(db, &txn) < 0) {
        return -1;
    }
    failed = polycom_store_upload_get(db, mac, kind, &old, &old_len) < 0;
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    else {
        *created = old == NULL;
        failed = store_exec(db, txn, ST_UPLOAD_PUT, &nrows, mac, kind, body,
                            apr_off_t_toa(db->pool, (apr_off_t)len),
                            apr_psprintf(db->pool, "%" APR_TIME_T_FMT, now),
                            NULL) < 0;
    }
    return store_end(db, txn, failed);
}

int polycom_store_log_get(polycom_db *db, const char *mac, const char *kind,
                          const char **body, apr_size_t *len)
{
    apr_array_header_t *rows, *chunks;
    int i;

    *body = NULL;
    *len = 0;
    if (polycom_store_select(db, ST_LOG_GET, &rows, mac, kind, NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        return 0;
    }
    chunks = apr_array_make(db->pool, rows->nelts, sizeof(const char *));
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *row = APR_ARRAY_IDX(rows, i, const polycom_row *);

        if (store_whole(db, polycom_row_get(row, "content"),
                        polycom_row_get(row, "size")) < 0) {
            return -1;
        }
        APR_ARRAY_PUSH(chunks, const char *) = polycom_row_get(row,
                                                               "content");
    }
    *body = apr_array_pstrcat(db->pool, chunks, 0);
    *len = strlen(*body);
    return 0;
}

/* The newest chunk whose removal (with every older one) brings the log
 * within its bounds, or 0 when nothing has to go. */
static int store_log_cut(polycom_db *db, const char *mac, const char *kind,
                         apr_time_t now,
                         const polycom_log_retention *retention,
                         apr_int64_t *cut, int *chunks)
{
    apr_dbd_prepared_t *stmt = store_prepared(db, ST_LOG_SIZES);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_off_t total = 0;
    int rv, newest = 1, id_col = store_column_of(ST_LOG_SIZES, "id");
    int size_col = store_column_of(ST_LOG_SIZES, "size");
    int time_col = store_column_of(ST_LOG_SIZES, "time_us");

    *cut = 0;
    *chunks = 0;
    if (!stmt) {
        return -1;
    }
    rv = apr_dbd_pvselect(db->driver, db->pool, db->handle, &res, stmt,
                          store_random_access(db), mac, kind, NULL);
    if (rv) {
        return store_failed(db, ST_LOG_SIZES, rv);
    }
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        apr_int64_t id = apr_atoi64(apr_dbd_get_entry(db->driver, row,
                                                      id_col));
        apr_off_t size = apr_atoi64(apr_dbd_get_entry(db->driver, row,
                                                      size_col));
        apr_time_t time = apr_atoi64(apr_dbd_get_entry(db->driver, row,
                                                       time_col));

        total += size;
        (*chunks)++;
        /* Rows come newest first: the first one over a bound and all
         * older ones go; the newest chunk always stays. */
        if (!newest && !*cut
            && (total > retention->max_bytes
                || (retention->max_age > 0
                    && now - time > retention->max_age))) {
            *cut = id;
        }
        newest = 0;
    }
    return 0;
}

int polycom_store_log_append(polycom_db *db, const char *mac,
                             const char *kind, const char *body,
                             apr_size_t len, apr_time_t now,
                             const polycom_log_retention *retention,
                             int *created)
{
    apr_dbd_transaction_t *txn = NULL;
    apr_int64_t cut = 0;
    int nrows = 0, failed, chunks = 0;

    if (store_begin(db, &txn) < 0) {
        return -1;
    }
    /* The size query after the insert tells both what to prune and whether
     * this chunk is the log's first (created). */
    failed = store_exec(db, txn, ST_LOG_ADD, &nrows, mac, kind,
                           apr_psprintf(db->pool, "%" APR_TIME_T_FMT, now),
                           apr_off_t_toa(db->pool, (apr_off_t)len), body,
                           NULL) < 0
             || store_log_cut(db, mac, kind, now, retention, &cut,
                              &chunks) < 0
             || (cut && store_exec(db, txn, ST_LOG_PRUNE, &nrows, mac, kind,
                                   apr_psprintf(db->pool, "%" APR_INT64_T_FMT,
                                                cut), NULL) < 0);
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    else {
        *created = chunks == 1;
    }
    return store_end(db, txn, failed);
}

int polycom_store_usage(polycom_db *db, const char *mac, const char *kind,
                        apr_off_t *same_kind, apr_off_t *other_kinds)
{
    apr_array_header_t *rows;
    const polycom_row *row;

    *same_kind = *other_kinds = 0;
    if (polycom_store_select(db, ST_USAGE, &rows, kind, kind, mac, mac,
                             NULL) < 0) {
        return -1;
    }
    if (rows->nelts) {
        row = APR_ARRAY_IDX(rows, 0, const polycom_row *);
        *same_kind = (apr_off_t)apr_atoi64(polycom_row_get(row,
                                                           "same_kind"));
        *other_kinds = (apr_off_t)apr_atoi64(polycom_row_get(row,
                                                             "other_kinds"));
    }
    return 0;
}

/* One round of a retention prune, outside any transaction: each round
 * commits on its own, so a long backlog never holds a lock for long. */
static int store_prune(polycom_db *db, const char *label, apr_time_t before,
                       int *deleted)
{
    apr_dbd_prepared_t *stmt = store_prepared(db, label);
    int rv;

    *deleted = 0;
    if (!stmt) {
        return -1;
    }
    rv = apr_dbd_pvquery(db->driver, db->pool, db->handle, deleted, stmt,
                         apr_psprintf(db->pool, "%" APR_TIME_T_FMT, before),
                         NULL);
    return rv ? store_failed(db, label, rv) : 0;
}

int polycom_store_prune_checkins(polycom_db *db, apr_time_t before,
                                 int *deleted)
{
    return store_prune(db, ST_PRUNE_CHECKINS, before, deleted);
}

int polycom_store_prune_logs(polycom_db *db, apr_time_t before, int *deleted)
{
    return store_prune(db, ST_PRUNE_LOGS, before, deleted);
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
    const polycom_statement *st = store_statement(label);
    apr_dbd_prepared_t *stmt = store_prepared(db, label);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *args;
    va_list ap;
    int rv, ncols, i, width, wrong = -1;

    *rows = apr_array_make(db->pool, 16, sizeof(const polycom_row *));
    if (!stmt) {
        return -1;
    }
    width = st ? store_column_count(st->columns) : 0;
    if (!width) {
        db->error = apr_psprintf(db->pool, "%s names no columns to read",
                                 label);
        return -1;
    }
    va_start(ap, rows);
    args = store_args(db->pool, ap);
    va_end(ap);
    rv = apr_dbd_pselect(db->driver, db->pool, db->handle, &res, stmt,
                         store_random_access(db), args->nelts,
                         (const char **)args->elts);
    if (rv) {
        return store_failed(db, label, rv);
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
            r->values[i] = store_entry(db, row, i);
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

int polycom_store_exec(polycom_db *db, const char *label, int *nrows, ...)
{
    apr_dbd_prepared_t *stmt = store_prepared(db, label);
    apr_array_header_t *args;
    va_list ap;
    int rv, changed = 0;

    if (!stmt) {
        return -1;
    }
    va_start(ap, nrows);
    args = store_args(db->pool, ap);
    va_end(ap);
    store_write_begin(db);
    rv = apr_dbd_pquery(db->driver, db->pool, db->handle, &changed, stmt,
                        args->nelts, (const char **)args->elts);
    store_write_end(db);
    if (nrows) {
        *nrows = changed;
    }
    return rv ? store_failed(db, label, rv) : 0;
}


int polycom_store_finish(polycom_db *db, apr_dbd_transaction_t *txn,
                         int failed)
{
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    return store_end(db, txn, failed);
}

int polycom_store_begin(polycom_db *db, apr_dbd_transaction_t **txn)
{
    if (store_begin(db, txn) < 0) {
        return -1;
    }
    /* The admin API's transactions change served data: revision first. */
    if (store_lock_revision(db) < 0) {
        polycom_store_finish(db, *txn, 1);
        return -1;
    }
    return 0;
}

int polycom_store_reprovision(polycom_db *db, const char *mac,
                              const char *site, apr_time_t now,
                              polycom_reprovision_target *t)
{
    apr_array_header_t *rows;
    const polycom_row *r;

    memset(t, 0, sizeof(*t));
    if (polycom_store_select(db, POLYCOM_SQL_REPROV_ACTIVE, &rows, mac, mac,
                             site, apr_psprintf(db->pool, "%" APR_TIME_T_FMT,
                                                now), NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        return 0;
    }
    r = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    t->id = apr_atoi64(polycom_row_get(r, "id"));
    t->server = polycom_row_get(r, "server");
    t->server_type = polycom_row_get(r, "server_type");
    t->boot_server = polycom_row_get(r, "boot_server");
    t->user = polycom_row_get(r, "prov_user");
    t->password = polycom_row_get(r, "prov_password");
    t->scope = polycom_row_get(r, "scope");
    t->scope_key = polycom_row_get(r, "scope_key");
    t->deadline_us = polycom_row_get(r, "deadline_us");
    t->state = polycom_row_get(r, "state");
    t->delivered_us = polycom_row_get(r, "delivered_us");
    t->confirmed_us = polycom_row_get(r, "confirmed_us");
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

/* SQLite's automatic checkpoint runs after a commit once the WAL holds 1000
 * pages; while readers keep the WAL busy it cannot finish, so it runs (and
 * syncs the WAL) after every later commit too. The check-in writer turns it
 * off on its connections and checkpoints on a timer instead. */
int polycom_store_writer_session(polycom_db *db)
{
    int nrows, rv;

    if (db->dialect != POLYCOM_DIALECT_SQLITE) {
        return 0;
    }
    rv = apr_dbd_query(db->driver, db->handle, &nrows,
                       "PRAGMA wal_autocheckpoint = 0");
    /* The pragma answers with a row, which the driver calls a failure. */
    return rv && rv != 100 /* SQLITE_ROW */ ? store_failed(db, "wal", rv) : 0;
}

int polycom_store_checkpoint(polycom_db *db)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv;

    if (db->dialect != POLYCOM_DIALECT_SQLITE) {
        return 0;
    }
    /* RESTART: waits (busy_timeout) until the readers are on the newest
     * snapshot, copies everything, then waits until none reads the WAL, so
     * that the next commit writes it from its start. A passive checkpoint
     * never waits, and under steady reads some reader always held a part
     * of the WAL: it grew by megabytes a second (readers are never
     * blocked by either, only this writer waits). */
    rv = apr_dbd_select(db->driver, db->pool, db->handle, &res,
                        "PRAGMA wal_checkpoint(RESTART)", 0);
    if (rv) {
        return store_failed(db, "checkpoint", rv);
    }
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
    }
    return 0;
}
