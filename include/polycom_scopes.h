/* What moved since a file was rendered: the scopes of the database's data
 * and the revision each last changed at (table scope_revisions), as one
 * child has read them.
 *
 * A phone's settings are made of the global layer, its site's and its
 * model's layers, its own row and parameters, and the moves; its master
 * of its own row and the moves only. A file rendered at revision A is
 * the same at revision B when none of those scopes changed between the
 * two. Without this, any edit of any phone
 * moved the one revision and made every cached file of the fleet stale: a
 * fleet whose phones are edited now and then (as every fleet is) was
 * served from the cold path almost always (make bench, 100,000 phones,
 * one edit a second: 132 us a request, 65 us quiet).
 *
 * The record starts at the revision of its first read (its floor) and only
 * grows by what moved after it, read as deltas (the rows whose revision
 * is above the last one read): a file rendered before the floor is never
 * judged by it. It is bounded by the scopes that changed while the child
 * lives, never the whole fleet. Thread-safe.
 */
#ifndef POLYCOM_SCOPES_H
#define POLYCOM_SCOPES_H

#include <apr_pools.h>

typedef struct polycom_scopes polycom_scopes;

polycom_scopes *polycom_scopes_create(apr_pool_t *pool);

/** The revision up to which every move is recorded; -1 before the record
 *  starts (polycom_scopes_restart). */
apr_int64_t polycom_scopes_through(polycom_scopes *scopes);

/** Start the record, or start it again after moves may have gone
 *  unrecorded (the table could not be read), at @a revision: read in the
 *  same snapshot as a table that records every move after it. Files
 *  rendered before it are stale from then on. The floor only rises. */
void polycom_scopes_restart(polycom_scopes *scopes, apr_int64_t revision);

/** One row of scope_revisions: @a scope ('global', 'site', 'model',
 *  'phone' or 'reprovision') and its key last moved at @a revision. An
 *  unknown scope makes every file stale from @a revision on (a newer
 *  schema's scope: nothing is served on a guess). */
void polycom_scopes_moved(polycom_scopes *scopes, const char *scope,
                          const char *key, apr_int64_t revision);

/** Every move up to @a revision is recorded (the rows read since the last
 *  one were given to polycom_scopes_moved first). */
void polycom_scopes_advance(polycom_scopes *scopes, apr_int64_t revision);

/** What a phone's settings are made of, for polycom_scopes_same: its
 *  site, model and MAC, in @a pool. */
const char *polycom_scopes_of(apr_pool_t *pool, const char *site,
                              const char *model, const char *mac,
                              apr_size_t *len);

/** What a phone's master is made of: its own row and the moves, not the
 *  layers (its files' names and PolycomConfigFiles are the server's), in
 *  @a pool. After a change of the global layer, every phone's first poll
 *  asks for its master then its settings: the master stays a hit. */
const char *polycom_scopes_of_phone(apr_pool_t *pool, const char *mac,
                                    apr_size_t *len);
/** 1 when a file made of @a made_of (polycom_scopes_of or
 *  polycom_scopes_of_phone; @a len 0: of
 *  anything, so of that very revision only) and rendered at @a rendered
 *  is the same at @a now: the revisions are equal, or both are within the
 *  record and none of its scopes moved between them. */
int polycom_scopes_same(polycom_scopes *scopes, const char *made_of,
                        apr_size_t len, apr_int64_t rendered,
                        apr_int64_t now);

/** A revision before which no file can be the same any more: the newest
 *  move of the moves, of the global layer when @a of_layers (a file of
 *  polycom_scopes_of), or the floor. A hint for the order of reads (racy
 *  by design). */
apr_int64_t polycom_scopes_stale_below(polycom_scopes *scopes,
                                       int of_layers);

#endif /* POLYCOM_SCOPES_H */
