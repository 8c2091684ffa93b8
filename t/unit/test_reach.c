/* Unit tests of src/reach.c: a directory on the way that the children's
 * user cannot search puts a path out of its reach, by the owner's, the
 * group's (primary or supplementary) or the others' bits, in the kernel's
 * order; uid 0 reaches anything. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_reach.h"
#include "tap.h"

int main(void)
{
    apr_pool_t *pool;
    char top[] = "/tmp/polycom-reach-XXXXXX";
    const char *leaf, *mid;
    uid_t owner, other;
    gid_t group, stranger = 54321, member[2];

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (!mkdtemp(top)) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    chmod(top, 0755);
    mid = apr_pstrcat(pool, top, "/run", NULL);
    leaf = apr_pstrcat(pool, mid, "/sock.d", NULL);
    mkdir(mid, 0700);
    mkdir(leaf, 0755);
    /* The owner must not be root, whose access is never refused. */
    owner = getuid();
    group = getgid();
    if (owner == 0) {
        owner = 4242;
        group = 4243;
        if (chown(mid, owner, group) != 0) {
            printf("Bail out! chown failed\n");
            return 1;
        }
    }
    other = owner + 1;
    member[0] = 7;
    member[1] = group;

    tap_is_str(polycom_reach_blocked(pool, leaf, other, stranger, NULL, 0),
               mid, "a 0700 directory of another user blocks the way "
               "(and is named)");
    tap_ok(!polycom_reach_blocked(pool, leaf, 0, 0, NULL, 0),
           "root reaches anything");
    tap_ok(!polycom_reach_blocked(pool, leaf, owner, stranger, NULL, 0),
           "its owner reaches it");
    chmod(mid, 0070);
    tap_is_str(polycom_reach_blocked(pool, leaf, owner, group, NULL, 0), mid,
               "the owner's bits decide for the owner, even where the "
               "group's would allow");
    chmod(mid, 0710);
    tap_ok(!polycom_reach_blocked(pool, leaf, other, group, NULL, 0),
           "a member by primary group reaches it");
    tap_ok(!polycom_reach_blocked(pool, leaf, other, stranger, member, 2),
           "a member by a supplementary group reaches it");
    tap_is_str(polycom_reach_blocked(pool, leaf, other, stranger, member, 1),
               mid, "a user in neither group does not");
    chmod(mid, 0701);
    tap_is_str(polycom_reach_blocked(pool, leaf, other, group, NULL, 0), mid,
               "the group's bits decide for a member, even where the "
               "others' would allow");
    tap_ok(!polycom_reach_blocked(pool, apr_pstrcat(pool, leaf, "/", NULL),
                                  other, stranger, NULL, 0),
           "anyone else reaches it through the others' bits (and a "
           "trailing slash is the same path)");
    tap_is_str(polycom_reach_blocked(pool, apr_pstrcat(pool, mid, "/gone",
                                                       NULL),
                                     other, stranger, NULL, 0),
               apr_pstrcat(pool, mid, "/gone", NULL),
               "a directory that does not exist is out of reach");
    tap_is_str(polycom_reach_blocked(pool, "logs/run", 0, 0, NULL, 0),
               "logs/run", "a relative path is never called reachable");

    rmdir(leaf);
    rmdir(mid);
    rmdir(top);
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
