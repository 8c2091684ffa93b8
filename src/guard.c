/* The enumeration guard: counts the unknown MACs each source address asks
 * for and blocks an address that probes too many. */

#include <apr_atomic.h>

#include "polycom_guard.h"
#include "polycom_metrics.h"

static apr_uint32_t guard_hash(const char *address)
{
    apr_uint32_t h = 2166136261u;      /* FNV-1a */

    for (; *address; address++) {
        h = (h ^ (unsigned char)*address) * 16777619u;
    }
    return h ? h : 1;
}

static polycom_guard_slot *guard_slot(polycom_guard *g, apr_uint32_t h)
{
    return &g->slots[h % POLYCOM_GUARD_SLOTS];
}

apr_interval_time_t polycom_guard_blocked(polycom_metrics *m,
                                          const char *address,
                                          apr_time_t now)
{
    apr_uint32_t h = guard_hash(address);
    polycom_guard_slot *slot = guard_slot(&m->guard, h);
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
    polycom_guard_slot *slot = guard_slot(&m->guard, h);
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
        polycom_metrics_enumeration_block(m);
        return 1;
    }
    if ((int)count > limit) {
        /* Still probing while blocked: the cool-down starts again. */
        apr_atomic_set64(&slot->blocked_until, (apr_uint64_t)(now + cooldown));
    }
    return 0;
}
