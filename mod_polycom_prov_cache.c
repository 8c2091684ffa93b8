/* mod_polycom: the provisioning namespace's caches, for
 * mod_polycom_prov.c. The child's render cache and its cache of the
 * layers above the phones, the node's shared cache (mod_polycom_shared.c)
 * in front of them, and the judgement of whether a kept file, or a
 * phone's part kept beside its settings, is still the same at the
 * revision a request read (the child's record of what moved,
 * mod_polycom_moved.c). Runs in request threads.
 */

#include "apr_strings.h"

#include "mod_polycom_private.h"
#include "polycom_cache.h"
#include "polycom_flat.h"
#include "polycom_param.h"
#include "polycom_scopes.h"

/* The child's render cache (src/cache.c): masters and settings while the
 * database's revision stands still. Only complete 200 bodies are kept, so
 * a hit is always a known, enabled phone. */
static polycom_cache *prov_cache = NULL;

/* The layers above the phones (global, site, model) per site and model,
 * packed (polycom_params_pack), while the revision stands still: a cold
 * settings file reads only the phone's own rows. A few entries, each
 * the size of a layer's parameters. */
#define POLYCOM_LAYERS_CACHE_SIZE (4 * 1024 * 1024)
static polycom_cache *prov_layers = NULL;
/* The ETags whose snapshots this child has sent (polycom_flat.h): 512 KiB,
 * which remembers a fleet of ~65,000 distinct settings files. */
#define PROV_SNAPSHOT_SLOTS 65536
static polycom_snapshot_filter *prov_snapshots = NULL;
void polycom_cache_init(apr_pool_t *pchild)
{
    prov_cache = polycom_cache_create(pchild, polycom_conf_cache_size());
    prov_layers = polycom_cache_create(pchild, POLYCOM_LAYERS_CACHE_SIZE);
    prov_snapshots = polycom_snapshot_filter_make(pchild,
                                                  PROV_SNAPSHOT_SLOTS);
    polycom_moved_init(pchild);
}

/* A known phone's settings at the snapshot @a at: its own parameters over
 * the layers of that very revision, kept per child. Layers read at another
 * revision (a change came in between) are not mixed with the phone's:
 * then the whole list is read as before. */
int polycom_prov_layered_params(request_rec *r, polycom_db *db,
                                const polycom_phone_at *at,
                                apr_array_header_t **params)
{
    /* Virtual hosts may each have a database of their own. */
    const char *key = apr_psprintf(r->pool, "%pp\n%s\n%s",
                                   polycom_db_group(db), at->phone->site,
                                   at->phone->model);
    const char *packed, *etag;
    apr_size_t len;
    apr_array_header_t *base;
    apr_int64_t revision;

    if (prov_layers && polycom_cache_get(prov_layers, key, at->revision,
                                         r->pool, &packed, &len, &etag)) {
        *params = polycom_params_merge(r->pool,
                                       polycom_params_unpack(r->pool, packed,
                                                             len),
                                       at->own);
        return 0;
    }
    if (polycom_store_layers_at(db, at->phone->site, at->phone->model,
                                &revision, &base) < 0) {
        return -1;
    }
    if (prov_layers) {
        packed = polycom_params_pack(r->pool, base, &len);
        polycom_cache_put(prov_layers, key, revision, NULL, 0, packed, len,
                          "");
    }
    if (revision != at->revision) {
        return polycom_store_params(db, at->phone, params);
    }
    *params = polycom_params_merge(r->pool, base, at->own);
    return 0;
}

/* Whether the child's own cache's entry is the same at the revision a
 * request read (polycom_moved_same), judged in place. */
typedef struct {
    polycom_moved *moved;
    apr_int64_t revision;
} prov_judging;

static int prov_same(void *baton, const polycom_cached *entry)
{
    const prov_judging *judging = baton;

    return polycom_moved_same(judging->moved, entry->made_of,
                              entry->made_of_len, entry->revision,
                              judging->revision);
}

/* A file kept for @a key that is the same at @a revision: rendered at
 * it, or at another revision while none of what the file is made of
 * moved between the two (the database's record, @a moved). From the
 * node's shared cache when PolycomSharedCache is set, else (or for a file
 * too big for its slots) the child's. A phone's settings that are not the
 * same any more may still hold its part that is (@a phone_part, when not
 * NULL: @a mac's row, its own parameters and the moves, kept aside with
 * them): then *@a reused is 1 and @a phone_part holds it, at @a revision. */
