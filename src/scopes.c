/* What moved since a file was rendered (include/polycom_scopes.h): a hash
 * of the scopes that moved since the record's floor, under one lock. */

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "polycom_scopes.h"

/* The longest scope name kept (its tag and key): sites and models are
 * short names, MACs 12 characters. */
#define SCOPES_NAME_MAX 512

struct polycom_scopes {
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
#endif
    apr_pool_t *pool;
    apr_hash_t *moved;          /* tag + key -> apr_int64_t revision */
    apr_int64_t floor;          /* -1: not started */
    apr_int64_t through;
    /* The newest move of what every file is made of: the moves, a scope
     * this module does not know. */
    apr_int64_t wide;
    /* The newest move of the global layer: what every file made of the
     * layers is made of (a master is not). */
    apr_int64_t global;
};

static void scopes_lock(polycom_scopes *scopes)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(scopes->lock);
#endif
}

static void scopes_unlock(polycom_scopes *scopes)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(scopes->lock);
#endif
}

polycom_scopes *polycom_scopes_create(apr_pool_t *pool)
{
    polycom_scopes *scopes = apr_pcalloc(pool, sizeof(*scopes));

#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&scopes->lock, APR_THREAD_MUTEX_DEFAULT,
                                pool) != APR_SUCCESS) {
        return NULL;
    }
#endif
    scopes->pool = pool;
    scopes->moved = apr_hash_make(pool);
    scopes->floor = scopes->through = scopes->wide = scopes->global = -1;
    return scopes;
}

apr_int64_t polycom_scopes_through(polycom_scopes *scopes)
{
    /* Asked with every revision read: no lock. */
    return __atomic_load_n(&scopes->through, __ATOMIC_ACQUIRE);
}

void polycom_scopes_restart(polycom_scopes *scopes, apr_int64_t revision)
{
    scopes_lock(scopes);
    if (revision > scopes->floor) {
        scopes->floor = revision;
        if (revision > scopes->through) {
            __atomic_store_n(&scopes->through, revision, __ATOMIC_RELEASE);
        }
    }
    scopes_unlock(scopes);
}

/* The one letter a scope goes by in the hash; 0 for one unknown. */
static char scopes_tag(const char *scope)
{
    static const char *const names[] = { "site", "model", "phone" };
    static const char tags[] = { 's', 'm', 'p' };
    apr_size_t i;

    for (i = 0; i < sizeof(tags); i++) {
        if (!strcmp(scope, names[i])) {
            return tags[i];
        }
    }
    return 0;
}

/* The name a scope's key goes by in the hash, in @a buf: its tag, then
 * the key without trailing spaces. MariaDB compares keys so (PAD SPACE),
 * and a site 'HQ ' there is the same as 'HQ': taking them as one here
 * can only make a file stale, never keep one. 0 when it does not fit. */
static apr_size_t scopes_name(char tag, const char *key, apr_size_t len,
                              char *buf, apr_size_t size)
{
    while (len && key[len - 1] == ' ') {
        len--;
    }
    if (len + 1 > size) {
        return 0;
    }
    buf[0] = tag;
    memcpy(buf + 1, key, len);
    return len + 1;
}

/* Called with the lock held: the revision @a key of @a tag last moved at,
 * -1 when not since the floor. */
static apr_int64_t scopes_last(polycom_scopes *scopes, char tag,
                               const char *key, apr_size_t len)
{
    char buf[SCOPES_NAME_MAX];
    apr_size_t name_len = scopes_name(tag, key, len, buf, sizeof(buf));
    const apr_int64_t *at;

    if (!name_len) {
        return APR_INT64_MAX;   /* too long to have been kept: moved */
    }
    at = apr_hash_get(scopes->moved, buf, (apr_ssize_t)name_len);
    return at ? *at : -1;
}

