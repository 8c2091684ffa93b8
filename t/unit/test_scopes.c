/* TAP tests of src/scopes.c: a cached file is judged the same at a later
 * revision only when nothing it is made of moved in between, as the
 * database's scope_revisions rows say; an edit of another phone, site or
 * model leaves it alone, and anything the record cannot vouch for is
 * stale. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "polycom_scopes.h"
#include "tap.h"

static apr_pool_t *pool;

/* Phone 0004f2000001 of site hq and model VVX411, rendered at
 * @a rendered, asked for at @a now. */
static int same(polycom_scopes *scopes, apr_int64_t rendered,
                apr_int64_t now)
{
    apr_size_t len;
    const char *made_of = polycom_scopes_of(pool, "hq", "VVX411",
                                            "0004f2000001", &len);

    return polycom_scopes_same(scopes, made_of, len, rendered, now);
}

/* The same phone's master: made of its own row and the moves. */
static int master_same(polycom_scopes *scopes, apr_int64_t rendered,
                       apr_int64_t now)
{
    apr_size_t len;
    const char *made_of = polycom_scopes_of_phone(pool, "0004f2000001",
                                                  &len);

    return polycom_scopes_same(scopes, made_of, len, rendered, now);
}

int main(void)
{
    polycom_scopes *scopes;
    apr_size_t len;
    const char *made_of;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    scopes = polycom_scopes_create(pool);
    tap_ok(scopes && polycom_scopes_through(scopes) == -1,
           "a new record has read nothing");
    tap_ok(same(scopes, 10, 10), "the very revision: the same, always");
    tap_ok(!same(scopes, 10, 11),
           "another revision before the record starts: stale");

    polycom_scopes_restart(scopes, 10);
    tap_ok(polycom_scopes_through(scopes) == 10,
           "started at 10, read up to 10");
    tap_ok(!same(scopes, 10, 11),
           "a revision not read yet (11 past the record's 10): stale");

    /* Revisions 11 and 12: another phone's parameter, another site, the
     * same site's other model... */
    polycom_scopes_moved(scopes, "phone", "0004f2000002", 11);
    polycom_scopes_moved(scopes, "site", "branch", 12);
    polycom_scopes_moved(scopes, "model", "VVX311", 12);
    polycom_scopes_advance(scopes, 12);
    tap_ok(polycom_scopes_through(scopes) == 12, "read up to 12");
    tap_ok(same(scopes, 10, 12),
           "another phone's, site's or model's edit: still the same");
    tap_ok(same(scopes, 12, 10),
           "rendered at a newer revision than asked, nothing of it moved "
           "between: the same");
    tap_ok(!same(scopes, 9, 12),
           "rendered before the record's first revision: stale");
    tap_ok(!same(scopes, 10, 13), "a revision past what was read: stale");

    /* 13: its own parameter; 14: its site; 15: its model. */
    polycom_scopes_moved(scopes, "phone", "0004f2000001", 13);
    polycom_scopes_advance(scopes, 13);
    tap_ok(!same(scopes, 12, 13), "its own edit: stale");
    tap_ok(!master_same(scopes, 12, 13), "its master too");
    tap_ok(same(scopes, 13, 13) && !same(scopes, 10, 13),
           "rendered at that edit or after: the same; before it: stale");
    polycom_scopes_moved(scopes, "site", "hq", 14);
    polycom_scopes_advance(scopes, 14);
    tap_ok(!same(scopes, 13, 14), "its site's edit: stale");
    tap_ok(master_same(scopes, 13, 14), "its master, of no layer: the same");
    polycom_scopes_moved(scopes, "model", "VVX411", 15);
    polycom_scopes_advance(scopes, 15);
    tap_ok(!same(scopes, 14, 15), "its model's edit: stale");
    tap_ok(master_same(scopes, 14, 15), "not its master");
    tap_ok(same(scopes, 15, 15), "rendered after them: the same");

    polycom_scopes_moved(scopes, "phone", "0004f2000009", 16);
    polycom_scopes_advance(scopes, 16);
    tap_ok(same(scopes, 15, 16) && master_same(scopes, 15, 16),
           "then another phone's edit: the same, master and settings");
    tap_ok(polycom_scopes_stale_below(scopes, 1) == 10,
           "the hint: nothing every file is made of moved, the floor");

    polycom_scopes_moved(scopes, "global", "", 17);
    polycom_scopes_advance(scopes, 17);
    tap_ok(!same(scopes, 16, 17), "the global layer's edit: stale");
    tap_ok(master_same(scopes, 15, 17),
           "but not its master (every phone's first poll after a global "
           "change asks for it)");
    tap_ok(polycom_scopes_stale_below(scopes, 1) == 17,
           "the hint: every settings file kept before 17 is stale");
    tap_ok(polycom_scopes_stale_below(scopes, 0) == 10,
           "a master's hint: the floor still");
    polycom_scopes_moved(scopes, "reprovision", "", 18);
    polycom_scopes_advance(scopes, 18);
    tap_ok(!same(scopes, 17, 18), "a move set up or changed: stale");
    tap_ok(!master_same(scopes, 17, 18)
           && polycom_scopes_stale_below(scopes, 0) == 18,
           "its master too (the stanza's file goes first in it)");
    polycom_scopes_moved(scopes, "firmware", "x", 19);
    polycom_scopes_advance(scopes, 19);
    tap_ok(!same(scopes, 18, 19) && !master_same(scopes, 18, 19),
           "a scope this module does not know: stale, to be safe");

    /* A later row of a scope read again (its revision only grows), and
     * an older one read late, change nothing but upwards. */
    polycom_scopes_moved(scopes, "phone", "0004f2000001", 20);
    polycom_scopes_moved(scopes, "phone", "0004f2000001", 13);
    polycom_scopes_advance(scopes, 20);
    tap_ok(!same(scopes, 19, 20) && same(scopes, 20, 20),
           "the newest move of a scope is the one that counts");
    polycom_scopes_advance(scopes, 18);
    tap_ok(polycom_scopes_through(scopes) == 20, "the record never goes back");

    tap_ok(!polycom_scopes_same(scopes, "", 0, 20, 19),
           "a file made of anything (a default file): its revision only");
    made_of = polycom_scopes_of(pool, "hq", "VVX411", "", &len);
    tap_ok(len == 10 && !memcmp(made_of, "hq\0VVX411\0", 10),
           "what a file is made of: site, model and MAC apart by NUL bytes");
    tap_ok(!polycom_scopes_same(scopes, "hq", 2, 20, 19),
           "what polycom_scopes_of did not make: stale");
    made_of = polycom_scopes_of_phone(pool, "0004f2000001", &len);
    tap_ok(len == 13 && !memcmp(made_of, "\0" "0004f2000001", 13),
           "a master's: a NUL, then the MAC");
    tap_ok(!polycom_scopes_same(scopes, "\0", 1, 20, 19),
           "a NUL alone (no MAC after it): stale");
    tap_ok(!polycom_scopes_same(NULL, made_of, len, 20, 19)
           && polycom_scopes_same(NULL, made_of, len, 20, 20),
           "without a record: the very revision only");

    /* Sites are names an admin chose: a NUL in what they are made of
     * separates, any other byte is the name's. */
    made_of = polycom_scopes_of(pool, "a\nb", "VVX411", "0004f2000003",
                                &len);
    polycom_scopes_moved(scopes, "site", "a", 21);
    polycom_scopes_advance(scopes, 21);
    tap_ok(polycom_scopes_same(scopes, made_of, len, 20, 21),
           "site 'a' moving leaves site 'a\\nb' alone");
    polycom_scopes_moved(scopes, "site", "a\nb", 22);
    polycom_scopes_advance(scopes, 22);
    tap_ok(!polycom_scopes_same(scopes, made_of, len, 21, 22),
           "site 'a\\nb' moving makes its phone's file stale");

    /* MariaDB compares keys without their trailing spaces: a row of site
     * 'a\nb ' is site 'a\nb' there. */
    polycom_scopes_moved(scopes, "site", "a\nb  ", 23);
    polycom_scopes_advance(scopes, 23);
    tap_ok(!polycom_scopes_same(scopes, made_of, len, 22, 23),
           "a key with trailing spaces moves the key without them");
    made_of = polycom_scopes_of(pool, "hq ", "VVX411", "0004f2000004", &len);
    polycom_scopes_moved(scopes, "site", "hq", 24);
    polycom_scopes_advance(scopes, 24);
    tap_ok(!polycom_scopes_same(scopes, made_of, len, 23, 24),
           "and a phone of site 'hq ' is stale when 'hq' moves");
    {
        char long_key[600];

        memset(long_key, 'x', sizeof(long_key) - 1);
        long_key[sizeof(long_key) - 1] = '\0';
        polycom_scopes_moved(scopes, "model", long_key, 25);
        polycom_scopes_advance(scopes, 25);
        tap_ok(!same(scopes, 24, 25),
               "a key too long to keep moves every file, to be safe");
    }

    /* Settings of a phone of no site, or of no site and no model, begin
     * with a NUL too: still three parts, still made of the layers. */
    polycom_scopes_moved(scopes, "global", "", 26);
    polycom_scopes_advance(scopes, 26);
    made_of = polycom_scopes_of(pool, "", "VVX411", "0004f2000001", &len);
    tap_ok(!polycom_scopes_same(scopes, made_of, len, 25, 26),
           "settings of a phone of no site: stale when the global layer "
           "moves");
    made_of = polycom_scopes_of(pool, "", "", "0004f2000001", &len);
    tap_ok(!polycom_scopes_same(scopes, made_of, len, 25, 26),
           "of no site and no model: stale too, never taken for a master's");
    tap_ok(master_same(scopes, 25, 26), "while the master is the same");

    /* A read that failed: moves may have gone unrecorded, and the record
     * starts again at the next good read's snapshot. */
    polycom_scopes_restart(scopes, 30);
    tap_ok(polycom_scopes_through(scopes) == 30,
           "started again at 30: read up to 30");
    tap_ok(!same(scopes, 22, 30) && !same(scopes, 29, 30),
           "files rendered before it are stale, whatever moved");
    tap_ok(same(scopes, 30, 30), "rendered at it: the same");
    polycom_scopes_advance(scopes, 31);
    tap_ok(same(scopes, 30, 31), "after it, judged as before");
    polycom_scopes_restart(scopes, 25);
    tap_ok(same(scopes, 30, 31), "the floor never goes back");

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
