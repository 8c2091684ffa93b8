/**
 * @file mod_polycom_private.h
 * @brief What the httpd glue files of mod_polycom (mod_polycom*.c) share
 * with each other only: the configuration and per-request records, and
 * each file's functions that the others call, grouped by the file that
 * defines them. The pure parts (src/, include/) never include it.
 */
#ifndef MOD_POLYCOM_PRIVATE_H
#define MOD_POLYCOM_PRIVATE_H

#include <signal.h>

#include "apr_dbd.h"

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "mod_dbd.h"

#include "polycom_cache.h"
#include "polycom_metrics.h"
#include "polycom_name.h"
#include "polycom_devicecert.h"
#include "polycom_render.h"
#include "polycom_resync.h"
#include "polycom_store.h"
#include "polycom_useragent.h"

/* Our own log tags: the AH namespace belongs to httpd's bundled modules.
 * Each call site has its own number; numbers are never reused
 * (t/logtags.t checks it). */
#define PCLOGNO(n) "PC" #n ": "

/* PolycomDeviceCA none: set, to stop an outer location's pinning. */
#define POLYCOM_DEVICE_CA_NONE ((const polycom_device_ca *)"none")

extern module AP_MODULE_DECLARE_DATA polycom_module;

/* AP_DECLARE_MODULE in mod_polycom.c declares it there; every other glue
 * file needs it for "LogLevel polycom:debug". */
#ifndef POLYCOM_MODULE_RECORD
APLOG_USE_MODULE(polycom);
#endif

#define POLYCOM_HANDLER "polycom-provisioning"
#define POLYCOM_ADMIN_HANDLER "polycom-admin"

typedef struct {
    int provisioning;                    /* -1: unset (off)              */
    int checkins;                        /* -1: unset (on)               */
    const char *app_file_path;           /* NULL: unset (sip.ld)         */
    apr_array_header_t *model_firmware;  /* polycom_model_firmware       */
    apr_array_header_t *config_files;    /* NULL: unset (none)           */
    apr_array_header_t *model_files;     /* polycom_model_files          */
    int uploads;                         /* -1: unset (off)              */
    apr_off_t upload_limit;              /* -1: unset (256 KiB)          */
    apr_off_t log_limit;                 /* -1: unset (512 KiB)          */
    apr_off_t log_keep;                  /* -1: unset (1 MiB)            */
    int log_days;                        /* -1: unset (30); 0: no limit  */
    apr_off_t upload_quota;              /* -1: unset (4 MiB)            */
    int admin;                           /* -1: unset (off)              */
    int bundle_credentials;              /* -1: unset (off)              */
    const char *admin_base;              /* the <Location> of PolycomAdmin */
    const char *preview_base;            /* NULL: unset (/prov)          */
    int resync_rate;                     /* -1: unset (60 per minute)    */
    int resync_per_network;              /* -1: unset (10 per minute)    */
    int guard_limit;                     /* -1: unset (30); 0: off       */
    int guard_window;                    /* seconds (60)                 */
    int guard_cooldown;                  /* seconds (300)                */
    const polycom_device_ca *device_ca;  /* NULL: unset (none)           */
    int phone_auth;                      /* this very section says       */
                                         /* Require polycom-phone (never */
                                         /* merged: read at start-up)    */
} polycom_dir_conf;

typedef struct {
    int statements_prepared;
    int sip_t1_ms;                       /* -1: unset (500 ms)           */
    /* PolycomResyncProxy and PolycomResyncRegistrar (the main server's
     * steer the resync worker): proxy_host NULL and registrar 0 when
     * unset. */
    polycom_resync_route resync_route;
    const char *registrar_driver;
    const char *registrar_params;
    const char *registrar_query;
    const char *resync_tls_ca;           /* PolycomResyncTLSCA; NULL: no */
                                         /* NOTIFY goes over TLS         */
    int schema_warned;     /* this process said the schema is another's */
    int device_ca_used;    /* a location here says PolycomDeviceCA: the */
                           /* host's TLS verification skips dates       */
} polycom_server_conf;

