/* The render cache (include/polycom_cache.h): two generations of entries
 * under one lock, each generation in a pool of its own. */

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "polycom_cache.h"

typedef polycom_cached cache_entry;

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
    cache->half = (apr_size_t)(max_bytes / 2);
    return cache;
}

/* What an entry costs its generation, roughly: the copies and the hash's
 * own bookkeeping. */
static apr_size_t cache_cost(const char *key, const cache_entry *entry)
{
    return strlen(key) + entry->made_of_len + entry->len
           + strlen(entry->etag) + sizeof(cache_entry) + 64;
}

/* Called with the lock held: a copy of @a from in the young generation. */
static void cache_store(polycom_cache *cache, const char *key,
                        const cache_entry *from)
{
    cache_generation *young = &cache->young;
    apr_size_t cost = cache_cost(key, from);
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
    entry->revision = from->revision;
    entry->made_of = apr_pstrmemdup(young->pool, from->made_of,
                                    from->made_of_len);
    entry->made_of_len = from->made_of_len;
    entry->body = apr_pstrmemdup(young->pool, from->body, from->len);
    entry->len = from->len;
    entry->etag = apr_pstrdup(young->pool, from->etag);
    apr_hash_set(young->entries, apr_pstrdup(young->pool, key),
                 APR_HASH_KEY_STRING, entry);
    young->bytes += cost;
}

/* Called with the lock held: the entry of @a key and whether it is in
 * the old generation. */
static const cache_entry *cache_lookup(polycom_cache *cache, const char *key,
                                       int *in_old)
{
    const cache_entry *hit;

    *in_old = 0;
    hit = apr_hash_get(cache->young.entries, key, APR_HASH_KEY_STRING);
    if (!hit) {
        hit = apr_hash_get(cache->old.entries, key, APR_HASH_KEY_STRING);
        *in_old = hit != NULL;
    }
    return hit;
}

/* Copies a hit into @a pool: the entry may be dropped while it is sent.
 * One in the old generation moves to the young one, as it is asked for. */
int polycom_cache_find(polycom_cache *cache, const char *key,
                       polycom_cache_judge *judge, void *baton,
                       apr_pool_t *pool, polycom_cached *found)
{
    const cache_entry *hit;
    int in_old;

    cache_lock(cache);
    hit = cache_lookup(cache, key, &in_old);
    if (hit && judge && !judge(baton, hit)) {
        hit = NULL;
    }
    if (hit) {
        found->revision = hit->revision;
        found->made_of = apr_pstrmemdup(pool, hit->made_of,
                                        hit->made_of_len);
        found->made_of_len = hit->made_of_len;
        found->aside = "";
        found->aside_len = 0;
        found->body = apr_pstrmemdup(pool, hit->body, hit->len);
        found->len = hit->len;
        found->etag = apr_pstrdup(pool, hit->etag);
        if (in_old) {
            apr_hash_set(cache->old.entries, key, APR_HASH_KEY_STRING, NULL);
            cache_store(cache, key, found);
        }
    }
    cache_unlock(cache);
    return hit != NULL;
}

static int cache_at_revision(void *baton, const polycom_cached *entry)
{
    return entry->revision == *(const apr_int64_t *)baton;
}

int polycom_cache_get(polycom_cache *cache, const char *key,
                      apr_int64_t revision, apr_pool_t *pool,
                      const char **body, apr_size_t *len, const char **etag)
{
    polycom_cached found;

    if (!polycom_cache_find(cache, key, cache_at_revision, &revision, pool,
                            &found)) {
        return 0;
    }
    *body = found.body;
    *len = found.len;
    *etag = found.etag;
    return 1;
}

void polycom_cache_put(polycom_cache *cache, const char *key,
                       apr_int64_t revision, const char *made_of,
                       apr_size_t made_of_len, const char *body,
                       apr_size_t len, const char *etag)
{
    cache_entry entry;
    const cache_entry *kept;
    int in_old;

    if (revision < 0) {
        return;
    }
    entry.revision = revision;
    entry.made_of = made_of ? made_of : "";
    entry.made_of_len = made_of ? made_of_len : 0;
    entry.body = body;
    entry.len = len;
    entry.etag = etag;
    cache_lock(cache);
    kept = cache_lookup(cache, key, &in_old);
    if (!kept || kept->revision <= revision) {
        if (in_old) {
            apr_hash_set(cache->old.entries, key, APR_HASH_KEY_STRING, NULL);
        }
        cache_store(cache, key, &entry);
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
