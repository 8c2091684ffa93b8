/* Unit tests for flattened configurations (src/flat.c): an override file
 * read back as name -> value, and snapshots that compare secrets by
 * digest without holding them. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_flat.h"
#include "polycom_param.h"
#include "params.h"
#include "tap.h"

static apr_pool_t *pool;

static const char *value_of(const apr_array_header_t *a, const char *name)
{
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(a, i, polycom_param).name, name)) {
            return APR_ARRAY_IDX(a, i, polycom_param).value;
        }
    }
    return NULL;
}

int main(void)
{
    static const char override[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity=\"1\""
        " reg.1.displayName=\"Alice &amp; Bob\"/>"
        "<MORE up.backlight.idleIntensity=\"3\"/></PHONE_CONFIG>";
    static const char *const served[] = {
        "reg.1.address", "1001", "reg.1.auth.password", "s3cret!",
        "tcpIpApp.sntp.address", "pool.ntp.org", NULL
    };
    apr_array_header_t *flat = NULL, *back;
    const char *error = NULL, *text;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    tap_ok(polycom_flat_from_xml(pool, override, sizeof(override) - 1,
                                 &flat, &error) == 0, "an override file reads");
    tap_ok(flat->nelts == 2, "one entry per name");
    tap_is_str(value_of(flat, "reg.1.displayName"), "Alice & Bob",
               "values come unescaped");
    tap_is_str(value_of(flat, "up.backlight.idleIntensity"), "3",
               "a later attribute of the same name wins, as on the phone");
    tap_ok(polycom_flat_from_xml(pool, "<a b=\"1\"", 8, &flat, &error) < 0,
           "a file that is not well-formed is refused");

    text = polycom_flat_snapshot(pool, unit_params(pool, served));
    tap_ok(text && !strstr(text, "s3cret!"), "a snapshot holds no secret");
    back = polycom_flat_from_snapshot(pool, text);
    tap_ok(back && back->nelts == 3, "a snapshot reads back whole");
    tap_is_str(value_of(back, "reg.1.address"), "1001",
               "values that are no secret are kept as they are");
    tap_is_str(value_of(back, "reg.1.auth.password"),
               polycom_flat_comparable(pool, "reg.1.auth.password",
                                       "s3cret!"),
               "a secret compares by its digest");
    tap_ok(strcmp(polycom_flat_comparable(pool, "reg.1.auth.password", "a"),
                  polycom_flat_comparable(pool, "reg.1.auth.password", "b")),
           "another secret has another digest");
    tap_is_str(polycom_flat_comparable(pool, "reg.1.label", "x"), "x",
               "a value that is no secret is its own comparable");
    tap_ok(polycom_flat_from_snapshot(pool, "[1]") == NULL,
           "a text that is no snapshot reads as none");

    {
        polycom_snapshot_filter *f = polycom_snapshot_filter_make(pool, 64);

        tap_ok(polycom_snapshot_filter_add(f, "\"e1\""),
               "a new ETag: its snapshot goes");
        tap_ok(!polycom_snapshot_filter_add(f, "\"e1\""),
               "the same ETag again: it went already");
        tap_ok(polycom_snapshot_filter_add(f, "\"e2\""),
               "another ETag: its own snapshot goes");
    }

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
