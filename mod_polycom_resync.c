/* mod_polycom: the resync worker. A singleton watchdog callback in one
 * child sends the queued SIP NOTIFYs one by one, paced as the database
 * says. The retention (check-ins, the phones' logs and the snapshots past
 * their age) runs in the node's check-in writer process, or here when
 * there is none. Runs in the watchdog thread of one child, and the
 * retention also in the writer's one thread.
 */

#include "apr_strings.h"

#include "mod_watchdog.h"

#include "mod_polycom_private.h"
#include "polycom_registrar.h"
#include "polycom_flat.h"

#define POLYCOM_WATCHDOG_NAME         "mod_polycom_resync"
#define POLYCOM_WATCHDOG_INTERVAL     apr_time_from_msec(200)

/* Retention: a round prunes at most 10,000 rows of a table (its own
 * commit); while rounds find old rows they follow each other a second
 * apart (a backlog goes at 10,000 rows a second, and the check-in writer
 * gets the database in between), else the next look is in ten seconds. */
#define POLYCOM_PRUNE_BACKLOG         apr_time_from_sec(1)
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

/* Set when this child starts to exit: the worker then stops taking jobs. */
static volatile int polycom_child_exiting = 0;

static apr_status_t polycom_child_exit(void *data)
{
    polycom_child_exiting = 1;
    return APR_SUCCESS;
}

void polycom_resync_child_init(apr_pool_t *pchild)
{
    apr_pool_cleanup_register(pchild, NULL, polycom_child_exit,
                              apr_pool_cleanup_null);
}

/* One round of PolycomCheckinRetention and of PolycomLogRetention's days,
 * never from a request: a request must not pay for the history's size.
 * Where there is a check-in writer it runs the rounds: apr_dbd_sqlite3
 * runs every statement of a process behind one mutex, so a round in a
 * child (a DELETE of 10,000 rows, or of old snapshots) held up every
 * request of that child for as long; the writer's batches wait instead,
 * which the children's queues absorb. */
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
        /* Another thread of this child was writing to SQLite: the round
         * stopped rather than wait, and goes on at the next tick. */
        polycom_prune_due = now;
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

/* Where a claimed job goes: asks the registrar's registration table when
 * one is configured (its connection opened once per round, in @a round),
 * then lets polycom_resync_route_job decide. Returns 0 to send, -1 with
 * *why. */
static int polycom_resync_choose(server_rec *s,
                                const polycom_server_conf *sconf,
                                apr_pool_t *round,
                                polycom_registrar **registrar,
                                apr_pool_t *work, polycom_resync_job *job,
                                const char **why)
{
    const polycom_resync_route *route = &sconf->resync_route;
    const char *contact = "", *received = "", *error = NULL;
    int lookup = -1;

    if (polycom_resync_wants_lookup(job, route)) {
        if (!*registrar
            && polycom_registrar_open(round, sconf->registrar_driver,
                                      sconf->registrar_params,
                                      sconf->registrar_query, registrar,
                                      &error) < 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00170)
                         "resync of %s: %s", job->mac, error);
        }
        if (*registrar) {
            lookup = polycom_registrar_lookup(*registrar, work,
                                              job->target.user,
                                              polycom_resync_domain(job,
                                                                    route),
                                              &contact, &received, &error);
            if (lookup < 0) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00171)
                             "resync of %s: %s", job->mac, error);
                *registrar = NULL;      /* open it again next round */
            }
        }
    }
    if (polycom_resync_route_job(work, job, route, lookup, contact,
                                 received, why) < 0) {
        return -1;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PCLOGNO(00172)
                 "resync of %s: %s", job->mac,
                 job->route ? job->route : "sent to its direct address");
    return 0;
}

/* Runs every 200 ms in one child of the server (a singleton watchdog) and
 * sends the due NOTIFYs one by one. The database decides which node sends
 * a job, so several nodes may share one queue. A connection is held only
 * to claim a job and to record its outcome, never while waiting for the
 * phone (up to 64*T1), so a child can always exit cleanly. */
