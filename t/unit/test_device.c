/* Unit tests for the .set flags of device.* parameters (src/device.c):
 * every device.* value gets its flag and the list device.set once, an
 * admin's own flag stands, a flag with nothing to flag is left out, and a
 * move leaves the layers' stanza parameters out. */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "polycom_device.h"
#include "polycom_param.h"
#include "polycom_render.h"
#include "polycom_reprovision.h"
#include "params.h"
#include "tap.h"

static apr_pool_t *pool;

/* unit_params (params.h) in this file's pool. */
#define params_of(pairs) unit_params(pool, (pairs))

/* The list as "name=value" lines, in order: one string to compare. */
static const char *listed(const apr_array_header_t *a)
{
    const char *out = "";
    int i;

    for (i = 0; i < a->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(a, i, polycom_param);

        out = apr_pstrcat(pool, out, p->name, "=", p->value, "\n", NULL);
    }
    return out;
}

static int count_of(const apr_array_header_t *a, const char *name)
{
    int i, n = 0;

    for (i = 0; i < a->nelts; i++) {
        n += !strcmp(APR_ARRAY_IDX(a, i, polycom_param).name, name);
    }
    return n;
}

static void test_flags_added(void)
{
    static const char *const in[] = {
        "device.auth.localAdminPassword", "admin-1",
        "device.prov.tagSerialNo", "1",
        "reg.1.address", "1002",
        "tcpIpApp.sntp.address", "pool.ntp.org",
        NULL
    };
    apr_array_header_t *out = polycom_device_apply(pool, params_of(in));

    tap_is_str(listed(out),
               "device.set=1\n"
               "device.auth.localAdminPassword=admin-1\n"
               "device.auth.localAdminPassword.set=1\n"
               "device.prov.tagSerialNo=1\n"
               "device.prov.tagSerialNo.set=1\n"
               "reg.1.address=1002\n"
               "tcpIpApp.sntp.address=pool.ntp.org\n",
               "each device.* value gets its .set=1, device.set once before "
               "them, the others untouched and in order");
    tap_is_int(count_of(out, "device.set"), 1, "device.set exactly once");
}

static void test_explicit_flags(void)
{
    static const char *const in[] = {
        "device.auth.localAdminPassword", "admin-1",
        "device.auth.localAdminPassword.set", "0",
        "device.prov.tagSerialNo", "1",
        "device.set", "1",
        NULL
    };
    static const char *const off[] = {
        "device.prov.tagSerialNo", "1",
        "device.set", "0",
        NULL
    };
    apr_array_header_t *out = polycom_device_apply(pool, params_of(in));

    tap_is_str(listed(out),
               "device.auth.localAdminPassword=admin-1\n"
               "device.auth.localAdminPassword.set=0\n"
               "device.prov.tagSerialNo=1\n"
               "device.prov.tagSerialNo.set=1\n"
               "device.set=1\n",
               "an explicit .set=0 stands, an explicit device.set is not "
               "added twice");
    tap_is_int(count_of(out, "device.auth.localAdminPassword.set"), 1,
               "the admin's flag is not duplicated");
    out = polycom_device_apply(pool, params_of(off));
    tap_is_str(listed(out),
               "device.prov.tagSerialNo=1\n"
               "device.prov.tagSerialNo.set=1\n"
               "device.set=0\n",
               "an explicit device.set=0 stands (nothing is applied)");
}

static void test_no_device(void)
{
    static const char *const in[] = {
        "reg.1.address", "1002",
        "up.backlight.idleIntensity", "1",
        NULL
    };
    static const char *const only_switch[] = {
        "device.set", "1",
        "reg.1.address", "1002",
        NULL
    };
    apr_array_header_t *out = polycom_device_apply(pool, params_of(in));

    tap_is_str(listed(out), "reg.1.address=1002\nup.backlight.idleIntensity=1\n",
               "a file with no device.* gets no device.set");
    tap_is_str(listed(polycom_device_apply(pool, params_of(only_switch))),
               "reg.1.address=1002\n",
               "nor keeps one that switches on nothing");
    tap_is_int(polycom_device_apply(pool, NULL)->nelts, 0, "NULL: empty");
}

