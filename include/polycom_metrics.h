/**
 * @file polycom_metrics.h
 * @brief Counters shared by every child of a server, rendered in the
 *        Prometheus text format (pure C: APR only).
 *
 * The structure lives in shared memory made before the children fork; it
 * is only ever changed with atomic operations, so no lock is needed.
 * Counters start from zero when httpd starts or restarts.
 */
#ifndef POLYCOM_METRICS_H
#define POLYCOM_METRICS_H

#include <apr_pools.h>
#include <apr_time.h>

#include "polycom_name.h"

#define POLYCOM_METRICS_KINDS    (POLYCOM_FILE_DEVICE + 1)
#define POLYCOM_METRICS_STATUSES 14
#define POLYCOM_METRICS_BUCKETS  11
#define POLYCOM_METRICS_OUTAGES  64
#define POLYCOM_GUARD_SLOTS      1024

/* Unknown-MAC requests of one source address (by a hash of it). */
typedef struct {
    apr_uint32_t address;          /* hash of the address; 0: free */
    apr_uint32_t count;            /* unknown MACs in the current window */
    apr_uint64_t window_start;     /* apr_time_t */
    apr_uint64_t blocked_until;    /* apr_time_t; 0: not blocked */
} polycom_guard_slot;

typedef struct {
    apr_uint32_t requests[POLYCOM_METRICS_KINDS][POLYCOM_METRICS_STATUSES];
    apr_uint32_t unknown_mac;
    apr_uint32_t checkin_failures;
    apr_uint32_t db_errors;
    apr_uint64_t upload_bytes;
    apr_uint32_t generation_buckets[POLYCOM_METRICS_BUCKETS];
    apr_uint64_t generation_usec;
    apr_uint32_t generation_count;
    /** Database outages, one flag per server (by a hash of its key), so
     *  that an outage is logged once, not once per request or child. */
    apr_uint32_t db_down[POLYCOM_METRICS_OUTAGES];
    /** When each came back (apr_time_t), to tell a connection left over
     *  from the outage from a new outage. */
    apr_uint64_t db_up_at[POLYCOM_METRICS_OUTAGES];
    /** Which server each outage slot belongs to (its key; 0: free). */
    apr_uint64_t db_key[POLYCOM_METRICS_OUTAGES];
    apr_uint32_t enumeration_blocks;
    /** Masters and configurations served from a child's cache, and
     *  rendered because the cache did not hold them (PolycomCacheSize). */
    apr_uint32_t cache_hits;
    apr_uint32_t cache_misses;
    /** Check-ins committed by the node's check-in writer process. */
    apr_uint32_t writer_rows;
    polycom_guard_slot guard[POLYCOM_GUARD_SLOTS];
} polycom_metrics;

/** Set every counter to zero. */
void polycom_metrics_init(polycom_metrics *m);

void polycom_metrics_request(polycom_metrics *m, polycom_file_kind kind,
                             int status);
void polycom_metrics_unknown_mac(polycom_metrics *m);
void polycom_metrics_checkin_failure(polycom_metrics *m);
void polycom_metrics_db_error(polycom_metrics *m);
void polycom_metrics_upload_bytes(polycom_metrics *m, apr_off_t bytes);
void polycom_metrics_generation(polycom_metrics *m,
                                apr_interval_time_t elapsed);
void polycom_metrics_cache(polycom_metrics *m, int hit);
void polycom_metrics_writer_rows(polycom_metrics *m, int rows);

/** Mark the database of server @a key down; returns 1 for the call that
 *  changed it (the one that should log), 0 when it was down already. */
int polycom_metrics_db_down(polycom_metrics *m, apr_uintptr_t key);

/** Microseconds since the database of @a key last came back (or a large
 *  number when it never went away). */
apr_interval_time_t polycom_metrics_db_up_for(polycom_metrics *m,
                                              apr_uintptr_t key);

/** Non-zero while the database of server @a key is marked down. */
int polycom_metrics_db_is_down(polycom_metrics *m, apr_uintptr_t key);

/** Mark it up again; returns 1 when it was down (log the recovery). */
int polycom_metrics_db_up(polycom_metrics *m, apr_uintptr_t key);

/** Seconds the address is still blocked for, 0 when it is not. */
apr_interval_time_t polycom_guard_blocked(polycom_metrics *m,
                                          const char *address,
                                          apr_time_t now);

/** Count one unknown-MAC request of @a address; past @a limit within
 *  @a window it is blocked for @a cooldown. Returns 1 when this request
 *  started a block. Approximate under races (counts are atomic, a window's
 *  reset is not), which only ever delays a block by a request or two. */
int polycom_guard_unknown(polycom_metrics *m, const char *address,
                          apr_time_t now, int limit,
                          apr_interval_time_t window,
                          apr_interval_time_t cooldown);

/** The Prometheus text exposition of @a m. */
const char *polycom_metrics_render(apr_pool_t *pool,
                                   const polycom_metrics *m);

#endif /* POLYCOM_METRICS_H */
