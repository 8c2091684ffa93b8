/**
 * @file polycom_guard.h
 * @brief The enumeration guard: a source address that asks for too many
 *        unknown MACs is blocked for a cool-down (pure C: APR only).
 *
 * The slots live in the shared memory of the metrics (polycom_metrics.h),
 * so every child of a server sees the same counts; they are only ever
 * changed with atomic operations.
 */
#ifndef POLYCOM_GUARD_H
#define POLYCOM_GUARD_H

#include <apr_time.h>

#define POLYCOM_GUARD_SLOTS 1024

/* Unknown-MAC requests of one source address (by a hash of it). */
typedef struct {
    apr_uint32_t address;          /* hash of the address; 0: free */
    apr_uint32_t count;            /* unknown MACs in the current window */
    apr_uint64_t window_start;     /* apr_time_t */
    apr_uint64_t blocked_until;    /* apr_time_t; 0: not blocked */
} polycom_guard_slot;

/** The guard's state: one slot per address hash (addresses that share a
 *  slot take it from each other, which only ever lifts a block early). */
typedef struct {
    polycom_guard_slot slots[POLYCOM_GUARD_SLOTS];
} polycom_guard;

/* The shared segment that holds the guard (polycom_metrics.h). */
struct polycom_metrics;

/** Seconds the address is still blocked for, 0 when it is not. */
apr_interval_time_t polycom_guard_blocked(struct polycom_metrics *m,
                                          const char *address,
                                          apr_time_t now);

/** Count one unknown-MAC request of @a address; past @a limit within
 *  @a window it is blocked for @a cooldown. Returns 1 when this request
 *  started a block (counted in the metrics). Approximate under races
 *  (counts are atomic, a window's reset is not), which only ever delays a
 *  block by a request or two. */
int polycom_guard_unknown(struct polycom_metrics *m, const char *address,
                          apr_time_t now, int limit,
                          apr_interval_time_t window,
                          apr_interval_time_t cooldown);

#endif /* POLYCOM_GUARD_H */
