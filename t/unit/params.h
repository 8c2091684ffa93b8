/* A parameter list for the unit tests, from NULL-terminated name/value
 * pairs: { "reg.1.address", "1001", NULL }. */
#ifndef POLYCOM_UNIT_PARAMS_H
#define POLYCOM_UNIT_PARAMS_H

#include <apr_tables.h>

#include "polycom_param.h"

static apr_array_header_t *unit_params(apr_pool_t *pool,
                                       const char *const *pairs)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(polycom_param));

    for (; pairs[0]; pairs += 2) {
        polycom_param *p = apr_array_push(a);

        p->name = pairs[0];
        p->value = pairs[1];
    }
    return a;
}

#endif /* POLYCOM_UNIT_PARAMS_H */
