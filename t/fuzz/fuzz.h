/* Shared set-up of the fuzz targets: APR once, a pool per input. */
#ifndef POLYCOM_FUZZ_H
#define POLYCOM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

static inline apr_pool_t *fuzz_pool(void)
{
    static int ready;
    apr_pool_t *pool;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    apr_pool_create(&pool, NULL);
    return pool;
}

/* The input as a NUL-terminated string (inputs with NULs end early, as
 * strings from httpd or the database would). */
static inline const char *fuzz_string(apr_pool_t *pool, const uint8_t *data,
                               size_t size)
{
    return apr_pstrmemdup(pool, (const char *)data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
