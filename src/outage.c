/* Database outage flags: one per server, shared by every child, so that
 * an outage is logged when it starts and when it ends, once. */

#include <apr_atomic.h>

#include "polycom_metrics.h"
#include "polycom_outage.h"

/* The slot of a server: its own, found by linear probing from a hash of
 * its key, claimed on first use, so two servers never share a flag (the
 * last slot is shared by any overflow beyond 64 servers). */
static int outage_slot(polycom_outage *o, apr_uintptr_t key)
{
    apr_uint64_t k = (apr_uint64_t)key ? (apr_uint64_t)key : 1;
    int start = (int)((k * 0x9E3779B97F4A7C15ULL) >> 58), i;

    for (i = 0; i < POLYCOM_OUTAGE_SLOTS; i++) {
        int slot = (start + i) % POLYCOM_OUTAGE_SLOTS;
        apr_uint64_t owner = apr_atomic_read64(&o->key[slot]);

        if (owner == k || (owner == 0
                           && apr_atomic_cas64(&o->key[slot], k, 0) == 0)) {
            return slot;
        }
        if (apr_atomic_read64(&o->key[slot]) == k) {
            return slot;        /* another child claimed it for us */
        }
    }
    return POLYCOM_OUTAGE_SLOTS - 1;
}

static volatile apr_uint32_t *outage_flag(polycom_outage *o,
                                          apr_uintptr_t key)
{
    return &o->down[outage_slot(o, key)];
}

int polycom_metrics_db_down(polycom_metrics *m, apr_uintptr_t key)
{
    return apr_atomic_cas32(outage_flag(&m->outage, key), 1, 0) == 0;
}

int polycom_metrics_db_is_down(polycom_metrics *m, apr_uintptr_t key)
{
    return apr_atomic_read32(outage_flag(&m->outage, key)) != 0;
}

int polycom_metrics_db_up(polycom_metrics *m, apr_uintptr_t key)
{
    volatile apr_uint32_t *flag = outage_flag(&m->outage, key);

    if (apr_atomic_read32(flag) && apr_atomic_cas32(flag, 0, 1) == 1) {
        apr_atomic_set64(&m->outage.up_at[outage_slot(&m->outage, key)],
                         (apr_uint64_t)apr_time_now());
        return 1;
    }
    return 0;
}

apr_interval_time_t polycom_metrics_db_up_for(polycom_metrics *m,
                                              apr_uintptr_t key)
{
    apr_uint64_t at = apr_atomic_read64(
        &m->outage.up_at[outage_slot(&m->outage, key)]);

    return at ? apr_time_now() - (apr_time_t)at : APR_INT64_MAX;
}
