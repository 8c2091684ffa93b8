/**
 * @file polycom_reach.h
 * @brief Whether a user may reach a file by its path: every directory on
 *        the way must be searchable by it (pure C: POSIX and APR only).
 *
 * httpd's parent runs as root and makes files for its children, which run
 * as another user (User/Group): a file in a directory that user cannot
 * search is out of the children's reach, whatever the file's own mode.
 * Only the mode bits are read; access control lists are not.
 */
#ifndef POLYCOM_REACH_H
#define POLYCOM_REACH_H

#include <sys/types.h>

#include <apr_pools.h>

/**
 * Return NULL when the user @a uid (primary group @a gid, further groups
 * @a groups, @a ngroups of them) may search every directory from "/" down
 * to @a dir, an absolute path; else the first directory on the way it may
 * not search (or that does not exist), allocated in @a pool. uid 0 may
 * search anything.
 */
const char *polycom_reach_blocked(apr_pool_t *pool, const char *dir,
                                  uid_t uid, gid_t gid,
                                  const gid_t *groups, int ngroups);

#endif /* POLYCOM_REACH_H */
