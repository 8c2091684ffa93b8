/* Unit tests of src/metrics.c: what an admin scraping /admin/metrics reads
 * after the module counted requests, failures, uploads and generation
 * times, in the Prometheus text format. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_metrics.h"
#include "tap.h"

static apr_pool_t *pool;

#define REFUSED(why) "polycom_upload_refused_total{reason=\"" why "\"}"
#define BUCKET(le) "polycom_generation_seconds_bucket{le=\"" le "\"}"

/* The value of the sample @a series ("name" or "name{labels}") in the
 * exposition @a text, or NULL when there is no such line. */
static const char *sample(const char *text, const char *series)
{
    const char *line;
    apr_size_t n = strlen(series);

    for (line = text; line && *line; line = strchr(line, '\n'),
         line = line ? line + 1 : NULL) {
        if (!strncmp(line, series, n) && line[n] == ' ') {
            return apr_pstrndup(pool, line + n + 1,
                                strcspn(line + n + 1, "\n"));
        }
    }
    return NULL;
}

/* Every line is a comment (# HELP / # TYPE) or "series value" with a
 * number for the value: what a Prometheus server can read. */
static int well_formed(const char *text)
{
    char *copy = apr_pstrdup(pool, text), *last, *line;

    if (!*text || text[strlen(text) - 1] != '\n') {
        return 0;
    }
    for (line = apr_strtok(copy, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        const char *space = strrchr(line, ' ');
        char *end;

        if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
            continue;
        }
        if (!space || space == line || !space[1]) {
            return 0;
        }
        strtod(space + 1, &end);
        if (*end) {
            return 0;
        }
    }
    return 1;
}

/* The counters a freshly started server reports. */
static void test_fresh(polycom_metrics *m)
{
    const char *text = polycom_metrics_render(pool, m);
    static const char *const counters[] = {
        "polycom_unknown_mac_requests_total",
        "polycom_checkin_failures_total",
        "polycom_database_errors_total",
        "polycom_enumeration_blocks_total",
        "polycom_cache_hits_total",
        "polycom_cache_misses_total",
        "polycom_cache_phone_kept_total",
        "polycom_checkin_writer_rows_total",
        "polycom_upload_bytes_total",
        "polycom_generation_seconds_count",
    };
    apr_size_t i;
    int all_zero = 1;

    tap_ok(well_formed(text), "a fresh exposition is well-formed");
    for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        const char *v = sample(text, counters[i]);

        if (!v || strcmp(v, "0")) {
            all_zero = 0;
            printf("# %s: %s\n", counters[i], v ? v : "(missing)");
        }
    }
    tap_ok(all_zero, "every counter is there and starts at 0");
    tap_ok(!strstr(text, "polycom_requests_total{"),
           "no request series before the first request");
    tap_is_str(sample(text, BUCKET("+Inf")),
               "0", "the histogram is empty");
    tap_ok(strstr(text, "# TYPE polycom_requests_total counter\n")
           && strstr(text, "# TYPE polycom_generation_seconds histogram\n"),
           "the types are declared");
}

