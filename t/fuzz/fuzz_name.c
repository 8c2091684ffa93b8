/* Fuzz target: request file names. */
#include "fuzz.h"
#include "polycom_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    polycom_name name;

    if (polycom_name_parse(fuzz_string(pool, data, size), &name)) {
        /* A name we accept round-trips to the same file name. */
        const char *again = polycom_name_file(pool, name.mac, name.kind);
        polycom_name second;

        if (!again || !polycom_name_parse(again, &second)
            || second.kind != name.kind || strcmp(second.mac, name.mac)) {
            __builtin_trap();
        }
    }
    apr_pool_destroy(pool);
    return 0;
}
