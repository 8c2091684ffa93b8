/**
 * @file polycom_store.h
 * @brief Every SQL statement of mod_polycom, over APR DBD (no httpd).
 *
 * Statements are prepared once per connection (polycom_store_prepare, from
 * mod_dbd's post_connect hook), in the connection's SQL dialect. Each call
 * returns 0, or -1 with db->error set to the driver's message (which never
 * contains a bound value, so no secret can reach a log through it).
 */
#ifndef POLYCOM_STORE_H
#define POLYCOM_STORE_H

#include <apr_dbd.h>
#include <apr_global_mutex.h>
#include <apr_hash.h>
#include <apr_tables.h>

#include "polycom_checkin.h"
#include "polycom_layers.h"
#include "polycom_scopes.h"
#include "polycom_seen.h"

typedef struct polycom_db {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    /** label -> apr_dbd_prepared_t *, as mod_dbd prepared them */
    apr_hash_t *prepared;
    apr_pool_t *pool;
    /** set on failure: what went wrong, for the log */
    const char *error;
    /** inside polycom_store_begin/finish (set by store.c) */
    int in_transaction;
    /** with error: the driver's error number (MySQL's, say 1213) */
    int error_code;
    /** the SQL the driver speaks (set by polycom_store_init) */
    int dialect;
    /** Prepares the statements again when the server has forgotten them
     *  (see polycom_store_statements_lost); 0 on success. Called by
     *  store.c after such a failure, outside any transaction. Optional. */
    int (*repair)(struct polycom_db *db, void *data);
    void *repair_data;
    /** 1: the statements were prepared again after this handle's last
     *  failure (the caller may try again); -1: that failed */
    int repaired;
    /** a lost statement inside a transaction: repair when it ends */
    int repair_pending;
    /** the turns to write that this handle holds (set by store.c) */
    int write_turn;
} polycom_db;

/** Once per process (child_init): the lock that keeps SQLite writers of
 *  one process from deadlocking each other in apr_dbd_sqlite3. */
void polycom_store_child_init(apr_pool_t *pool);

/** Once per process, after apr_global_mutex_child_init: the node's gate,
 *  which SQLite writers of all its processes take before they write, so
 *  that none waits for SQLite's lock inside apr_dbd's mutex. NULL: none. */
void polycom_store_write_gate(apr_global_mutex_t *gate);

typedef struct {
    const char *label;
    /** the statement, for SQLite and PostgreSQL (and MySQL, unless...) */
    const char *sql;
    /** ...its MySQL/MariaDB form, where the syntax differs (upserts) */
    const char *mysql;
    /** A SELECT's result columns in order, separated by spaces: the names
     *  its rows are read by (polycom_row_get); NULL for other statements */
    const char *columns;
} polycom_statement;

/** Every statement but the marker, for tests (@a count of them). */
const polycom_statement *polycom_store_statements(apr_size_t *count);

/** The SQL dialects mod_polycom speaks, after the APR DBD driver. */
typedef enum {
    POLYCOM_DIALECT_UNKNOWN,
    POLYCOM_DIALECT_SQLITE,
    POLYCOM_DIALECT_PGSQL,
    POLYCOM_DIALECT_MYSQL
} polycom_dialect;

polycom_dialect polycom_store_dialect(const apr_dbd_driver_t *driver);

/** Ready @a db for one user of a mod_dbd connection, allocating in
 *  @a pool. */
void polycom_store_init(polycom_db *db, const apr_dbd_driver_t *driver,
                        apr_dbd_t *handle, apr_hash_t *prepared,
                        apr_pool_t *pool);

/** The statement mod_dbd prepares on every connection, registered at
 *  configuration time (ap_dbd_prepare): it marks the servers' connection
 *  groups as ours. It reads no table, so that SQLite prepares it without
 *  taking a lock (mod_dbd does so before any hook could set a busy
 *  timeout). */
const polycom_statement *polycom_store_marker(void);

/**
 * Set a new connection's session up, before anything else reads the
 * database: SQLite's busy timeout and page cache, MySQL's UTF-8, strict
 * mode and read committed, PostgreSQL without JIT. -1 with *error set
 * when a setting fails.
 */
