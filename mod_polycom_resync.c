/* mod_polycom: the resync worker. A singleton watchdog callback in one
 * child sends the queued SIP NOTIFYs one by one, paced as the database
 * says, and runs the retention's rounds (mod_polycom_retention.c) when
 * the node has no check-in writer to run them. Runs in the watchdog
 * thread of one child.
 */

#include "apr_strings.h"

#include "mod_watchdog.h"

#include "mod_polycom_private.h"
#include "polycom_registrar.h"

#define POLYCOM_WATCHDOG_NAME         "mod_polycom_resync"
#define POLYCOM_WATCHDOG_INTERVAL     apr_time_from_msec(200)

/* The child's exit and the worker's use of the database, one at a time.
 * mod_dbd's connections go with the child's pool, but mod_watchdog's
 * thread belongs to the process's pool and is not stopped with it: a tick
 * may be in a statement (a retention round's DELETE) or waiting for a
 * phone (up to 64*T1) while the child's pool is destroyed. So the exit,
 * before the pool loses its connections (a pre-cleanup), waits for a
 * statement in progress and marks the child exiting; the worker asks,
 * under the same lock, before each use. The lock lives in the process's
 * pool, which outlives the thread, and is nested: a signal that ends the
 * child (prefork's) may run the exit in the worker's own thread. */
static apr_thread_mutex_t *polycom_resync_gate = NULL;
static int polycom_child_exiting = 0;

/* A database that hangs must not hang the child's exit: past this wait it
 * goes on, as it did before the lock existed. */
#define POLYCOM_EXIT_WAIT apr_time_from_sec(10)

static apr_status_t polycom_child_exit(void *data)
{
    apr_time_t until = apr_time_now() + POLYCOM_EXIT_WAIT;
    apr_status_t rv;

    while ((rv = apr_thread_mutex_trylock(polycom_resync_gate)) != APR_SUCCESS
           && apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(10));
    }
    __atomic_store_n(&polycom_child_exiting, 1, __ATOMIC_SEQ_CST);
    if (rv == APR_SUCCESS) {
        apr_thread_mutex_unlock(polycom_resync_gate);
    }
    return APR_SUCCESS;
}

void polycom_resync_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (apr_thread_mutex_create(&polycom_resync_gate,
                                APR_THREAD_MUTEX_NESTED,
                                s->process->pool) != APR_SUCCESS) {
        polycom_resync_gate = NULL;     /* then the worker stays idle */
        return;
    }
    apr_pool_pre_cleanup_register(pchild, NULL, polycom_child_exit);
}

/* Takes the lock for a use of the database; 0 (not held) once the child
 * is exiting. */
static int polycom_resync_enter(void)
{
    if (!polycom_resync_gate) {
        return 0;
    }
    apr_thread_mutex_lock(polycom_resync_gate);
    if (__atomic_load_n(&polycom_child_exiting, __ATOMIC_SEQ_CST)) {
        apr_thread_mutex_unlock(polycom_resync_gate);
        return 0;
    }
    return 1;
}

static void polycom_resync_leave(void)
{
    apr_thread_mutex_unlock(polycom_resync_gate);
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
 * phone (up to 64*T1), so a child's exit waits for a statement at most;
 * an outcome that comes after it is not recorded, and the job's claim
 * expires (RESYNC_RECLAIM) for another child to send it again. */
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
    if (!polycom_writer_reached() && polycom_resync_enter()) {
        polycom_retention_round(s, pool);
        polycom_resync_leave();
    }
    /* The registrar's connection lives for this round only: a round is
     * short, and nothing is held while the worker sleeps. */
    apr_pool_create(&round, pool);
    apr_pool_tag(round, "polycom_resync_round");
    for (sent = 0; sent < 20; sent++) {
        polycom_resync_job job;
        polycom_notify_outcome outcome;
        const char *why = NULL;
        apr_pool_t *work;
        ap_dbd_t *dbd;
        polycom_db db;
        int claimed;

        if (!polycom_resync_enter()) {
            break;
        }
        apr_pool_create(&work, pool);
        apr_pool_tag(work, "polycom_resync");
        if (!(dbd = polycom_worker_db(work, s, &db))) {
            polycom_resync_leave();
            apr_pool_destroy(work);
            break;
        }
        claimed = polycom_resync_claim(&db, s->server_hostname
                                            ? s->server_hostname : "",
                                       apr_time_now(), &job);
        polycom_dbd_close(s, dbd);
        polycom_resync_leave();
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
        if (!polycom_resync_enter()) {
            /* The claim stands: another child or node sends it again. */
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, PCLOGNO(00174)
                         "resync of %s: its outcome is not recorded, this "
                         "child stopped meanwhile; the job is sent again "
                         "once its claim expires", job.mac);
            apr_pool_destroy(work);
            break;
        }
        if ((dbd = polycom_worker_db(work, s, &db)) != NULL) {
            if (polycom_resync_finish(&db, &job, &outcome) < 0) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCLOGNO(00020)
                             "resync of %s sent but not recorded: %s",
                             job.mac, db.error ? db.error : "database error");
            }
            polycom_dbd_close(s, dbd);
        }
        polycom_resync_leave();
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

