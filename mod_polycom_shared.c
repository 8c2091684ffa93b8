/* mod_polycom: the render cache shared by all children of a node
 * (PolycomSharedCache). Rendered masters and settings in one block of
 * anonymous shared memory made before the children fork
 * (src/shmcache.c), so that a file rendered by one child is a hit in
 * every other: with requests drawn from the whole fleet, each child's own
 * cache held a fraction of it only. Entries carry the revision they were
 * rendered at and what they are made of, and are served while none of
 * that moved (polycom_scopes.h): nothing stale is ever served. The block is fixed in size, so memory is bounded; each
 * child maps all of it at its start, so its resident size counts the
 * cache whole from the first request and stays flat.
 *
 * httpd's socache (shmcb) was measured first: its look-up scans every
 * entry of a sub-cache under one lock for the whole node, and at 100,000
 * phones that made a hit slower than rendering.
 */

#include "apr_shm.h"
#include "apr_strings.h"

#include "httpd.h"
#include "http_log.h"

#include "mod_polycom_private.h"
#include "polycom_shmcache.h"

static polycom_shmcache *shared_cache = NULL;
static apr_size_t shared_bytes = 0;

int polycom_shared_enabled(void)
{
    return shared_cache != NULL;
}

int polycom_shared_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_off_t size = polycom_conf_shared_cache_size();
    apr_size_t slot = polycom_conf_shared_cache_slot();
    apr_shm_t *shm;
    apr_status_t rv;

    shared_cache = NULL;
    shared_bytes = 0;
    if (!size) {
        return OK;
    }
    /* In pconf: a restart starts the cache again, empty. */
    rv = apr_shm_create(&shm, (apr_size_t)size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PCLOGNO(00210)
                     "PolycomSharedCache: no shared memory of %"
                     APR_OFF_T_FMT " bytes", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    shared_cache = polycom_shmcache_init(apr_shm_baseaddr_get(shm),
                                         apr_shm_size_get(shm), slot);
    if (!shared_cache) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PCLOGNO(00211)
                     "PolycomSharedCache: %" APR_OFF_T_FMT " bytes do not "
                     "hold two slots of %" APR_SIZE_T_FMT " bytes", size,
                     slot);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    shared_bytes = apr_shm_size_get(shm);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, PCLOGNO(00212)
                 "render cache shared by the children: %" APR_SIZE_T_FMT
                 " slots of %" APR_SIZE_T_FMT " bytes",
                 polycom_shmcache_slots(shared_cache), slot);
    return OK;
}

/* Touch every page once: the child's resident size then holds the whole
 * cache from its start (memory stays flat, and counted), and no request
 * pays a page fault for it. */
void polycom_shared_child_init(apr_pool_t *pchild)
{
    const volatile char *page = (const volatile char *)shared_cache;
    apr_size_t at;
    char sum = 0;

    for (at = 0; shared_cache && at < shared_bytes; at += 4096) {
        sum ^= page[at];
    }
    (void)sum;
}

int polycom_shared_find(const char *key, apr_pool_t *pool,
                        polycom_cached *found)
{
    return polycom_shmcache_find(shared_cache, key, pool, found);
}

int polycom_shared_peek(const char *key, apr_int64_t *revision)
{
    return polycom_shmcache_peek(shared_cache, key, revision);
}

int polycom_shared_put(const char *key, apr_int64_t revision,
                       const char *made_of, apr_size_t made_of_len,
                       const char *body, apr_size_t len, const char *etag,
                       const char *aside, apr_size_t aside_len)
{
    return polycom_shmcache_put_aside(shared_cache, key, revision, made_of,
                                      made_of_len, body, len, etag, aside,
                                      aside_len);
}
