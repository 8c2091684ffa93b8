/* Whether a user may reach a path: used by the parent (root) to learn
 * before it forks whether its children's user can reach the check-in
 * writer's socket. */

#include <string.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "polycom_reach.h"

static int reach_in_groups(gid_t owner, gid_t gid, const gid_t *groups,
                           int ngroups)
{
    int i;

    if (owner == gid) {
        return 1;
    }
    for (i = 0; i < ngroups; i++) {
        if (groups[i] == owner) {
            return 1;
        }
    }
    return 0;
}

/* The kernel's order: the owner's bits for the owner, else the group's for
 * a member, else the others'; never a fall-through to a later class. */
static int reach_searchable(const struct stat *st, uid_t uid, gid_t gid,
                            const gid_t *groups, int ngroups)
{
    if (uid == 0) {
        return 1;
    }
    if (st->st_uid == uid) {
        return (st->st_mode & S_IXUSR) != 0;
    }
    if (reach_in_groups(st->st_gid, gid, groups, ngroups)) {
        return (st->st_mode & S_IXGRP) != 0;
    }
    return (st->st_mode & S_IXOTH) != 0;
}

static int reach_check(const char *path, uid_t uid, gid_t gid,
                       const gid_t *groups, int ngroups)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode)
           && reach_searchable(&st, uid, gid, groups, ngroups);
}

const char *polycom_reach_blocked(apr_pool_t *pool, const char *dir,
                                  uid_t uid, gid_t gid,
                                  const gid_t *groups, int ngroups)
{
    char *path = apr_pstrdup(pool, dir ? dir : "");
    char *slash;

    if (path[0] != '/') {
        return path;                    /* not a path we can follow */
    }
    if (!reach_check("/", uid, gid, groups, ngroups)) {
        return "/";
    }
    /* Each prefix that ends before a slash, then the whole path. */
    for (slash = strchr(path + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        if (slash[-1] == '/') {
            continue;                   /* "//": the same directory */
        }
        *slash = '\0';
        if (!reach_check(path, uid, gid, groups, ngroups)) {
            return path;
        }
        *slash = '/';
    }
    if (path[1] && path[strlen(path) - 1] != '/'
        && !reach_check(path, uid, gid, groups, ngroups)) {
        return path;
    }
    return NULL;
}
