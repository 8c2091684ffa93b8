/* Unit tests of src/guard.c and src/outage.c: an address that probes
 * unknown MACs is blocked past the limit and let in again after the
 * cool-down, other addresses are not touched; a database outage and its
 * end are each reported once. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_guard.h"
#include "polycom_metrics.h"
#include "polycom_outage.h"
#include "tap.h"

#define LIMIT    3
#define WINDOW   apr_time_from_sec(60)
#define COOLDOWN apr_time_from_sec(300)

static apr_pool_t *pool;

static int unknown(polycom_metrics *m, const char *address, apr_time_t now)
{
    return polycom_guard_unknown(m, address, now, LIMIT, WINDOW, COOLDOWN);
}

static const char *blocks_total(polycom_metrics *m)
{
    const char *text = polycom_metrics_render(pool, m);
    const char *line = strstr(text, "\npolycom_enumeration_blocks_total ");

    return line ? apr_pstrndup(pool, line + 34, strcspn(line + 34, "\n"))
                : NULL;
}

static void test_guard(polycom_metrics *m)
{
    const char *a = "192.0.2.10", *b = "192.0.2.11";
    apr_time_t t0 = apr_time_from_sec(1700000000), t;
    int i, started = 0;

    tap_is_int(polycom_guard_blocked(m, a, t0), 0,
               "an address never seen is not blocked");
    for (i = 0; i < LIMIT; i++) {
        started += unknown(m, a, t0 + apr_time_from_sec(i));
    }
    tap_ok(!started && !polycom_guard_blocked(m, a, t0 + apr_time_from_sec(3)),
           "up to the limit of unknown MACs: not blocked");
    t = t0 + apr_time_from_sec(4);
    tap_is_int(unknown(m, a, t), 1,
               "one more within the window starts a block");
    tap_is_int(polycom_guard_blocked(m, a, t), COOLDOWN,
               "blocked for the whole cool-down");
    tap_is_int(polycom_guard_blocked(m, a, t + apr_time_from_sec(100)),
               COOLDOWN - apr_time_from_sec(100),
               "the time left goes down as the cool-down runs");
    tap_is_str(blocks_total(m), "1", "the block is counted in the metrics");

    tap_is_int(polycom_guard_blocked(m, b, t), 0,
               "another address is not blocked");
    tap_is_int(unknown(m, b, t), 0,
               "and its first unknown MAC counts for itself only");
    tap_is_int(polycom_guard_blocked(m, b, t), 0, "so it stays unblocked");
    tap_is_int(polycom_guard_blocked(m, a, t), COOLDOWN,
               "while the first stays blocked");

    t += apr_time_from_sec(10);
    tap_is_int(unknown(m, a, t), 0,
               "probing on while blocked starts no second block");
    tap_is_int(polycom_guard_blocked(m, a, t), COOLDOWN,
               "but the cool-down starts again");
    tap_is_str(blocks_total(m), "1", "still one block in the metrics");

    t += COOLDOWN;
    tap_is_int(polycom_guard_blocked(m, a, t), 0,
               "after the cool-down the address is let in again");
    started = 0;
    for (i = 0; i < LIMIT; i++) {
        started += unknown(m, a, t + i);
    }
    tap_ok(!started && !polycom_guard_blocked(m, a, t + LIMIT),
           "and counts from zero in a new window");
    tap_is_int(unknown(m, a, t + LIMIT), 1,
               "past the limit again it is blocked again");
    tap_is_str(blocks_total(m), "2", "the second block is counted");
}

/* Unknown MACs spread out wider than the window never add up. */
static void test_window(polycom_metrics *m)
{
    const char *c = "2001:db8::1";
    apr_time_t t = apr_time_from_sec(1700001000);
    int i, started = 0;

    for (i = 0; i < 4 * LIMIT; i++) {
        started += unknown(m, c, t);
        if (i % LIMIT == LIMIT - 1) {
            t += WINDOW + 1;
        }
    }
    tap_ok(!started && !polycom_guard_blocked(m, c, t),
           "%d unknown MACs, never more than %d per window: not blocked",
           4 * LIMIT, LIMIT);
}

static void test_outage(polycom_metrics *m)
{
    apr_uintptr_t one = 0x1000, other = 0x2000;

    tap_ok(!polycom_metrics_db_is_down(m, one), "a database starts up");
    tap_ok(polycom_metrics_db_up_for(m, one) > apr_time_from_sec(3600),
           "and counts as up for ever when it never went away");
    tap_is_int(polycom_metrics_db_up(m, one), 0,
               "up while up: no recovery to report");

    tap_is_int(polycom_metrics_db_down(m, one), 1,
               "the first request that finds it down reports the outage");
    tap_is_int(polycom_metrics_db_down(m, one), 0,
               "the next ones (any child) do not");
    tap_ok(polycom_metrics_db_is_down(m, one), "it is marked down");
    tap_ok(!polycom_metrics_db_is_down(m, other)
           && polycom_metrics_db_down(m, other) == 1
           && polycom_metrics_db_up(m, other) == 1,
           "another server's database has a flag of its own");
    tap_ok(polycom_metrics_db_is_down(m, one),
           "and its recovery leaves the first one down");

    tap_is_int(polycom_metrics_db_up(m, one), 1,
               "the first request that gets through reports the recovery");
    tap_is_int(polycom_metrics_db_up(m, one), 0, "the next ones do not");
    tap_ok(!polycom_metrics_db_is_down(m, one), "it is marked up");
    tap_ok(polycom_metrics_db_up_for(m, one) >= 0
           && polycom_metrics_db_up_for(m, one) < apr_time_from_sec(60),
           "up for less than a minute: a dead connection now is one left "
           "over from the outage");
    tap_is_int(polycom_metrics_db_down(m, one), 1,
               "a new outage is reported again");
    polycom_metrics_db_up(m, one);
}

/* As many servers (virtual hosts) as there are flags never share one. */
static void test_many_servers(polycom_metrics *m)
{
    int i, own = 1;

    for (i = 1; i <= POLYCOM_OUTAGE_SLOTS; i++) {
        own &= polycom_metrics_db_down(m, (apr_uintptr_t)(0x10000 * i)) == 1;
    }
    for (i = 1; i <= POLYCOM_OUTAGE_SLOTS; i++) {
        own &= polycom_metrics_db_is_down(m, (apr_uintptr_t)(0x10000 * i));
    }
    tap_ok(own, "%d servers down at once: each outage reported",
           POLYCOM_OUTAGE_SLOTS);
    tap_ok(polycom_metrics_db_up(m, 0x10000) == 1
           && !polycom_metrics_db_is_down(m, 0x10000)
           && polycom_metrics_db_is_down(m, 0x20000),
           "and each recovers on its own");
}

int main(void)
{
    polycom_metrics *m;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    m = apr_palloc(pool, sizeof(*m));
    polycom_metrics_init(m);

    test_guard(m);
    test_window(m);
    polycom_metrics_init(m);
    test_outage(m);
    polycom_metrics_init(m);
    test_many_servers(m);
    return tap_done();
}