void polycom_scopes_moved(polycom_scopes *scopes, const char *scope,
                          const char *key, apr_int64_t revision)
{
    char tag = scopes_tag(scope);
    char buf[SCOPES_NAME_MAX];
    apr_size_t name_len;
    apr_int64_t *at;

    scopes_lock(scopes);
    if (!strcmp(scope, "global")) {
        if (revision > scopes->global) {
            scopes->global = revision;
        }
        scopes_unlock(scopes);
        return;
    }
    name_len = tag ? scopes_name(tag, key, strlen(key), buf, sizeof(buf))
                   : 0;
    if (!name_len) {
        /* reprovision is in every file; so is, to be safe, a scope of a
         * newer schema, and a key too long to keep (every file made of
         * it is judged moved anyway). */
        if (revision > scopes->wide) {
            scopes->wide = revision;
        }
        scopes_unlock(scopes);
        return;
    }
    at = apr_hash_get(scopes->moved, buf, (apr_ssize_t)name_len);
    if (!at) {
        /* A scope's first move since the record started: its name and
         * revision stay for the child's life (bounded by the scopes
         * there are). */
        at = apr_palloc(scopes->pool, sizeof(*at));
        *at = revision;
        apr_hash_set(scopes->moved, apr_pmemdup(scopes->pool, buf, name_len),
                     (apr_ssize_t)name_len, at);
    }
    else if (revision > *at) {
        *at = revision;
    }
    scopes_unlock(scopes);
}

void polycom_scopes_advance(polycom_scopes *scopes, apr_int64_t revision)
{
    scopes_lock(scopes);
    if (scopes->floor >= 0 && revision > scopes->through) {
        __atomic_store_n(&scopes->through, revision, __ATOMIC_RELEASE);
    }
    scopes_unlock(scopes);
}

const char *polycom_scopes_of(apr_pool_t *pool, const char *site,
                              const char *model, const char *mac,
                              apr_size_t *len)
{
    apr_size_t site_len = strlen(site), model_len = strlen(model);
    apr_size_t mac_len = strlen(mac);
    char *made_of;

    /* NUL between the three: a site's name may hold any other byte. */
    *len = site_len + 1 + model_len + 1 + mac_len;
    made_of = apr_palloc(pool, *len + 1);
    memcpy(made_of, site, site_len + 1);
    memcpy(made_of + site_len + 1, model, model_len + 1);
    memcpy(made_of + site_len + 1 + model_len + 1, mac, mac_len + 1);
    return made_of;
}

const char *polycom_scopes_of_phone(apr_pool_t *pool, const char *mac,
                                    apr_size_t *len)
{
    apr_size_t mac_len = strlen(mac);
    char *made_of = apr_palloc(pool, mac_len + 2);

    /* A NUL, then the MAC: one NUL where polycom_scopes_of makes two. */
    made_of[0] = '\0';
    memcpy(made_of + 1, mac, mac_len + 1);
    *len = mac_len + 1;
    return made_of;
}

/* Whether @a made_of is polycom_scopes_of_phone's: of no layer. */
static int scopes_phone_only(const char *made_of, apr_size_t len)
{
    return len > 1 && made_of[0] == '\0'
           && !memchr(made_of + 1, '\0', len - 1);
}

int polycom_scopes_same(polycom_scopes *scopes, const char *made_of,
                        apr_size_t len, apr_int64_t rendered,
                        apr_int64_t now)
{
    apr_int64_t low = rendered < now ? rendered : now;
    apr_int64_t high = rendered < now ? now : rendered;
    static const char tags[] = { 's', 'm', 'p' };
    const char *part = made_of, *end = made_of + len;
    int same, i;

    if (rendered == now) {
        return rendered >= 0;
    }
    if (!scopes || !len || rendered < 0 || now < 0) {
        return 0;
    }
    scopes_lock(scopes);
    same = scopes->floor >= 0 && low >= scopes->floor
           && high <= scopes->through && scopes->wide <= low;
    if (scopes_phone_only(made_of, len)) {
        same = same && scopes_last(scopes, 'p', made_of + 1, len - 1) <= low;
        scopes_unlock(scopes);
        return same;
    }
    same = same && scopes->global <= low;
    for (i = 0; same && i < 3; i++) {
        const char *nul = memchr(part, '\0', (apr_size_t)(end - part));
        apr_size_t part_len = nul ? (apr_size_t)(nul - part)
                                  : (apr_size_t)(end - part);

        if (!nul && i < 2) {
            same = 0;   /* not what polycom_scopes_of makes */
            break;
        }
        same = scopes_last(scopes, tags[i], part, part_len) <= low;
        part = nul ? nul + 1 : end;
    }
    scopes_unlock(scopes);
    return same;
}

apr_int64_t polycom_scopes_stale_below(polycom_scopes *scopes,
                                       int of_layers)
{
    apr_int64_t below;

    scopes_lock(scopes);
    below = scopes->wide > scopes->floor ? scopes->wide : scopes->floor;
    if (of_layers && scopes->global > below) {
        below = scopes->global;
    }
    scopes_unlock(scopes);
    return below;
}
