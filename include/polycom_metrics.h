/**
 * @file polycom_metrics.h
 * @brief Counters shared by every child of a server, rendered in the
 *        Prometheus text format (pure C: APR only).
 *
 * The structure lives in shared memory made before the children fork; it
 * is only ever changed with atomic operations, so no lock is needed.
 * Counters start from zero when httpd starts or restarts. The same segment
 * holds the enumeration guard (polycom_guard.h) and the database outage
 * flags (polycom_outage.h), which every child must see alike too.
 */
#ifndef POLYCOM_METRICS_H
#define POLYCOM_METRICS_H

#include <apr_pools.h>
#include <apr_time.h>

#include "polycom_guard.h"
#include "polycom_name.h"
#include "polycom_outage.h"

#define POLYCOM_METRICS_KINDS    (POLYCOM_FILE_DEVICE + 1)
#define POLYCOM_METRICS_STATUSES 14
#define POLYCOM_METRICS_BUCKETS  11

/** Why an upload was refused (polycom_upload_refused_total{reason}). */
typedef enum {
    POLYCOM_REFUSED_UNKNOWN = 0,    /* no such phone in the database     */
    POLYCOM_REFUSED_DISABLED,       /* a phone switched off              */
    POLYCOM_REFUSED_QUOTA,          /* over PolycomUploadQuota           */
    POLYCOM_REFUSED_REASONS
} polycom_refusal;

/** What /admin/metrics reports. Every counter is 64 bits wide: a busy
 *  server passes 2^32 requests within months, and a counter that wraps
 *  reads to Prometheus as a reset. */
typedef struct {
    apr_uint64_t requests[POLYCOM_METRICS_KINDS][POLYCOM_METRICS_STATUSES];
    apr_uint64_t unknown_mac;
    apr_uint64_t checkin_failures;
    apr_uint64_t db_errors;
    apr_uint64_t upload_bytes;
    apr_uint64_t generation_buckets[POLYCOM_METRICS_BUCKETS];
    apr_uint64_t generation_usec;
    apr_uint64_t generation_count;
    apr_uint64_t enumeration_blocks;
    /** Masters and configurations served from a child's cache, and
     *  rendered because the cache did not hold them (PolycomCacheSize). */
    apr_uint64_t cache_hits;
    apr_uint64_t cache_misses;
    /** Of the misses, settings whose phone's own part came from the
     *  shared cache instead of the database (PolycomSharedCache). */
    apr_uint64_t cache_phone_kept;
    /** Check-ins committed by the node's check-in writer process. */
    apr_uint64_t writer_rows;
    /** Uploads refused, by reason. */
    apr_uint64_t upload_refused[POLYCOM_REFUSED_REASONS];
} polycom_counters;

/** The shared segment: the counters, the outage flags and the guard. */
typedef struct polycom_metrics {
    polycom_counters counters;
    polycom_outage outage;
    polycom_guard guard;
} polycom_metrics;

/** Set every counter, flag and guard slot to zero. */
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
void polycom_metrics_cache_phone_kept(polycom_metrics *m);
void polycom_metrics_writer_rows(polycom_metrics *m, int rows);
/** An upload refused for @a reason. */
void polycom_metrics_upload_refused(polycom_metrics *m,
                                    polycom_refusal reason);
/** A source address blocked by the enumeration guard. */
void polycom_metrics_enumeration_block(polycom_metrics *m);

/** The Prometheus text exposition of @a m. */
const char *polycom_metrics_render(apr_pool_t *pool,
                                   const polycom_metrics *m);

#endif /* POLYCOM_METRICS_H */
