/* TAP tests of src/checkin.c: the one definition of a check-in gives its
 * copy and its INSERT, and they agree with each other. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_checkin.h"
#include "tap.h"

static int count_of(const char *text, const char *needle)
{
    int n = 0;

    while ((text = strstr(text, needle)) != NULL) {
        n++;
        text += strlen(needle);
    }
    return n;
}

int main(void)
{
    apr_pool_t *pool, *queue;
    polycom_checkin c, copy;
    char file[] = "0004f2e62aa4-settings.cfg";
    const char *sql, **values;
    int n;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    apr_pool_create(&queue, NULL);

    memset(&c, 0, sizeof(c));
    c.time = APR_INT64_C(1795000000000001);
    c.mac = "0004f2e62aa4";
    c.ip = "192.0.2.7";
    c.method = "GET";
    c.file = file;
    c.kind = POLYCOM_FILE_SETTINGS;
    c.status = 200;
    c.bytes = 4321;
    c.etag = "\"e1\"";
    c.family = "vvx";
    c.model = "VVX411";
    c.firmware = "6.4.3.5018";
    c.stage = "application";
    c.user_agent = NULL;            /* no User-Agent header */
    c.server_address = NULL;

    polycom_checkin_copy(queue, &copy, &c);
    file[0] = 'X';                  /* the request's memory changes */
    tap_is_str(copy.file, "0004f2e62aa4-settings.cfg",
               "the copy owns its strings");
    tap_is_str(copy.user_agent, "", "a missing string is copied as \"\"");
    tap_ok(copy.server_address == NULL,
           "no server address stays none (not \"\")");
    tap_ok(copy.kind == POLYCOM_FILE_SETTINGS && copy.status == 200
           && copy.bytes == 4321 && copy.time == c.time,
           "numbers and the kind travel with it");
    file[0] = '0';

    sql = polycom_checkin_insert_sql(pool, "CAST(%s AS BIGINT)");
    tap_is_str(sql, "INSERT INTO checkins (time_us, mac, ip, method, file, "
               "status, bytes, etag, family, model, firmware, stage, "
               "user_agent) VALUES (CAST(%s AS BIGINT), %s, %s, %s, %s, "
               "CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s, %s, %s, %s, %s, "
               "%s)", "the INSERT names every stored column once");
    tap_is_int(count_of(sql, "%s"), polycom_checkin_columns(),
               "one placeholder per column");

    values = polycom_checkin_insert_values(pool, &c);
    for (n = 0; values[n]; n++) {
    }
    tap_is_int(n, polycom_checkin_columns(), "one value per column");
    tap_is_str(values[0], "1795000000000001", "the time in microseconds");
    tap_is_str(values[5], "200", "the status as a number");
    tap_is_str(values[6], "4321", "the bytes as a number");
    tap_is_str(values[12], "", "a missing User-Agent is stored as \"\"");

    tap_ok(polycom_checkin_is_settings_fetch(&c),
           "a 200 GET of the phone's own settings file is its fetch");
    c.status = 304;
    tap_ok(polycom_checkin_is_settings_fetch(&c), "so is a 304");
    c.status = 404;
    tap_ok(!polycom_checkin_is_settings_fetch(&c), "a 404 is not");
    c.status = 200;
    c.file = "000000000000-settings.cfg";
    tap_ok(!polycom_checkin_is_settings_fetch(&c),
           "the default settings file is not the phone's own");
    c.file = "0004f2e62aa4-settings.cfg";
    c.kind = POLYCOM_FILE_MASTER;
    tap_ok(!polycom_checkin_is_settings_fetch(&c), "nor is its master");
    c.kind = POLYCOM_FILE_SETTINGS;
    c.method = "PUT";
    tap_ok(!polycom_checkin_is_settings_fetch(&c), "nor a PUT");

    apr_pool_destroy(queue);
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