static void test_requests(polycom_metrics *m)
{
    const char *text;

    polycom_metrics_request(m, POLYCOM_FILE_MASTER, 200);
    polycom_metrics_request(m, POLYCOM_FILE_MASTER, 200);
    polycom_metrics_request(m, POLYCOM_FILE_SETTINGS, 304);
    polycom_metrics_request(m, POLYCOM_FILE_SETTINGS, 404);
    polycom_metrics_request(m, POLYCOM_FILE_MASTER, 418);
    polycom_metrics_request(m, POLYCOM_FILE_MASTER, 302);
    polycom_metrics_request(m, (polycom_file_kind)99, 200);
    text = polycom_metrics_render(pool, m);
    tap_ok(well_formed(text), "the exposition is well-formed");
    tap_is_str(sample(text, "polycom_requests_total{kind=\"master\","
                            "status=\"200\"}"), "2",
               "two masters served: counted under kind and status");
    tap_is_str(sample(text, "polycom_requests_total{kind=\"settings\","
                            "status=\"304\"}"), "1",
               "a settings 304 has its own series");
    tap_is_str(sample(text, "polycom_requests_total{kind=\"settings\","
                            "status=\"404\"}"), "1",
               "and a settings 404 its own");
    tap_is_str(sample(text, "polycom_requests_total{kind=\"master\","
                            "status=\"other\"}"), "2",
               "statuses without a series of their own count as other");
    tap_is_str(sample(text, "polycom_requests_total{kind=\"none\","
                            "status=\"200\"}"), "1",
               "a kind out of range counts as none");
    tap_ok(!sample(text, "polycom_requests_total{kind=\"settings\","
                         "status=\"200\"}"),
           "series that never happened are left out");
}

static void test_counters(polycom_metrics *m)
{
    const char *text;

    polycom_metrics_unknown_mac(m);
    polycom_metrics_unknown_mac(m);
    polycom_metrics_checkin_failure(m);
    polycom_metrics_db_error(m);
    polycom_metrics_db_error(m);
    polycom_metrics_db_error(m);
    polycom_metrics_upload_bytes(m, 1234);
    polycom_metrics_upload_bytes(m, (apr_off_t)5 << 32);
    polycom_metrics_cache(m, 1);
    polycom_metrics_cache(m, 1);
    polycom_metrics_cache(m, 0);
    polycom_metrics_cache_phone_kept(m);
    polycom_metrics_writer_rows(m, 20);
    polycom_metrics_writer_rows(m, 5);
    polycom_metrics_enumeration_block(m);
    text = polycom_metrics_render(pool, m);
    tap_is_str(sample(text, "polycom_unknown_mac_requests_total"), "2",
               "unknown MACs counted");
    tap_is_str(sample(text, "polycom_checkin_failures_total"), "1",
               "lost check-ins counted");
    tap_is_str(sample(text, "polycom_database_errors_total"), "3",
               "database errors counted");
    tap_is_str(sample(text, "polycom_upload_bytes_total"),
               apr_psprintf(pool, "%" APR_UINT64_T_FMT,
                            ((apr_uint64_t)5 << 32) + 1234),
               "upload bytes add up past 4 GiB");
    tap_is_str(sample(text, "polycom_cache_hits_total"), "2",
               "cache hits counted");
    tap_is_str(sample(text, "polycom_cache_misses_total"), "1",
               "cache misses counted");
    tap_is_str(sample(text, "polycom_cache_phone_kept_total"), "1",
               "settings rendered with the phone's part kept: counted");
    tap_is_str(sample(text, "polycom_checkin_writer_rows_total"), "25",
               "the writer's rows add up");
    tap_is_str(sample(text, "polycom_enumeration_blocks_total"), "1",
               "a blocked address counted");
}

/* Counters are 64 bits wide: one past 2^32 reads as such, not as a
 * wrapped small number (which Prometheus would take for a restart). */
