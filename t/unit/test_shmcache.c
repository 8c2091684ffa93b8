/* TAP tests of src/shmcache.c, the render cache the children share: a hit
 * is exactly what was rendered at that revision, never another's, the
 * cache never grows past its slots, and readers in other processes never
 * see a body half written while writers fill the same slots. Also the
 * merge of a phone's own parameters over its layers (src/param.c). */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "params.h"
#include "polycom_param.h"
#include "polycom_shmcache.h"
#include "polycom_store.h"
#include "tap.h"

static apr_pool_t *pool;

/* The entry kept for @a key, if any, at @a revision in @a p. */
static int kept_at(polycom_shmcache *cache, const char *key,
                   apr_int64_t revision, apr_pool_t *p, polycom_cached *found)
{
    return polycom_shmcache_find(cache, key, p, found)
           && found->revision == revision;
}

static int has(polycom_shmcache *cache, const char *key,
               apr_int64_t revision, const char *want)
{
    polycom_cached found;

    return kept_at(cache, key, revision, pool, &found)
           && found.len == strlen(want) && !memcmp(found.body, want, found.len);
}

/* What phone i's file holds at revision r: a reader can tell a body
 * of another phone or revision, or a torn one. */
static const char *body_of(apr_pool_t *p, int i, apr_int64_t r)
{
    return apr_psprintf(p, "<polycomConfig phone=\"%d\" at=\"%" APR_INT64_T_FMT
                        "\" pad=\"%0*d\"/>", i, r, 100 + i % 300, i);
}

/* Readers and writers in several processes over one cache: every hit is
 * the body of that very key and revision. */
static int concurrent(polycom_shmcache *cache, int keys)
{
    pid_t pids[4];
    int n, failures = 0;

    for (n = 0; n < 4; n++) {
        pids[n] = fork();
        if (pids[n] == 0) {
            apr_pool_t *p;
            int bad = 0, round;

            apr_pool_create(&p, NULL);
            for (round = 0; round < 20000; round++) {
                int i = (round * 7919 + n * 104729) % keys;
                apr_int64_t r = round % 3;
                const char *key = apr_psprintf(p, "/prov/%012d.cfg", i);
                polycom_cached found;

                if (n % 2) {
                    const char *b = body_of(p, i, r);

                    polycom_shmcache_put_aside(cache, key, r, NULL, 0, b,
                                               strlen(b), "\"e\"", key,
                                               strlen(key) + 1);
                }
                else if (polycom_shmcache_find(cache, key, p, &found)) {
                    const char *want = body_of(p, i, found.revision);

                    bad += found.len != strlen(want)
                           || memcmp(found.body, want, found.len)
                           || found.aside_len != strlen(key) + 1
                           || memcmp(found.aside, key, found.aside_len)
                           || strcmp(found.etag, "\"e\"");
                }
                if (round % 256 == 0) {
                    apr_pool_clear(p);
                }
            }
            _exit(bad ? 1 : 0);
        }
    }
    for (n = 0; n < 4; n++) {
        int status = 0;

        waitpid(pids[n], &status, 0);
        failures += !WIFEXITED(status) || WEXITSTATUS(status);
    }
    return failures;
}

