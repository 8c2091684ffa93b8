/* mod_polycom: the check-in writer, one process per node forked by the
 * parent, which writes every child's check-in batches so that children
 * only read; and the children's side of its socket. Runs in the parent
 * (start, restart), the forked writer, and each child's batch thread
 * (sending).
 */

#include "apr_strings.h"
#include "apr_poll.h"
#include "apr_signal.h"
#include "apr_thread_proc.h"

#include "http_core.h"

#include "ap_listen.h"
#include "ap_mpm.h"
#include "mod_unixd.h"
#include "mpm_common.h"
#include "unixd.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mod_polycom_private.h"
#include "polycom_reach.h"
#include "polycom_wire.h"

/* apr_dbd_sqlite3 runs all SQLite work of a process behind one mutex, so a
 * child that commits its own check-ins (and, where no writer checkpoints,
 * every 1,000 pages of WAL copies it and syncs the files) stalls every
 * request thread of that child meanwhile. One process per node, forked by
 * the parent, writes the batches of all children instead, and the
 * children only read. A child hands each batch over a local socket
 * (src/wire.c) and waits for "committed". When the writer is not there,
 * says no, or does not answer, the child writes the batch itself, as
 * before: the writer may die at any moment without a check-in being lost
 * (a batch it committed but could not confirm is written twice). The
 * writer puts the batches that arrive together into one transaction.
 * PolycomCheckinWriter Off keeps the writing in the children. */
#define POLYCOM_WRITER_REPLY_TIMEOUT apr_time_from_sec(30)
#define POLYCOM_WRITER_RETRY         apr_time_from_sec(1)
#define POLYCOM_WRITER_MIN_LIFE      apr_time_from_sec(10)

/* Configuration (reset in pre_config) and what the parent made for this
 * generation; the children inherit them. */
static const char *polycom_writer_path = NULL;
static apr_socket_t *polycom_writer_listener = NULL;
static server_rec *polycom_main_server = NULL;
static apr_pool_t *polycom_writer_pconf = NULL;
static apr_time_t polycom_writer_started = 0;
static polycom_child_init_fn *polycom_dbd_child_init = NULL;

/* A child's connection to the writer, used by its batch thread alone. */
static apr_pool_t *polycom_writer_conn_pool = NULL;
static apr_socket_t *polycom_writer_conn = NULL;
static apr_time_t polycom_writer_retry_at = 0;
/* Written by the batch thread, read by the resync worker's thread
 * (polycom_writer_reached): atomic loads and stores. */
static int polycom_writer_unreachable = 0;

/* Servers are named on the wire by their place in the list, which the
 * children and the writer inherited alike from the parent. */
static unsigned polycom_server_index(server_rec *s)
{
    server_rec *v;
    unsigned i = 0;

    for (v = polycom_main_server; v; v = v->next, i++) {
        if (v == s) {
            return i;
        }
    }
    return UINT_MAX;
}

apr_status_t polycom_writer_io(apr_socket_t *sock, char *buf,
                               apr_size_t length, int sending)
{
    while (length) {
        apr_size_t n = length;
        apr_status_t rv = sending ? apr_socket_send(sock, buf, &n)
                                  : apr_socket_recv(sock, buf, &n);

        buf += n;
        length -= n;
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (!n) {
            return APR_EOF;
        }
    }
    return APR_SUCCESS;
}

static void polycom_writer_disconnect(server_rec *s, apr_status_t rv,
                                      const char *what)
{
    if (polycom_writer_conn_pool) {
        apr_pool_destroy(polycom_writer_conn_pool);
    }
    polycom_writer_conn_pool = NULL;
    polycom_writer_conn = NULL;
    polycom_writer_retry_at = apr_time_now() + POLYCOM_WRITER_RETRY;
    if (!__atomic_load_n(&polycom_writer_unreachable, __ATOMIC_RELAXED)) {
        __atomic_store_n(&polycom_writer_unreachable, 1, __ATOMIC_RELAXED);
        ap_log_error(APLOG_MARK, APLOG_NOTICE, rv, s, PCLOGNO(00032)
                     "check-in writer %s (%s): this child writes its "
                     "check-ins itself until it is back", what,
                     polycom_writer_path);
    }
}

