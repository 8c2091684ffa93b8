/* Unit tests for what last_seen keeps of each phone (src/seen.c): per
 * MAC the newest check-in and the newest good fetch of its settings file,
 * ties to the later one, a default file's check-in never counted, the
 * rows in MAC order. */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_seen.h"
#include "tap.h"

static apr_pool_t *pool;

static polycom_checkin checkin(const char *mac, const char *suffix,
                               apr_time_t time, int status, const char *ip)
{
    polycom_checkin c;

    memset(&c, 0, sizeof(c));
    c.time = time;
    c.mac = mac;
    c.ip = ip;
    c.method = "GET";
    c.file = apr_pstrcat(pool, mac, suffix, NULL);
    c.kind = !strcmp(suffix, "-settings.cfg") ? POLYCOM_FILE_SETTINGS
                                              : POLYCOM_FILE_MASTER;
    c.status = status;
    c.etag = apr_psprintf(pool, "\"e%" APR_TIME_T_FMT "\"", time);
    c.family = "vvx";
    c.model = "VVX_411";
    c.firmware = "6.4.3.5018";
    c.stage = "application";
    c.user_agent = "";
    return c;
}

int main(void)
{
    const char *b = "0004f2000002", *a = "0004f2000001";
    polycom_seen_map *map;
    const polycom_seen_row *rows;
    polycom_checkin c;
    apr_size_t bytes;
    int n;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    map = polycom_seen_map_make(pool);

    c = checkin(b, ".cfg", 100, 200, "192.0.2.1");
    polycom_seen_note(map, &c);
    c = checkin(b, "-settings.cfg", 200, 200, "192.0.2.2");
    polycom_seen_note(map, &c);
    c = checkin(b, "-phone.cfg", 150, 404, "192.0.2.3");   /* older */
    polycom_seen_note(map, &c);
    c = checkin(b, "-settings.cfg", 300, 500, "192.0.2.4"); /* failed */
    polycom_seen_note(map, &c);
    c = checkin(a, ".cfg", 50, 200, "192.0.2.5");
    polycom_seen_note(map, &c);
    c = checkin(a, "-phone.cfg", 50, 200, "192.0.2.6");    /* same time */
    polycom_seen_note(map, &c);
    /* A default file's check-in, its MAC from the User-Agent: never a
     * phone's last_seen. */
    c = checkin("0004f2000003", ".cfg", 400, 200, "192.0.2.7");
    c.file = "000000000000.cfg";
    polycom_seen_note(map, &c);

    tap_is_int(polycom_seen_count(map), 2,
               "two MACs; the default file's check-in is not one");
    rows = polycom_seen_rows(map, pool, &n);
    tap_is_int(n, 2, "a row per MAC");
    tap_is_str(rows[0].mac, a, "in MAC order");
    tap_is_str(rows[1].mac, b, "in MAC order, the second");
    tap_is_int(rows[1].time_us, 300, "the newest check-in's time, "
               "whatever its status");
    tap_is_str(rows[1].ip, "192.0.2.4", "and its address");
    tap_is_int(rows[1].status, 500, "and its status");
    tap_is_int(rows[1].settings_us, 200,
               "the newest good settings fetch (a 500 is not one)");
    tap_is_str(rows[1].settings_etag, "\"e200\"", "and its ETag");
    tap_is_str(rows[0].file, "0004f2000001-phone.cfg",
               "a tie in time goes to the later check-in");
    tap_is_str(rows[0].settings_etag, "", "no settings fetch: no ETag");
    tap_is_int(rows[0].settings_us, 0, "no settings fetch: 0");

    /* Strings a phone sends again are not copied again. */
    bytes = polycom_seen_bytes(map);
    c = checkin(a, "-phone.cfg", 60, 200, "192.0.2.6");
    polycom_seen_note(map, &c);
    tap_is_int(polycom_seen_bytes(map), bytes,
               "the same file, address, model and firmware again: "
               "nothing more kept");
    c = checkin(a, "-phone.cfg", 70, 200, "192.0.2.99");
    polycom_seen_note(map, &c);
    tap_ok(polycom_seen_bytes(map) > bytes, "a new address is kept");
    rows = polycom_seen_rows(map, pool, &n);
    tap_is_str(rows[0].ip, "192.0.2.99", "and is the row's");

    /* The rows are copies: notes after they were taken leave them. */
    c = checkin(a, ".cfg", 80, 200, "192.0.2.100");
    polycom_seen_note(map, &c);
    tap_is_int(rows[0].time_us, 70, "rows taken are not changed by later "
               "check-ins");

    map = polycom_seen_map_make(pool);
    rows = polycom_seen_rows(map, pool, &n);
    tap_is_int(n, 0, "an empty map: no rows");

    /* A flush's round, in parts of at most two. */
    {
        static const char *macs[] = { "0004f2000005", "0004f2000003",
                                      "0004f2000001", "0004f2000004",
                                      "0004f2000002" };
        polycom_seen_round round = { NULL, 0, 0 };
        const polycom_seen_row *part;
        int i;

        tap_ok(polycom_seen_round_over(&round), "a round never started is "
               "over");
        for (i = 0; i < 5; i++) {
            c = checkin(macs[i], ".cfg", 100 + i, 200, "192.0.2.1");
            polycom_seen_note(map, &c);
        }
        polycom_seen_round_start(&round, map, pool);
        part = polycom_seen_round_part(&round, 2, &n);
        tap_ok(n == 2 && !strcmp(part[0].mac, "0004f2000001")
               && !strcmp(part[1].mac, "0004f2000002"),
               "its first part: the first two MACs in order");
        part = polycom_seen_round_part(&round, 2, &n);
        tap_ok(n == 2 && !strcmp(part[0].mac, "0004f2000001"),
               "a part not written yet is taken again (a failed write)");
        polycom_seen_round_written(&round, n);
        /* A check-in noted meanwhile goes to the next round's map. */
        map = polycom_seen_map_make(pool);
        c = checkin("0004f2000001", ".cfg", 200, 200, "192.0.2.9");
        polycom_seen_note(map, &c);
        part = polycom_seen_round_part(&round, 2, &n);
        tap_ok(n == 2 && !strcmp(part[0].mac, "0004f2000003"),
               "the next part goes on after the one written");
        polycom_seen_round_written(&round, n);
        tap_ok(!polycom_seen_round_over(&round), "one row left: not over");
        part = polycom_seen_round_part(&round, 2, &n);
        tap_ok(n == 1 && !strcmp(part[0].mac, "0004f2000005"),
               "the last part is what is left");
        polycom_seen_round_written(&round, n);
        tap_ok(polycom_seen_round_over(&round), "then the round is over");
        polycom_seen_round_part(&round, 2, &n);
        tap_is_int(n, 0, "and has no part left");
        tap_is_int(polycom_seen_count(map), 1, "what was noted meanwhile "
                   "waits in the next round's map");
    }
    return tap_done();
}
