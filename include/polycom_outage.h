/**
 * @file polycom_outage.h
 * @brief Database outage flags, one per server, shared by all children so
 *        that an outage and its end are logged once (pure C: APR only).
 *
 * The flags live in the shared memory of the metrics (polycom_metrics.h)
 * and are only ever changed with atomic operations.
 */
#ifndef POLYCOM_OUTAGE_H
#define POLYCOM_OUTAGE_H

#include <apr.h>
#include <apr_time.h>

#define POLYCOM_OUTAGE_SLOTS 64

typedef struct {
    /** One flag per server (by a hash of its key): its database is down. */
    apr_uint32_t down[POLYCOM_OUTAGE_SLOTS];
    /** When each came back (apr_time_t), to tell a connection left over
     *  from the outage from a new outage. */
    apr_uint64_t up_at[POLYCOM_OUTAGE_SLOTS];
    /** Which server each slot belongs to (its key; 0: free). */
    apr_uint64_t key[POLYCOM_OUTAGE_SLOTS];
} polycom_outage;

/* The shared segment that holds the flags (polycom_metrics.h). */
struct polycom_metrics;

/** Mark the database of server @a key down; returns 1 for the call that
 *  changed it (the one that should log), 0 when it was down already. */
int polycom_metrics_db_down(struct polycom_metrics *m, apr_uintptr_t key);

/** Microseconds since the database of @a key last came back (or a large
 *  number when it never went away). */
apr_interval_time_t polycom_metrics_db_up_for(struct polycom_metrics *m,
                                              apr_uintptr_t key);

/** Non-zero while the database of server @a key is marked down. */
int polycom_metrics_db_is_down(struct polycom_metrics *m, apr_uintptr_t key);

/** Mark it up again; returns 1 when it was down (log the recovery). */
int polycom_metrics_db_up(struct polycom_metrics *m, apr_uintptr_t key);

#endif /* POLYCOM_OUTAGE_H */