/* 0 when the writer has committed the rows. */
int polycom_writer_send(server_rec *s,
                        const polycom_checkin *const *list,
                        int count, apr_pool_t *pool)
{
    unsigned index = polycom_server_index(s);
    char reply[POLYCOM_WIRE_REPLY];
    apr_size_t length;
    apr_status_t rv;
    char *message;

    if (!polycom_writer_path || index == UINT_MAX) {
        return -1;
    }
    if (!polycom_writer_conn) {
        apr_sockaddr_t *address;

        if (apr_time_now() < polycom_writer_retry_at) {
            return -1;
        }
        apr_pool_create(&polycom_writer_conn_pool, NULL);
        apr_pool_tag(polycom_writer_conn_pool, "polycom_writer_conn");
        rv = apr_sockaddr_info_get(&address, polycom_writer_path, APR_UNIX,
                                   0, 0, polycom_writer_conn_pool);
        if (rv == APR_SUCCESS) {
            rv = apr_socket_create(&polycom_writer_conn, APR_UNIX,
                                   SOCK_STREAM, 0, polycom_writer_conn_pool);
        }
        if (rv == APR_SUCCESS) {
            apr_socket_timeout_set(polycom_writer_conn,
                                   POLYCOM_WRITER_REPLY_TIMEOUT);
            rv = apr_socket_connect(polycom_writer_conn, address);
        }
        if (rv != APR_SUCCESS) {
            polycom_writer_disconnect(s, rv, "not reachable");
            return -1;
        }
    }
    message = polycom_wire_encode(pool, index, list, count, &length);
    rv = polycom_writer_io(polycom_writer_conn, message, length, 1);
    if (rv == APR_SUCCESS) {
        rv = polycom_writer_io(polycom_writer_conn, reply, sizeof(reply), 0);
    }
    if (rv != APR_SUCCESS) {
        polycom_writer_disconnect(s, rv, "did not answer");
        return -1;
    }
    if (__atomic_load_n(&polycom_writer_unreachable, __ATOMIC_RELAXED)) {
        __atomic_store_n(&polycom_writer_unreachable, 0, __ATOMIC_RELAXED);
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, PCLOGNO(00033)
                     "check-in writer reachable again");
    }
    return memcmp(reply, POLYCOM_WIRE_OK, POLYCOM_WIRE_REPLY) ? -1 : 0;
}

/* The writer runs the retention and the WAL's checkpoints while this
 * child reaches it. A child that found it gone prunes in its resync worker
 * meanwhile (both at once only repeat a DELETE that finds nothing), and
 * its new SQLite connections checkpoint at SQLite's 1,000 pages; one that
 * never sent a batch since the writer went does not know, and leaves the
 * rounds and the checkpoints (up to 10,000 pages) to it. */
int polycom_writer_reached(void)
{
    return polycom_writer_path
           && !__atomic_load_n(&polycom_writer_unreachable, __ATOMIC_RELAXED);
}

static apr_status_t polycom_writer_unlink(void *path)
{
    apr_pool_t *pool;

    /* pconf is being cleared: a pool of its own for the call. */
    if (apr_pool_create(&pool, NULL) == APR_SUCCESS) {
        apr_file_remove(path, pool);
        apr_pool_destroy(pool);
    }
    return APR_SUCCESS;
}

static void polycom_writer_spawn(void);

/* No writer from now on in this generation: children that try to reach
 * it are refused at once instead of waiting for an answer. */
static void polycom_writer_close(void)
{
    if (polycom_writer_listener) {
        apr_socket_close(polycom_writer_listener);
        polycom_writer_listener = NULL;
    }
    if (polycom_writer_path) {
        polycom_writer_unlink((void *)polycom_writer_path);
        polycom_writer_path = NULL;
    }
}

/* A writer process, and whether it was reaped. */
typedef struct polycom_writer_process {
    apr_proc_t proc;
    int reaped;
    struct polycom_writer_process *next;
} polycom_writer_process;

/* What the parent keeps across restarts, in the process pool (this
 * module's memory is unloaded and loaded again at each): whether the next
 * writer may start from the newest moment (the one before left last_seen
 * up to date, or is finishing and will), and the writers of older
 * generations still writing their children's batches. */
