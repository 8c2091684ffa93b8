/* Fuzz target: the check-in writer's decoding of a batch message. Whatever
 * decodes must encode back to the very same bytes (one spelling per batch),
 * so the writer can never store something the child did not send. */
#include "fuzz.h"
#include "polycom_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    unsigned server, count;
    apr_size_t payload, length;
    apr_array_header_t *rows;

    if (size >= POLYCOM_WIRE_HEADER
        && polycom_wire_header((const char *)data, &server, &count,
                               &payload) == 0
        && payload == size - POLYCOM_WIRE_HEADER
        && (rows = polycom_wire_decode(pool,
                                       (const char *)data
                                       + POLYCOM_WIRE_HEADER,
                                       payload, count)) != NULL) {
        const polycom_checkin **list =
            apr_palloc(pool, sizeof(*list) * (rows->nelts + 1));
        const char *again;
        int i;

        for (i = 0; i < rows->nelts; i++) {
            list[i] = &APR_ARRAY_IDX(rows, i, polycom_checkin);
        }
        again = polycom_wire_encode(pool, server, list, rows->nelts, &length);
        if (length != size || memcmp(again, data, size)) {
            __builtin_trap();
        }
    }
    apr_pool_destroy(pool);
    return 0;
}