static apr_status_t polycom_resync_tick(int state, void *data,
                                        apr_pool_t *pool)
{
    server_rec *s = data;
    const polycom_server_conf *sconf = ap_get_module_config(s->module_config,
                                                            &polycom_module);
    apr_interval_time_t t1 = polycom_conf_sip_t1(sconf);
    polycom_registrar *registrar = NULL;
    apr_pool_t *round;
    int sent;

    if (state != AP_WATCHDOG_STATE_RUNNING) {
        return APR_SUCCESS;
    }
    if (!polycom_child_exiting && !polycom_writer_prunes()) {
        polycom_retention_round(s, pool);
    }
    /* The registrar's connection lives for this round only: a round is
     * short, and nothing is held while the worker sleeps. */
    apr_pool_create(&round, pool);
    apr_pool_tag(round, "polycom_resync_round");
    for (sent = 0; sent < 20 && !polycom_child_exiting; sent++) {
        polycom_resync_job job;
        polycom_notify_outcome outcome;
        const char *why = NULL;
        apr_pool_t *work;
        ap_dbd_t *dbd;
        polycom_db db;
        int claimed;

        apr_pool_create(&work, pool);
        apr_pool_tag(work, "polycom_resync");
        if (!(dbd = polycom_worker_db(work, s, &db))) {
            apr_pool_destroy(work);
            break;
        }
        claimed = polycom_resync_claim(&db, s->server_hostname
                                            ? s->server_hostname : "",
                                       apr_time_now(), &job);
        polycom_dbd_close(s, dbd);
        if (claimed < 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00017)
                         "resync queue: %s",
                         db.error ? db.error : "database error");
        }
        if (claimed != 1) {
            apr_pool_destroy(work);
            break;
        }
        job.target.tls_ca = sconf->resync_tls_ca;
        job.target.t1 = t1;
        job.target.t2 = t1 * 8 > apr_time_from_sec(4) ? t1 * 8
                                                      : apr_time_from_sec(4);
        if (polycom_resync_choose(s, sconf, round, &registrar, work, &job,
                                 &why) < 0) {
            memset(&outcome, 0, sizeof(outcome));
            outcome.reason = why;
        }
        else if (polycom_notify_send(work, &job.target, &outcome) < 0) {
            /* Nothing sent: no connection, or a TLS peer not verified. An
             * admin's matter (an address, a CA), so the log says it too. */
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00173)
                         "resync of %s not sent: %s", job.mac,
                         outcome.reason);
            outcome.status = 0;
        }
        if ((dbd = polycom_worker_db(work, s, &db)) != NULL) {
            if (polycom_resync_finish(&db, &job, &outcome) < 0) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00020)
                             "resync of %s sent but not recorded: %s",
                             job.mac, db.error ? db.error : "database error");
            }
            polycom_dbd_close(s, dbd);
        }
        apr_pool_destroy(work);
    }
    apr_pool_destroy(round);
    return APR_SUCCESS;
}

void polycom_start_worker(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    polycom_server_conf *sconf = ap_get_module_config(s->module_config,
                                                      &polycom_module);
    ap_watchdog_t *watchdog;
    apr_status_t rv;

    if (!sconf->statements_prepared || !polycom_dbd_retrieve()) {
        return;                 /* no provisioning here: nothing to send */
    }
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00018)
                     "mod_watchdog is not loaded: queued resyncs will not "
                     "be sent by this server, nor old check-ins and logs "
                     "pruned unless its check-in writer runs");
        return;
    }
    rv = get_instance(&watchdog, POLYCOM_WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = register_callback(watchdog, POLYCOM_WATCHDOG_INTERVAL, s,
                               polycom_resync_tick);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00019)
                     "cannot start the resync worker");
    }
}