typedef struct {
    int handed_over;
    polycom_writer_process *finishing;
} polycom_writer_retained;

/* Versioned: a module upgraded in place and reloaded must not read an
 * older build's layout. */
#define POLYCOM_WRITER_RETAINED_KEY "mod_polycom_writer_retained/1"

/* This generation's writer (NULL: none running). */
static polycom_writer_process *polycom_writer_current = NULL;

static polycom_writer_retained *polycom_writer_retained_get(server_rec *s)
{
    apr_pool_t *pool = s->process->pool;
    void *retained = NULL;

    apr_pool_userdata_get(&retained, POLYCOM_WRITER_RETAINED_KEY, pool);
    if (!retained) {
        retained = apr_pcalloc(pool, sizeof(polycom_writer_retained));
        apr_pool_userdata_set(retained, POLYCOM_WRITER_RETAINED_KEY,
                              apr_pool_cleanup_null, pool);
    }
    return retained;
}

static int polycom_writer_left_up_to_date(apr_exit_why_e why, int code)
{
    return why == APR_PROC_EXIT && code == POLYCOM_WRITER_EXIT_HANDED_OVER;
}

/* An older generation's writer exited: reaped here, by the MPM's wait.
 * When it did not leave last_seen up to date (it crashed or was killed
 * while finishing, or its flushes failed), the current writer, which
 * started from the newest moment on its word, is told to go over the
 * last 30 s after all (SIGUSR2). The status is the exit code when the
 * MPM's wait reaped it, the raw wait status otherwise: 0 is "exited 0"
 * either way. */
static void polycom_writer_finished(int reason, void *data,
                                   apr_wait_t status)
{
    polycom_writer_process *writer = data;

    if (reason != APR_OC_REASON_DEATH && reason != APR_OC_REASON_LOST) {
        return;
    }
    apr_proc_other_child_unregister(data);
    writer->reaped = 1;
    if ((reason == APR_OC_REASON_LOST || status != 0)
        && polycom_writer_current && !polycom_writer_current->reaped) {
        apr_proc_kill(&polycom_writer_current->proc, SIGUSR2);
    }
}

/* Each generation watches the older writers still finishing: the
 * registration goes with each generation's pconf. */
static void polycom_writer_watch_finishing(server_rec *s, apr_pool_t *pconf)
{
    polycom_writer_process *writer;

    for (writer = polycom_writer_retained_get(s)->finishing; writer;
         writer = writer->next) {
        if (!writer->reaped) {
            apr_proc_other_child_register(&writer->proc,
                                          polycom_writer_finished, writer,
                                          NULL, pconf);
        }
    }
}

/* pconf's cleanup (a restart, a stop): the writer is told with SIGTERM
 * to finish (mod_polycom_writer_run.c). At a restart it goes on writing
 * the old children's batches while the next generation starts; when
 * httpd stops, it is given POLYCOM_WRITER_STOP_WAIT, then killed. */
static apr_status_t polycom_writer_stop(void *data)
{
    polycom_writer_process *writer = data, *slot;
    polycom_writer_retained *retained =
        polycom_writer_retained_get(polycom_main_server);
    apr_time_t deadline = apr_time_now() + POLYCOM_WRITER_STOP_WAIT;
    apr_exit_why_e why = APR_PROC_SIGNAL;
    int code = 0;
    apr_status_t rv;

    if (writer == polycom_writer_current) {
        polycom_writer_current = NULL;  /* pconf's memory goes */
    }
    if (writer->reaped) {
        return APR_SUCCESS;
    }
    rv = apr_proc_wait(&writer->proc, &code, &why, APR_NOWAIT);
    if (rv == APR_CHILD_NOTDONE) {
        apr_proc_kill(&writer->proc, SIGTERM);
        if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_EXITING) {
            for (slot = retained->finishing; slot && !slot->reaped;
                 slot = slot->next) {
            }
            if (!slot) {
                slot = apr_pcalloc(polycom_main_server->process->pool,
                                   sizeof(*slot));
                slot->next = retained->finishing;
                retained->finishing = slot;
            }
            slot->proc = writer->proc;
            slot->reaped = 0;
            retained->handed_over = 1;
            return APR_SUCCESS;
        }
        while ((rv = apr_proc_wait(&writer->proc, &code, &why, APR_NOWAIT))
               == APR_CHILD_NOTDONE && apr_time_now() < deadline) {
            apr_sleep(apr_time_from_msec(10));
        }
        if (rv == APR_CHILD_NOTDONE) {
            apr_proc_kill(&writer->proc, SIGKILL);
            rv = apr_proc_wait(&writer->proc, &code, &why, APR_WAIT);
        }
    }
    if (rv == APR_CHILD_DONE) {
        writer->reaped = 1;
        retained->handed_over = polycom_writer_left_up_to_date(why, code);
    }
    return APR_SUCCESS;
}

