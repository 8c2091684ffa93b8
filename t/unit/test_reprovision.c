/* Unit tests of src/reprovision.c: the device.* stanza that moves a phone
 * to another provisioning server, as the phone reads it (each value with
 * its own .set="1", credentials for a known phone only), and the checks
 * and normal form of the server an admin gives. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "polycom_param.h"
#include "polycom_render.h"
#include "polycom_reprovision.h"
#include "tap.h"

static apr_pool_t *pool;

/* The value of parameter @a name in @a params, or NULL. */
static const char *value_of(const apr_array_header_t *params,
                            const char *name)
{
    int i;

    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        if (!strcmp(p->name, name)) {
            return p->value;
        }
    }
    return NULL;
}

/* Every parameter's name, space-separated, in order. */
static const char *names_of(const apr_array_header_t *params)
{
    const char *all = "";
    int i;

    for (i = 0; i < params->nelts; i++) {
        all = apr_pstrcat(pool, all, i ? " " : "",
                          APR_ARRAY_IDX(params, i, polycom_param).name, NULL);
    }
    return all;
}

static polycom_reprovision target(const char *type, const char *boot)
{
    polycom_reprovision t;

    t.server = "https://new-prov.example.com/polycom";
    t.server_type = type;
    t.boot_server = boot;
    t.user = "prov-user";
    t.password = "prov-pass";
    return t;
}

static void test_known_phone(void)
{
    polycom_reprovision t = target("HTTPS", "Static");
    apr_array_header_t *params = polycom_reprovision_params(pool, &t, 1);
    int i, each_set = 1;

    tap_is_str(names_of(params),
               "device.dhcp.bootSrvUseOpt device.dhcp.bootSrvUseOpt.set"
               " device.prov.password device.prov.password.set"
               " device.prov.serverName device.prov.serverName.set"
               " device.prov.serverType device.prov.serverType.set"
               " device.prov.user device.prov.user.set device.set",
               "a known phone's stanza: device.set and five device.* "
               "values, sorted by name");
    tap_is_str(value_of(params, "device.set"), "1",
               "device.set=1: the phone applies device.* values");
    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);
        const char *set;

        if (!strcmp(p->name, "device.set")
            || strstr(p->name, ".set") == p->name + strlen(p->name) - 4) {
            continue;
        }
        set = value_of(params, apr_pstrcat(pool, p->name, ".set", NULL));
        if (!set || strcmp(set, "1")) {
            each_set = 0;
            printf("# %s has no %s.set=1\n", p->name, p->name);
        }
    }
    tap_ok(each_set, "each device.* value has its own .set=1 beside it");
    tap_is_str(value_of(params, "device.prov.serverName"),
               "https://new-prov.example.com/polycom",
               "the new server, as the admin gave it");
    tap_is_str(value_of(params, "device.prov.serverType"), "3",
               "HTTPS as the number phones take (3)");
    tap_is_str(value_of(params, "device.dhcp.bootSrvUseOpt"), "2",
               "Static as the number phones take (2): DHCP no longer "
               "overrides the server");
    tap_is_str(value_of(params, "device.prov.user"), "prov-user",
               "the known phone gets the server's user");
    tap_is_str(value_of(params, "device.prov.password"), "prov-pass",
               "and its password");
}

static void test_unknown_phone(void)
{
    polycom_reprovision t = target("https", "static");
    apr_array_header_t *params = polycom_reprovision_params(pool, &t, 0);
    int i, secrets = 0;

    for (i = 0; i < params->nelts; i++) {
        secrets += polycom_param_is_secret(
            APR_ARRAY_IDX(params, i, polycom_param).name);
    }
    tap_ok(!value_of(params, "device.prov.user")
           && !value_of(params, "device.prov.password")
           && !value_of(params, "device.prov.user.set")
           && !value_of(params, "device.prov.password.set"),
           "an unknown phone's stanza carries no credentials");
    tap_is_int(secrets, 0, "nothing in it counts as a secret");
    tap_is_str(value_of(params, "device.prov.serverName"),
               "https://new-prov.example.com/polycom",
               "but it still moves the phone");
    tap_ok(value_of(params, "device.set")
           && value_of(params, "device.prov.serverType.set"),
           "with device.set and the .set flags");

    t = target("HTTP", "Default");
    t.user = t.password = "";
    params = polycom_reprovision_params(pool, &t, 1);
    tap_ok(!value_of(params, "device.prov.user")
           && !value_of(params, "device.prov.password"),
           "a server without credentials: none given to a known phone "
           "either (no empty user overriding the phone's)");
    t.user = t.password = NULL;
    params = polycom_reprovision_params(pool, &t, 1);
    tap_ok(!value_of(params, "device.prov.user"),
           "nor when they are NULL");
}

/* What the phone downloads: the stanza rendered as a configuration file,
 * the values inside <device>. */