int main(void)
{
    apr_shm_t *shm;
    polycom_shmcache *cache;
    polycom_cached hit;
    apr_size_t len;
    char big[2048];
    int i, kept;
    static const char *const layers[] = {
        "a.one", "global", "b.two", "site", "d.four", "model", NULL
    };
    static const char *const own[] = {
        "b.two", "phone", "c.three", "phone", "e.five", "phone", NULL
    };
    apr_array_header_t *merged, *unpacked;
    const char *packed;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    tap_ok(apr_shm_create(&shm, 64 * 1024, NULL, pool) == APR_SUCCESS,
           "64 KB of anonymous shared memory");
    tap_ok(polycom_shmcache_init(apr_shm_baseaddr_get(shm), 64 * 1024, 100)
           == NULL, "a slot under 512 bytes is refused");
    cache = polycom_shmcache_init(apr_shm_baseaddr_get(shm), 64 * 1024,
                                  1024);
    tap_ok(cache && polycom_shmcache_slots(cache) == 62,
           "64 KB in slots of 1 KB: 62 slots beside the header");
    tap_ok(!has(cache, "/prov/a.cfg", 1, "<a/>"), "empty: a miss");

    tap_ok(polycom_shmcache_put(cache, "/prov/a.cfg", 1, NULL, 0, "<a/>", 4,
                                "\"e1\""), "kept");
    tap_ok(kept_at(cache, "/prov/a.cfg", 1, pool, &hit)
           && hit.len == 4 && !memcmp(hit.body, "<a/>", 4)
           && !strcmp(hit.etag, "\"e1\""),
           "a hit gives the very bytes and ETag that were rendered");
    tap_ok(!has(cache, "/prov/a.cfg", 2, "<a/>"),
           "at a newer revision the old body is not served");
    tap_ok(!has(cache, "/prov/b.cfg", 1, "<a/>"), "another file: a miss");
    polycom_shmcache_put(cache, "/prov/a.cfg", 2, NULL, 0, "<a2/>", 5,
                         "\"e2\"");
    tap_ok(has(cache, "/prov/a.cfg", 2, "<a2/>")
           && !has(cache, "/prov/a.cfg", 1, "<a/>"),
           "rendered again at a newer revision: the newer body only");
    tap_ok(!polycom_shmcache_put(cache, "/prov/a.cfg", 1, NULL, 0, "<a1/>",
                                 5, "\"e1\"")
           && has(cache, "/prov/a.cfg", 2, "<a2/>"),
           "a slow render at an older revision does not replace the newer "
           "body");
    {
        apr_int64_t kept = -1;

        tap_ok(polycom_shmcache_peek(cache, "/prov/a.cfg", &kept)
               && kept == 2,
               "peek: a kept file is found with its newest revision");
        tap_ok(!polycom_shmcache_peek(cache, "/prov/never.cfg", &kept),
               "peek: a file never kept is a miss at any revision (the "
               "cold path skips the revision's own read)");
    }

    {
        polycom_cached found;

        tap_ok(polycom_shmcache_put(cache, "/prov/m.cfg", 4,
                                    "hq\0VVX411\0" "0004f2000001", 21,
                                    "<m/>", 4, "\"m\"")
               && polycom_shmcache_find(cache, "/prov/m.cfg", pool, &found)
               && found.revision == 4 && found.made_of_len == 21
               && !memcmp(found.made_of, "hq\0VVX411\0" "0004f2000001", 21)
               && found.len == 4 && !memcmp(found.body, "<m/>", 4)
               && !strcmp(found.etag, "\"m\""),
               "find gives the revision, what the file is made of (NUL "
               "bytes and all), the body and ETag");
        tap_ok(polycom_shmcache_find(cache, "/prov/a.cfg", pool, &found)
               && found.revision == 2 && found.made_of_len == 0
               && found.len == 5 && !memcmp(found.body, "<a2/>", 5),
               "find gives a file kept without what it is made of, at its "
               "revision");
        tap_ok(!polycom_shmcache_find(cache, "/prov/never.cfg", pool,
                                      &found),
               "find: a file never kept is not found");
    }

    /* What the caller keeps aside with a body: a phone's part of its
     * settings (polycom_phone_at_pack), reused once the layers moved. */
    {
        polycom_cached found;
        char aside[600];

        tap_ok(polycom_shmcache_put_aside(cache, "/prov/s.cfg", 5,
                                          "hq\0VVX411\0" "0004f2000001", 22,
                                          "<s/>", 4, "\"s\"", "p\0q\0", 4)
               && polycom_shmcache_find(cache, "/prov/s.cfg", pool, &found)
               && found.revision == 5 && found.made_of_len == 22
               && found.aside_len == 4 && !memcmp(found.aside, "p\0q\0", 4)
               && found.len == 4 && !strcmp(found.body, "<s/>")
               && !strcmp(found.etag, "\"s\""),
               "kept with an aside: find gives it back, and the body after "
               "it, whole and ending in a NUL");
        tap_ok(polycom_shmcache_find(cache, "/prov/m.cfg", pool, &found)
               && found.aside_len == 0 && !strcmp(found.body, "<m/>"),
               "kept without one: an empty aside");
        memset(big, 'y', 700);
        big[700] = '\0';
        memset(aside, 'a', sizeof(aside));
        tap_ok(polycom_shmcache_put_aside(cache, "/prov/t.cfg", 6, NULL, 0,
                                          big, 700, "\"t\"", aside,
                                          sizeof(aside))
               && polycom_shmcache_find(cache, "/prov/t.cfg", pool, &found)
               && found.aside_len == 0 && found.len == 700
               && !memcmp(found.body, big, 700),
               "a body and an aside too big for one slot together: the body "
               "is kept, the aside left out");
    }

    memset(big, 'x', sizeof(big));
    tap_ok(!polycom_shmcache_put(cache, "/prov/big.cfg", 2, NULL, 0, big,
                                 sizeof(big), "\"b\""),
           "a body bigger than a slot is not kept (the child's cache takes "
           "it)");
    tap_ok(!has(cache, "/prov/big.cfg", 2, "x"), "and is a miss");

    /* Far more files than slots: what is kept stays in the slots, and the
     * file written last is there. */
    for (i = 0; i < 1000; i++) {
        const char *key = apr_psprintf(pool, "/prov/%012d.cfg", i);
        const char *b = body_of(pool, i, 3);

        polycom_shmcache_put(cache, key, 3, NULL, 0, b, strlen(b),
                             "\"e\"");
    }
    for (i = 0, kept = 0; i < 1000; i++) {
        kept += has(cache, apr_psprintf(pool, "/prov/%012d.cfg", i), 3,
                    body_of(pool, i, 3));
    }
    tap_ok(kept > 0 && kept <= 62,
           "1000 files in 62 slots: %d kept, every one exact", kept);
    tap_ok(has(cache, "/prov/000000000999.cfg", 3, body_of(pool, 999, 3)),
           "the last one written is there");

    /* Sized as the docs and make bench size it: two slots a file. Each
     * file then finds a slot of its own but about one in a hundred (with
     * one pair a key, one in ten was lost to neighbours and rendered again
     * on every ask). */
    tap_ok(apr_shm_create(&shm, 4 * 1024 * 1024, NULL, pool) == APR_SUCCESS,
           "4 MB of anonymous shared memory");
    cache = polycom_shmcache_init(apr_shm_baseaddr_get(shm), 4 * 1024 * 1024,
                                  512);
    for (i = 0; i < (int)polycom_shmcache_slots(cache) / 2; i++) {
        const char *key = apr_psprintf(pool, "/prov/0004f2%06x-settings.cfg",
                                       i);

        polycom_shmcache_put(cache, key, 7, NULL, 0, key, strlen(key),
                             "\"e\"");
    }
    for (i = 0, kept = 0; i < (int)polycom_shmcache_slots(cache) / 2; i++) {
        const char *key = apr_psprintf(pool, "/prov/0004f2%06x-settings.cfg",
                                       i);

        kept += has(cache, key, 7, key);
    }
    tap_ok(kept >= (int)polycom_shmcache_slots(cache) / 2 * 97 / 100,
           "%d files in %d slots: %d kept (at least 97 %% wanted)",
           (int)polycom_shmcache_slots(cache) / 2,
           (int)polycom_shmcache_slots(cache), kept);

    tap_ok(apr_shm_create(&shm, 1024 * 1024, NULL, pool) == APR_SUCCESS,
           "1 MB of anonymous shared memory");
    cache = polycom_shmcache_init(apr_shm_baseaddr_get(shm), 1024 * 1024,
                                  1024);
    tap_ok(concurrent(cache, 3000) == 0,
           "two writers and two readers in four processes: no torn or "
           "foreign body or aside is ever a hit");

    merged = polycom_params_merge(pool, unit_params(pool, layers),
                                  unit_params(pool, own));
    tap_ok(merged->nelts == 5,
           "layers and the phone's own: one entry per name");
    tap_ok(!strcmp(APR_ARRAY_IDX(merged, 1, polycom_param).name, "b.two")
           && !strcmp(APR_ARRAY_IDX(merged, 1, polycom_param).value, "phone"),
           "the phone's own value wins over a layer's");
    tap_ok(!strcmp(APR_ARRAY_IDX(merged, 0, polycom_param).value, "global")
           && !strcmp(APR_ARRAY_IDX(merged, 2, polycom_param).name, "c.three")
           && !strcmp(APR_ARRAY_IDX(merged, 4, polycom_param).name, "e.five"),
           "sorted by name, the layers' own names kept");
    packed = polycom_params_pack(pool, merged, &len);
    unpacked = polycom_params_unpack(pool, packed, len);
    tap_ok(unpacked->nelts == 5
           && !strcmp(APR_ARRAY_IDX(unpacked, 3, polycom_param).name,
                      "d.four")
           && !strcmp(APR_ARRAY_IDX(unpacked, 3, polycom_param).value,
                      "model"),
           "packed for the layer cache and back: the same list");

    /* A phone's part of its settings, as kept aside: its row, whether a
     * move is set up and its own parameters, every byte as read. */
    {
        polycom_phone phone = { "0004f2000001", "VVX411",
                                "H\xc3\xa9 site", "Line\n1 \"q\" %s", 0 };
        polycom_phone_at at = { 7, 1, &phone, NULL }, back;
        const char *bytes;
        apr_size_t n;

        at.own = unit_params(pool, own);
        bytes = polycom_phone_at_pack(pool, &at, &n);
        tap_ok(bytes && polycom_phone_at_unpack(pool, bytes, n,
                                                "0004f2000001", 9, &back) == 0
               && back.revision == 9 && back.moves == 1
               && !strcmp(back.phone->mac, "0004f2000001")
               && !strcmp(back.phone->model, "VVX411")
               && !strcmp(back.phone->site, "H\xc3\xa9 site")
               && !strcmp(back.phone->label, "Line\n1 \"q\" %s")
               && back.phone->enabled == 0 && back.own->nelts == 3
               && !strcmp(APR_ARRAY_IDX(back.own, 2, polycom_param).name,
                          "e.five")
               && !strcmp(APR_ARRAY_IDX(back.own, 2, polycom_param).value,
                          "phone"),
               "a phone's part packed and back: the same row, flags and "
               "parameters, at the revision it is judged the same at");
        tap_ok(polycom_phone_at_unpack(pool, bytes, n, "0004f2000002", 9,
                                       &back) == -1,
               "another MAC's part is refused");
        tap_ok(polycom_phone_at_unpack(pool, bytes, n - 1, "0004f2000001", 9,
                                       &back) == -1
               && polycom_phone_at_unpack(pool, bytes, 14, "0004f2000001", 9,
                                          &back) == -1
               && polycom_phone_at_unpack(pool, "", 0, "0004f2000001", 9,
                                          &back) == -1,
               "cut short of its last NUL: refused, never read past its "
               "end");
        tap_ok(polycom_phone_at_unpack(pool, "0004f2000001\0m\0s\0l\0" "10\0"
                                       "a.b\0", 26, "0004f2000001", 9,
                                       &back) == -1
               && polycom_phone_at_unpack(pool, "0004f2000001\0m\0s\0l\0"
                                          "1x\0", 22, "0004f2000001", 9,
                                          &back) == -1
               && polycom_phone_at_unpack(pool, "0004f2000001\0m\0s\0l\0",
                                          19, "0004f2000001", 9,
                                          &back) == -1,
               "a name without its value, a flag not 0 or 1, no flags: "
               "refused");
        at.own = apr_array_make(pool, 1, sizeof(polycom_param));
        phone.enabled = 1;
        at.moves = 0;
        bytes = polycom_phone_at_pack(pool, &at, &n);
        tap_ok(polycom_phone_at_unpack(pool, bytes, n, "0004f2000001", 3,
                                       &back) == 0
               && back.own->nelts == 0 && back.phone->enabled == 1
               && back.moves == 0,
               "a phone without parameters of its own, no move set up");
        at.phone = NULL;
        tap_ok(polycom_phone_at_pack(pool, &at, &n) == NULL,
               "an unknown phone has no part to keep");
    }
    return tap_done();
}
