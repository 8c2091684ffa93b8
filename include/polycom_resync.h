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
} polycom_resync_pacing;

/**
 * Queue a resync of @a mac at the earliest slot the pacing allows after
 * the jobs already queued. Returns 0 and sets *when; -1 on a database
 * error; -2 with *why when the phone has no SIP address to send to.
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
    polycom_notify_target target;
} polycom_resync_job;

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