int polycom_store_session(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                          apr_dbd_t *handle, const char **error);

/**
 * On a SQLite connection of a node whose check-in writer checkpoints the
 * WAL: SQLite's automatic checkpoint only at 10,000 pages, not 1,000
 * (a no-op elsewhere). -1 with *error set when the setting fails.
 */
int polycom_store_leave_checkpoints(apr_pool_t *pool,
                                    const apr_dbd_driver_t *driver,
                                    apr_dbd_t *handle, const char **error);

/**
 * Prepare the statements a phone's request may run on a new connection,
 * in the connection's own dialect, into @a prepared (mod_dbd's table of
 * the connection); the others (the admin API's, the check-in writer's
 * many-row upserts) are prepared there at their first use, in @a pool.
 * Called once per connection from mod_dbd's post_connect hook, after
 * polycom_store_session(). -1 with *error set when the driver is not one
 * of ours or a statement does not prepare.
 */
int polycom_store_prepare(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                          apr_dbd_t *handle, apr_hash_t *prepared,
                          const char **error);

/** Prepare the rest of the statements on a connection that
 *  polycom_store_prepare() set up: the check-in writer's, so that one
 *  that does not prepare is said when it starts. -1 with db->error set;
 *  0 and nothing done on a connection whose set-up had failed. */
int polycom_store_prepare_all(polycom_db *db);

/** The pool a connection's statements were prepared in by
 *  polycom_store_prepare() (where a repair prepares them again); NULL
 *  when its set-up failed. */
apr_pool_t *polycom_store_prepared_pool(apr_hash_t *prepared);

/** Prepare the statements again on a connection whose server has forgotten
 *  them (a PostgreSQL server restarted under a connection that libpq then
 *  reset), except those in @a fresh (just prepared again by the caller). */
int polycom_store_reprepare(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                            apr_dbd_t *handle, apr_hash_t *prepared,
                            apr_hash_t *fresh, const char **error);

/** Non-zero when the failure in db->error is a statement the connection
 *  lost: PostgreSQL after its restart, SQLite after a schema change made
 *  elsewhere. */
int polycom_store_statements_lost(const polycom_db *db);

/** The schema version the database records (table schema_version, see
 *  polycom_schema.h): 0 when it records none, an older schema. Read on a
 *  new connection, before any statement is prepared. */
apr_int64_t polycom_store_schema_version(apr_pool_t *pool,
                                         const apr_dbd_driver_t *driver,
                                         apr_dbd_t *handle);

typedef struct {
    const char *mac;
    const char *model;
    const char *site;
    const char *label;
    int enabled;
} polycom_phone;

/** The revision every change to served data moves (table revision). */
int polycom_store_revision(polycom_db *db, apr_int64_t *revision);

/** Look a phone up; *phone is NULL when the MAC is unknown. */
int polycom_store_phone(polycom_db *db, const char *mac,
                        polycom_phone **phone);

/**
 * The effective parameters (polycom_param, sorted by name, one per name)
 * for @a phone, layered global < site < model < phone. With @a phone NULL,
 * the global parameters only, secrets left out.
 */
int polycom_store_params(polycom_db *db, const polycom_phone *phone,
                         apr_array_header_t **params);

/** What one request for a phone's file reads, from one snapshot. */
typedef struct {
    apr_int64_t revision;
    int moves;                  /**< any move set up at all */
    polycom_phone *phone;       /**< NULL: the MAC is unknown */
    apr_array_header_t *own;    /**< its own parameters (polycom_param,
                                 *   sorted by name), when asked for */
} polycom_phone_at;

/** The revision, whether any move is set up, the phone @a mac and, with
 *  @a with_own, its own parameters: one statement, one snapshot. */
int polycom_store_phone_at(polycom_db *db, const char *mac, int with_own,
                           polycom_phone_at *at);

/** What polycom_store_phone_at read of a known phone with its own
 *  parameters, as bytes the shared render cache keeps beside the phone's
 *  settings; NULL for an unknown phone. A later render, after a move of
 *  the layers only, takes the phone from there instead of the database
 *  (mod_polycom_prov.c). */
