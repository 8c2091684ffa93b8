/**
 * @file polycom_shmcache.h
 * @brief The render cache shared by all children of a node
 * (PolycomSharedCache): rendered files in one block of shared memory, in
 * slots of a fixed size, found by a hash of their key.
 *
 * Each entry carries the revision it was rendered at and what it is made
 * of, as in the per-child cache (polycom_cache.h), whose caller judges
 * whether it is still the same: nothing stale is ever served. A key has two slots it may live in (one
 * pair); a new entry takes the one holding the same key, else the one of
 * the older revision: what is asked for survives, what is not is
 * overwritten. Lock-free: a slot's sequence number is odd while one
 * writer fills it (a second writer leaves it alone), and a reader keeps a
 * copy only when the number was even and unchanged around it. O(1) in
 * the fleet's size, no system call. Pure: APR and the compiler's atomics.
 */
#ifndef POLYCOM_SHMCACHE_H
#define POLYCOM_SHMCACHE_H

#include <apr_pools.h>

#include "polycom_cache.h"

typedef struct polycom_shmcache polycom_shmcache;

/** The smallest and largest slot, and what a slot's own fields take. */
#define POLYCOM_SHMCACHE_SLOT_MIN 512
#define POLYCOM_SHMCACHE_SLOT_MAX (64 * 1024)

/** Lays a cache out over @a bytes of (shared, zeroed or not) memory at
 *  @a base in slots of @a slot_size bytes; NULL when not even two slots
 *  fit. Done once, before the processes that share it fork. */
polycom_shmcache *polycom_shmcache_init(void *base, apr_size_t bytes,
                                        apr_size_t slot_size);

/** 1 and a copy in @a pool of the newest entry kept for @a key, whatever
 *  its revision; 0 when there is none (or a writer is filling its slot). */
int polycom_shmcache_find(polycom_shmcache *cache, const char *key,
                          apr_pool_t *pool, polycom_cached *found);

/** 1 when one of @a key's slots holds an entry that may be @a key's (its
 *  hash matches), with the newest such revision in @a revision; 0 when
 *  none does, so that no revision would find @a key. A hint without the
 *  copy or the key's comparison of a get: it may say 1 for another key or
 *  a slot being rewritten, never 0 for a key whose entry is complete. */
int polycom_shmcache_peek(polycom_shmcache *cache, const char *key,
                          apr_int64_t *revision);

/** Keep a body rendered at @a revision, made of @a made_of (@a
 *  made_of_len bytes, may be 0); not kept when it does not fit a slot,
 *  another writer holds the slot, or the slot holds @a key rendered at a
 *  newer revision. Returns 1 when kept. */
int polycom_shmcache_put(polycom_shmcache *cache, const char *key,
                         apr_int64_t revision, const char *made_of,
                         apr_size_t made_of_len, const char *body,
                         apr_size_t len, const char *etag);

/** polycom_shmcache_put, keeping @a aside_len bytes at @a aside with the
 *  body (given back in polycom_cached's aside): what the caller may reuse
 *  of a stale entry. Left out, the body kept, when both do not fit. */
int polycom_shmcache_put_aside(polycom_shmcache *cache, const char *key,
                               apr_int64_t revision, const char *made_of,
                               apr_size_t made_of_len, const char *body,
                               apr_size_t len, const char *etag,
                               const char *aside, apr_size_t aside_len);
/** The number of slots. */
apr_size_t polycom_shmcache_slots(const polycom_shmcache *cache);

#endif /* POLYCOM_SHMCACHE_H */