void polycom_writer_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGHUP);
    sigaddset(set, AP_SIG_GRACEFUL);
    sigaddset(set, AP_SIG_GRACEFUL_STOP);
}

/* The parent learns here that its writer exited: another is started,
 * unless this one did not live long enough to be worth it. */
static void polycom_writer_maintenance(int reason, void *data,
                                       apr_wait_t status)
{
    polycom_writer_process *writer = data;
    int mpm_state = AP_MPMQ_RUNNING;

    switch (reason) {
    case APR_OC_REASON_DEATH:
    case APR_OC_REASON_LOST:
        apr_proc_other_child_unregister(data);
        writer->reaped = 1;
        /* The exit code when the MPM's wait reaped it, the raw wait
         * status otherwise: 0 is "exited 0" either way. */
        polycom_writer_retained_get(polycom_main_server)->handed_over =
            reason == APR_OC_REASON_DEATH
            && status == POLYCOM_WRITER_EXIT_HANDED_OVER;
        /* httpd stopping signals its whole process group: nothing to say */
        ap_mpm_query(AP_MPMQ_MPM_STATE, &mpm_state);
        if (mpm_state == AP_MPMQ_STOPPING) {
            break;
        }
        if (apr_time_now() - polycom_writer_started
            < POLYCOM_WRITER_MIN_LIFE) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, polycom_main_server,
                         PCLOGNO(00045) "check-in writer (pid %"
                         APR_PID_T_FMT ") exited soon after its start "
                         "(status %d): not started again; the children "
                         "write their check-ins until httpd restarts",
                         writer->proc.pid, status);
            polycom_writer_close();
            break;
        }
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, polycom_main_server,
                     PCLOGNO(00034) "check-in writer (pid %" APR_PID_T_FMT
                     ") exited (status %d): starting another",
                     writer->proc.pid, status);
        polycom_writer_spawn();
        break;
    default:
        break;          /* a restart: pconf's cleanup stops it */
    }
}

static void polycom_writer_spawn(void)
{
    polycom_writer_process *writer =
        apr_pcalloc(polycom_writer_pconf, sizeof(*writer));
    polycom_writer_retained *retained =
        polycom_writer_retained_get(polycom_main_server);
    int handed_over = retained->handed_over;
    sigset_t signals, before;
    apr_status_t rv;

    /* Said once: a writer after this one that finds it gone without
     * a word goes over the last moments again. */
    retained->handed_over = 0;
    /* Held until the writer has its handlers (polycom_writer_run): sent
     * sooner, one would be lost, and a writer never told to finish
     * would never leave (or, for the MPM's restart signals, one would
     * kill it). */
    polycom_writer_signals(&signals);
    pthread_sigmask(SIG_BLOCK, &signals, &before);
    rv = apr_proc_fork(&writer->proc, polycom_writer_pconf);
    if (rv != APR_INCHILD) {
        pthread_sigmask(SIG_SETMASK, &before, NULL);
    }
    if (rv == APR_INCHILD) {
        polycom_gate_child_init(polycom_writer_pconf, polycom_main_server);
        polycom_writer_run(polycom_main_server, polycom_writer_pconf,
                           polycom_writer_listener, polycom_dbd_child_init,
                           handed_over);
        _exit(POLYCOM_WRITER_EXIT_BEHIND);
    }
    if (rv != APR_INPARENT) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, polycom_main_server,
                     PCLOGNO(00046) "cannot start the check-in writer: the "
                     "children write their check-ins");
        polycom_writer_close();
        return;
    }
    polycom_writer_started = apr_time_now();
    polycom_writer_current = writer;
    apr_pool_cleanup_register(polycom_writer_pconf, writer,
                              polycom_writer_stop, apr_pool_cleanup_null);
    apr_proc_other_child_register(&writer->proc, polycom_writer_maintenance,
                                  writer, NULL, polycom_writer_pconf);
}