const char *polycom_phone_at_pack(apr_pool_t *pool,
                                  const polycom_phone_at *at,
                                  apr_size_t *len);
/** polycom_phone_at_pack's bytes back, as read at @a revision, for
 *  @a mac: 0, or -1 when they are not such bytes or of another MAC. */
int polycom_phone_at_unpack(apr_pool_t *pool, const char *packed,
                            apr_size_t len, const char *mac,
                            apr_int64_t revision, polycom_phone_at *at);

/** The effective parameters of the layers above a phone of @a site and
 *  @a model (global < site < model; polycom_param sorted by name, one per
 *  name), and the revision of the same snapshot. */
int polycom_store_layers_at(polycom_db *db, const char *site,
                            const char *model, apr_int64_t *revision,
                            apr_array_header_t **params);
/** What moved after @a since (table scope_revisions), given to
 *  polycom_scopes_moved, and in @a snapshot the revision of the same
 *  snapshot: every move up to it is in the table. -1 when it cannot be
 *  read (a database down, or of a schema before POLYCOM_SCHEMA_SCOPES). */
int polycom_store_scopes_since(polycom_db *db, apr_int64_t since,
                               polycom_scopes *scopes,
                               apr_int64_t *snapshot);
/** The rows polycom_store_params resolves, fed to @a layers (which keeps
 *  what they override when made to: GET /admin/phones/{mac}/explain). */
int polycom_store_layers(polycom_db *db, const polycom_phone *phone,
                         polycom_layers *layers);


/** Where @a mac last checked in from (its newest check-in), or "". */
int polycom_store_last_ip(polycom_db *db, const char *mac, const char **ip);

/** Record a check-in (and what it did to a move under way) in one
 *  transaction. */
int polycom_store_checkin(polycom_db *db, const polycom_checkin *checkin);

/** Record many check-ins in one transaction: all of them, or none (the
 *  caller counts them lost). With @a seen, last_seen is brought up to
 *  date in the same transaction; without, the caller does it later with
 *  polycom_store_seen_flush() (the check-in writer). */
int polycom_store_checkins(polycom_db *db, const polycom_checkin *const *list,
                           int count, int seen);

/** Upsert these rows of last_seen (in MAC order, as polycom_seen_rows()
 *  gives them) in one transaction; a row only moves forward (a newer
 *  check-in, a newer settings fetch). The check-in writer's, with what it
 *  gathered from the batches it wrote since the last time. */
int polycom_store_seen_rows(polycom_db *db, const polycom_seen_row *rows,
                            int count);

/** The most check-in ids one polycom_store_seen_flush() goes over: it
 *  bounds how long the statement holds the writer, which reads no batch
 *  meanwhile (13,000 took 0.08-0.12 s in the sqlite3 shell, 0.2-0.9 s
 *  inside the writer under make bench's load at 100,000 phones, which
 *  brings 13,000 to 15,000 a second). With 100,000 a statement, a writer
 *  starting after a restart under that load went over its 30 s catch-up
 *  3 to 7 s at a time, and every child's queue filled (PC00039). */
#define POLYCOM_SEEN_FLUSH_IDS 10000

/** More new check-in ids than this (another node's, while this one wrote
 *  none) and a flush starts from the last moments instead. */
#define POLYCOM_SEEN_BACKLOG_IDS 100000

/** The check-in writer's SQLite page cache, in KiB, on each connection it
 *  uses (polycom_store_writer_session). */
#define POLYCOM_WRITER_CACHE_KIB "16384"

/** How far last_seen is up to date with the history: the id of the last
 *  check-in gone over (-1: not known, as when a check-in writer starts)
 *  and that row's time (-1: not checked), which tells when SQLite gave
 *  the id out again to another row. */
typedef struct {
    apr_int64_t id;
    apr_int64_t time_us;
} polycom_seen_mark;

