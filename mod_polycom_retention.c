/* mod_polycom: the retention. Rounds that delete check-ins, the phones'
 * log chunks and the snapshots of what phones were served past their age
 * (PolycomCheckinRetention, PolycomLogRetention), for the main server's
 * database. Runs in the check-in writer's one thread, or in the resync
 * worker's watchdog thread of one child when there is no writer.
 */

#include "mod_polycom_private.h"
#include "polycom_flat.h"     /* POLYCOM_SNAPSHOT_AGE */

/* Retention: a round prunes at most 10,000 rows of a table (its own
 * commit); while rounds find old rows they follow each other a second
 * apart (a backlog goes at 10,000 rows a second, and the check-in writer
 * gets the database in between), else the next look is in ten seconds. */
#define POLYCOM_PRUNE_BACKLOG         apr_time_from_sec(1)
#define POLYCOM_PRUNE_BUSY            apr_time_from_msec(250)
#define POLYCOM_PRUNE_IDLE            apr_time_from_sec(10)

/* A database that stays down would fail every round: its error is told
 * once a minute (with how many rounds failed since), and what rounds
 * deleted once an hour at info, so neither fills the log. */
#define POLYCOM_PRUNE_ERROR_EVERY     apr_time_from_sec(60)
#define POLYCOM_PRUNE_SUMMARY_EVERY   apr_time_from_sec(3600)

/* When the next retention round is due (one thread per process: the
 * writer's, or the watchdog's). */
static apr_time_t polycom_prune_due = 0;
/* The rate limits' state (the same thread only). */
static apr_time_t polycom_prune_error_due = 0;
static int polycom_prune_failures = 0;
static apr_time_t polycom_prune_summary_due = 0;
static apr_int64_t polycom_pruned_checkins = 0;
static apr_int64_t polycom_pruned_logs = 0;
static apr_int64_t polycom_pruned_snapshots = 0;

/* One round of PolycomCheckinRetention and of PolycomLogRetention's days,
 * never from a request: a request must not pay for the history's size.
 * Where there is a check-in writer it runs the rounds: apr_dbd_sqlite3
 * runs every statement of a process behind one mutex, so a round in a
 * child (a DELETE of 10,000 rows, or of old snapshots) held up every
 * request of that child for as long; the writer's batches wait instead,
 * which the children's queues absorb. */
int polycom_retention_due(server_rec *s)
{
    const polycom_server_conf *sconf = ap_get_module_config(s->module_config,
                                                            &polycom_module);

    return sconf->statements_prepared && apr_time_now() >= polycom_prune_due;
}

void polycom_retention_round(server_rec *s, apr_pool_t *pool)
{
    const polycom_server_conf *sconf = ap_get_module_config(s->module_config,
                                                            &polycom_module);
    apr_interval_time_t checkin_age = polycom_conf_checkin_retention();
    apr_interval_time_t log_age = polycom_conf_log_age();
    /* Snapshots of what phones were served go with the check-ins that
     * name them, and never live longer than POLYCOM_SNAPSHOT_AGE: only
     * those of each phone's last fetch are kept past it. */
    apr_interval_time_t snapshot_age = checkin_age
        && checkin_age < POLYCOM_SNAPSHOT_AGE ? checkin_age
                                              : POLYCOM_SNAPSHOT_AGE;
    apr_time_t now = apr_time_now();
    int checkins = 0, logs = 0, snapshots = 0, failed = 0, rv = 0;
    apr_pool_t *work;
    ap_dbd_t *dbd;
    polycom_db db;

    if (now < polycom_prune_due || !sconf->statements_prepared) {
        return;
    }
    polycom_prune_due = now + POLYCOM_PRUNE_IDLE;
    apr_pool_create(&work, pool);
    apr_pool_tag(work, "polycom_prune");
    if ((dbd = polycom_worker_db(work, s, &db)) != NULL) {
        if (checkin_age) {
            rv = polycom_store_prune_checkins(&db, now - checkin_age,
                                              &checkins);
        }
        if (!rv && log_age) {
            rv = polycom_store_prune_logs(&db, now - log_age, &logs);
        }
        if (!rv) {
            rv = polycom_store_prune_snapshots(&db, now - snapshot_age,
                                               &snapshots);
        }
        failed = rv < 0;
        polycom_prune_failures += failed;
        if (failed && now >= polycom_prune_error_due) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00123)
                         "retention: cannot prune old check-ins, logs or "
                         "snapshots: %s (%d failed rounds in the last "
                         "minute at most; told once a minute)",
                         db.error ? db.error : "database error",
                         polycom_prune_failures);
            polycom_prune_error_due = now + POLYCOM_PRUNE_ERROR_EVERY;
            polycom_prune_failures = 0;
        }
        polycom_dbd_close(s, dbd);
    }
    if (checkins || logs || snapshots) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PCLOGNO(00122)
                     "retention: pruned %d check-ins, %d log chunks and %d "
                     "snapshots", checkins, logs, snapshots);
        polycom_prune_due = now + POLYCOM_PRUNE_BACKLOG;
        polycom_pruned_checkins += checkins;
        polycom_pruned_logs += logs;
        polycom_pruned_snapshots += snapshots;
    }
    if (rv > 0) {
        /* Another thread of this process, or another process of the node,
         * was writing to SQLite: the round stopped rather than wait, and
         * goes on shortly. Not at once: in the check-in writer a round due
         * brings a last_seen flush forward (polycom_retention_due), and a
         * child's upload holding the gate would have made that every
         * turn of its loop. */
        polycom_prune_due = now + POLYCOM_PRUNE_BUSY;
    }
    if (now >= polycom_prune_summary_due) {
        if (polycom_pruned_checkins || polycom_pruned_logs
            || polycom_pruned_snapshots) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, PCLOGNO(00240)
                         "retention: pruned %" APR_INT64_T_FMT " check-ins, %"
                         APR_INT64_T_FMT " log chunks and %" APR_INT64_T_FMT
                         " snapshots in the last hour",
                         polycom_pruned_checkins, polycom_pruned_logs,
                         polycom_pruned_snapshots);
        }
        polycom_pruned_checkins = polycom_pruned_logs = 0;
        polycom_pruned_snapshots = 0;
        polycom_prune_summary_due = now + POLYCOM_PRUNE_SUMMARY_EVERY;
    }
    apr_pool_destroy(work);
}
