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
    apr_atomic_inc32(&m->requests[kind][slot]);
}

void polycom_metrics_unknown_mac(polycom_metrics *m)
{
    apr_atomic_inc32(&m->unknown_mac);
}

void polycom_metrics_checkin_failure(polycom_metrics *m)
{
    apr_atomic_inc32(&m->checkin_failures);
}

void polycom_metrics_writer_rows(polycom_metrics *m, int rows)
{
    apr_atomic_add32(&m->writer_rows, (apr_uint32_t)rows);
}

void polycom_metrics_cache(polycom_metrics *m, int hit)
{
    apr_atomic_inc32(hit ? &m->cache_hits : &m->cache_misses);
}

void polycom_metrics_db_error(polycom_metrics *m)
{
    apr_atomic_inc32(&m->db_errors);
}

void polycom_metrics_upload_bytes(polycom_metrics *m, apr_off_t bytes)
{
    apr_atomic_add64(&m->upload_bytes, (apr_uint64_t)bytes);
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
    apr_atomic_inc32(&m->generation_buckets[b]);
    apr_atomic_add64(&m->generation_usec, (apr_uint64_t)elapsed);
    apr_atomic_inc32(&m->generation_count);
}

/* The slot of a server: its own, found by linear probing from a hash of
 * its key, claimed on first use, so two servers never share a flag (the
 * last slot is shared by any overflow beyond 64 servers). */
static int metrics_slot(polycom_metrics *m, apr_uintptr_t key)
{
    apr_uint64_t k = (apr_uint64_t)key ? (apr_uint64_t)key : 1;
    int start = (int)((k * 0x9E3779B97F4A7C15ULL) >> 58), i;

    for (i = 0; i < POLYCOM_METRICS_OUTAGES; i++) {
        int slot = (start + i) % POLYCOM_METRICS_OUTAGES;
        apr_uint64_t owner = apr_atomic_read64(&m->db_key[slot]);

        if (owner == k || (owner == 0
                           && apr_atomic_cas64(&m->db_key[slot], k, 0) == 0)) {
            return slot;
        }
        if (apr_atomic_read64(&m->db_key[slot]) == k) {
            return slot;        /* another child claimed it for us */
        }
    }
    return POLYCOM_METRICS_OUTAGES - 1;
}

static volatile apr_uint32_t *metrics_outage(polycom_metrics *m,
                                             apr_uintptr_t key)
{
    return &m->db_down[metrics_slot(m, key)];
}

int polycom_metrics_db_down(polycom_metrics *m, apr_uintptr_t key)
{
    return apr_atomic_cas32(metrics_outage(m, key), 1, 0) == 0;
}

int polycom_metrics_db_is_down(polycom_metrics *m, apr_uintptr_t key)
{
    return apr_atomic_read32(metrics_outage(m, key)) != 0;
}

int polycom_metrics_db_up(polycom_metrics *m, apr_uintptr_t key)
{
    volatile apr_uint32_t *flag = metrics_outage(m, key);

    if (apr_atomic_read32(flag) && apr_atomic_cas32(flag, 0, 1) == 1) {
        apr_atomic_set64(&m->db_up_at[metrics_slot(m, key)],
                         (apr_uint64_t)apr_time_now());
        return 1;
    }
    return 0;
}

apr_interval_time_t polycom_metrics_db_up_for(polycom_metrics *m,
                                              apr_uintptr_t key)
{
    apr_uint64_t at = apr_atomic_read64(
        &m->db_up_at[metrics_slot(m, key)]);

    return at ? apr_time_now() - (apr_time_t)at : APR_INT64_MAX;
}

static apr_uint32_t guard_hash(const char *address)
{
    apr_uint32_t h = 2166136261u;      /* FNV-1a */

    for (; *address; address++) {
        h = (h ^ (unsigned char)*address) * 16777619u;
    }
    return h ? h : 1;
}

static polycom_guard_slot *guard_slot(polycom_metrics *m, apr_uint32_t h)
{
    return &m->guard[h % POLYCOM_GUARD_SLOTS];
}

apr_interval_time_t polycom_guard_blocked(polycom_metrics *m,
                                          const char *address,
                                          apr_time_t now)
{
    apr_uint32_t h = guard_hash(address);
    polycom_guard_slot *slot = guard_slot(m, h);
    apr_time_t until;

    if (apr_atomic_read32(&slot->address) != h) {
        return 0;
    }
    until = (apr_time_t)apr_atomic_read64(&slot->blocked_until);
    return until > now ? until - now : 0;
}

int polycom_guard_unknown(polycom_metrics *m, const char *address,
                          apr_time_t now, int limit,
                          apr_interval_time_t window,
                          apr_interval_time_t cooldown)
{
    apr_uint32_t h = guard_hash(address);
    polycom_guard_slot *slot = guard_slot(m, h);
    apr_uint32_t count;

    if (apr_atomic_read32(&slot->address) != h
        || now - (apr_time_t)apr_atomic_read64(&slot->window_start)
           > window) {
        /* A new address in this slot, or a new window: start counting. */
        if (apr_atomic_read32(&slot->address) != h) {
            apr_atomic_set64(&slot->blocked_until, 0);
        }
        apr_atomic_set32(&slot->address, h);
        apr_atomic_set64(&slot->window_start, (apr_uint64_t)now);
        apr_atomic_set32(&slot->count, 0);
    }
    count = apr_atomic_inc32(&slot->count) + 1;
    if ((int)count == limit + 1) {
        apr_atomic_set64(&slot->blocked_until, (apr_uint64_t)(now + cooldown));
        apr_atomic_inc32(&m->enumeration_blocks);
        return 1;
    }
    if ((int)count > limit) {
        /* Still probing while blocked: the cool-down starts again. */
        apr_atomic_set64(&slot->blocked_until, (apr_uint64_t)(now + cooldown));
    }
    return 0;
}

