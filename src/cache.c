/* The render cache (include/polycom_cache.h): two generations of entries
 * under one lock, each generation in a pool of its own. */

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "polycom_cache.h"

typedef struct {
    apr_int64_t revision;
    const char *body;
    apr_size_t len;
    const char *etag;
} cache_entry;

typedef struct {
    apr_pool_t *pool;
    apr_hash_t *entries;
    apr_size_t bytes;
} cache_generation;

struct polycom_cache {
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
#endif
    cache_generation young, old;
    apr_int64_t revision;       /* the newest seen; -1: none yet */
    apr_size_t half;            /* what one generation may hold */
};

static void cache_generation_init(cache_generation *g, apr_pool_t *parent)
{
    apr_pool_create(&g->pool, parent);
    apr_pool_tag(g->pool, "polycom_cache");
    g->entries = apr_hash_make(g->pool);
    g->bytes = 0;
}

static void cache_generation_clear(cache_generation *g)
{
    apr_pool_clear(g->pool);
    g->entries = apr_hash_make(g->pool);
    g->bytes = 0;
}

static void cache_lock(polycom_cache *cache)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(cache->lock);
#endif
}

static void cache_unlock(polycom_cache *cache)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(cache->lock);
#endif
}

polycom_cache *polycom_cache_create(apr_pool_t *pool, apr_off_t max_bytes)
{
    polycom_cache *cache;

    if (max_bytes <= 0) {
        return NULL;
    }
    cache = apr_pcalloc(pool, sizeof(*cache));
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&cache->lock, APR_THREAD_MUTEX_DEFAULT, pool)
        != APR_SUCCESS) {
        return NULL;
    }
#endif
    cache_generation_init(&cache->young, pool);
    cache_generation_init(&cache->old, pool);
    cache->revision = -1;
    cache->half = (apr_size_t)(max_bytes / 2);
    return cache;
}

/* What an entry costs its generation, roughly: the copies and the hash's
 * own bookkeeping. */
static apr_size_t cache_cost(const char *key, apr_size_t len,
                             const char *etag)
{
    return strlen(key) + len + strlen(etag) + sizeof(cache_entry) + 64;
}

/* Called with the lock held. */
static void cache_store(polycom_cache *cache, const char *key,
                        apr_int64_t revision, const char *body,
                        apr_size_t len, const char *etag)
{
    cache_generation *young = &cache->young;
    apr_size_t cost = cache_cost(key, len, etag);
    cache_entry *entry;

    if (cost > cache->half) {
        return;
    }
    if (young->bytes + cost > cache->half) {
        cache_generation old = cache->old;

        cache->old = *young;
        *young = old;
        cache_generation_clear(young);
    }
    entry = apr_palloc(young->pool, sizeof(*entry));
    entry->revision = revision;
    entry->body = apr_pstrmemdup(young->pool, body, len);
    entry->len = len;
    entry->etag = apr_pstrdup(young->pool, etag);
    apr_hash_set(young->entries, apr_pstrdup(young->pool, key),
                 APR_HASH_KEY_STRING, entry);
    young->bytes += cost;
}

/* Copies a hit into @a pool: the entry may be dropped while it is sent. */
int polycom_cache_get(polycom_cache *cache, const char *key,
                      apr_int64_t revision, apr_pool_t *pool,
                      const char **body, apr_size_t *len, const char **etag)
{
    const cache_entry *hit;
    int found = 0, promote = 0;

    cache_lock(cache);
    hit = apr_hash_get(cache->young.entries, key, APR_HASH_KEY_STRING);
    if (!hit) {
        hit = apr_hash_get(cache->old.entries, key, APR_HASH_KEY_STRING);
        promote = hit != NULL;
    }
    if (hit && hit->revision == revision) {
        *body = apr_pstrmemdup(pool, hit->body, hit->len);
        *len = hit->len;
        *etag = apr_pstrdup(pool, hit->etag);
        found = 1;
        if (promote) {
            apr_hash_set(cache->old.entries, key, APR_HASH_KEY_STRING, NULL);
            cache_store(cache, key, revision, *body, *len, *etag);
        }
    }
    cache_unlock(cache);
    return found;
}

void polycom_cache_put(polycom_cache *cache, const char *key,
                       apr_int64_t revision, const char *body,
                       apr_size_t len, const char *etag)
{
    if (revision < 0) {
        return;
    }
    cache_lock(cache);
    if (revision > cache->revision) {
        /* Everything kept was rendered from an older state. */
        cache_generation_clear(&cache->young);
        cache_generation_clear(&cache->old);
        cache->revision = revision;
    }
    /* A request that read the revision before a change was made: its body
     * is already stale, keep it out. */
    if (revision == cache->revision) {
        cache_store(cache, key, revision, body, len, etag);
    }
    cache_unlock(cache);
}

apr_size_t polycom_cache_bytes(polycom_cache *cache)
{
    apr_size_t bytes;

    cache_lock(cache);
    bytes = cache->young.bytes + cache->old.bytes;
    cache_unlock(cache);
    return bytes;
}
