/* The device.* stanza that moves a phone to a new provisioning server. */

#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "polycom_device.h"
#include "polycom_param.h"
#include "polycom_reprovision.h"

static const char *const reprovision_types[] = {
    "FTP", "TFTP", "HTTP", "HTTPS", "FTPS"
};
static const char *const reprovision_boot[] = {
    "Default", "Custom", "Static", "CustomAndDefault"
};

static int reprovision_index(const char *name, const char *const *names,
                             int count)
{
    int i;

    for (i = 0; name && i < count; i++) {
        if (!strcasecmp(name, names[i])) {
            return i;
        }
    }
    return -1;
}

int polycom_reprovision_server_type(const char *name)
{
    return reprovision_index(name, reprovision_types, 5);
}

int polycom_reprovision_boot_server(const char *name)
{
    return reprovision_index(name, reprovision_boot, 4);
}

int polycom_reprovision_server_valid(const char *server)
{
    apr_size_t i;

    if (!server || !*server) {
        return 0;
    }
    for (i = 0; server[i]; i++) {
        if (i >= 255 || apr_iscntrl(server[i]) || server[i] == ' '
            || server[i] == '"' || server[i] == '\\') {
            return 0;
        }
    }
    return 1;
}

const char *polycom_reprovision_address(apr_pool_t *pool, const char *server)
{
    const char *p = strstr(server, "://"), *at, *slash;
    char *out, *c;

    p = p ? p + 3 : server;
    slash = strchr(p, '/');
    at = strchr(p, '@');
    if (at && (!slash || at < slash)) {
        p = at + 1;                     /* drop user:password@ */
    }
    out = apr_pstrdup(pool, p);
    for (c = out; *c && *c != '/'; c++) {
        *c = (char)apr_tolower(*c);
    }
    c = out + strlen(out);
    while (c > out && c[-1] == '/') {
        *--c = '\0';
    }
    return out;
}

const char *polycom_reprovision_server_public(apr_pool_t *pool,
                                              const char *server)
{
    const char *sep = strstr(server, "://");
    const char *host = sep ? sep + 3 : server;
    const char *slash = strchr(host, '/');
    const char *at = strchr(host, '@');

    if (!at || (slash && at > slash)) {
        return server;
    }
    return apr_pstrcat(pool, apr_pstrmemdup(pool, server,
                                            (apr_size_t)(host - server)),
                       at + 1, NULL);
}

const char *const polycom_reprovision_names[] = {
    POLYCOM_STANZA_SERVER, POLYCOM_STANZA_TYPE, POLYCOM_STANZA_BOOT,
    POLYCOM_STANZA_USER, POLYCOM_STANZA_PASSWORD, NULL
};

static void reprovision_add(apr_array_header_t *params, const char *name,
                            const char *value)
{
    polycom_param *p = apr_array_push(params);

    p->name = name;
    p->value = value;
}

static int reprovision_by_name(const void *a, const void *b)
{
    return strcmp(((const polycom_param *)a)->name,
                  ((const polycom_param *)b)->name);
}

apr_array_header_t *polycom_reprovision_params(apr_pool_t *pool,
                                               const polycom_reprovision *t,
                                               int with_credentials)
{
    apr_array_header_t *params = apr_array_make(pool, 5,
                                                sizeof(polycom_param));
    int type = polycom_reprovision_server_type(t->server_type);
    int boot = polycom_reprovision_boot_server(t->boot_server);

    reprovision_add(params, POLYCOM_STANZA_SERVER, t->server);
    reprovision_add(params, POLYCOM_STANZA_TYPE,
                    apr_itoa(pool, type < 0 ? 2 : type));
    reprovision_add(params, POLYCOM_STANZA_BOOT,
                    apr_itoa(pool, boot < 0 ? 2 : boot));
    if (with_credentials && t->user && *t->user) {
        reprovision_add(params, POLYCOM_STANZA_USER, t->user);
    }
    if (with_credentials && t->password && *t->password) {
        reprovision_add(params, POLYCOM_STANZA_PASSWORD, t->password);
    }
    /* The flags the same way as for the settings (device.c). */
    params = polycom_device_apply(pool, params);
    qsort(params->elts, (size_t)params->nelts, sizeof(polycom_param),
          reprovision_by_name);
    return params;
}