/** Brings last_seen up to date with the check-ins after @a mark (at most
 *  POLYCOM_SEEN_FLUSH_IDS of them), in one statement, and moves the mark
 *  on; *macs is how many rows it wrote. When the mark is not known or its
 *  row gone, or more than POLYCOM_SEEN_BACKLOG_IDS check-ins came since, it
 *  starts at the check-ins made within @a window of the newest instead:
 *  those a writer that stopped may have left out. Returns 1 when there
 *  are more check-ins after the mark, 0 when not, -1 on an error. */
int polycom_store_seen_flush(polycom_db *db, polycom_seen_mark *mark,
                             apr_interval_time_t window, int *macs);

/** The latest stored upload of @a kind ("directory", ...) for @a mac;
 *  *body is NULL when there is none. */
int polycom_store_upload_get(polycom_db *db, const char *mac,
                             const char *kind, const char **body,
                             apr_size_t *len);

/** Store an upload whole, replacing the previous one in one statement;
 *  *created tells whether there was none before. */
int polycom_store_upload_put(polycom_db *db, const char *mac,
                             const char *kind, const char *body,
                             apr_size_t len, apr_time_t now, int *created);

/** Retention of a phone's logs: at most max_bytes in all (the newest chunk
 *  is always kept), nothing older than max_age (0: no age limit). */
typedef struct {
    apr_off_t max_bytes;
    apr_interval_time_t max_age;
} polycom_log_retention;

/** Append a log chunk and prune the oldest chunks beyond the retention,
 *  in one transaction; *created tells whether it is the first chunk. */
int polycom_store_log_append(polycom_db *db, const char *mac,
                             const char *kind, const char *body,
                             apr_size_t len, apr_time_t now,
                             const polycom_log_retention *retention,
                             int *created);

/** A phone's stored log, its chunks in upload order; NULL when none. */
int polycom_store_log_get(polycom_db *db, const char *mac, const char *kind,
                          const char **body, apr_size_t *len);

/** What @a mac stores in uploads and logs (PolycomUploadQuota): bytes of
 *  @a kind, and of every other kind together. */
int polycom_store_usage(polycom_db *db, const char *mac, const char *kind,
                        apr_off_t *same_kind, apr_off_t *other_kinds);

/** One bounded round of retention (at most 10,000 rows, each round its
 *  own commit): check-ins older than @a before; *deleted says how many
 *  went (0: nothing old is left at the head of the history). These three
 *  return 1, having pruned nothing, when another thread of the process, or
 *  another process of the node, is writing to SQLite
 *  (polycom_store_exec_unless_busy): try again soon. */
int polycom_store_prune_checkins(polycom_db *db, apr_time_t before,
                                 int *deleted);

/** Snapshots (what phones were served) made before @a before that no
 *  phone's last fetch refers to: one statement, the table being one row
 *  per distinct settings file. */
int polycom_store_prune_snapshots(polycom_db *db, apr_time_t before,
                                  int *deleted);

/** The same for log chunks older than @a before (PolycomLogRetention's
 *  days, applied on a schedule as well as at the phone's next upload). */
int polycom_store_prune_logs(polycom_db *db, apr_time_t before,
                             int *deleted);

/** The reprovisioning target that applies to a phone now. */
typedef struct {
    apr_int64_t id;             /* 0: none applies */
    const char *server;
    const char *server_type;
    const char *boot_server;
    const char *user;
    const char *password;
    const char *scope;
    const char *scope_key;
    const char *deadline_us;    /* "" when none */
    /** pending: not fetched yet; delivered: the phone fetched the stanza;
     *  applied: it then asked for its files at the target's address (the
     *  Host of a request to a node on this database); done: an admin
     *  marked the move done by hand (no proof from the phone). */
    const char *state;
    const char *delivered_us;
    const char *confirmed_us;
} polycom_reprovision_target;

/** The target for @a mac ("" for phones the database does not know) in
 *  @a site; target->id is 0 when none applies at @a now. */
int polycom_store_reprovision(polycom_db *db, const char *mac,
                              const char *site, apr_time_t now,
                              polycom_reprovision_target *target);

/** Whether the move is still under way (pending or delivered): the
 *  stanza is served, and the layers' own values held back. */
