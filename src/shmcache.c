/* The render cache shared by the children (include/polycom_shmcache.h):
 * a table of fixed-size slots in shared memory, each guarded by a sequence
 * number instead of a lock. A key may live in four slots: two pairs,
 * chosen by two hashes of it, and a new key goes to the pair with more
 * room. With one pair a key, a cache sized at two slots a file (make
 * bench's: four 1 KB slots a phone) lost about a tenth of its files to
 * neighbours that hashed to the same pair, each then rendered again on
 * every ask (measured at 100,000 phones: 8.7 % misses after every phone
 * had asked once); choosing the emptier of two pairs leaves about 1 %
 * out at that size (the unit test fills a cache so and counts). */

#include <string.h>

#include <apr_strings.h>

#include "polycom_shmcache.h"

#define SHMCACHE_MAGIC 0x70637368u   /* "pcsh" */

/* A slot: these fields, then the key, the ETag (each with its NUL), what
 * the body is made of, what the caller keeps aside with it, and the body
 * (last, so that a copy of it ends in a NUL). */
typedef struct {
    apr_uint32_t seq;           /* odd while a writer fills the slot */
    apr_uint32_t used;          /* bytes of data; 0: empty */
    apr_uint64_t hash;
    apr_int64_t revision;
    apr_uint32_t key_len;       /* with its NUL, as etag_len */
    apr_uint32_t etag_len;
    apr_uint32_t made_of_len;
    apr_uint32_t aside_len;
} shmcache_slot;

struct polycom_shmcache {
    apr_uint32_t magic;
    apr_uint32_t slot_size;
    apr_uint64_t pairs;         /* slots / 2 */
    /* then the slots, each slot_size bytes */
};

static shmcache_slot *shmcache_slot_at(polycom_shmcache *cache,
                                       apr_uint64_t i)
{
    return (shmcache_slot *)((char *)cache
                             + APR_ALIGN_DEFAULT(sizeof(*cache))
                             + (apr_size_t)i * cache->slot_size);
}

/* FNV-1a, 64 bits: keys differ in a few characters (the MAC). */
static apr_uint64_t shmcache_hash(const char *key)
{
    apr_uint64_t h = APR_UINT64_C(14695981039346656037);

    for (; *key; key++) {
        h ^= (unsigned char)*key;
        h *= APR_UINT64_C(1099511628211);
    }
    return h;
}

/* The two pairs a key may live in: the second from the hash mixed again
 * (splitmix64's finaliser), so that keys sharing one pair scatter over
 * others for the second; never the same pair twice when there are two. */
static void shmcache_pairs(const polycom_shmcache *cache, apr_uint64_t hash,
                           apr_uint64_t pairs[2])
{
    apr_uint64_t x = hash;

    x ^= x >> 30;
    x *= APR_UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= APR_UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    pairs[0] = hash % cache->pairs;
    pairs[1] = x % cache->pairs;
    if (pairs[1] == pairs[0] && cache->pairs > 1) {
        pairs[1] = (pairs[0] + 1) % cache->pairs;
    }
}

/* The i-th of a key's four candidate slots, i from 0 to 3. */
static shmcache_slot *shmcache_candidate(polycom_shmcache *cache,
                                         const apr_uint64_t pairs[2], int i)
{
    return shmcache_slot_at(cache, pairs[i / 2] * 2 + i % 2);
}

polycom_shmcache *polycom_shmcache_init(void *base, apr_size_t bytes,
                                        apr_size_t slot_size)
{
    polycom_shmcache *cache = base;
    apr_size_t head = APR_ALIGN_DEFAULT(sizeof(*cache));

    if (slot_size < POLYCOM_SHMCACHE_SLOT_MIN
        || slot_size > POLYCOM_SHMCACHE_SLOT_MAX || slot_size % 8
        || bytes < head + 2 * slot_size) {
        return NULL;
    }
    memset(base, 0, head);
    cache->magic = SHMCACHE_MAGIC;
    cache->slot_size = (apr_uint32_t)slot_size;
    cache->pairs = (bytes - head) / slot_size / 2;
    memset(shmcache_slot_at(cache, 0), 0,
           (apr_size_t)cache->pairs * 2 * slot_size);
    return cache;
}

