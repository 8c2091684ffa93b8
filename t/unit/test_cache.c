/* TAP tests of src/cache.c, the render cache: what a phone gets from it
 * is exactly what was rendered, with the revision it was rendered at and
 * what it is made of (its caller judges whether it is still the same),
 * never replaced by an older render, and the cache stays within its
 * budget however many phones ask. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_cache.h"
#include "tap.h"

static apr_pool_t *pool;

static int refuse(void *baton, const polycom_cached *entry)
{
    (void)baton;
    (void)entry;
    return 0;
}

static int has(polycom_cache *cache, const char *key, apr_int64_t revision,
               const char *want_body)
{
    const char *body = NULL, *etag = NULL;
    apr_size_t len = 0;

    if (!polycom_cache_get(cache, key, revision, pool, &body, &len, &etag)) {
        return 0;
    }
    return !want_body || (len == strlen(want_body)
                          && !memcmp(body, want_body, len));
}

int main(void)
{
    polycom_cache *cache;
    const char *body, *etag;
    apr_size_t len, most;
    char key[64], big[2048];
    int i, early_kept, recent_kept;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    tap_ok(polycom_cache_create(pool, 0) == NULL,
           "PolycomCacheSize 0: no cache");

    cache = polycom_cache_create(pool, 64 * 1024);
    tap_ok(cache != NULL, "a cache of 64 KB");
    tap_ok(!has(cache, "/prov/a.cfg", 1, NULL), "empty: a miss");

    polycom_cache_put(cache, "/prov/a.cfg", 1, NULL, 0, "<a/>", 4, "\"e1\"");
    tap_ok(polycom_cache_get(cache, "/prov/a.cfg", 1, pool, &body, &len,
                             &etag)
           && len == 4 && !memcmp(body, "<a/>", 4) && !strcmp(etag, "\"e1\""),
           "a hit gives the very bytes and ETag that were rendered");
    tap_ok(!has(cache, "/prov/b.cfg", 1, NULL), "another file: a miss");
    tap_ok(!has(cache, "/prov/a.cfg", 2, NULL),
           "at a newer revision the old body is not served");

    polycom_cache_put(cache, "/prov/b.cfg", 2, NULL, 0, "<b/>", 4,
                      "\"e2\"");
    tap_ok(has(cache, "/prov/a.cfg", 1, "<a/>")
           && has(cache, "/prov/b.cfg", 2, "<b/>"),
           "a newer revision leaves the older entries for the caller to "
           "judge");

    polycom_cache_put(cache, "/prov/a.cfg", 3, "hq\0VVX411\0" "0004f2000001",
                      21, "<a3/>", 5, "\"e3\"");
    {
        polycom_cached found;

        tap_ok(polycom_cache_find(cache, "/prov/a.cfg", NULL, NULL, pool,
                                  &found)
               && found.revision == 3 && found.made_of_len == 21
               && !memcmp(found.made_of, "hq\0VVX411\0" "0004f2000001", 21)
               && found.len == 5 && !memcmp(found.body, "<a3/>", 5)
               && !strcmp(found.etag, "\"e3\""),
               "find gives the revision, what it is made of, the body and "
               "ETag, NUL bytes and all");
    }
    {
        polycom_cached found;

        tap_ok(!polycom_cache_find(cache, "/prov/a.cfg", refuse, NULL, pool,
                                   &found),
               "an entry its caller judges stale is not given");
    }
    polycom_cache_put(cache, "/prov/a.cfg", 2, NULL, 0, "<a2/>", 5,
                      "\"e2\"");
    tap_ok(has(cache, "/prov/a.cfg", 3, "<a3/>")
           && !has(cache, "/prov/a.cfg", 2, NULL),
           "a body read before a change (older revision) does not replace "
           "the newer one");
    polycom_cache_put(cache, "/prov/d.cfg", -1, NULL, 0, "<d/>", 4,
                      "\"e0\"");
    tap_ok(!has(cache, "/prov/d.cfg", -1, NULL),
           "nor one rendered without a revision");

    memset(big, 'x', sizeof(big));
    polycom_cache_put(cache, "/prov/huge.cfg", 2, NULL, 0, big, sizeof(big),
                      "\"h\"");
    polycom_cache_put(cache, "/prov/b.cfg", 2, NULL, 0, "<b/>", 4,
                      "\"e2\"");

    /* Many phones: the budget holds, the newest stay, the oldest age out. */
    most = 0;
    for (i = 0; i < 2000; i++) {
        apr_snprintf(key, sizeof(key), "/prov/%012x-settings.cfg", i);
        polycom_cache_put(cache, key, 2, NULL, 0, big, 200, "\"p\"");
        if (polycom_cache_bytes(cache) > most) {
            most = polycom_cache_bytes(cache);
        }
    }
    tap_ok(most <= 64 * 1024 && most > 32 * 1024,
           "2000 phones' files: at most %lu bytes kept, within 64 KB",
           (unsigned long)most);
    apr_snprintf(key, sizeof(key), "/prov/%012x-settings.cfg", 0);
    early_kept = has(cache, key, 2, NULL);
    apr_snprintf(key, sizeof(key), "/prov/%012x-settings.cfg", 1999);
    recent_kept = has(cache, key, 2, NULL);
    tap_ok(!early_kept, "the first phone's file aged out");
    tap_ok(recent_kept, "the last phone's file is kept");

    /* A hit in the old generation moves to the young one and survives the
     * next flip, while an entry nobody asked for again does not. */
    cache = polycom_cache_create(pool, 8 * 1024);
    polycom_cache_put(cache, "/prov/asked.cfg", 5, NULL, 0, big, 300,
                      "\"a\"");
    polycom_cache_put(cache, "/prov/forgotten.cfg", 5, NULL, 0, big, 300,
                      "\"f\"");
    for (i = 0; i < 9; i++) {       /* fills the young half: a flip */
        apr_snprintf(key, sizeof(key), "/prov/fill-%d.cfg", i);
        polycom_cache_put(cache, key, 5, NULL, 0, big, 300, "\"x\"");
    }
    tap_ok(has(cache, "/prov/asked.cfg", 5, NULL),
           "after one flip both are still in the old generation");
    for (i = 9; i < 40; i++) {      /* another flip or more */
        apr_snprintf(key, sizeof(key), "/prov/fill-%d.cfg", i);
        polycom_cache_put(cache, key, 5, NULL, 0, big, 300, "\"x\"");
        if (i % 6 == 0) {
            has(cache, "/prov/asked.cfg", 5, NULL);   /* the phone polls */
        }
    }
    tap_ok(has(cache, "/prov/asked.cfg", 5, NULL),
           "a file asked for again stays");
    tap_ok(!has(cache, "/prov/forgotten.cfg", 5, NULL),
           "a file nobody asked for again ages out");
    tap_ok(polycom_cache_bytes(cache) <= 8 * 1024, "still within 8 KB");

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
