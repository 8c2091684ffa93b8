/**
 * @file polycom_cache.h
 * @brief The render cache: rendered masters and settings, kept per child
 * while the database's revision stands still.
 *
 * Every change to served data moves the revision (SQL made by hand
 * included, through triggers), so an entry is served only for the very
 * revision it was rendered at: nothing stale is ever served. Bounded by a
 * byte budget in two generations: new entries go to the young one, a hit
 * in the old one moves there; when the young one holds half the budget,
 * the old one is dropped whole and the young one becomes old. What is
 * asked for again stays; what is not ages out; memory is freed a
 * generation at a time (pools, no fragmentation). A newer revision empties
 * both. Thread-safe. Pure: APR only.
 */
#ifndef POLYCOM_CACHE_H
#define POLYCOM_CACHE_H

#include <apr_pools.h>

typedef struct polycom_cache polycom_cache;

/** A cache of at most @a max_bytes in @a pool's lifetime; NULL when
 *  @a max_bytes is not positive (no cache) or no lock could be made. */
polycom_cache *polycom_cache_create(apr_pool_t *pool, apr_off_t max_bytes);

/** 1 and a copy in @a pool of the body and ETag kept for @a key at
 *  @a revision; 0 when there is none (or only one of another revision). */
int polycom_cache_get(polycom_cache *cache, const char *key,
                      apr_int64_t revision, apr_pool_t *pool,
                      const char **body, apr_size_t *len, const char **etag);

/** Keep a body rendered at @a revision. A newer revision than any seen
 *  empties the cache first; an older one is not kept (it was read before
 *  a change and is stale already); neither is a body over half the
 *  budget. */
void polycom_cache_put(polycom_cache *cache, const char *key,
                       apr_int64_t revision, const char *body,
                       apr_size_t len, const char *etag);

/** Bytes the entries cost now, both generations (always within the
 *  budget). */
apr_size_t polycom_cache_bytes(polycom_cache *cache);

#endif /* POLYCOM_CACHE_H */