/* PolycomEnumerationGuard as it applies (limit 0: off). */
typedef struct {
    int limit;
    apr_interval_time_t window;
    apr_interval_time_t cooldown;
} polycom_guard_settings;

/* What the module learned about a request it claimed. */
typedef struct {
    polycom_name name;
    polycom_useragent ua;
    const char *file;         /* the base name asked for, lower-cased     */
    const char *mac;          /* from the name, or the UA's (SN:...)      */
    const char *etag;         /* of the body served, "" if none           */
    int unknown_phone;        /* a lookup found no such phone             */
    apr_off_t bytes_in;       /* size of a stored upload                  */
    apr_int64_t delivered_target; /* served this reprovisioning target     */
    const char *snapshot;     /* settings rendered anew: polycom_flat.h   */
    const char *admin_path;   /* an admin API request: the resource path  */
    int db_unavailable;       /* already logged: skip the check-in        */
} polycom_request;


/* ---- mod_polycom.c: the module record and hooks ---------------------- */

/** The metrics every child counts into (shared memory made in
 *  post_config; a per-process copy when there is none). */
polycom_metrics *polycom_metrics_get(void);

/* ---- Defaults and limits of the directives (config, directives) ------- */

#define POLYCOM_DEFAULT_PREVIEW_BASE "/prov"
#define POLYCOM_DEFAULT_APP_FILE_PATH "sip.ld"
#define POLYCOM_PATH_MAX 255
#define POLYCOM_MODEL_MAX 32
/* CONFIG_FILES is at most 2047 characters on the phone (REFERENCE.md
 * 2.1); the generated files ("<mac>-device.cfg,<mac>-settings.cfg,") take
 * up to 41 of them, so static files get what is left with room to spare. */
#define POLYCOM_CONFIG_FILES_MAX 2047
#define POLYCOM_GENERATED_FILES_ROOM 64
#define POLYCOM_DEFAULT_UPLOAD_LIMIT  (256 * 1024)
#define POLYCOM_DEFAULT_LOG_LIMIT     (512 * 1024)
#define POLYCOM_DEFAULT_LOG_KEEP      (1024 * 1024)
#define POLYCOM_DEFAULT_LOG_DAYS      30
/* A phone's uploads and logs together: its two logs at their default
 * retention (1M each) and its four files at their largest (256K each)
 * fit, with room to spare. */
#define POLYCOM_DEFAULT_UPLOAD_QUOTA  (4 * 1024 * 1024)
#define POLYCOM_DEFAULT_CHECKIN_DAYS  90
#define POLYCOM_DAYS_MAX              3650
#define POLYCOM_SIZE_MAX              (64 * 1024 * 1024)
#define POLYCOM_DEFAULT_RESYNC_RATE   60     /* NOTIFYs per minute */
#define POLYCOM_DEFAULT_RESYNC_NET    10     /* per minute per network */
#define POLYCOM_DEFAULT_SIP_T1_MS     500    /* RFC 3261 T1 */
/* PolycomEnumerationGuard's defaults: a scan of unknown MACs from one
 * address shows within a minute (30 is more than a site's phones that
 * boot unprovisioned behind one NAT ask for in that time); five minutes
 * of 429 make a scan of 2^24 MACs per OUI take years. */
#define POLYCOM_GUARD_LIMIT           30     /* unknown MACs ...         */
#define POLYCOM_GUARD_WINDOW          60     /* ... within seconds       */
#define POLYCOM_GUARD_COOLDOWN        300    /* then 429 for seconds     */

/* ---- mod_polycom_config.c and _directives.c: configuration ---------- */

