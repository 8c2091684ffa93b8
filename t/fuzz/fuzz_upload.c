/* Fuzz target: the checks on uploaded bodies. */
#include "fuzz.h"
#include "polycom_upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *error = NULL;

    if (polycom_upload_check(pool, POLYCOM_FILE_PHONE_OVERRIDE,
                             (const char *)data, size, &error) < 0
        && !error) {
        __builtin_trap();
    }
    apr_pool_destroy(pool);
    return 0;
}
