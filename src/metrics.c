/* Shared counters and their Prometheus text exposition. */

#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "polycom_metrics.h"

/* The statuses counted one by one; anything else is "other". */
static const int metrics_statuses[POLYCOM_METRICS_STATUSES - 1] = {
    200, 201, 204, 304, 400, 401, 403, 404, 405, 413, 429, 500, 503
};

/* Upper bounds of the generation-time buckets, in microseconds; the last
 * bucket is +Inf. */
static const apr_interval_time_t metrics_bounds[POLYCOM_METRICS_BUCKETS - 1] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000
};
static const char *const metrics_bound_labels[POLYCOM_METRICS_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "1", "+Inf"
};

void polycom_metrics_init(polycom_metrics *m)
{
    memset(m, 0, sizeof(*m));
}

void polycom_metrics_request(polycom_metrics *m, polycom_file_kind kind,
                             int status)
{
    int slot;

    if (kind < 0 || kind >= POLYCOM_METRICS_KINDS) {
        kind = POLYCOM_FILE_NONE;
    }
    for (slot = 0; slot < POLYCOM_METRICS_STATUSES - 1; slot++) {
        if (metrics_statuses[slot] == status) {
            break;
        }
    }
    apr_atomic_inc64(&m->counters.requests[kind][slot]);
}

void polycom_metrics_unknown_mac(polycom_metrics *m)
{
    apr_atomic_inc64(&m->counters.unknown_mac);
}

void polycom_metrics_checkin_failure(polycom_metrics *m)
{
    apr_atomic_inc64(&m->counters.checkin_failures);
}

void polycom_metrics_writer_rows(polycom_metrics *m, int rows)
{
    apr_atomic_add64(&m->counters.writer_rows, (apr_uint64_t)rows);
}

void polycom_metrics_cache(polycom_metrics *m, int hit)
{
    apr_atomic_inc64(hit ? &m->counters.cache_hits
                         : &m->counters.cache_misses);
}

void polycom_metrics_cache_phone_kept(polycom_metrics *m)
{
    apr_atomic_inc64(&m->counters.cache_phone_kept);
}

void polycom_metrics_enumeration_block(polycom_metrics *m)
{
    apr_atomic_inc64(&m->counters.enumeration_blocks);
}

void polycom_metrics_db_error(polycom_metrics *m)
{
    apr_atomic_inc64(&m->counters.db_errors);
}

void polycom_metrics_upload_refused(polycom_metrics *m,
                                    polycom_refusal reason)
{
    if (reason < 0 || reason >= POLYCOM_REFUSED_REASONS) {
        return;
    }
    apr_atomic_inc64(&m->counters.upload_refused[reason]);
}

void polycom_metrics_upload_bytes(polycom_metrics *m, apr_off_t bytes)
{
    apr_atomic_add64(&m->counters.upload_bytes, (apr_uint64_t)bytes);
}

void polycom_metrics_generation(polycom_metrics *m,
                                apr_interval_time_t elapsed)
{
    int b;

    for (b = 0; b < POLYCOM_METRICS_BUCKETS - 1; b++) {
        if (elapsed <= metrics_bounds[b]) {
            break;
        }
    }
    apr_atomic_inc64(&m->counters.generation_buckets[b]);
    apr_atomic_add64(&m->counters.generation_usec, (apr_uint64_t)elapsed);
    apr_atomic_inc64(&m->counters.generation_count);
}

/* The labels of polycom_upload_refused_total, by polycom_refusal. */
static const char *const metrics_refusals[POLYCOM_REFUSED_REASONS] = {
    "unknown", "disabled", "quota"
};

static void metrics_line(apr_array_header_t *out, const char *text)
{
    APR_ARRAY_PUSH(out, const char *) = text;
}