extern const command_rec polycom_cmds[];
void *polycom_create_dir_conf(apr_pool_t *p, char *dir);
void *polycom_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *polycom_create_server_conf(apr_pool_t *p, server_rec *s);
/** The server-wide values back to their defaults (pre_config). */
void polycom_conf_reset(void);
/* Each accessor applies the default of a value left unset. */
int polycom_conf_provisioning(const polycom_dir_conf *conf);
const polycom_device_ca *polycom_conf_device_ca(const polycom_dir_conf *conf);
int polycom_conf_checkins(const polycom_dir_conf *conf);
const char *polycom_conf_app_file_path(const polycom_dir_conf *conf);
int polycom_conf_uploads(const polycom_dir_conf *conf);
const char *polycom_conf_preview_base(const polycom_dir_conf *conf);
polycom_guard_settings polycom_conf_guard(const polycom_dir_conf *conf);
apr_off_t polycom_conf_upload_limit(const polycom_dir_conf *conf,
                                    polycom_file_kind kind);
/** PolycomUploadQuota: bytes of uploads and logs stored per phone. */
apr_off_t polycom_conf_upload_quota(const polycom_dir_conf *conf);
polycom_resync_pacing polycom_conf_pacing(const polycom_dir_conf *conf);
polycom_log_retention polycom_conf_log_retention(
    const polycom_dir_conf *conf);
/* Server-wide: PolycomSipTimerT1, PolycomCacheSize, PolycomCheckinWriter,
 * PolycomCheckinQueue. */
apr_interval_time_t polycom_conf_sip_t1(const polycom_server_conf *sconf);
apr_off_t polycom_conf_cache_size(void);
/** PolycomSharedCache: bytes of the render cache all children share (0:
 *  none). */
apr_off_t polycom_conf_shared_cache_size(void);
/** Its slot: the largest file (with its key and ETag) it keeps. */
apr_size_t polycom_conf_shared_cache_slot(void);
int polycom_conf_writer_enabled(void);
int polycom_conf_checkin_queue(void);
/** PolycomCheckinRetention as an age (0: keep forever). */
apr_interval_time_t polycom_conf_checkin_retention(void);
/** The age past which the scheduled prune removes log chunks: the longest
 *  PolycomLogRetention of the configuration allows (0: keep forever). */
apr_interval_time_t polycom_conf_log_age(void);

/* ---- mod_polycom_dbd.c: mod_dbd, connections, outages ---------------- */

/** Looks up mod_dbd's open and close (once); non-zero when both exist. */
int polycom_dbd_retrieve(void);
/** Non-zero when mod_dbd's acquire was found with the configuration. */
int polycom_dbd_can_acquire(void);
/* mod_dbd's functions, or NULL / nothing when it is not loaded. */
ap_dbd_t *polycom_dbd_acquire(request_rec *r);
ap_dbd_t *polycom_dbd_open(apr_pool_t *pool, server_rec *s);
void polycom_dbd_close(server_rec *s, ap_dbd_t *dbd);
/** For PolycomProvisioning: has mod_dbd prepare the statements' marker. */
const char *polycom_prepare_statements(cmd_parms *cmd);
apr_status_t polycom_dbd_post_connect(apr_pool_t *pool, dbd_cfg_t *cfg,
                                      ap_dbd_t *dbd);
apr_status_t polycom_dbd_post_connect_done(apr_pool_t *pool, dbd_cfg_t *cfg,
                                           ap_dbd_t *dbd);
/** A polycom_db over a connection from mod_dbd. */
void polycom_db_bind(polycom_db *db, ap_dbd_t *dbd, server_rec *s,
                     apr_pool_t *pool);
/** The database a bound connection is to (mod_dbd's group of servers of
 *  the same DBD settings); NULL when its set-up failed. */
const void *polycom_db_group(const polycom_db *db);
/** The request's connection, or 503 (an outage logged once). */
int polycom_db_open(request_rec *r, polycom_request *req, polycom_db *db);
/** A failed query: 503 when the connection went away, else 500. */
int polycom_db_failed(request_rec *r, const polycom_db *db);
/** A connection for a task outside any request; NULL when unavailable. */
ap_dbd_t *polycom_worker_db(apr_pool_t *pool, server_rec *s,
                            polycom_db *db);
/* The gate that SQLite writers of all the node's processes take
 * (polycom_store_write_gate): registered in pre_config, made in the first
 * post_config before any process forks and kept across restarts, opened
 * in each process. */
