/* The resync queue: pacing on the way in, one job at a time on the way out. */

#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "polycom_resync.h"

#define RESYNC_DEFAULT_PORT 5060
/* A job claimed this long ago by a node that never finished it (stopped
 * mid-send) may be claimed again. */
#define RESYNC_RECLAIM apr_time_from_sec(300)

static const char *resync_time(apr_pool_t *pool, apr_time_t t)
{
    return apr_psprintf(pool, "%" APR_TIME_T_FMT, t);
}

/* "a.b.c" for an IPv4 address (its /24), else the host itself: phones
 * behind one NAT or in one office subnet share it. */
static const char *resync_network(apr_pool_t *pool, const char *host)
{
    const char *dot = strrchr(host, '.');
    int dots = 0;
    const char *p;

    for (p = host; *p; p++) {
        if (*p == '.') {
            dots++;
        }
        else if (!apr_isdigit(*p)) {
            return host;
        }
    }
    return dots == 3 ? apr_pstrmemdup(pool, host, (apr_size_t)(dot - host))
                     : host;
}

static apr_time_t resync_latest(polycom_db *db, const char *label,
                                const char *network, int *failed)
{
    apr_array_header_t *rows;

    if ((network ? polycom_store_select(db, label, &rows, network, NULL)
                 : polycom_store_select(db, label, &rows, NULL)) < 0) {
        *failed = 1;
        return 0;
    }
    return rows->nelts ? apr_atoi64(polycom_rows_first(rows, "last_us")) : 0;
}

int polycom_resync_enqueue(polycom_db *db, const char *mac, int reboot,
                           const char *admin, apr_time_t now,
                           const polycom_resync_pacing *pacing,
                           apr_time_t *when, const char **why)
{
    apr_array_header_t *rows;
    const polycom_row *r;
    const char *sip_address, *last_ip, *sip_port, *host, *colon, *network;
    apr_time_t slot = now, last;
    int port = RESYNC_DEFAULT_PORT, failed = 0;

    if (polycom_store_select(db, POLYCOM_SQL_RESYNC_TARGET, &rows, mac,
                             NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        *why = "no such phone";
        return -2;
    }
    r = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    sip_address = polycom_row_get(r, "sip_address");
    last_ip = polycom_row_get(r, "last_ip");
    sip_port = polycom_row_get(r, "sip_port");
    if (*sip_address) {                 /* a configured SIP address */
        colon = strrchr(sip_address, ':');
        host = colon ? apr_pstrmemdup(db->pool, sip_address,
                                      (apr_size_t)(colon - sip_address))
                     : sip_address;
        if (colon) {
            port = atoi(colon + 1);
        }
    }
    else if (*last_ip) {                /* where it last checked in from */
        host = last_ip;
        if (*sip_port) {
            port = atoi(sip_port);
        }
    }
    else {
        *why = "the phone has never checked in and has no sip_address";
        return -2;
    }
    if (port < 1 || port > 65535 || !*host) {
        *why = "the phone's SIP address or port is not valid";
        return -2;
    }
    network = resync_network(db->pool, host);
    last = resync_latest(db, POLYCOM_SQL_RESYNC_LAST_ALL, NULL, &failed);
    if (last && pacing->per_minute > 0
        && last + apr_time_from_sec(60) / pacing->per_minute > slot) {
        slot = last + apr_time_from_sec(60) / pacing->per_minute;
    }
    last = resync_latest(db, POLYCOM_SQL_RESYNC_LAST_NET, network, &failed);
    if (last && pacing->per_network > 0
        && last + apr_time_from_sec(60) / pacing->per_network > slot) {
        slot = last + apr_time_from_sec(60) / pacing->per_network;
    }
    if (failed
        || polycom_store_exec(db, POLYCOM_SQL_RESYNC_INSERT, NULL, mac,
                              reboot ? "1" : "0", host,
                              apr_itoa(db->pool, port), network,
                              resync_time(db->pool, slot),
                              resync_time(db->pool, now), admin, NULL) < 0) {
        return -1;
    }
    *when = slot;
    return 0;
}

int polycom_resync_claim(polycom_db *db, const char *node, apr_time_t now,
                         polycom_resync_job *job)
{
    apr_array_header_t *rows;
    const polycom_row *due;
    const char *address = NULL;
    const char *reclaim = resync_time(db->pool, now - RESYNC_RECLAIM);
    int claimed = 0, i;

    memset(job, 0, sizeof(*job));
    if (polycom_store_select(db, POLYCOM_SQL_RESYNC_DUE, &rows,
                             resync_time(db->pool, now), reclaim, NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        return 0;
    }
    due = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    /* Only the node whose UPDATE changes the row sends: one NOTIFY per job
     * even when several nodes share the queue. */
    if (polycom_store_exec(db, POLYCOM_SQL_RESYNC_CLAIM, &claimed, node,
                           resync_time(db->pool, now),
                           polycom_row_get(due, "id"), reclaim,
                           NULL) < 0) {
        return -1;
    }
    if (claimed != 1) {
        return 0;
    }
    job->id = polycom_row_get(due, "id");
    job->mac = polycom_row_get(due, "mac");
    job->target.host = polycom_row_get(due, "host");
    job->target.port = atoi(polycom_row_get(due, "port"));
    job->target.reboot = !strcmp(polycom_row_get(due, "reboot"), "1");
    job->target.user = "";
    if (polycom_store_select(db, POLYCOM_SQL_RESYNC_CREDS, &rows, job->mac,
                             NULL) < 0) {
        return -1;
    }
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *r = APR_ARRAY_IDX(rows, i, const polycom_row *);
        const char *name = polycom_row_get(r, "name");
        const char *value = polycom_row_get(r, "value");

        if (!strcmp(name, "reg.1.address")) {
            address = value;
        }
        else if (!strcmp(name, "reg.1.auth.userId")) {
            job->target.auth_user = value;
        }
        else if (!strcmp(name, "reg.1.auth.password")) {
            job->target.auth_password = value;
        }
    }
    if (address) {
        job->target.user = apr_pstrndup(db->pool, address,
                                        strcspn(address, "@"));
        if (!job->target.auth_user) {
            job->target.auth_user = job->target.user;
        }
    }
    return 1;
}

int polycom_resync_finish(polycom_db *db, const polycom_resync_job *job,
                          const polycom_notify_outcome *outcome)
{
    return polycom_store_exec(db, POLYCOM_SQL_RESYNC_FINISH, NULL,
                              outcome->status >= 200 && outcome->status < 300
                              ? "done" : "failed",
                              apr_itoa(db->pool, outcome->status),
                              outcome->reason ? outcome->reason : "",
                              apr_itoa(db->pool, outcome->transmissions),
                              outcome->challenged ? "1" : "0",
                              resync_time(db->pool, apr_time_now()), job->id,
                              NULL);
}