static void test_wide(polycom_metrics *m)
{
    const apr_uint64_t edge = APR_UINT64_C(0xffffffff);
    const char *text, *past = apr_psprintf(pool, "%" APR_UINT64_T_FMT,
                                           edge + 1);

    m->counters.requests[POLYCOM_FILE_SETTINGS][0] = edge;
    m->counters.db_errors = edge;
    m->counters.writer_rows = edge;
    m->counters.generation_buckets[0] = edge;
    m->counters.generation_count = edge;
    m->counters.upload_refused[POLYCOM_REFUSED_QUOTA] = edge;
    polycom_metrics_request(m, POLYCOM_FILE_SETTINGS, 200);
    polycom_metrics_db_error(m);
    polycom_metrics_writer_rows(m, 2);
    polycom_metrics_generation(m, 1);
    polycom_metrics_upload_refused(m, POLYCOM_REFUSED_QUOTA);
    text = polycom_metrics_render(pool, m);
    tap_ok(well_formed(text), "an exposition past 2^32 is well-formed");
    tap_is_str(sample(text, "polycom_requests_total{kind=\"settings\","
                            "status=\"200\"}"), past,
               "a request series counts past 2^32");
    tap_is_str(sample(text, "polycom_database_errors_total"), past,
               "database errors count past 2^32");
    tap_is_str(sample(text, "polycom_checkin_writer_rows_total"),
               apr_psprintf(pool, "%" APR_UINT64_T_FMT, edge + 2),
               "the writer's rows add past 2^32");
    tap_is_str(sample(text, BUCKET("0.0005")), past,
               "a histogram bucket counts past 2^32");
    tap_is_str(sample(text, "polycom_generation_seconds_count"), past,
               "the histogram's count too");
    tap_is_str(sample(text, REFUSED("quota")),
               past, "refused uploads count past 2^32");
}

/* Refused uploads, by reason; each reason has its series from the start. */
static void test_refused(polycom_metrics *m)
{
    const char *text = polycom_metrics_render(pool, m);

    tap_is_str(sample(text, REFUSED("unknown")),
               "0", "no refused upload yet: 0, not missing");
    polycom_metrics_upload_refused(m, POLYCOM_REFUSED_UNKNOWN);
    polycom_metrics_upload_refused(m, POLYCOM_REFUSED_UNKNOWN);
    polycom_metrics_upload_refused(m, POLYCOM_REFUSED_DISABLED);
    polycom_metrics_upload_refused(m, POLYCOM_REFUSED_QUOTA);
    polycom_metrics_upload_refused(m, (polycom_refusal)7);
    text = polycom_metrics_render(pool, m);
    tap_is_str(sample(text, REFUSED("unknown")),
               "2", "uploads from unknown MACs counted");
    tap_is_str(sample(text, REFUSED("disabled")),
               "1", "from disabled phones");
    tap_is_str(sample(text, REFUSED("quota")),
               "1", "over the quota");
}

static void test_generation(polycom_metrics *m)
{
    const char *text;

    polycom_metrics_generation(m, 400);          /* 0.4 ms */
    polycom_metrics_generation(m, 500);          /* on a bound: in it */
    polycom_metrics_generation(m, 3000);         /* 3 ms */
    polycom_metrics_generation(m, apr_time_from_sec(2));
    text = polycom_metrics_render(pool, m);
    tap_ok(well_formed(text), "the histogram is well-formed");
    tap_is_str(sample(text, BUCKET("0.0005")),
               "2", "up to 0.5 ms: two, a time on the bound included");
    tap_is_str(sample(text, BUCKET("0.0025")),
               "2", "buckets are cumulative");
    tap_is_str(sample(text, BUCKET("0.005")),
               "3", "up to 5 ms: three");
    tap_is_str(sample(text, BUCKET("1")),
               "3", "up to 1 s: still three");
    tap_is_str(sample(text, BUCKET("+Inf")),
               "4", "+Inf holds all four");
    tap_is_str(sample(text, "polycom_generation_seconds_count"), "4",
               "the count is four");
    tap_is_str(sample(text, "polycom_generation_seconds_sum"), "2.003900",
               "the sum is in seconds");
}

int main(void)
{
    polycom_metrics *m;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    m = apr_palloc(pool, sizeof(*m));
    memset(m, 0xa5, sizeof(*m));
    polycom_metrics_init(m);

    test_fresh(m);
    test_requests(m);
    test_counters(m);
    test_generation(m);
    test_refused(m);

    polycom_metrics_init(m);
    test_wide(m);

    polycom_metrics_init(m);
    tap_is_str(sample(polycom_metrics_render(pool, m),
                      "polycom_database_errors_total"), "0",
               "init (a restart) starts the counters again from zero");
    return tap_done();
}