void polycom_gate_register(apr_pool_t *pconf);
void polycom_gate_post_config(server_rec *s);
void polycom_gate_child_init(apr_pool_t *pchild, server_rec *s);

/* ---- mod_polycom_prov.c: the provisioning namespace ------------------ */

int polycom_translate_name(request_rec *r);
int polycom_map_to_storage(request_rec *r);
int polycom_handler(request_rec *r);

/* mod_polycom_moved.c: what moved in each database since a cached file
 * was rendered, as this child read it (src/scopes.c). */
typedef struct polycom_moved polycom_moved;
void polycom_moved_init(apr_pool_t *pchild);
/** The record of @a db's database; NULL when there is none (files are
 *  then served for their very revision only). */
polycom_moved *polycom_moved_of(polycom_db *db);
/** Brings @a moved up to @a revision, read from @a db: once per move of
 *  the revision and child. */
void polycom_moved_read(polycom_moved *moved, polycom_db *db,
                        apr_int64_t revision);
/** polycom_scopes_same on @a moved's record. */
int polycom_moved_same(polycom_moved *moved, const char *made_of,
                       apr_size_t made_of_len, apr_int64_t rendered,
                       apr_int64_t now);
/** Non-zero when there is no record, or its last read failed. */
int polycom_moved_unread(polycom_moved *moved);
/** polycom_scopes_stale_below on @a moved's record (not NULL). */
apr_int64_t polycom_moved_stale_below(polycom_moved *moved, int of_layers);

/* ---- mod_polycom_prov_cache.c: the provisioning namespace's caches --- */

/** The child's render and layer caches (PolycomCacheSize). */
void polycom_cache_init(apr_pool_t *pchild);
/** Non-zero when files are kept at all: in the child's cache or in the
 *  node's shared one. */
int polycom_prov_cacheable(void);
/** What every request for the same file shares: its server and URI. */
const char *polycom_prov_cache_key(request_rec *r);
/** A known phone's parameters at the snapshot @a at: its own over the
 *  layers of that very revision, kept per child; 0, or -1 when the
 *  database failed. */
int polycom_prov_layered_params(request_rec *r, polycom_db *db,
                                const polycom_phone_at *at,
                                apr_array_header_t **params);
/** 1 and the file kept for @a key that is the same at @a revision (the
 *  shared cache first, then the child's); 0 when none is. A phone's
 *  settings that are not the same may still hold its part that is
 *  (@a phone_part, when not NULL, for @a mac): then *@a reused is 1. */
int polycom_prov_cache_get(request_rec *r, polycom_db *db,
                           polycom_moved *moved, const char *key,
                           apr_int64_t revision, const char **body,
                           apr_size_t *len, const char **etag,
                           const char *mac, polycom_phone_at *phone_part,
                           int *reused);
/** Keeps a rendered file (and a phone's part beside its settings) in the
 *  shared cache, or the child's when that one cannot. */
void polycom_prov_cache_put(const char *key, apr_int64_t revision,
                            const char *made_of, apr_size_t made_of_len,
                            const char *body, apr_size_t len,
                            const char *etag, const char *aside,
                            apr_size_t aside_len);
/** Notes @a revision as read in this child (the newest read so far). */
void polycom_prov_revision_read(apr_int64_t revision);
/** Non-zero when a phone's master or settings cannot be in the shared
 *  cache at the current revision: the one-row read of the revision is
 *  then skipped. Only a hint for the order of the reads. */
int polycom_prov_surely_missed(polycom_moved *moved, const char *key,
                               int of_layers);
/** 1 the first time this child meets @a etag among the snapshots it
 *  sends the check-in writer; 0 after, or when it keeps no record. */
int polycom_prov_snapshot_new(const char *etag);

/* mod_polycom_shared.c: the render cache shared by the children
 * (PolycomSharedCache; src/shmcache.c). */