apr_size_t polycom_shmcache_slots(const polycom_shmcache *cache)
{
    return (apr_size_t)cache->pairs * 2;
}

/* Reads one slot into a copy; 1 when it held @a key and no writer
 * touched it meanwhile. */
static int shmcache_read(polycom_shmcache *cache, shmcache_slot *slot,
                         apr_uint64_t hash, const char *key,
                         apr_size_t key_len, apr_pool_t *pool,
                         polycom_cached *found)
{
    apr_uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
    apr_uint32_t used, etag_len, made_of_len, aside_len;
    apr_int64_t revision;
    char *copy;

    if ((seq & 1) || slot->hash != hash || slot->key_len != key_len + 1) {
        return 0;
    }
    used = slot->used;
    etag_len = slot->etag_len;
    made_of_len = slot->made_of_len;
    aside_len = slot->aside_len;
    revision = slot->revision;
    if (used > cache->slot_size - sizeof(*slot)
        || (apr_size_t)key_len + 1 + etag_len + made_of_len + aside_len
           > used
        || !etag_len) {
        return 0;       /* torn by a writer: the check below says so */
    }
    copy = apr_palloc(pool, used + 1);
    memcpy(copy, slot + 1, used);
    copy[used] = '\0';
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&slot->seq, __ATOMIC_RELAXED) != seq
        || memcmp(copy, key, key_len + 1)
        || copy[key_len + 1 + etag_len - 1] != '\0') {
        return 0;
    }
    found->revision = revision;
    found->etag = copy + key_len + 1;
    found->made_of = found->etag + etag_len;
    found->made_of_len = made_of_len;
    found->aside = found->made_of + made_of_len;
    found->aside_len = aside_len;
    found->body = found->aside + aside_len;
    found->len = used - (key_len + 1 + etag_len + made_of_len + aside_len);
    return 1;
}

int polycom_shmcache_find(polycom_shmcache *cache, const char *key,
                          apr_pool_t *pool, polycom_cached *found)
{
    apr_uint64_t hash = shmcache_hash(key);
    apr_uint64_t pairs[2];
    apr_size_t key_len = strlen(key);
    polycom_cached one;
    int i, any = 0;

    /* Two writers may each have put the key in a slot of its own: the
     * newest is the one to judge. */
    shmcache_pairs(cache, hash, pairs);
    for (i = 0; i < 4; i++) {
        if (shmcache_read(cache, shmcache_candidate(cache, pairs, i), hash,
                          key, key_len, pool, &one)
            && (!any || one.revision > found->revision)) {
            *found = one;
            any = 1;
        }
    }
    return any;
}

int polycom_shmcache_peek(polycom_shmcache *cache, const char *key,
                          apr_int64_t *revision)
{
    apr_uint64_t hash = shmcache_hash(key);
    apr_uint64_t pairs[2];
    int i, found = 0;

    /* Neither the sequence number nor the key: a hint, read racily on
     * purpose (a torn read only sends the caller the longer way). */
    shmcache_pairs(cache, hash, pairs);
    for (i = 0; i < 4; i++) {
        shmcache_slot *slot = shmcache_candidate(cache, pairs, i);

        if (__atomic_load_n(&slot->hash, __ATOMIC_RELAXED) == hash
            && __atomic_load_n(&slot->used, __ATOMIC_RELAXED)) {
            apr_int64_t r = __atomic_load_n(&slot->revision,
                                            __ATOMIC_RELAXED);

            if (!found || r > *revision) {
                *revision = r;
            }
            found = 1;
        }
    }
    return found;
}

