/* Fuzz target: User-Agent parsing. */
#include "fuzz.h"
#include "polycom_useragent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    polycom_useragent ua;

    polycom_useragent_parse(pool, fuzz_string(pool, data, size), &ua);
    if (!ua.family || !ua.model || !ua.firmware || !ua.serial || !ua.stage
        || (*ua.serial && strlen(ua.serial) != 12)) {
        __builtin_trap();
    }
    apr_pool_destroy(pool);
    return 0;
}
