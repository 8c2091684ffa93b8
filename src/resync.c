/* The resync queue: pacing on the way in, one job at a time on the way out. */

#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "polycom_resync.h"
#include "polycom_sip.h"

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

/* A phone nothing can address: a failed job says why, so its resyncs in
 * the API show it as well as the answer to the bulk request. */
static int resync_unaddressed(polycom_db *db, const char *mac, int reboot,
                              const char *admin, apr_time_t now,
                              const char *reason, const char **why)
{
    *why = reason;
    if (polycom_store_exec(db, POLYCOM_SQL_RESYNC_UNADDRESSED, NULL, mac,
                           reboot ? "1" : "0", resync_time(db->pool, now),
                           resync_time(db->pool, now), admin, reason,
                           resync_time(db->pool, now), NULL) < 0) {
        return -1;
    }
    return -2;
}

/* The phone's own reg.1.address, "" when none; NULL on a database error. */
static const char *resync_line(polycom_db *db, const char *mac)
{
    apr_array_header_t *rows;
    int i;

    if (polycom_store_select(db, POLYCOM_SQL_RESYNC_CREDS, &rows, mac,
                             NULL) < 0) {
        return NULL;
    }
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *r = APR_ARRAY_IDX(rows, i, const polycom_row *);

        if (!strcmp(polycom_row_get(r, "name"), "reg.1.address")) {
            return polycom_row_get(r, "value");
        }
    }
    return "";
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
    else if (pacing->via_registrar) {   /* the registrar may know it */
        host = "";
        port = 0;
    }
    else {
        return resync_unaddressed(db, mac, reboot, admin, now,
                                  "the phone has never checked in and has no "
                                  "sip_address (and no PolycomResyncProxy or "
                                  "PolycomResyncRegistrar to ask)", why);
    }
    if (*host && (port < 1 || port > 65535)) {
        return resync_unaddressed(db, mac, reboot, admin, now,
                                  "the phone's SIP address or port is not "
                                  "valid", why);
    }
    if (!*host) {
        const char *line;

        if ((line = resync_line(db, mac)) == NULL) {
            return -1;
        }
        if (!*line) {
            return resync_unaddressed(db, mac, reboot, admin, now,
                                      "the phone has never checked in, has "
                                      "no sip_address, and no line "
                                      "(reg.1.address) to ask the registrar "
                                      "about", why);
        }
    }
    network = *host ? resync_network(db->pool, host) : "registrar";
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
    job->line_domain = "";
    job->registrar_first = !*polycom_row_get(due, "sip_address");
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
        const char *at = strchr(address, '@');

        job->target.user = apr_pstrndup(db->pool, address,
                                        strcspn(address, "@"));
        job->line_domain = at ? at + 1 : "";
        if (!job->target.auth_user) {
            job->target.auth_user = job->target.user;
        }
    }
    return 1;
}

int polycom_resync_wants_lookup(const polycom_resync_job *job,
                                const polycom_resync_route *route)
{
    return route->registrar && job->registrar_first && *job->target.user;
}

const char *polycom_resync_domain(const polycom_resync_job *job,
                                  const polycom_resync_route *route)
{
    return *job->line_domain ? job->line_domain
           : route->domain ? route->domain
           : route->proxy_host ? route->proxy_host : "";
}

int polycom_resync_route_job(apr_pool_t *pool, polycom_resync_job *job,
                             const polycom_resync_route *route, int lookup,
                             const char *contact, const char *received,
                             const char **why)
{
    polycom_notify_target *t = &job->target;
    int via_registrar = job->registrar_first && *t->user
                        && (route->proxy_host || route->registrar);
    polycom_sip_contact c, r;

    job->route = NULL;
    if (via_registrar && route->registrar && lookup == 0) {
        /* Not registered: the last check-in's address may still answer. */
        if (*t->host) {
            job->route = "not registered at the registrar: sent to the "
                         "address of its last check-in";
            return 0;
        }
        *why = "not registered at the registrar, and never checked in";
        return -1;
    }
    if (via_registrar && route->proxy_host) {
        /* The proxy follows its own registration: the Contact, through
         * the NAT binding or TCP connection the phone registered over. */
        t->request_uri = apr_psprintf(pool, "sip:%s@%s", t->user,
                                      polycom_resync_domain(job, route));
        t->host = route->proxy_host;
        t->port = route->proxy_port;
        t->transport = route->proxy_transport;
        job->route = apr_psprintf(pool, "through the proxy %s:%d/%s to %s",
                                  t->host, t->port,
                                  polycom_sip_transport_name(t->transport),
                                  t->request_uri);
        return 0;
    }
    if (via_registrar && lookup == 1
        && polycom_sip_contact_parse(pool, contact, &c) == 0) {
        /* No proxy: straight to where the registration came from (the NAT
         * binding), else to the Contact itself, over its transport. */
        if (*received && polycom_sip_contact_parse(pool, received, &r) == 0) {
            c.host = r.host;
            c.port = r.port;
        }
        t->request_uri = c.uri;
        t->host = c.host;
        t->port = c.port;
        t->transport = c.transport;
        job->route = apr_psprintf(pool, "to the registered contact %s via "
                                  "%s:%d/%s", c.uri, t->host, t->port,
                                  polycom_sip_transport_name(t->transport));
        return 0;
    }
    if (via_registrar && lookup == 1) {
        *why = apr_psprintf(pool, "the registrar's contact \"%s\" is not a "
                            "SIP address", contact);
        if (!*t->host) {
            return -1;
        }
    }
    if (!*t->host) {
        *why = "no address: not found at the registrar, and never checked in";
        return -1;
    }
    return 0;
}

int polycom_resync_finish(polycom_db *db, const polycom_resync_job *job,
                          const polycom_notify_outcome *outcome)
{
    const char *reason = outcome->reason ? outcome->reason : "";

    if (job->route) {
        reason = apr_psprintf(db->pool, "%s (%s)", reason, job->route);
    }
    return polycom_store_exec(db, POLYCOM_SQL_RESYNC_FINISH, NULL,
                              outcome->status >= 200 && outcome->status < 300
                              ? "done" : "failed",
                              apr_itoa(db->pool, outcome->status),
                              reason,
                              apr_itoa(db->pool, outcome->transmissions),
                              outcome->challenged ? "1" : "0",
                              resync_time(db->pool, apr_time_now()), job->id,
                              NULL);
}
