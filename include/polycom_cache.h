/**
 * @file polycom_cache.h
 * @brief The render cache: rendered masters and settings, kept per child
 * with the revision they were rendered at and what they are made of.
 *
 * Every change to served data moves the revision (SQL made by hand
 * included, through triggers). An entry is kept with the revision it was
 * rendered at and what it is made of (polycom_scopes_of); whether it is
 * still the same at a later revision is the caller's to judge
 * (polycom_scopes_same), so that nothing stale is ever served. Bounded by a
 * byte budget in two generations: new entries go to the young one, a hit
 * in the old one moves there; when the young one holds half the budget,
 * the old one is dropped whole and the young one becomes old. What is
 * asked for again stays; what is not ages out; memory is freed a
 * generation at a time (pools, no fragmentation). Thread-safe. Pure: APR
 * only.
 */
#ifndef POLYCOM_CACHE_H
#define POLYCOM_CACHE_H

#include <apr_pools.h>

typedef struct polycom_cache polycom_cache;

/** A cache of at most @a max_bytes in @a pool's lifetime; NULL when
 *  @a max_bytes is not positive (no cache) or no lock could be made. */
polycom_cache *polycom_cache_create(apr_pool_t *pool, apr_off_t max_bytes);

/** An entry as kept: the revision it was rendered at, what it is made
 *  of (@a made_of_len bytes, 0: not said), its body and ETag, and what the
 *  shared cache keeps aside with it (@a aside_len bytes; 0 in the
 *  child's cache). */
typedef struct {
    apr_int64_t revision;
    const char *made_of;
    apr_size_t made_of_len;
    const char *aside;
    apr_size_t aside_len;
    const char *body;
    apr_size_t len;
    const char *etag;
} polycom_cached;

/** Whether an entry may be served (the caller's judgement of its
 *  revision and what it is made of), asked under the cache's lock. */
typedef int polycom_cache_judge(void *baton, const polycom_cached *entry);

/** 1 and a copy in @a pool of the entry kept for @a key when @a judge
 *  (if not NULL) says it may be served; 0 when there is none or it may
 *  not. Only an entry that may be served counts as asked for again (moves
 *  to the young generation): a stale one ages out. */
int polycom_cache_find(polycom_cache *cache, const char *key,
                       polycom_cache_judge *judge, void *baton,
                       apr_pool_t *pool, polycom_cached *found);

/** 1 and a copy in @a pool of the body and ETag kept for @a key at
 *  @a revision; 0 when there is none (or only one of another revision). */
int polycom_cache_get(polycom_cache *cache, const char *key,
                      apr_int64_t revision, apr_pool_t *pool,
                      const char **body, apr_size_t *len, const char **etag);

/** Keep a body rendered at @a revision, made of @a made_of (@a
 *  made_of_len bytes; may be 0). Not kept over an entry of the same key
 *  rendered at a newer revision (a render that read the database before
 *  a change must not replace one made after it), nor without a revision,
 *  nor over half the budget. */
void polycom_cache_put(polycom_cache *cache, const char *key,
                       apr_int64_t revision, const char *made_of,
                       apr_size_t made_of_len, const char *body,
                       apr_size_t len, const char *etag);

/** Bytes the entries cost now, both generations (always within the
 *  budget). */
apr_size_t polycom_cache_bytes(polycom_cache *cache);

#endif /* POLYCOM_CACHE_H */
