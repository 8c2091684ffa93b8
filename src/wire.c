/* The check-in batch message between a child and the check-in writer. */

#include <errno.h>
#include <string.h>

#include <apr_strings.h>

#include "polycom_wire.h"

/* Each row is these fields, in this order, all netstrings. Numbers are
 * decimal; server_address starts with "S" when set and is "N" when not,
 * because NULL ("this request moved nobody") and "" differ. */

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

        wire_num(out, c->time);
        wire_str(out, c->mac);
        wire_str(out, c->ip);
        wire_str(out, c->method);
        wire_str(out, c->file);
        wire_num(out, c->status);
        wire_num(out, c->bytes);
        wire_str(out, c->etag);
        wire_str(out, c->family);
        wire_str(out, c->model);
        wire_str(out, c->firmware);
        wire_str(out, c->stage);
        wire_str(out, c->user_agent);
        wire_num(out, c->unknown_phone ? 1 : 0);
        wire_num(out, c->delivered_target);
        wire_str(out, c->server_address
                      ? apr_pstrcat(pool, "S", c->server_address, NULL)
                      : "N");
    }
    message = apr_palloc(pool, POLYCOM_WIRE_HEADER + out->length + 1);
    apr_snprintf(message, POLYCOM_WIRE_HEADER + 1, "PCW1 %08x %08x %08x\n",
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

    if (memcmp(header, "PCW1 ", 5) || header[13] != ' ' || header[22] != ' '
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

/* The next netstrings into the given fields, in order. */
static int wire_take_strings(apr_pool_t *pool, const char **at,
                             const char *end, const char **const *fields,
                             apr_size_t count)
{
    apr_size_t k, n;

    for (k = 0; k < count; k++) {
        if (!(*fields[k] = wire_take(pool, at, end, &n))) {
            return -1;
        }
    }
    return 0;
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
        const char **const strings[] = { &c->mac, &c->ip, &c->method,
                                         &c->file };
        const char **const more[] = { &c->etag, &c->family, &c->model,
                                &c->firmware, &c->stage, &c->user_agent };
        apr_int64_t time, status, bytes, unknown, target;
        const char *address;
        apr_size_t n;

        memset(c, 0, sizeof(*c));
        if (wire_take_num(pool, &at, end, &time)
            || wire_take_strings(pool, &at, end, strings,
                                 sizeof(strings) / sizeof(strings[0]))
            || wire_take_num(pool, &at, end, &status)
            || wire_take_num(pool, &at, end, &bytes)
            || status < 0 || status > 999 || bytes < 0
            || wire_take_strings(pool, &at, end, more,
                                 sizeof(more) / sizeof(more[0]))) {
            return NULL;
        }
        if (wire_take_num(pool, &at, end, &unknown)
            || wire_take_num(pool, &at, end, &target)
            || (unknown != 0 && unknown != 1)
            || !(address = wire_take(pool, &at, end, &n))) {
            return NULL;
        }
        if (address[0] == 'S') {
            c->server_address = address + 1;
        }
        else if (strcmp(address, "N")) {
            return NULL;
        }
        c->time = (apr_time_t)time;
        c->status = (int)status;
        c->bytes = (apr_off_t)bytes;
        c->unknown_phone = (int)unknown;
        c->delivered_target = target;
    }
    return at == end ? rows : NULL;
}
