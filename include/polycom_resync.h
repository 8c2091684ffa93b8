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

/**
 * Claim and send one due job, if any, and record its outcome. *worked is
 * set when a job was sent. @a node names this server in the claim.
 */
int polycom_resync_work_one(polycom_db *db, const char *node, apr_time_t now,
                            apr_interval_time_t t1, apr_interval_time_t t2,
                            int *worked);

#endif /* POLYCOM_RESYNC_H */