#define POLYCOM_REPROVISION_MOVING(t) \
    ((t)->id && (!strcmp((t)->state, "pending") \
                 || !strcmp((t)->state, "delivered")))

/* ---- Generic access for the admin API -------------------------------- */

/* Labels of the admin statements (see store.c for their SQL and columns). */
#define POLYCOM_SQL_PHONE_LIST       "mod_polycom_phone_list"
#define POLYCOM_SQL_PHONE_COUNT      "mod_polycom_phone_count"
#define POLYCOM_SQL_PHONE_COUNT_ALL  "mod_polycom_phone_count_all"
#define POLYCOM_SQL_PHONE_VIEW       "mod_polycom_phone_view"
#define POLYCOM_SQL_STATS_FIRMWARE   "mod_polycom_stats_firmware"
#define POLYCOM_SQL_STATS_SEEN       "mod_polycom_stats_seen"
#define POLYCOM_SQL_STATS_CHECKINS   "mod_polycom_stats_checkins"
#define POLYCOM_SQL_STATS_DISCOVERED "mod_polycom_stats_discovered"
#define POLYCOM_SQL_PHONE_GET        "mod_polycom_phone_get"
#define POLYCOM_SQL_PHONE_UPSERT     "mod_polycom_phone_upsert"
#define POLYCOM_SQL_PHONE_DELETE     "mod_polycom_phone_delete"
#define POLYCOM_SQL_SCOPE_PARAMS     "mod_polycom_scope_params"
#define POLYCOM_SQL_SCOPE_CLEAR      "mod_polycom_scope_clear"
#define POLYCOM_SQL_PARAM_INSERT     "mod_polycom_param_insert"
#define POLYCOM_SQL_DISCOVERED_LIST  "mod_polycom_discovered_list"
#define POLYCOM_SQL_DISCOVERED_DROP  "mod_polycom_discovered_drop"
#define POLYCOM_SQL_CHECKIN_LIST     "mod_polycom_checkin_list"
#define POLYCOM_SQL_LAST_FETCH       "mod_polycom_last_fetch"
#define POLYCOM_SQL_UPLOAD_LIST      "mod_polycom_upload_list"
#define POLYCOM_SQL_UPLOAD_DELETE    "mod_polycom_upload_delete"
#define POLYCOM_SQL_LOG_DELETE       "mod_polycom_log_delete"
#define POLYCOM_SQL_AUDIT_INSERT     "mod_polycom_audit_insert"
#define POLYCOM_SQL_AUDIT_LIST       "mod_polycom_audit_list"
#define POLYCOM_SQL_REPROV_ACTIVE    "mod_polycom_reprov_active"
#define POLYCOM_SQL_REPROV_INSERT    "mod_polycom_reprov_insert"
#define POLYCOM_SQL_REPROV_DELETE    "mod_polycom_reprov_delete"
#define POLYCOM_SQL_REPROV_PRUNE     "mod_polycom_reprov_prune"
#define POLYCOM_SQL_REPROV_LIST      "mod_polycom_reprov_list"
#define POLYCOM_SQL_REPROV_FLEET     "mod_polycom_reprov_fleet"
#define POLYCOM_SQL_REPROV_DONE      "mod_polycom_reprov_done"
#define POLYCOM_SQL_RESYNC_LAST_ALL  "mod_polycom_resync_last_all"
#define POLYCOM_SQL_RESYNC_LAST_NET  "mod_polycom_resync_last_net"
#define POLYCOM_SQL_RESYNC_INSERT    "mod_polycom_resync_insert"
#define POLYCOM_SQL_RESYNC_TARGET    "mod_polycom_resync_target"
#define POLYCOM_SQL_SITE_MACS        "mod_polycom_site_macs"
#define POLYCOM_SQL_ALL_MACS         "mod_polycom_all_macs"
#define POLYCOM_SQL_RESYNC_JOBS      "mod_polycom_resync_jobs"
#define POLYCOM_SQL_RESYNC_DUE       "mod_polycom_resync_due"
#define POLYCOM_SQL_RESYNC_UNADDRESSED "mod_polycom_resync_unaddressed"
#define POLYCOM_SQL_RESYNC_CLAIM     "mod_polycom_resync_claim"
#define POLYCOM_SQL_RESYNC_CREDS     "mod_polycom_resync_creds"
#define POLYCOM_SQL_RESYNC_FINISH    "mod_polycom_resync_finish"
#define POLYCOM_SQL_CRED_MAC         "mod_polycom_cred_mac"
#define POLYCOM_SQL_CRED_LIST        "mod_polycom_cred_list"
#define POLYCOM_SQL_CRED_INSERT      "mod_polycom_cred_insert"
#define POLYCOM_SQL_CRED_DELETE      "mod_polycom_cred_delete"
#define POLYCOM_SQL_SNAPSHOT_GET     "mod_polycom_snapshot_get"
#define POLYCOM_SQL_FETCH_AT         "mod_polycom_fetch_at"
#define POLYCOM_SQL_HISTORY_MARK     "mod_polycom_history_mark"
#define POLYCOM_SQL_HISTORY_CLAIM    "mod_polycom_history_claim"
#define POLYCOM_SQL_HISTORY_LIST     "mod_polycom_history_list"
#define POLYCOM_SQL_HISTORY_AFTER    "mod_polycom_history_after"
#define POLYCOM_SQL_HISTORY_PHONES   "mod_polycom_history_phones"
#define POLYCOM_SQL_AFFECTED_SINCE   "mod_polycom_affected_since"
#define POLYCOM_SQL_AFFECTED_AFTER   "mod_polycom_affected_after"

