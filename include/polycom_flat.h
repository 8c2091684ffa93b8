/**
 * @file polycom_flat.h
 * @brief Configurations flattened to name -> value: a phone's uploaded
 *        override files read back, and the snapshot of what a phone was
 *        served, with its secrets as digests (pure C: APR, libxml2 and
 *        jansson).
 *
 * Lists are of polycom_param (polycom_param.h).
 */
#ifndef POLYCOM_FLAT_H
#define POLYCOM_FLAT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/** Longest snapshot kept: a larger flat set is not recorded (its diff
 *  then says the snapshot is unknown) rather than bloat every check-in. */
#define POLYCOM_SNAPSHOT_MAX (256 * 1024)

/** Longest a snapshot is kept unless it is what a phone fetched last
 *  (shorter with a shorter PolycomCheckinRetention). */
#define POLYCOM_SNAPSHOT_AGE apr_time_from_sec(90 * 86400)

/**
 * Every attribute of every element of a Polycom configuration file (an
 * override file a phone uploaded, <mac>-phone.cfg or <mac>-web.cfg), in
 * document order, one entry per name (a later one wins, as on the phone).
 * 0, or -1 with @a error when the body is not well-formed XML.
 */
int polycom_flat_from_xml(apr_pool_t *pool, const char *body,
                          apr_size_t len, apr_array_header_t **params,
                          const char **error);

/** What a secret's value is compared by: "sha1:<hex>" of the name and the
 *  value, never the value itself. */
const char *polycom_flat_secret_digest(apr_pool_t *pool, const char *name,
                                       const char *value);

/** A value as a snapshot keeps it: the digest for a secret
 *  (polycom_param_is_secret), the value for anything else. */
const char *polycom_flat_comparable(apr_pool_t *pool, const char *name,
                                    const char *value);

/** The snapshot text of @a params (a compact JSON object, names sorted,
 *  secrets digested), or NULL when it would exceed POLYCOM_SNAPSHOT_MAX. */
const char *polycom_flat_snapshot(apr_pool_t *pool,
                                  const apr_array_header_t *params);

/** The parameters of a snapshot text, sorted by name; NULL when the text
 *  is not one. */
apr_array_header_t *polycom_flat_from_snapshot(apr_pool_t *pool,
                                               const char *text);

/** What a child has already sent to be kept: a snapshot goes with the
 *  check-in of the first render of its ETag in the child, not with every
 *  render (a fleet larger than the render cache renders on most requests).
 *  A fixed table of 64-bit hashes of ETags, direct-mapped: a slot taken
 *  by another ETag sends a snapshot again, which the store ignores. Safe
 *  between threads (atomic 64-bit reads and writes). */
typedef struct polycom_snapshot_filter polycom_snapshot_filter;

polycom_snapshot_filter *polycom_snapshot_filter_make(apr_pool_t *pool,
                                                      apr_size_t slots);

/** Non-zero when @a etag was not in the filter (it is now): send its
 *  snapshot. */
int polycom_snapshot_filter_add(polycom_snapshot_filter *filter,
                                const char *etag);

#endif /* POLYCOM_FLAT_H */
