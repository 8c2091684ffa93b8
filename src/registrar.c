/* The registrar's registration table, read with the admin's own query. */

#include <string.h>

#include <apr_dbd.h>
#include <apr_strings.h>

#include "polycom_registrar.h"

struct polycom_registrar {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_dbd_prepared_t *query;
};

static apr_status_t registrar_close(void *data)
{
    polycom_registrar *r = data;

    if (r->handle) {
        apr_dbd_close(r->driver, r->handle);
        r->handle = NULL;
    }
    return APR_SUCCESS;
}

int polycom_registrar_open(apr_pool_t *pool, const char *driver,
                           const char *params, const char *query,
                           polycom_registrar **out, const char **error)
{
    polycom_registrar *r = apr_pcalloc(pool, sizeof(*r));
    const char *message = NULL;
    apr_status_t rv;
    int err;

    *out = NULL;
    if ((rv = apr_dbd_get_driver(pool, driver, &r->driver)) != APR_SUCCESS) {
        *error = apr_psprintf(pool, "no APR DBD driver \"%s\"", driver);
        return -1;
    }
    if ((rv = apr_dbd_open_ex(r->driver, pool, params, &r->handle,
                              &message)) != APR_SUCCESS || !r->handle) {
        *error = apr_psprintf(pool, "cannot open the registrar's database: "
                              "%s", message ? message : "connection failed");
        r->handle = NULL;
        return -1;
    }
    apr_pool_cleanup_register(pool, r, registrar_close,
                              apr_pool_cleanup_null);
    err = apr_dbd_prepare(r->driver, pool, r->handle, query, NULL,
                          &r->query);
    if (err) {
        *error = apr_psprintf(pool, "cannot prepare the registrar query: %s",
                              apr_dbd_error(r->driver, r->handle, err));
        return -1;
    }
    *out = r;
    return 0;
}

int polycom_registrar_lookup(polycom_registrar *r, apr_pool_t *pool,
                             const char *user, const char *domain,
                             const char **contact, const char **received,
                             const char **error)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int err, found = 0, cols, i;

    *contact = *received = "";
    err = apr_dbd_pvselect(r->driver, pool, r->handle, &res, r->query, 0,
                           user, domain, NULL);
    if (err) {
        *error = apr_psprintf(pool, "the registrar query failed: %s",
                              apr_dbd_error(r->driver, r->handle, err));
        return -1;
    }
    /* Every row is read, so that a driver reading row by row (pgsql,
     * mysql) ends its result; the first one counts. */
    while (apr_dbd_get_row(r->driver, pool, res, &row, -1) == 0) {
        if (found++) {
            continue;
        }
        cols = apr_dbd_num_cols(r->driver, res);
        for (i = 0; i < cols; i++) {
            const char *name = apr_dbd_get_name(r->driver, res, i);
            const char *value = apr_dbd_get_entry(r->driver, row, i);

            if (!name || !value) {
                continue;
            }
            if (!strcasecmp(name, "contact")) {
                *contact = apr_pstrdup(pool, value);
            }
            else if (!strcasecmp(name, "received")) {
                *received = apr_pstrdup(pool, value);
            }
        }
    }
    if (found && !**contact) {
        *error = "the registrar query returned no \"contact\" column";
        return -1;
    }
    return found ? 1 : 0;
}
