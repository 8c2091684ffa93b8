/* Fuzz target: the admin API's phone documents. */
#include "fuzz.h"
#include "polycom_admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *error = NULL;

    if (polycom_admin_validate_phone(pool, "0004f2e62aa4", (const char *)data,
                                     size, &error) < 0 && !error) {
        __builtin_trap();
    }
    apr_pool_destroy(pool);
    return 0;
}