/* A parent started as root hands the socket to the children's user: a
 * directory on its way that this user cannot search (a checkout under a
 * 0700 home, a DefaultRuntimeDir of mode 0700) would refuse every child's
 * connection. Said here, once, instead of once per child at its first
 * check-in. NULL when the children reach the socket. */
static const char *polycom_writer_blocked(apr_pool_t *pool, const char *path)
{
    const char *slash = strrchr(path, '/');
    gid_t groups[NGROUPS_MAX];
    int ngroups = NGROUPS_MAX;

    if (geteuid() != 0 || !slash) {
        return NULL;                    /* the children are this very user */
    }
    if (getgrouplist(ap_unixd_config.user_name, ap_unixd_config.group_id,
                     groups, &ngroups) < 0) {
        ngroups = 0;                    /* the primary group is checked */
    }
    return polycom_reach_blocked(pool,
                                 slash == path ? "/"
                                     : apr_pstrmemdup(pool, path,
                                                      (apr_size_t)(slash
                                                                   - path)),
                                 ap_unixd_config.user_id,
                                 ap_unixd_config.group_id, groups, ngroups);
}

/* In the parent, once per generation: the socket (made here, as root, then
 * given to the children's user) and the process. */
void polycom_writer_start(apr_pool_t *pconf, server_rec *s, int wanted)
{
    apr_array_header_t *hooks = ap_hook_get_child_init();
    ap_LINK_child_init_t *hook = (ap_LINK_child_init_t *)hooks->elts;
    apr_sockaddr_t *address;
    const char *path, *blocked;
    apr_status_t rv;
    int i;

    /* Children of this generation look for a writer only if one starts. */
    polycom_writer_path = NULL;
    polycom_dbd_child_init = NULL;
    polycom_writer_current = NULL;
    polycom_writer_watch_finishing(s, pconf);
    if (!wanted) {
        return;
    }
    for (i = 0; i < hooks->nelts; i++) {
        if (!strcmp(hook[i].szName, "mod_dbd.c")) {
            polycom_dbd_child_init = hook[i].pFunc;
        }
    }
    if (!polycom_dbd_child_init) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00047)
                     "no check-in writer: mod_dbd's child set-up was not "
                     "found; the children write their check-ins");
        return;
    }
    path = ap_runtime_dir_relative(pconf,
               apr_psprintf(pconf, "polycom-checkins.%" APR_PID_T_FMT
                            ".%d.sock", getpid(),
                            ap_state_query(AP_SQ_CONFIG_GEN)));
    blocked = polycom_writer_blocked(pconf, path);
    if (blocked) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCLOGNO(00150)
                     "no check-in writer: its socket %s is out of reach of "
                     "the children's user %s (it cannot search %s); the "
                     "children write their check-ins. Set DefaultRuntimeDir "
                     "to a directory that user can reach", path,
                     ap_unixd_config.user_name, blocked);
        return;
    }
    apr_file_remove(path, pconf);
    rv = apr_sockaddr_info_get(&address, path, APR_UNIX, 0, 0, pconf);
    if (rv == APR_SUCCESS) {
        rv = apr_socket_create(&polycom_writer_listener, APR_UNIX,
                               SOCK_STREAM, 0, pconf);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_socket_bind(polycom_writer_listener, address);
    }
    if (rv == APR_SUCCESS) {
        apr_pool_cleanup_register(pconf, path, polycom_writer_unlink,
                                  apr_pool_cleanup_null);
        rv = apr_socket_listen(polycom_writer_listener, 511);
    }
    if (rv == APR_SUCCESS && geteuid() == 0
        && (chown(path, ap_unixd_config.user_id, ap_unixd_config.group_id)
            || chmod(path, S_IRUSR | S_IWUSR))) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00048)
                     "no check-in writer: cannot listen on %s; the children "
                     "write their check-ins", path);
        return;
    }
    polycom_writer_path = path;
    polycom_writer_pconf = pconf;
    polycom_main_server = s;
    polycom_writer_spawn();
}

