/* The check-in batch message between a child and the check-in writer. */

#include <errno.h>
#include <string.h>

#include <apr_strings.h>

#include "polycom_wire.h"

/* Each row is the fields of POLYCOM_CHECKIN_FIELDS (polycom_checkin.h),
 * in that order, all netstrings. Numbers are decimal; an OSTR field
 * starts with "S" when set and is "N" when not, because NULL ("this
 * request moved nobody") and "" differ. The header's PCW2 is the format's
 * version: a child and a writer of different builds refuse each other's
 * batches (the child then writes them itself). */

/* The payload being built: grows by doubling, in the caller's pool. */
typedef struct {
    apr_pool_t *pool;
    char *data;
    apr_size_t length;
    apr_size_t size;
} wire_buffer;

static void wire_append(wire_buffer *out, const char *bytes, apr_size_t n)
{
    if (out->length + n > out->size) {
        apr_size_t size = out->size ? out->size : 1024;
        char *data;

        while (size < out->length + n) {
            size *= 2;
        }
        data = apr_palloc(out->pool, size);
        if (out->length) {
            memcpy(data, out->data, out->length);
        }
        out->data = data;
        out->size = size;
    }
    if (n) {
        memcpy(out->data + out->length, bytes, n);
    }
    out->length += n;
}

static void wire_put(wire_buffer *out, const char *value, apr_size_t length)
{
    char prefix[24];
    int n = apr_snprintf(prefix, sizeof(prefix), "%" APR_SIZE_T_FMT ":",
                         length);

    wire_append(out, prefix, (apr_size_t)n);
    wire_append(out, value, length);
    wire_append(out, ",", 1);
}

static void wire_str(wire_buffer *out, const char *value)
{
    value = value ? value : "";
    wire_put(out, value, strlen(value));
}

static void wire_num(wire_buffer *out, apr_int64_t value)
{
    char text[24];
    int n = apr_snprintf(text, sizeof(text), "%" APR_INT64_T_FMT, value);

    wire_put(out, text, n);
}

/* Each field type on the wire (polycom_checkin.h names the types). */
#define wire_put_STR(out, value)    wire_str(out, value)
#define wire_put_OSTR(out, value) \
    wire_str(out, (value) ? apr_pstrcat((out)->pool, "S", (value), NULL) \
                          : "N")
#define wire_put_TIME(out, value)   wire_num(out, (apr_int64_t)(value))
#define wire_put_STATUS(out, value) wire_num(out, (apr_int64_t)(value))
#define wire_put_SIZE(out, value)   wire_num(out, (apr_int64_t)(value))
#define wire_put_FLAG(out, value)   wire_num(out, (value) ? 1 : 0)
#define wire_put_ID(out, value)     wire_num(out, (apr_int64_t)(value))
#define wire_put_KIND(out, value)   wire_num(out, (apr_int64_t)(value))

char *polycom_wire_encode(apr_pool_t *pool, unsigned server,
                          const polycom_checkin *const *list, int count,
                          apr_size_t *length)
{
    wire_buffer payload = { NULL, NULL, 0, 0 };
    wire_buffer *out = &payload;
    char *message;
    int i;

    payload.pool = pool;
    for (i = 0; i < count; i++) {
        const polycom_checkin *c = list[i];

#define WIRE_PUT(type, field, column) wire_put_##type(out, c->field);
        POLYCOM_CHECKIN_FIELDS(WIRE_PUT)
#undef WIRE_PUT
    }
    message = apr_palloc(pool, POLYCOM_WIRE_HEADER + out->length + 1);
    apr_snprintf(message, POLYCOM_WIRE_HEADER + 1, "PCW2 %08x %08x %08x\n",
                 server, (unsigned)count, (unsigned)out->length);
    if (out->length) {
        memcpy(message + POLYCOM_WIRE_HEADER, out->data, out->length);
    }
    *length = POLYCOM_WIRE_HEADER + out->length;
    return message;
}

static int wire_hex(const char *text, unsigned *value)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        char c = text[i];

        if (c >= '0' && c <= '9') {
            v = v * 16 + (unsigned)(c - '0');
        }
        else if (c >= 'a' && c <= 'f') {
            v = v * 16 + (unsigned)(c - 'a' + 10);
        }
        else {
            return -1;
        }
    }
    *value = v;
    return 0;
}

int polycom_wire_header(const char *header, unsigned *server,
                        unsigned *count, apr_size_t *payload)
{
    unsigned length;

    if (memcmp(header, "PCW2 ", 5) || header[13] != ' ' || header[22] != ' '
        || header[31] != '\n' || wire_hex(header + 5, server)
        || wire_hex(header + 14, count) || wire_hex(header + 23, &length)
        || *count > POLYCOM_WIRE_MAX_ROWS
        || length > POLYCOM_WIRE_MAX_PAYLOAD) {
        return -1;
    }
    *payload = length;
    return 0;
}

