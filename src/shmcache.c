/* The render cache shared by the children (include/polycom_shmcache.h):
 * a table of fixed-size slots in shared memory, two candidate slots per
 * key, each guarded by a sequence number instead of a lock. */

#include <string.h>

#include <apr_strings.h>

#include "polycom_shmcache.h"

#define SHMCACHE_MAGIC 0x70637368u   /* "pcsh" */

/* A slot: these fields, then the key, the ETag (each with its NUL) and
 * the body. */
typedef struct {
    apr_uint32_t seq;           /* odd while a writer fills the slot */
    apr_uint32_t used;          /* bytes of data; 0: empty */
    apr_uint64_t hash;
    apr_int64_t revision;
    apr_uint32_t key_len;       /* with its NUL, as etag_len */
    apr_uint32_t etag_len;
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

/* Reads one slot into a copy; 1 when it held @a key at @a revision and
 * no writer touched it meanwhile. */
static int shmcache_read(polycom_shmcache *cache, shmcache_slot *slot,
                         apr_uint64_t hash, const char *key,
                         apr_size_t key_len, apr_int64_t revision,
                         apr_pool_t *pool, const char **body,
                         apr_size_t *len, const char **etag)
{
    apr_uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
    apr_uint32_t used, etag_len;
    char *copy;

    if ((seq & 1) || slot->hash != hash || slot->revision != revision
        || slot->key_len != key_len + 1) {
        return 0;
    }
    used = slot->used;
    etag_len = slot->etag_len;
    if (used > cache->slot_size - sizeof(*slot)
        || (apr_size_t)key_len + 1 + etag_len > used || !etag_len) {
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
    *etag = copy + key_len + 1;
    *body = *etag + etag_len;
    *len = used - (key_len + 1 + etag_len);
    return 1;
}

int polycom_shmcache_get(polycom_shmcache *cache, const char *key,
                         apr_int64_t revision, apr_pool_t *pool,
                         const char **body, apr_size_t *len,
                         const char **etag)
{
    apr_uint64_t hash = shmcache_hash(key);
    apr_uint64_t pair = hash % cache->pairs;
    apr_size_t key_len = strlen(key);
    int i;

    for (i = 0; i < 2; i++) {
        if (shmcache_read(cache, shmcache_slot_at(cache, pair * 2 + i),
                          hash, key, key_len, revision, pool, body, len,
                          etag)) {
            return 1;
        }
    }
    return 0;
}

int polycom_shmcache_peek(polycom_shmcache *cache, const char *key,
                          apr_int64_t *revision)
{
    apr_uint64_t hash = shmcache_hash(key);
    apr_uint64_t pair = hash % cache->pairs;
    int i, found = 0;

    /* Neither the sequence number nor the key: a hint, read racily on
     * purpose (a torn read only sends the caller the longer way). */
    for (i = 0; i < 2; i++) {
        shmcache_slot *slot = shmcache_slot_at(cache, pair * 2 + i);

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
                         apr_int64_t revision, const char *body,
                         apr_size_t len, const char *etag)
{
    apr_uint64_t hash = shmcache_hash(key);
    apr_uint64_t pair = hash % cache->pairs;
    apr_size_t key_len = strlen(key) + 1, etag_len = strlen(etag) + 1;
    apr_size_t used = key_len + etag_len + len;
    shmcache_slot *a = shmcache_slot_at(cache, pair * 2);
    shmcache_slot *b = shmcache_slot_at(cache, pair * 2 + 1);
    shmcache_slot *slot;
    apr_uint32_t seq;
    char *data;

    if (revision < 0 || used > cache->slot_size - sizeof(*slot)) {
        return 0;
    }
    /* The slot of the same key (a hash says so; the copy checks the key),
     * else an empty one, else the one rendered at the older revision. */
    if (b->hash == hash && b->used) {
        slot = b;
    }
    else if (a->hash == hash && a->used) {
        slot = a;
    }
    else if (!a->used) {
        slot = a;
    }
    else if (!b->used) {
        slot = b;
    }
    else {
        slot = b->revision < a->revision ? b : a;
    }
    seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
    if ((seq & 1)
        || !__atomic_compare_exchange_n(&slot->seq, &seq, seq + 1, 0,
                                        __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        return 0;       /* another writer has it: theirs is as good */
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->hash = hash;
    slot->revision = revision;
    slot->key_len = (apr_uint32_t)key_len;
    slot->etag_len = (apr_uint32_t)etag_len;
    slot->used = (apr_uint32_t)used;
    data = (char *)(slot + 1);
    memcpy(data, key, key_len);
    memcpy(data + key_len, etag, etag_len);
    memcpy(data + key_len + etag_len, body, len);
    __atomic_store_n(&slot->seq, seq + 2, __ATOMIC_RELEASE);
    return 1;
}
