/* mod_polycom: what moved in each database since a cached file was
 * rendered, as this child read it (table scope_revisions, src/scopes.c).
 * A phone's file is then served across edits of other phones, sites and
 * models (mod_polycom_prov.c).
 *
 * One record per database: virtual hosts may each have their own, with
 * revisions of their own, and one database's record says nothing of
 * another's. A database is mod_dbd's configuration group of its
 * connections (polycom_db_group). The records are few (one per distinct
 * DBDParams) and live as long as the child: a list read without a lock,
 * a record added under one.
 */

#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "mod_polycom_private.h"
#include "polycom_scopes.h"

struct polycom_moved {
    const void *group;
    polycom_scopes *scopes;
#if APR_HAS_THREADS
    apr_thread_mutex_t *reading;    /* one reader of the table at a time */
#endif
    int unread;                     /* the last read failed */
    apr_int64_t tried;              /* the revision of that read */
    polycom_moved *next;
};

static polycom_moved *moved_records = NULL;
static apr_pool_t *moved_pool = NULL;
#if APR_HAS_THREADS
static apr_thread_mutex_t *moved_adding = NULL;
#endif

void polycom_moved_init(apr_pool_t *pchild)
{
    moved_records = NULL;
    moved_pool = pchild;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&moved_adding, APR_THREAD_MUTEX_DEFAULT,
                                pchild) != APR_SUCCESS) {
        moved_pool = NULL;      /* no records: every file its revision only */
    }
#endif
}

/* Called with moved_adding held. Each record allocates from a pool of
 * its own, under its own lock (pools are not thread-safe). */
static polycom_moved *moved_add(const void *group)
{
    apr_pool_t *pool;
    polycom_moved *moved;

    if (apr_pool_create(&pool, moved_pool) != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_tag(pool, "polycom_moved");
    moved = apr_pcalloc(pool, sizeof(*moved));
    moved->group = group;
    moved->scopes = polycom_scopes_create(pool);
    moved->tried = -1;
    if (!moved->scopes
#if APR_HAS_THREADS
        || apr_thread_mutex_create(&moved->reading, APR_THREAD_MUTEX_DEFAULT,
                                   pool) != APR_SUCCESS
#endif
        ) {
        apr_pool_destroy(pool);
        return NULL;
    }
    moved->next = moved_records;
    __atomic_store_n(&moved_records, moved, __ATOMIC_RELEASE);
    return moved;
}

polycom_moved *polycom_moved_of(polycom_db *db)
{
    const void *group = polycom_db_group(db);
    polycom_moved *moved;

    if (!group || !moved_pool) {
        return NULL;
    }
    for (moved = __atomic_load_n(&moved_records, __ATOMIC_ACQUIRE); moved;
         moved = moved->next) {
        if (moved->group == group) {
            return moved;
        }
    }
#if APR_HAS_THREADS
    apr_thread_mutex_lock(moved_adding);
#endif
    for (moved = moved_records; moved && moved->group != group;
         moved = moved->next) {
    }
    if (!moved) {
        moved = moved_add(group);
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(moved_adding);
#endif
    return moved;
}

/* Brings the record up to @a revision, which was read from the database
 * (so what moved up to it is there to read): the rows after the record's
 * last revision, once per move of the revision and child. The first read
 * starts the record at its own snapshot, and so does the first after a
 * failed one (moves made meanwhile may be in no row the next read would
 * see). A revision that goes back (a backup restored while httpd runs)
 * is not seen here: httpd must be restarted then (README), as the caches
 * themselves keep files by revision. */
void polycom_moved_read(polycom_moved *moved, polycom_db *db,
                        apr_int64_t revision)
{
    apr_int64_t through, snapshot;
    int restart;

    /* Tried again after a failure once the revision moves, not at every
     * request (a database of schema 3 fails every time). */
    if (!moved || revision < 0
        || (polycom_scopes_through(moved->scopes) >= revision
            && (!__atomic_load_n(&moved->unread, __ATOMIC_RELAXED)
                || __atomic_load_n(&moved->tried, __ATOMIC_RELAXED)
                   >= revision))) {
        return;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_lock(moved->reading);
#endif
    through = polycom_scopes_through(moved->scopes);
    restart = through < 0 || moved->unread;
    if (through < revision || (restart && moved->tried < revision)) {
        int ok = polycom_store_scopes_since(db, restart ? revision
                                                       : through,
                                            moved->scopes, &snapshot) == 0;

        if (ok) {
            if (restart) {
                polycom_scopes_restart(moved->scopes, snapshot);
            }
            polycom_scopes_advance(moved->scopes, snapshot);
        }
        __atomic_store_n(&moved->unread, !ok, __ATOMIC_RELAXED);
        if (!ok) {
            __atomic_store_n(&moved->tried, revision, __ATOMIC_RELAXED);
        }
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(moved->reading);
#endif
}

int polycom_moved_same(polycom_moved *moved, const char *made_of,
                       apr_size_t made_of_len, apr_int64_t rendered,
                       apr_int64_t now)
{
    return polycom_scopes_same(moved ? moved->scopes : NULL, made_of,
                               made_of_len, rendered, now);
}

int polycom_moved_unread(polycom_moved *moved)
{
    return !moved || __atomic_load_n(&moved->unread, __ATOMIC_RELAXED);
}

apr_int64_t polycom_moved_stale_below(polycom_moved *moved, int of_layers)
{
    return polycom_scopes_stale_below(moved->scopes, of_layers);
}