/* The next netstring of [*at, end): its bytes, NUL-terminated, in pool. */
static const char *wire_take(apr_pool_t *pool, const char **at,
                             const char *end, apr_size_t *length)
{
    const char *p = *at;
    apr_size_t n = 0;
    int digits = 0;

    while (p < end && *p >= '0' && *p <= '9' && digits < 9) {
        n = n * 10 + (apr_size_t)(*p - '0');
        p++;
        digits++;
    }
    if (!digits || p >= end || *p != ':' || (digits > 1 && **at == '0')
        || (apr_size_t)(end - p - 1) < n + 1 || p[1 + n] != ',') {
        return NULL;
    }
    if (memchr(p + 1, '\0', n)) {
        return NULL;                    /* a C string cannot hold it */
    }
    *at = p + 1 + n + 1;
    *length = n;
    return apr_pstrmemdup(pool, p + 1, n);
}

static int wire_take_num(apr_pool_t *pool, const char **at, const char *end,
                         apr_int64_t *value)
{
    apr_size_t length;
    const char *text = wire_take(pool, at, end, &length);
    char *stop;

    const char *digits;

    if (!text || !length || length > 20) {
        return -1;
    }
    /* Only the spelling the encoder writes: an optional minus, no plus,
     * no spaces, no leading zero. */
    digits = text[0] == '-' ? text + 1 : text;
    if (!*digits || (digits[0] == '0' && (digits[1] || digits != text))
        || strspn(digits, "0123456789") != strlen(digits)) {
        return -1;
    }
    errno = 0;
    *value = apr_strtoi64(text, &stop, 10);
    return (*stop || errno) ? -1 : 0;
}

/* Each field type read back, checked as the encoder writes it; 0 when
 * it is well-formed. */
static int wire_get_STR(apr_pool_t *pool, const char **at, const char *end,
                        const char **value)
{
    apr_size_t n;

    return (*value = wire_take(pool, at, end, &n)) ? 0 : -1;
}

/* "S<text>" when set, "N" for none: NULL and "" differ. */
static int wire_get_OSTR(apr_pool_t *pool, const char **at, const char *end,
                         const char **value)
{
    const char *text;

    if (wire_get_STR(pool, at, end, &text)) {
        return -1;
    }
    if (text[0] == 'S') {
        *value = text + 1;
        return 0;
    }
    *value = NULL;
    return strcmp(text, "N") ? -1 : 0;
}

/* A number within [min, max]. */
static int wire_get_range(apr_pool_t *pool, const char **at, const char *end,
                          apr_int64_t min, apr_int64_t max,
                          apr_int64_t *value)
{
    return wire_take_num(pool, at, end, value) || *value < min
           || *value > max ? -1 : 0;
}

#define WIRE_NUMBER_GETTER(type, ctype, min, max)                          \
static int wire_get_##type(apr_pool_t *pool, const char **at,              \
                           const char *end, ctype *value)                  \
{                                                                          \
    apr_int64_t n;                                                         \
                                                                           \
    if (wire_get_range(pool, at, end, (min), (max), &n)) {                 \
        return -1;                                                         \
    }                                                                      \
    *value = (ctype)n;                                                     \
    return 0;                                                              \
}
WIRE_NUMBER_GETTER(TIME, apr_time_t, APR_INT64_MIN, APR_INT64_MAX)
WIRE_NUMBER_GETTER(STATUS, int, 0, 999)
WIRE_NUMBER_GETTER(SIZE, apr_off_t, 0, APR_INT64_MAX)
WIRE_NUMBER_GETTER(FLAG, int, 0, 1)
WIRE_NUMBER_GETTER(ID, apr_int64_t, APR_INT64_MIN, APR_INT64_MAX)
WIRE_NUMBER_GETTER(KIND, polycom_file_kind, POLYCOM_FILE_NONE,
                   POLYCOM_FILE_DEVICE)

apr_array_header_t *polycom_wire_decode(apr_pool_t *pool, const char *payload,
                                        apr_size_t length, unsigned count)
{
    apr_array_header_t *rows = apr_array_make(pool, count ? (int)count : 1,
                                              sizeof(polycom_checkin));
    const char *at = payload, *end = payload + length;
    unsigned i;

    if (count > POLYCOM_WIRE_MAX_ROWS) {
        return NULL;
    }
    for (i = 0; i < count; i++) {
        polycom_checkin *c = apr_array_push(rows);

        memset(c, 0, sizeof(*c));
#define WIRE_GET(type, field, column)                                       \
        if (wire_get_##type(pool, &at, end, &c->field)) {                  \
            return NULL;                                                   \
        }
        POLYCOM_CHECKIN_FIELDS(WIRE_GET)
#undef WIRE_GET
    }
    return at == end ? rows : NULL;
}