/** One row of a SELECT, read by the names its statement declares beside
 *  its SQL in store.c (so a column's place is written down once). */
typedef struct polycom_row polycom_row;

/** The value of @a column in @a row ("" for SQL NULL), or NULL when the
 *  statement has no such column (a mistake of the caller's). */
const char *polycom_row_get(const polycom_row *row, const char *column);

/** @a column of the first of @a rows, or NULL when there is no row. */
const char *polycom_rows_first(const apr_array_header_t *rows,
                               const char *column);

/** Rows of a SELECT: an array of (const polycom_row *), all in db->pool.
 *  Arguments: strings, NULL-terminated. A statement whose result has not
 *  the columns it declares fails (-1, db->error says so). */
int polycom_store_select(polycom_db *db, const char *label,
                         apr_array_header_t **rows, ...);

/** Run a statement; *nrows (may be NULL) gets the rows it changed. */
int polycom_store_exec(polycom_db *db, const char *label, int *nrows, ...);

/** polycom_store_exec for housekeeping that can wait for its next round:
 *  on SQLite, when another thread of this process, or another process of
 *  the node, is writing (its turn taken, a transaction open), returns 1
 *  at once and runs nothing. It never waits for that writer inside
 *  apr_dbd_sqlite3's process-wide mutex, which would stall every thread
 *  of the process, nor makes its caller wait behind it. */
int polycom_store_exec_unless_busy(polycom_db *db, const char *label,
                                   int *nrows, ...);

/** One transaction on db; every polycom_store_* call in between joins it.
 *  polycom_store_finish commits, or rolls back when @a failed is set or a
 *  statement inside failed. */
int polycom_store_begin(polycom_db *db, apr_dbd_transaction_t **txn);
int polycom_store_finish(polycom_db *db, apr_dbd_transaction_t *txn,
                         int failed);

/** On a check-in writer's connection: no automatic WAL checkpoints, and
 *  a page cache of POLYCOM_WRITER_CACHE_KIB (SQLite; a no-op elsewhere). */
int polycom_store_writer_session(polycom_db *db);

/** A WAL checkpoint (SQLite; a no-op elsewhere): what the WAL holds is
 *  copied into the database without the node's turn to write; with
 *  @a restart, then (under the turn) what was committed meanwhile, and the
 *  next commit writes the WAL from its start. 0, or -1 on failure. */
int polycom_store_checkpoint(polycom_db *db, int restart);

#endif /* POLYCOM_STORE_H */