static void test_rendered(void)
{
    polycom_reprovision t = target("FTPS", "CustomAndDefault");
    const char *body, *error = NULL;
    apr_size_t len;
    xmlDocPtr doc;
    xmlNodePtr root, node;
    xmlChar *set = NULL, *server = NULL, *password = NULL;

    tap_is_int(polycom_render_config(pool,
                                     polycom_reprovision_params(pool, &t, 1),
                                     &body, &len, &error), 0,
               "the stanza renders as a configuration file");
    doc = xmlReadMemory(body, (int)len, "device.cfg", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR
                        | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    for (node = root ? root->children : NULL; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE
            && !strcmp((const char *)node->name, "device")) {
            set = xmlGetProp(node, BAD_CAST "device.set");
            for (node = node->children; node; node = node->next) {
                if (node->type == XML_ELEMENT_NODE
                    && !strcmp((const char *)node->name, "device.prov")) {
                    server = xmlGetProp(node,
                                        BAD_CAST "device.prov.serverName");
                    password = xmlGetProp(node,
                                          BAD_CAST "device.prov.password");
                }
            }
            break;
        }
    }
    tap_ok(root && !strcmp((const char *)root->name, "polycomConfig"),
           "a <polycomConfig> document");
    tap_is_str((const char *)set, "1", "<device device.set=\"1\">");
    tap_is_str((const char *)server, "https://new-prov.example.com/polycom",
               "the server inside <device.prov>");
    tap_is_str((const char *)password, "prov-pass",
               "with the password beside it");
    xmlFree(set);
    xmlFree(server);
    xmlFree(password);
    if (doc) {
        xmlFreeDoc(doc);
    }
}

static void test_choices(void)
{
    polycom_reprovision t = target("gopher", "Whenever");
    apr_array_header_t *params;

    tap_ok(polycom_reprovision_server_type("FTP") == 0
           && polycom_reprovision_server_type("tftp") == 1
           && polycom_reprovision_server_type("Http") == 2
           && polycom_reprovision_server_type("HTTPS") == 3
           && polycom_reprovision_server_type("ftps") == 4,
           "server types: FTP, TFTP, HTTP, HTTPS, FTPS in any case");
    tap_ok(polycom_reprovision_server_type("gopher") == -1
           && polycom_reprovision_server_type("") == -1
           && polycom_reprovision_server_type(NULL) == -1,
           "anything else is no server type");
    tap_ok(polycom_reprovision_boot_server("Default") == 0
           && polycom_reprovision_boot_server("custom") == 1
           && polycom_reprovision_boot_server("STATIC") == 2
           && polycom_reprovision_boot_server("CustomAndDefault") == 3,
           "boot-server options: Default, Custom, Static, CustomAndDefault");
    tap_ok(polycom_reprovision_boot_server("Whenever") == -1
           && polycom_reprovision_boot_server(NULL) == -1,
           "anything else is no boot-server option");
    params = polycom_reprovision_params(pool, &t, 1);
    tap_ok(!strcmp(value_of(params, "device.prov.serverType"), "2")
           && !strcmp(value_of(params, "device.dhcp.bootSrvUseOpt"), "2"),
           "unknown choices fall back to HTTP and Static");
}

static void test_server(void)
{
    char longest[257];

    memset(longest, 'a', 255);
    longest[255] = '\0';
    tap_ok(polycom_reprovision_server_valid("prov.example.com")
           && polycom_reprovision_server_valid(
                  "https://u:p@prov.example.com:8443/polycom/")
           && polycom_reprovision_server_valid(longest),
           "host, URL with credentials, 255 characters: accepted");
    longest[255] = 'a';
    longest[256] = '\0';
    tap_ok(!polycom_reprovision_server_valid(longest),
           "256 characters: refused");
    tap_ok(!polycom_reprovision_server_valid("")
           && !polycom_reprovision_server_valid(NULL)
           && !polycom_reprovision_server_valid("prov example.com")
           && !polycom_reprovision_server_valid("prov\".example.com")
           && !polycom_reprovision_server_valid("prov\\example.com")
           && !polycom_reprovision_server_valid("prov.example.com\n"),
           "empty, spaces, quotes, backslashes, control characters: "
           "refused");

    tap_is_str(polycom_reprovision_address(pool,
                   "https://u:p@Prov.Example.com:8443/polycom/"),
               "prov.example.com:8443/polycom",
               "the address drops scheme, credentials and trailing slash "
               "and lowers the host");
    tap_is_str(polycom_reprovision_address(pool, "PROV.example.com"),
               "prov.example.com", "a bare host is lowered");
    tap_is_str(polycom_reprovision_address(pool, "ftp://Host/Path/To//"),
               "host/Path/To", "the path keeps its case");
    tap_is_str(polycom_reprovision_address(pool, "host/a@b"),
               "host/a@b", "an @ in the path is no credential");

    tap_is_str(polycom_reprovision_server_public(pool,
                   "https://u:p@Prov.Example.com:8443/polycom/"),
               "https://Prov.Example.com:8443/polycom/",
               "the public server drops user:password@ and keeps the rest");
    tap_is_str(polycom_reprovision_server_public(pool, "ftp://u@host"),
               "ftp://host", "a user alone is dropped too");
    tap_is_str(polycom_reprovision_server_public(pool, "u:p@host/x"),
               "host/x", "without a scheme");
    tap_is_str(polycom_reprovision_server_public(pool, "host/a@b"),
               "host/a@b", "an @ in the path stays");
    tap_is_str(polycom_reprovision_server_public(pool, "https://host/p"),
               "https://host/p", "a server without credentials is as it is");
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);

    test_known_phone();
    test_unknown_phone();
    test_rendered();
    test_choices();
    test_server();
    return tap_done();
}