const char *polycom_metrics_render(apr_pool_t *pool,
                                   const polycom_metrics *m)
{
    const polycom_counters *c = &m->counters;
    apr_array_header_t *out = apr_array_make(pool, 64, sizeof(char *));
    apr_uint64_t cumulative = 0;
    int kind, slot, b, reason;

    metrics_line(out, "# HELP polycom_requests_total Provisioning requests "
                      "by file kind and status.\n"
                      "# TYPE polycom_requests_total counter\n");
    for (kind = 0; kind < POLYCOM_METRICS_KINDS; kind++) {
        for (slot = 0; slot < POLYCOM_METRICS_STATUSES; slot++) {
            apr_uint64_t n = apr_atomic_read64(
                (volatile apr_uint64_t *)&c->requests[kind][slot]);

            if (!n) {
                continue;
            }
            metrics_line(out, apr_psprintf(pool,
                "polycom_requests_total{kind=\"%s\",status=\"%s\"} %"
                APR_UINT64_T_FMT "\n",
                polycom_name_kind_label((polycom_file_kind)kind),
                slot < POLYCOM_METRICS_STATUSES - 1
                ? apr_itoa(pool, metrics_statuses[slot]) : "other", n));
        }
    }
    metrics_line(out, apr_psprintf(pool,
        "# HELP polycom_unknown_mac_requests_total Requests for MACs the "
        "database does not know.\n"
        "# TYPE polycom_unknown_mac_requests_total counter\n"
        "polycom_unknown_mac_requests_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_checkin_failures_total Check-ins that could not be "
        "written (lost).\n"
        "# TYPE polycom_checkin_failures_total counter\n"
        "polycom_checkin_failures_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_database_errors_total Database connections or "
        "queries that failed.\n"
        "# TYPE polycom_database_errors_total counter\n"
        "polycom_database_errors_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_enumeration_blocks_total Source addresses blocked "
        "for probing unknown MACs.\n"
        "# TYPE polycom_enumeration_blocks_total counter\n"
        "polycom_enumeration_blocks_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_cache_hits_total Masters and configurations served "
        "from a child's cache.\n"
        "# TYPE polycom_cache_hits_total counter\n"
        "polycom_cache_hits_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_cache_misses_total Masters and configurations "
        "rendered because no cache held them (see PolycomCacheSize).\n"
        "# TYPE polycom_cache_misses_total counter\n"
        "polycom_cache_misses_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_cache_phone_kept_total Of the misses, settings "
        "rendered with the phone's own row and parameters from the shared "
        "cache, not the database (after a change of a layer).\n"
        "# TYPE polycom_cache_phone_kept_total counter\n"
        "polycom_cache_phone_kept_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_checkin_writer_rows_total Check-ins written by the "
        "check-in writer process (PolycomCheckinWriter).\n"
        "# TYPE polycom_checkin_writer_rows_total counter\n"
        "polycom_checkin_writer_rows_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_upload_bytes_total Bytes of uploads stored.\n"
        "# TYPE polycom_upload_bytes_total counter\n"
        "polycom_upload_bytes_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_upload_refused_total Uploads refused: from MACs "
        "the database does not know, from disabled phones, or over "
        "PolycomUploadQuota.\n"
        "# TYPE polycom_upload_refused_total counter\n",
        apr_atomic_read64((volatile apr_uint64_t *)&c->unknown_mac),
        apr_atomic_read64((volatile apr_uint64_t *)&c->checkin_failures),
        apr_atomic_read64((volatile apr_uint64_t *)&c->db_errors),
        apr_atomic_read64((volatile apr_uint64_t *)&c->enumeration_blocks),
        apr_atomic_read64((volatile apr_uint64_t *)&c->cache_hits),
        apr_atomic_read64((volatile apr_uint64_t *)&c->cache_misses),
        apr_atomic_read64((volatile apr_uint64_t *)&c->cache_phone_kept),
        apr_atomic_read64((volatile apr_uint64_t *)&c->writer_rows),
        apr_atomic_read64((volatile apr_uint64_t *)&c->upload_bytes)));
    for (reason = 0; reason < POLYCOM_REFUSED_REASONS; reason++) {
        metrics_line(out, apr_psprintf(pool,
            "polycom_upload_refused_total{reason=\"%s\"} %"
            APR_UINT64_T_FMT "\n", metrics_refusals[reason],
            apr_atomic_read64(
                (volatile apr_uint64_t *)&c->upload_refused[reason])));
    }
    metrics_line(out, "# HELP polycom_generation_seconds Time to generate "
                      "a file.\n"
                      "# TYPE polycom_generation_seconds histogram\n");
    for (b = 0; b < POLYCOM_METRICS_BUCKETS; b++) {
        cumulative += apr_atomic_read64(
            (volatile apr_uint64_t *)&c->generation_buckets[b]);
        metrics_line(out, apr_psprintf(pool,
            "polycom_generation_seconds_bucket{le=\"%s\"} %"
            APR_UINT64_T_FMT "\n",
            metrics_bound_labels[b], cumulative));
    }
    metrics_line(out, apr_psprintf(pool,
        "polycom_generation_seconds_sum %.6f\n"
        "polycom_generation_seconds_count %" APR_UINT64_T_FMT "\n",
        (double)apr_atomic_read64(
            (volatile apr_uint64_t *)&c->generation_usec) / 1e6,
        apr_atomic_read64((volatile apr_uint64_t *)&c->generation_count)));
    return apr_array_pstrcat(pool, out, 0);
}
