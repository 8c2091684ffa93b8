/**
 * @file polycom_resync.h
 * @brief The resync queue: paced enqueueing of SIP NOTIFY check-sync jobs
 *        and the work of one job (pure C over store.c and notify.c).
 */
#ifndef POLYCOM_RESYNC_H
#define POLYCOM_RESYNC_H

#include "polycom_store.h"

typedef struct {
    int per_minute;             /* NOTIFYs per minute, overall */
    int per_network;            /* NOTIFYs per minute per /24 (or host) */
    /** A registrar can address phones by their line (PolycomResyncProxy
     *  or PolycomResyncRegistrar): a phone never seen can still be
     *  queued when it has one. */
    int via_registrar;
} polycom_resync_pacing;

/**
 * Queue a resync of @a mac at the earliest slot the pacing allows after
 * the jobs already queued. Returns 0 and sets *when; -1 on a database
 * error; -2 with *why when the phone is unknown or there is no way to
 * address it: a known phone then gets a failed job saying why, so that its
 * resyncs show it (never skipped silently).
 */
int polycom_resync_enqueue(polycom_db *db, const char *mac, int reboot,
                           const char *admin, apr_time_t now,
                           const polycom_resync_pacing *pacing,
                           apr_time_t *when, const char **why);

#include "polycom_notify.h"

/** A claimed job: where to send, with what credentials. */
typedef struct {
    const char *id;
    const char *mac;
    polycom_notify_target target;   /* the direct address; host may be "" */
    /** No sip_address set by the admin: the registrar, when there is one,
     *  knows better than the last check-in where the phone is. */
    int registrar_first;
    const char *line_domain;        /* reg.1.address after its '@', or "" */
    const char *route;              /* how it went, when not direct */
} polycom_resync_job;

/** The site's SIP registrar, as PolycomResyncProxy and
 *  PolycomResyncRegistrar describe it. */
typedef struct {
    const char *proxy_host;         /* NULL: no outbound proxy */
    int proxy_port;
    int proxy_transport;            /* POLYCOM_SIP_* */
    const char *domain;             /* of AORs without one; NULL: the host */
    int registrar;                  /* a registration table is queried */
} polycom_resync_route;

/** Whether the worker should ask the registration table for @a job (it
 *  then passes the answer to polycom_resync_route_job). */
int polycom_resync_wants_lookup(const polycom_resync_job *job,
                                const polycom_resync_route *route);

/** The AOR's domain for @a job: its line's, else the route's. */
const char *polycom_resync_domain(const polycom_resync_job *job,
                                  const polycom_resync_route *route);

/**
 * Decide where @a job goes and fill job->target and job->route: through
 * the proxy to the line's AOR, straight to the registered Contact (or the
 * address the registration came from), or to the direct address. @a lookup
 * is the registration table's answer (1 found, 0 not registered, -1 not
 * asked or failed). Returns 0 to send, -1 with *why when nothing can reach
 * the phone.
 */
int polycom_resync_route_job(apr_pool_t *pool, polycom_resync_job *job,
                             const polycom_resync_route *route, int lookup,
                             const char *contact, const char *received,
                             const char **why);

/**
 * Claim one due job, if any: returns 1 with *job filled (strings in
 * db->pool), 0 when nothing is due or another node won it, -1 on a
 * database error. @a node names this server in the claim. Sending happens
 * without the database (polycom_notify_send), then polycom_resync_finish.
 */
int polycom_resync_claim(polycom_db *db, const char *node, apr_time_t now,
                         polycom_resync_job *job);

/** Record a job's outcome. */
int polycom_resync_finish(polycom_db *db, const polycom_resync_job *job,
                          const polycom_notify_outcome *outcome);

#endif /* POLYCOM_RESYNC_H */