static void test_flags_not_flagged(void)
{
    static const char *const in[] = {
        "device.prov.serverName", "prov.example.com",
        "device.prov.serverName.set", "1",
        "device.prov.serverName.set.set", "1",
        NULL
    };
    static const char *const withheld[] = {
        "device.auth.localAdminPassword.set", "1",
        "device.prov.user.set", "1",
        "device.prov.password.set", "0",
        "tcpIpApp.sntp.address", "pool.ntp.org",
        NULL
    };
    apr_array_header_t *out = polycom_device_apply(pool, params_of(in));

    tap_is_str(listed(out),
               "device.set=1\n"
               "device.prov.serverName=prov.example.com\n"
               "device.prov.serverName.set=1\n",
               ".set flags are not themselves flagged (a flag's flag is "
               "left out)");
    tap_is_str(listed(polycom_device_apply(pool, params_of(withheld))),
               "tcpIpApp.sntp.address=pool.ntp.org\n",
               "a flag whose value is withheld is left out, and no "
               "device.set comes with nothing");
    tap_ok(polycom_device_is_value("device.prov.serverName")
           && !polycom_device_is_value("device.set")
           && !polycom_device_is_value("device.prov.serverName.set")
           && !polycom_device_is_value("devices.x")
           && !polycom_device_is_value("reg.1.address")
           && !polycom_device_is_value(NULL),
           "what counts as a device.* value");
}

static void test_move(void)
{
    static const char *const in[] = {
        "device.auth.localAdminPassword", "admin-1",
        "device.dhcp.bootSrvUseOpt", "0",
        "device.prov.password", "old-pass",
        "device.prov.serverName", "old.example.com",
        "device.prov.serverName.set", "1",
        "device.prov.serverNameX", "kept",
        "device.prov.serverType", "2",
        "device.prov.user", "old-user",
        "reg.1.address", "1002",
        NULL
    };
    apr_array_header_t *params = params_of(in);

    tap_is_int(polycom_device_move_params(params), 6,
               "six stanza parameters or flags");
    tap_is_str(listed(polycom_device_settings(pool, params, 1)),
               "device.set=1\n"
               "device.auth.localAdminPassword=admin-1\n"
               "device.auth.localAdminPassword.set=1\n"
               "device.prov.serverNameX=kept\n"
               "device.prov.serverNameX.set=1\n"
               "reg.1.address=1002\n",
               "during a move the stanza parameters and their flags are "
               "left out");
    tap_is_int(polycom_device_settings(pool, params, 0)->nelts, 16,
               "no move: all nine, the six unflagged values flagged, "
               "device.set");
    tap_ok(polycom_device_is_move_param("device.prov.password.set")
           && !polycom_device_is_move_param("device.prov.serverNameX")
           && !polycom_device_is_move_param("device.set")
           && !polycom_device_is_move_param("device.dhcp.bootSrvOpt"),
           "what counts as a stanza parameter");
}

/* The stanza uses the same function: same bytes as before. */
static void test_stanza(void)
{
    polycom_reprovision t = { "https://prov.example.com/p", "HTTPS",
                              "Static", "u", "p" };

    tap_is_str(listed(polycom_reprovision_params(pool, &t, 1)),
               "device.dhcp.bootSrvUseOpt=2\n"
               "device.dhcp.bootSrvUseOpt.set=1\n"
               "device.prov.password=p\n"
               "device.prov.password.set=1\n"
               "device.prov.serverName=https://prov.example.com/p\n"
               "device.prov.serverName.set=1\n"
               "device.prov.serverType=3\n"
               "device.prov.serverType.set=1\n"
               "device.prov.user=u\n"
               "device.prov.user.set=1\n"
               "device.set=1\n",
               "the stanza: every value flagged, device.set, sorted");
    tap_is_int(polycom_reprovision_params(pool, &t, 0)->nelts, 7,
               "without credentials: neither they nor their flags");
}

/* Where the renderer puts the flags: in the element the schema declares
 * for each (the value's own element), device.set in <device>. */
static void test_placement(void)
{
    static const char *const in[] = {
        "device.auth.localAdminPassword", "admin-1",
        NULL
    };
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;

    tap_is_int(polycom_render_config(pool, polycom_device_apply(pool,
                                     params_of(in)), &body, &len, &error),
               0, "renders");
    tap_ok(body && strstr(body, "<device device.set=\"1\">")
           && strstr(body, "<device.auth device.auth.localAdminPassword="
                     "\"admin-1\">")
           && strstr(body, "<device.auth.localAdminPassword "
                     "device.auth.localAdminPassword.set=\"1\"/>"),
           "flags sit where polycomConfig.xsd declares them");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    xmlInitParser();
    test_flags_added();
    test_explicit_flags();
    test_no_device();
    test_flags_not_flagged();
    test_move();
    test_stanza();
    test_placement();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
