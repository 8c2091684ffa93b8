/* Unit tests for the check-in batch message (src/wire.c): what the writer
 * decodes is exactly what the child encoded, and nothing else decodes. */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_wire.h"
#include "tap.h"

static apr_pool_t *pool;

/* Headers the writer must refuse, and why. */
static const char *const bad_headers[][2] = {
    { "PCW2 00000000 00010001 00000000\n", "more rows than a batch may hold" },
    { "PCW2 00000000 00000001 0fffffff\n", "a payload over the limit" },
    { "PCW1 00000000 00000001 00000010\n", "the previous version (no file kind)" },
    { "PCW2 0000000G 00000001 00000010\n", "a header that is not hex" },
};

static polycom_checkin sample(int n)
{
    polycom_checkin c;

    memset(&c, 0, sizeof(c));
    c.time = APR_INT64_C(1795000000000000) + n;
    c.mac = n ? "0004f2e62aa4" : "";
    c.ip = "192.0.2.7";
    c.method = "PUT";
    c.file = apr_psprintf(pool, "0004f2e62aa4-app-%d.log", n);
    c.kind = n == 1 ? POLYCOM_FILE_APP_LOG : POLYCOM_FILE_SETTINGS;
    c.status = 201;
    c.bytes = 123456789012LL;
    c.etag = "\"x,y:1\"";           /* the separators inside a value */
    c.family = "vvx";
    c.model = "VVX_411";
    c.firmware = "5.9.5.0614";
    c.stage = "application";
    c.user_agent = "FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 "
                   "Type/Application \xc3\xa9";
    c.unknown_phone = n % 2;
    c.delivered_target = n == 2 ? 42 : 0;
    c.server_address = n == 1 ? "prov.example.net:8080/prov"
                              : n == 2 ? "" : NULL;
    return c;
}

/* Every field of polycom_checkin.h compared, whatever fields it has. */
#define SAME_STR(f)    (!strcmp(a->f, b->f))
#define SAME_OSTR(f)   (a->f && b->f ? !strcmp(a->f, b->f) : a->f == b->f)
#define SAME_TIME(f)   (a->f == b->f)
#define SAME_STATUS(f) (a->f == b->f)
#define SAME_SIZE(f)   (a->f == b->f)
#define SAME_FLAG(f)   (a->f == b->f)
#define SAME_ID(f)     (a->f == b->f)
#define SAME_KIND(f)   (a->f == b->f)

static int same(const polycom_checkin *a, const polycom_checkin *b)
{
#define SAME_FIELD(type, field, column) && SAME_##type(field)
    return 1 POLYCOM_CHECKIN_FIELDS(SAME_FIELD);
#undef SAME_FIELD
}

int main(void)
{
    polycom_checkin rows[3];
    const polycom_checkin *list[3];
    apr_array_header_t *back;
    apr_size_t length, payload, cut;
    unsigned server, count;
    char *message, *bad;
    int i, all_same = 1, cuts_refused = 1;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    for (i = 0; i < 3; i++) {
        rows[i] = sample(i);
        list[i] = &rows[i];
    }

    message = polycom_wire_encode(pool, 7, list, 3, &length);
    tap_ok(polycom_wire_header(message, &server, &count, &payload) == 0,
           "the header parses");
    tap_is_int(server, 7, "with the server's number");
    tap_is_int(count, 3, "the number of rows");
    tap_ok(payload + POLYCOM_WIRE_HEADER == length,
           "and the payload's length");

    back = polycom_wire_decode(pool, message + POLYCOM_WIRE_HEADER, payload,
                               count);
    tap_ok(back && back->nelts == 3, "three rows come back");
    for (i = 0; back && i < 3; i++) {
        all_same &= same(&rows[i], &APR_ARRAY_IDX(back, i, polycom_checkin));
    }
    tap_ok(back && all_same, "field for field the same, separators, UTF-8 "
           "and 64-bit numbers included");
    tap_ok(back && APR_ARRAY_IDX(back, 0, polycom_checkin).server_address
           == NULL, "no server address stays NULL");
    tap_is_str(back ? APR_ARRAY_IDX(back, 2, polycom_checkin).server_address
                    : NULL, "", "an empty server address stays empty");

    for (cut = 0; cut < payload; cut++) {
        if (polycom_wire_decode(pool, message + POLYCOM_WIRE_HEADER, cut,
                                count)) {
            cuts_refused = 0;
        }
    }
    tap_ok(cuts_refused, "a payload cut anywhere is refused");
    tap_ok(!polycom_wire_decode(pool, message + POLYCOM_WIRE_HEADER, payload,
                                2), "fewer rows than the payload holds: "
           "refused");
    tap_ok(!polycom_wire_decode(pool, message + POLYCOM_WIRE_HEADER, payload,
                                4), "more rows than the payload holds: "
           "refused");

    bad = apr_pstrmemdup(pool, message, length);
    bad[POLYCOM_WIRE_HEADER] = 'x';
    tap_ok(!polycom_wire_decode(pool, bad + POLYCOM_WIRE_HEADER, payload, 3),
           "a length that is not a number: refused");
    bad = apr_pstrmemdup(pool, message, length);
    bad[POLYCOM_WIRE_HEADER + 1] = '\0';
    tap_ok(!polycom_wire_decode(pool, bad + POLYCOM_WIRE_HEADER, payload, 3),
           "a broken netstring: refused");
    for (i = 0; i < (int)(sizeof(bad_headers) / sizeof(bad_headers[0]));
         i++) {
        tap_ok(polycom_wire_header(bad_headers[i][0], &server, &count,
                                   &payload) < 0, "%s: refused",
               bad_headers[i][1]);
    }
    {
        const char with_nul[] = "1:1,3:a\0b,";
        tap_ok(!polycom_wire_decode(pool, with_nul, sizeof(with_nul) - 1, 1),
               "a NUL inside a string: refused");
    }
    message = polycom_wire_encode(pool, 0, list, 0, &length);
    tap_ok(length == POLYCOM_WIRE_HEADER
           && polycom_wire_decode(pool, message + POLYCOM_WIRE_HEADER, 0, 0)
           != NULL, "an empty batch is a header alone");

    return tap_done();
}