static void metrics_line(apr_array_header_t *out, const char *text)
{
    APR_ARRAY_PUSH(out, const char *) = text;
}

const char *polycom_metrics_render(apr_pool_t *pool,
                                   const polycom_metrics *m)
{
    apr_array_header_t *out = apr_array_make(pool, 64, sizeof(char *));
    apr_uint32_t cumulative = 0;
    int kind, slot, b;

    metrics_line(out, "# HELP polycom_requests_total Provisioning requests "
                      "by file kind and status.\n"
                      "# TYPE polycom_requests_total counter\n");
    for (kind = 0; kind < POLYCOM_METRICS_KINDS; kind++) {
        for (slot = 0; slot < POLYCOM_METRICS_STATUSES; slot++) {
            apr_uint32_t n = apr_atomic_read32(
                (volatile apr_uint32_t *)&m->requests[kind][slot]);

            if (!n) {
                continue;
            }
            metrics_line(out, apr_psprintf(pool,
                "polycom_requests_total{kind=\"%s\",status=\"%s\"} %u\n",
                polycom_name_kind_label((polycom_file_kind)kind),
                slot < POLYCOM_METRICS_STATUSES - 1
                ? apr_itoa(pool, metrics_statuses[slot]) : "other", n));
        }
    }
    metrics_line(out, apr_psprintf(pool,
        "# HELP polycom_unknown_mac_requests_total Requests for MACs the "
        "database does not know.\n"
        "# TYPE polycom_unknown_mac_requests_total counter\n"
        "polycom_unknown_mac_requests_total %u\n"
        "# HELP polycom_checkin_failures_total Check-ins that could not be "
        "written (lost).\n"
        "# TYPE polycom_checkin_failures_total counter\n"
        "polycom_checkin_failures_total %u\n"
        "# HELP polycom_database_errors_total Database connections or "
        "queries that failed.\n"
        "# TYPE polycom_database_errors_total counter\n"
        "polycom_database_errors_total %u\n"
        "# HELP polycom_enumeration_blocks_total Source addresses blocked "
        "for probing unknown MACs.\n"
        "# TYPE polycom_enumeration_blocks_total counter\n"
        "polycom_enumeration_blocks_total %u\n"
        "# HELP polycom_cache_hits_total Masters and configurations served "
        "from a child's cache.\n"
        "# TYPE polycom_cache_hits_total counter\n"
        "polycom_cache_hits_total %u\n"
        "# HELP polycom_cache_misses_total Masters and configurations "
        "rendered because no cache held them (see PolycomCacheSize).\n"
        "# TYPE polycom_cache_misses_total counter\n"
        "polycom_cache_misses_total %u\n"
        "# HELP polycom_checkin_writer_rows_total Check-ins written by the "
        "check-in writer process (PolycomCheckinWriter).\n"
        "# TYPE polycom_checkin_writer_rows_total counter\n"
        "polycom_checkin_writer_rows_total %u\n"
        "# HELP polycom_upload_bytes_total Bytes of uploads stored.\n"
        "# TYPE polycom_upload_bytes_total counter\n"
        "polycom_upload_bytes_total %" APR_UINT64_T_FMT "\n"
        "# HELP polycom_generation_seconds Time to generate a file.\n"
        "# TYPE polycom_generation_seconds histogram\n",
        apr_atomic_read32((volatile apr_uint32_t *)&m->unknown_mac),
        apr_atomic_read32((volatile apr_uint32_t *)&m->checkin_failures),
        apr_atomic_read32((volatile apr_uint32_t *)&m->db_errors),
        apr_atomic_read32((volatile apr_uint32_t *)&m->enumeration_blocks),
        apr_atomic_read32((volatile apr_uint32_t *)&m->cache_hits),
        apr_atomic_read32((volatile apr_uint32_t *)&m->cache_misses),
        apr_atomic_read32((volatile apr_uint32_t *)&m->writer_rows),
        apr_atomic_read64((volatile apr_uint64_t *)&m->upload_bytes)));
    for (b = 0; b < POLYCOM_METRICS_BUCKETS; b++) {
        cumulative += apr_atomic_read32(
            (volatile apr_uint32_t *)&m->generation_buckets[b]);
        metrics_line(out, apr_psprintf(pool,
            "polycom_generation_seconds_bucket{le=\"%s\"} %u\n",
            metrics_bound_labels[b], cumulative));
    }
    metrics_line(out, apr_psprintf(pool,
        "polycom_generation_seconds_sum %.6f\n"
        "polycom_generation_seconds_count %u\n",
        (double)apr_atomic_read64(
            (volatile apr_uint64_t *)&m->generation_usec) / 1e6,
        apr_atomic_read32((volatile apr_uint32_t *)&m->generation_count)));
    return apr_array_pstrcat(pool, out, 0);
}