int polycom_shmcache_put(polycom_shmcache *cache, const char *key,
                         apr_int64_t revision, const char *made_of,
                         apr_size_t made_of_len, const char *body,
                         apr_size_t len, const char *etag)
{
    return polycom_shmcache_put_aside(cache, key, revision, made_of,
                                      made_of_len, body, len, etag, NULL, 0);
}

int polycom_shmcache_put_aside(polycom_shmcache *cache, const char *key,
                               apr_int64_t revision, const char *made_of,
                               apr_size_t made_of_len, const char *body,
                               apr_size_t len, const char *etag,
                               const char *aside, apr_size_t aside_len)
{
    apr_uint64_t hash = shmcache_hash(key);
    apr_uint64_t pairs[2];
    apr_size_t key_len = strlen(key) + 1, etag_len = strlen(etag) + 1;
    apr_size_t used;
    shmcache_slot *candidates[4], *slot = NULL;
    apr_uint32_t seq;
    char *data;
    int i, empty[2];

    if (!made_of) {
        made_of = "";
        made_of_len = 0;
    }
    /* The body is what the slot is for: without room for both, the
     * aside is left out (a later render reads it again). */
    if (!aside
        || key_len + etag_len + made_of_len + aside_len + len
           > cache->slot_size - sizeof(*slot)) {
        aside = "";
        aside_len = 0;
    }
    used = key_len + etag_len + made_of_len + aside_len + len;
    if (revision < 0 || used > cache->slot_size - sizeof(*slot)) {
        return 0;
    }
    shmcache_pairs(cache, hash, pairs);
    for (i = 0; i < 4; i++) {
        candidates[i] = shmcache_candidate(cache, pairs, i);
    }
    /* The slot of the same key (a hash says so; the copy checks the key),
     * else an empty one of the pair with more empty slots, else the one
     * rendered at the oldest revision (the first pair's on a tie). */
    for (i = 0; i < 4 && !slot; i++) {
        if (candidates[i]->hash == hash && candidates[i]->used) {
            slot = candidates[i];
        }
    }
    empty[0] = !candidates[0]->used + !candidates[1]->used;
    empty[1] = !candidates[2]->used + !candidates[3]->used;
    if (!slot && (empty[0] || empty[1])) {
        int pair = empty[1] > empty[0] ? 1 : 0;

        slot = !candidates[pair * 2]->used ? candidates[pair * 2]
                                           : candidates[pair * 2 + 1];
    }
    if (!slot) {
        slot = candidates[0];
        for (i = 1; i < 4; i++) {
            if (candidates[i]->revision < slot->revision) {
                slot = candidates[i];
            }
        }
    }
    seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
    if ((seq & 1)
        || !__atomic_compare_exchange_n(&slot->seq, &seq, seq + 1, 0,
                                        __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        return 0;       /* another writer has it: theirs is as good */
    }
    /* A render that took longer than a change must not replace what was
     * rendered after that change: the phones would get this file rendered
     * again at every ask until the next render of the newer revision.
     * Looked at once the slot is ours, as another writer may have moved
     * it on since the choice above. The contents stay as they were. */
    if (slot->hash == hash && slot->used && slot->revision > revision) {
        __atomic_store_n(&slot->seq, seq + 2, __ATOMIC_RELEASE);
        return 0;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->hash = hash;
    slot->revision = revision;
    slot->key_len = (apr_uint32_t)key_len;
    slot->etag_len = (apr_uint32_t)etag_len;
    slot->made_of_len = (apr_uint32_t)made_of_len;
    slot->aside_len = (apr_uint32_t)aside_len;
    slot->used = (apr_uint32_t)used;
    data = (char *)(slot + 1);
    memcpy(data, key, key_len);
    data += key_len;
    memcpy(data, etag, etag_len);
    data += etag_len;
    memcpy(data, made_of, made_of_len);
    data += made_of_len;
    memcpy(data, aside, aside_len);
    memcpy(data + aside_len, body, len);
    __atomic_store_n(&slot->seq, seq + 2, __ATOMIC_RELEASE);
    return 1;
}