int polycom_prov_cache_get(request_rec *r, polycom_db *db,
                           polycom_moved *moved, const char *key,
                           apr_int64_t revision, const char **body,
                           apr_size_t *len, const char **etag,
                           const char *mac, polycom_phone_at *phone_part,
                           int *reused)
{
    polycom_cached found;
    prov_judging judging;

    if (polycom_shared_enabled()
        && polycom_shared_find(key, r->pool, &found)) {
        apr_size_t of_phone_len;
        const char *of_phone;

        if (found.revision > revision) {
            /* Rendered by another child at a revision newer than this
             * request read: what moved up to it is there to read. */
            polycom_moved_read(moved, db, found.revision);
        }
        if (polycom_moved_same(moved, found.made_of, found.made_of_len,
                               found.revision, revision)) {
            goto hit;
        }
        if (phone_part && found.aside_len) {
            of_phone = polycom_scopes_of_phone(r->pool, mac, &of_phone_len);
            *reused = polycom_moved_same(moved, of_phone, of_phone_len,
                                         found.revision, revision)
                      && polycom_phone_at_unpack(r->pool, found.aside,
                                                 found.aside_len, mac,
                                                 revision, phone_part) == 0;
        }
    }
    judging.moved = moved;
    judging.revision = revision;
    if (prov_cache
        && polycom_cache_find(prov_cache, key, prov_same, &judging, r->pool,
                              &found)) {
        goto hit;
    }
    return 0;
hit:
    *body = found.body;
    *len = found.len;
    *etag = found.etag;
    return 1;
}

void polycom_prov_cache_put(const char *key, apr_int64_t revision,
                            const char *made_of, apr_size_t made_of_len,
                            const char *body, apr_size_t len,
                            const char *etag, const char *aside,
                            apr_size_t aside_len)
{
    if ((!polycom_shared_enabled()
         || !polycom_shared_put(key, revision, made_of, made_of_len, body,
                                len, etag, aside, aside_len))
        && prov_cache) {
        polycom_cache_put(prov_cache, key, revision, made_of, made_of_len,
                          body, len, etag);
    }
}

/* A file is the same for every request of one server and URI. */
const char *polycom_prov_cache_key(request_rec *r)
{
    return apr_psprintf(r->pool, "%pp %s", (void *)r->server, r->uri);
}

/* The newest revision this child has read: an entry of the shared cache
 * older than it is stale for certain. */
static apr_int64_t prov_revision_seen = -1;

void polycom_prov_revision_read(apr_int64_t revision)
{
    apr_int64_t seen = __atomic_load_n(&prov_revision_seen,
                                       __ATOMIC_RELAXED);

    while (revision > seen
           && !__atomic_compare_exchange_n(&prov_revision_seen, &seen,
                                           revision, 0, __ATOMIC_RELAXED,
                                           __ATOMIC_RELAXED)) {
    }
}

/* Whether a phone's master or settings cannot be in the shared cache at
 * the current revision: no slot holds the key, or only at a revision
 * before the newest move of what every file of its kind is made of
 * (@a of_layers: settings; or, without a record of what moved, older
 * than one read here before). Then the request skips the one-row read of
 * the revision and goes to the snapshot statement, which reads the
 * revision too (a miss read it twice: make bench's uniform fleet is mostly
 * misses while the cache fills, and after every change). Only a hint for
 * the order of the reads: whichever way, a file is served for the
 * revision read in this request. Without the shared cache, the child's
 * own cache is asked as before. Settings kept there from before a move
 * of the layers only (kept at or after the record's floor and the newest
 * move of the moves, what polycom_moved_same asks of a phone's part) are
 * not a sure miss: their phone's part may still be as it is now, and the
 * revision is read to know (a change of the global layer: every phone's
 * first poll then spares the phone's statement, the costlier; make
 * bench, 100,000 phones). */
int polycom_prov_surely_missed(polycom_moved *moved, const char *key,
                               int of_layers)
{
    apr_int64_t kept, below;

    if (!polycom_shared_enabled()) {
        return 0;
    }
    if (!polycom_shared_peek(key, &kept)) {
        return 1;
    }
    if (polycom_moved_unread(moved)) {
        return kept < __atomic_load_n(&prov_revision_seen,
                                      __ATOMIC_RELAXED);
    }
    below = polycom_moved_stale_below(moved, of_layers);
    if (of_layers && kept < below
        && kept >= polycom_moved_stale_below(moved, 0)) {
        return 0;
    }
    return kept < below;
}

/* Whether files are kept at all: a child's cache or the node's. */
int polycom_prov_cacheable(void)
{
    return prov_cache != NULL || polycom_shared_enabled();
}

/* 1 the first time this child meets @a etag (and remembers it), 0 after,
 * or when it remembers none. */
int polycom_prov_snapshot_new(const char *etag)
{
    return prov_snapshots
           && polycom_snapshot_filter_add(prov_snapshots, etag);
}
