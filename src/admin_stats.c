/* The admin API's aggregates for the console's pictures (GET stats):
 * which firmware each model runs, how recently the fleet checked in,
 * check-ins per hour over the last week, and the discovered MACs. Each is
 * one statement over phones and last_seen (one row per phone) or over the
 * hourly counts the check-in writer keeps (checkin_hours), so it stays
 * cheap on a large fleet and a long history. */

#include <string.h>

#include <apr_strings.h>

#include "polycom_admin_private.h"

#define STATS_HOURS 168
#define STATS_HOUR_US APR_INT64_C(3600000000)

static const admin_field admin_firmware_fields[] = {
    { "model",    "model",    ADMIN_TEXT },
    { "firmware", "firmware", ADMIN_TEXT },
    { "phones",   "phones",   ADMIN_NUMBER },
    { NULL }
};

static const admin_field admin_seen_counts[] = {
    { "total",    "total",    ADMIN_NUMBER },
    { "hour",     "hour",     ADMIN_NUMBER },
    { "fresh",    "fresh",    ADMIN_NUMBER },
    { "week",     "week",     ADMIN_NUMBER },
    { "never",    "never",    ADMIN_NUMBER },
    { "disabled", "disabled", ADMIN_NUMBER },
    { NULL }
};

static const admin_field admin_discovered_fields[] = {
    { "model", "model", ADMIN_TEXT },
    { "macs",  "macs",  ADMIN_NUMBER },
    { NULL }
};

static const char *admin_us(apr_pool_t *pool, apr_time_t t)
{
    return apr_psprintf(pool, "%" APR_TIME_T_FMT, t);
}

/* Every hour of the last week, oldest first, with its check-ins (0 for an
 * hour the statement has no row for). */
static json_t *admin_hours_json(const polycom_admin_request *in,
                                const apr_array_header_t *rows,
                                apr_int64_t first)
{
    json_t *hours = json_array();
    int i, next = 0;

    for (i = 0; i < STATS_HOURS; i++) {
        apr_int64_t hour = first + i, n = 0;

        if (next < rows->nelts) {
            const polycom_row *row = APR_ARRAY_IDX(rows, next,
                                                   const polycom_row *);

            if (apr_atoi64(polycom_row_get(row, "hour")) == hour) {
                n = apr_atoi64(polycom_row_get(row, "checkins"));
                next++;
            }
        }
        json_array_append_new(hours, json_pack(
            "{s:o, s:I}", "hour", polycom_admin_time_json(in->pool,
                admin_us(in->pool, hour * STATS_HOUR_US)),
            "checkins", (json_int_t)n));
    }
    return hours;
}

void polycom_admin_stats(const polycom_admin_request *in,
                         polycom_admin_response *out, const admin_path *path)
{
    const char *stale_after = apr_table_get(in->args, "stale_after");
    apr_time_t window = apr_time_from_sec(86400);
    apr_array_header_t *firmware, *seen, *checkins, *discovered;
    apr_int64_t first = in->now / STATS_HOUR_US - (STATS_HOURS - 1);
    json_t *seen_json, *firmware_json, *discovered_json;
    json_int_t macs = 0;
    int i;

    if (stale_after && (polycom_admin_parse_time(stale_after, &window) < 0
                        || window <= 0 || strchr(stale_after, 'T'))) {
        polycom_admin_problem(in->pool, out, 400, "stale_after must be a "
                              "number of seconds");
        return;
    }
    if (polycom_store_select(in->db, POLYCOM_SQL_STATS_FIRMWARE, &firmware,
                             NULL) < 0
        || polycom_store_select(in->db, POLYCOM_SQL_STATS_SEEN, &seen,
                                admin_us(in->pool, in->now
                                                   - apr_time_from_sec(3600)),
                                admin_us(in->pool, in->now - window),
                                admin_us(in->pool, in->now
                                         - apr_time_from_sec(7 * 86400)),
                                NULL) < 0
        || polycom_store_select(in->db, POLYCOM_SQL_STATS_CHECKINS,
                                &checkins, admin_us(in->pool, first),
                                NULL) < 0
        || polycom_store_select(in->db, POLYCOM_SQL_STATS_DISCOVERED,
                                &discovered, NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    seen_json = polycom_admin_row_json(in->pool, APR_ARRAY_IDX(
                                           seen, 0, const polycom_row *),
                                       admin_seen_counts);
    firmware_json = polycom_admin_rows_json(in->pool, firmware,
                                            admin_firmware_fields);
    discovered_json = polycom_admin_rows_json(in->pool, discovered,
                                              admin_discovered_fields);
    if (!seen_json || !firmware_json || !discovered_json) {
        json_decref(seen_json);
        polycom_admin_db_failed(in, out);
        return;
    }
    for (i = 0; i < discovered->nelts; i++) {
        macs += apr_atoi64(polycom_row_get(APR_ARRAY_IDX(
            discovered, i, const polycom_row *), "macs"));
    }
    /* Stale: seen, but not within stale_after. */
    json_object_set_new(seen_json, "stale", json_integer(
        json_integer_value(json_object_get(seen_json, "total"))
        - json_integer_value(json_object_get(seen_json, "never"))
        - json_integer_value(json_object_get(seen_json, "fresh"))));
    json_object_set_new(seen_json, "stale_after",
                        json_integer(apr_time_sec(window)));
    polycom_admin_answer(in, out, 200, json_pack(
        "{s:o, s:O, s:o, s:o, s:{s:I, s:O}}",
        "time", polycom_admin_time_json(in->pool, admin_us(in->pool,
                                                           in->now)),
        "firmware", firmware_json,
        "seen", seen_json,
        "checkins_hourly", admin_hours_json(in, checkins, first),
        "discovered", "total", macs, "by_model", discovered_json));
}