int polycom_shared_post_config(apr_pool_t *pconf, server_rec *s);
void polycom_shared_child_init(apr_pool_t *pchild);
/** Non-zero when the children share a render cache. */
int polycom_shared_enabled(void);
/** 1 and a copy in @a pool of the newest entry kept for @a key, whatever
 *  its revision (polycom_shmcache_find); 0 when there is none. */
int polycom_shared_find(const char *key, apr_pool_t *pool,
                        polycom_cached *found);
/** 0 when no revision would find @a key (polycom_shmcache_peek), else 1
 *  and the newest revision it may be kept at: a hint, without a copy. */
int polycom_shared_peek(const char *key, apr_int64_t *revision);
/** 1 when kept, with @a aside when both fit (polycom_shmcache_put_aside);
 *  0 when the body does not fit a slot (or the slot is being written). */
int polycom_shared_put(const char *key, apr_int64_t revision,
                       const char *made_of, apr_size_t made_of_len,
                       const char *body, apr_size_t len, const char *etag,
                       const char *aside, apr_size_t aside_len);
/** The whole body, or an HTTP status (413 past @a limit, 400 cut short). */
/* The phone a provisioning request names, if it may be served (known,
 * enabled, not blocked): OK, or the status to answer (mod_polycom_prov.c). */
int polycom_find_phone(request_rec *r, polycom_request *req,
                       polycom_db *db, polycom_phone **phone);
/* PUT of an upload (mod_polycom_upload.c): checked whole, then stored in
 * one transaction. */
int polycom_upload(request_rec *r, const polycom_dir_conf *conf,
                   polycom_request *req);
int polycom_read_body(request_rec *r, apr_off_t limit, const char **body,
                      apr_size_t *len);

/* ---- mod_polycom_admin.c: the admin API's glue ----------------------- */

int polycom_admin_handler(request_rec *r);

/* ---- mod_polycom_authz.c: Require polycom-phone ---------------------- */

void polycom_authz_register(apr_pool_t *p);
void polycom_authz_check_open(apr_pool_t *ptemp, server_rec *s);

/* ---- mod_polycom_checkin.c: check-ins and the child's batch thread --- */

/** Freed queue memory a process keeps for the next batches (the child's
 *  queue, the writer's loop); the rest goes back to the system. APR's
 *  allocator maps its blocks itself and unmaps what it does not keep, and
 *  each munmap makes the kernel interrupt the other CPUs to flush their
 *  TLBs (costly on a virtual machine). With 256 KiB kept, a loop's
 *  batches (a few hundred rows each, with their settings snapshots on a
 *  cold walk) were unmapped every 20 ms: 13 % of the writer's CPU time
 *  (perf, make bench's 100,000 phones, settings). At 4 MiB a steady load
 *  maps nothing: the writer's CPU per request fell from 23-32 to 18-20
 *  µs, and the whole node's from 102-128 to 80-101 µs; a burst larger
 *  than that is still given back. */
#define POLYCOM_BATCH_KEEP     (4096 * 1024)

int polycom_log_transaction(request_rec *r);
void polycom_batch_start(apr_pool_t *pchild, server_rec *s);
/** Commit check-ins of one server in one transaction, in this process,
 *  and last_seen with them when @a seen (or not in the writer's
 *  session); *error says why not. */
int polycom_checkins_commit(server_rec *s, apr_array_header_t *list,
                            int writer_session, int seen, apr_pool_t *pool,
                            const char **error);
/** The check-in writer's: last_seen's rows it gathered from the batches
 *  it wrote (polycom_store_seen_rows()). *error says why not. */
int polycom_seen_commit(server_rec *s, const polycom_seen_row *rows,
                        int count, apr_pool_t *pool, const char **error);
/** How far back a starting check-in writer goes over the check-ins for
 *  last_seen when the one before did not leave it up to date: one that
 *  stopped otherwise left at most a round of them out (five seconds
 *  under load, POLYCOM_WRITER_SEEN_EVERY), or longer while its flushes
 *  failed. */
#define POLYCOM_SEEN_REPLAY apr_time_from_sec(30)
/** The check-in writer's: last_seen brought up to date with the check-ins
 *  after @a mark, which moves on (polycom_store_seen_flush(), with the
 *  window @a replay). *error says why not. */
