/* The .set flags of device.* parameters.
 *
 * A device.* value is a setting of the phone's flash, as if typed in its
 * setup menu; a phone applies one only when the file carries device.set="1"
 * and the value's own <name>.set="1" (REFERENCE.md 3.3). Without them it
 * reads the value and silently keeps its own. Admins write the value, as
 * for any other parameter; the flags are added here, for every file that
 * carries device.* values: the settings and the reprovisioning stanza.
 */

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "polycom_device.h"
#include "polycom_param.h"
#include "polycom_reprovision.h"

#define DEVICE_PREFIX "device."
#define DEVICE_SWITCH "device.set"
#define DEVICE_FLAG ".set"

static int device_prefixed(const char *name)
{
    return name && !strncmp(name, DEVICE_PREFIX, sizeof(DEVICE_PREFIX) - 1);
}

static int device_is_flag(const char *name)
{
    apr_size_t len = strlen(name), flen = sizeof(DEVICE_FLAG) - 1;

    return len >= flen && !strcmp(name + len - flen, DEVICE_FLAG);
}

int polycom_device_is_value(const char *name)
{
    return device_prefixed(name) && !device_is_flag(name);
}

int polycom_device_is_move_param(const char *name)
{
    apr_size_t i, len;

    if (!device_prefixed(name)) {
        return 0;
    }
    /* What a reprovisioning stanza sets: while it moves a phone, the same
     * names from a layer must not reach the phone too. */
    for (i = 0; polycom_reprovision_names[i]; i++) {
        len = strlen(polycom_reprovision_names[i]);
        if (!strncmp(name, polycom_reprovision_names[i], len)
            && (!name[len] || !strcmp(name + len, DEVICE_FLAG))) {
            return 1;
        }
    }
    return 0;
}

int polycom_device_move_params(const apr_array_header_t *params)
{
    int i, count = 0;

    for (i = 0; params && i < params->nelts; i++) {
        count += polycom_device_is_move_param(
            APR_ARRAY_IDX(params, i, polycom_param).name);
    }
    return count;
}

/* A device flag other than device.set, whose value is in the list: one
 * to keep. A flag of a flag, or of a value the list does not hold (a
 * withheld secret, a parameter left out during a move), flags nothing. */
static int device_flag_has_value(apr_hash_t *names, const char *flag)
{
    apr_size_t blen = strlen(flag) - (sizeof(DEVICE_FLAG) - 1);
    const polycom_param *base = apr_hash_get(names, flag,
                                             (apr_ssize_t)blen);

    return base && polycom_device_is_value(base->name);
}

apr_array_header_t *polycom_device_apply(apr_pool_t *pool,
                                         const apr_array_header_t *params)
{
    apr_hash_t *names = apr_hash_make(pool);
    apr_array_header_t *out;
    int i, values = 0, switch_due;

    /* Only device.* names are ever looked up: the others cost nothing. */
    for (i = 0; params && i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        if (device_prefixed(p->name)) {
            apr_hash_set(names, p->name, APR_HASH_KEY_STRING, p);
            values += polycom_device_is_value(p->name);
        }
    }
    out = apr_array_make(pool, (params ? params->nelts : 0) + 2 * values + 1,
                         sizeof(polycom_param));
    /* The admin's own device.set, when there is one, stands. */
    switch_due = values && !apr_hash_get(names, DEVICE_SWITCH,
                                         APR_HASH_KEY_STRING);
    for (i = 0; params && i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);
        polycom_param *q;

        if (!device_prefixed(p->name)) {
            *(polycom_param *)apr_array_push(out) = *p;
            continue;
        }
        if (!strcmp(p->name, DEVICE_SWITCH) ? !values
            : device_is_flag(p->name) && !device_flag_has_value(names,
                                                                 p->name)) {
            continue;
        }
        /* Before the first device.* entry: the renderer opens <device>
         * there either way, so no element moves. */
        if (switch_due) {
            q = apr_array_push(out);
            q->name = DEVICE_SWITCH;
            q->value = "1";
            switch_due = 0;
        }
        *(polycom_param *)apr_array_push(out) = *p;
        if (polycom_device_is_value(p->name)) {
            const char *flag = apr_pstrcat(pool, p->name, DEVICE_FLAG, NULL);

            if (!apr_hash_get(names, flag, APR_HASH_KEY_STRING)) {
                q = apr_array_push(out);
                q->name = flag;
                q->value = "1";
            }
        }
    }
    return out;
}

apr_array_header_t *polycom_device_settings(apr_pool_t *pool,
                                            const apr_array_header_t *params,
                                            int moving)
{
    apr_array_header_t *kept;
    int i;

    if (!moving || !polycom_device_move_params(params)) {
        return polycom_device_apply(pool, params);
    }
    kept = apr_array_make(pool, params->nelts, sizeof(polycom_param));
    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        if (!polycom_device_is_move_param(p->name)) {
            *(polycom_param *)apr_array_push(kept) = *p;
        }
    }
    return polycom_device_apply(pool, kept);
}