int polycom_seen_flush(server_rec *s, polycom_seen_mark *mark,
                       apr_interval_time_t replay, int *macs,
                       apr_pool_t *pool, const char **error);

/** The check-in writer's: a checkpoint of @a s's database, restarting its
 *  WAL when @a restart, unless another server's checkpoint of the same
 *  database this round (@a done) did it. 0, or -1 when the database could
 *  not be opened or checkpointed. *@a next_at: when to checkpoint it again
 *  (0: never, the database is not SQLite). */
int polycom_checkpoint_server(server_rec *s, apr_hash_t *done, int restart,
                              apr_time_t *next_at, apr_pool_t *pool);

/* ---- mod_polycom_writer.c: the node's check-in writer ---------------- */

/** In the parent, once per generation: the socket and the process, when
 *  @a wanted (else children of this generation write for themselves). */
void polycom_writer_start(apr_pool_t *pconf, server_rec *s, int wanted);
/** From a child's batch thread: 0 when the writer took the batch. */
int polycom_writer_send(server_rec *s, const polycom_checkin *const *list,
                        int count, apr_pool_t *pool);
/** In a child: 1 when this generation's check-in writer runs the
 *  retention and the WAL's checkpoints (it was started, and this child
 *  last reached it). */
int polycom_writer_reached(void);
/** The signals the parent holds across the writer's fork (SIGTERM,
 *  SIGUSR2 and the MPM's restart signals) until it has its handlers. */
void polycom_writer_signals(sigset_t *set);
/** Send or receive exactly @a length bytes on the writer's socket. */
apr_status_t polycom_writer_io(apr_socket_t *sock, char *buf,
                               apr_size_t length, int sending);

/* ---- mod_polycom_writer_run.c: the check-in writer process ----------- */

typedef void polycom_child_init_fn(apr_pool_t *, server_rec *);

/** How long a writer told to stop goes on bringing last_seen up to date;
 *  the parent waits POLYCOM_WRITER_STOP_WAIT for it, then kills it. */
#define POLYCOM_WRITER_LEAVE     apr_time_from_sec(2)
#define POLYCOM_WRITER_STOP_WAIT apr_time_from_sec(3)
/** How long a writer told to stop at a restart goes on writing its old
 *  children's batches; those still connected then write their own. */
#define POLYCOM_WRITER_FINISH_MAX apr_time_from_sec(300)
/** Its exit status: it left last_seen up to date with all it wrote, or
 *  not (the next writer goes over the last POLYCOM_SEEN_REPLAY), or it
 *  could not go on (never APEXIT_CHILDFATAL, which stops all of httpd
 *  when any child of the parent exits with it). */
#define POLYCOM_WRITER_EXIT_HANDED_OVER 0
#define POLYCOM_WRITER_EXIT_BEHIND      1
#define POLYCOM_WRITER_EXIT_FAILED      2

/** The writer process, forked by the parent: never returns. @a dbd_init
 *  is mod_dbd's child_init; @a handed_over says the writer before left
 *  last_seen up to date. */
void polycom_writer_run(server_rec *s, apr_pool_t *pconf,
                        apr_socket_t *listener,
                        polycom_child_init_fn *dbd_init, int handed_over);

/* ---- mod_polycom_resync.c: the resync worker ------------------------- */

void polycom_start_worker(apr_pool_t *pconf, server_rec *s);
void polycom_resync_child_init(apr_pool_t *pchild, server_rec *s);

/* ---- mod_polycom_retention.c: old rows pruned -------------------------- */

/** A round of the retention (PolycomCheckinRetention, PolycomLogRetention,
 *  the snapshots) for @a s's database when one is due, else nothing: in
 *  the check-in writer, or in the resync worker when there is none. */
void polycom_retention_round(server_rec *s, apr_pool_t *pool);
/** 1 when polycom_retention_round() would run a round now. */
int polycom_retention_due(server_rec *s);

#endif /* MOD_POLYCOM_PRIVATE_H */
