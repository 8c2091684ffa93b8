/* Unit tests for rendering: well-formed documents, exact values, schema
 * placement, secrets and refusal of what XML cannot carry. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "polycom_digest.h"
#include "polycom_param.h"
#include "polycom_render.h"
#include "params.h"
#include "tap.h"

static apr_pool_t *pool;

/* unit_params (params.h) in this file's pool. */
#define params_of(pairs) unit_params(pool, (pairs))

static xmlDocPtr parse(const char *body, apr_size_t len)
{
    return xmlReadMemory(body, (int)len, "t.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR
                         | XML_PARSE_NOWARNING);
}

/* The value of attribute @name on the element at slash-separated @path. */
static const char *attr_at(xmlDocPtr doc, const char *path, const char *name)
{
    xmlNodePtr node = xmlDocGetRootElement(doc);
    char *copy = apr_pstrdup(pool, path), *last, *step;
    xmlChar *v;
    const char *out;

    step = apr_strtok(copy, "/", &last);
    if (!node || strcmp((const char *)node->name, step)) {
        return NULL;
    }
    while ((step = apr_strtok(NULL, "/", &last))) {
        xmlNodePtr c;

        for (c = node->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE
                && !strcmp((const char *)c->name, step)) {
                break;
            }
        }
        if (!c) {
            return NULL;
        }
        node = c;
    }
    v = xmlGetProp(node, BAD_CAST name);
    if (!v) {
        return NULL;
    }
    out = apr_pstrdup(pool, (const char *)v);
    xmlFree(v);
    return out;
}

static void test_config(void)
{
    static const char *const pairs[] = {
        "reg.1.address", "1002",
        "reg.1.auth.password", "p&<>\"'w",
        "reg.1.label", "Zo\xc3\xab & \"Sales\" <Desk>",
        "tcpIpApp.sntp.address", "pool.ntp.org",
        "tcpIpApp.sntp.gmtOffset", "3600",
        "up.backlight.idleIntensity", "1",
        "x.custom.thing", "kept",
        NULL
    };
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;
    xmlDocPtr doc;

    tap_is_int(polycom_render_config(pool, params_of(pairs), &body, &len,
                                     &error), 0, "config renders");
    doc = parse(body, len);
    tap_ok(doc != NULL, "config is well-formed XML");
    if (!doc) {
        return;
    }
    tap_is_str(attr_at(doc, "polycomConfig/reg", "reg.1.address"), "1002",
               "reg.1.address sits in <reg>");
    tap_is_str(attr_at(doc, "polycomConfig/reg", "reg.1.auth.password"),
               "p&<>\"'w", "a password with & < > \" ' comes back exact");
    tap_is_str(attr_at(doc, "polycomConfig/reg", "reg.1.label"),
               "Zo\xc3\xab & \"Sales\" <Desk>",
               "non-ASCII and markup in a label come back exact");
    tap_is_str(attr_at(doc, "polycomConfig/tcpIpApp/tcpIpApp.sntp",
                       "tcpIpApp.sntp.address"), "pool.ntp.org",
               "tcpIpApp.sntp.address sits in <tcpIpApp><tcpIpApp.sntp>");
    tap_is_str(attr_at(doc, "polycomConfig/up", "up.backlight.idleIntensity"),
               NULL, "up.backlight.* is not placed directly in <up>...");
    tap_ok(strstr(body, "up.backlight.idleIntensity=\"1\"") != NULL,
           "... but is present, in the element the schema declares");
    tap_is_str(attr_at(doc, "polycomConfig", "x.custom.thing"), "kept",
               "a parameter unknown to the schema stays on the root");
    xmlFreeDoc(doc);
}

/* The exact bytes, as libxml2's text writer wrote them before rendering
 * moved to libxml2's buffer: phones and whoever diffs served files see
 * the layout (declaration, two spaces a level, empty elements closed
 * with "/>") and the escaping (& < > " and tab, LF, CR as references,
 * non-ASCII as it is), so neither may change under them. */
static void test_bytes(void)
{
    static const char *const pairs[] = {
        "reg.1.address", "1002",
        "reg.1.label", "Zo\xc3\xab & \"Sales\" <Desk>\n\r\t'",
        "tcpIpApp.sntp.address", "pool.ntp.org",
        "x.custom", "",
        NULL
    };
    static const char config[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
        "<polycomConfig x.custom=\"\">\n"
        "  <reg reg.1.address=\"1002\" reg.1.label=\"Zo\xc3\xab &amp; "
        "&quot;Sales&quot; &lt;Desk&gt;&#10;&#13;&#9;'\"/>\n"
        "  <tcpIpApp>\n"
        "    <tcpIpApp.sntp tcpIpApp.sntp.address=\"pool.ntp.org\"/>\n"
        "  </tcpIpApp>\n"
        "</polycomConfig>\n";
    static const char master[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
        "<APPLICATION APP_FILE_PATH=\"sip.ld\" CONFIG_FILES=\"[PHONE_MAC_"
        "ADDRESS]-settings.cfg\" MISC_FILES=\"\" LOG_FILE_DIRECTORY=\"\" "
        "OVERRIDES_DIRECTORY=\"\" CONTACTS_DIRECTORY=\"\" "
        "LICENSE_DIRECTORY=\"\" USER_PROFILES_DIRECTORY=\"\" "
        "CALL_LISTS_DIRECTORY=\"\">\n"
        "  <APPLICATION_SPIP330 APP_FILE_PATH_SPIP330=\"sip &amp; "
        "&lt;330&gt;.ld\"/>\n"
        "</APPLICATION>\n";
    apr_array_header_t *files = apr_array_make(pool, 1, sizeof(char *));
    apr_array_header_t *models = apr_array_make(pool, 1,
                                                sizeof(polycom_model_firmware));
    polycom_model_firmware *mf = apr_array_push(models);
    polycom_master_spec spec;
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;

    tap_is_int(polycom_render_config(pool, params_of(pairs), &body, &len,
                                     &error), 0, "config renders");
    tap_is_int((int)len, (int)sizeof(config) - 1,
               "the config is as long as the writer's was");
    tap_is_str(body, config, "the config is byte for byte the writer's");
    memset(&spec, 0, sizeof(spec));
    APR_ARRAY_PUSH(files, const char *) = "[PHONE_MAC_ADDRESS]-settings.cfg";
    mf->model = "SPIP330";
    mf->path = "sip & <330>.ld";
    spec.app_file_path = "sip.ld";
    spec.config_files = files;
    spec.model_firmware = models;
    body = NULL;
    len = 0;
    tap_is_int(polycom_render_master(pool, &spec, &body, &len, &error), 0,
               "master renders");
    tap_is_int((int)len, (int)sizeof(master) - 1,
               "the master is as long as the writer's was");
    tap_is_str(body, master, "the master is byte for byte the writer's");
}

static void test_refusals(void)
{
    static const char *const bad_name[] = { "reg.1 address", "x", NULL };
    static const char *const bad_name2[] = { "1reg", "x", NULL };
    static const char *const bad_utf8[] = { "reg.1.label", "zq\xc3(", NULL };
    static const char *const bad_ctl[] = { "reg.1.label", "a\x01z", NULL };
    static const char *const bad_ffff[] = { "reg.1.label", "\xef\xbf\xbf",
                                            NULL };
    static const char *const bad_lead[] = { "reg.1.label", "a\x97\x8bz",
                                            NULL };
    static const char *const overlong[] = { "reg.1.label", "\xf0\x8d\x9a\x93",
                                            NULL };
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;

    tap_is_int(polycom_render_config(pool, params_of(bad_name), &body, &len,
                                     &error), -1, "a name with a space fails");
    tap_ok(error && strstr(error, "reg.1 address"), "the error names it");
    tap_is_int(polycom_render_config(pool, params_of(bad_name2), &body, &len,
                                     &error), -1,
               "a name starting with a digit fails");
    error = NULL;
    tap_is_int(polycom_render_config(pool, params_of(bad_utf8), &body, &len,
                                     &error), -1, "bad UTF-8 fails");
    tap_ok(error && strstr(error, "reg.1.label") && !strstr(error, "zq"),
           "the error names the parameter, not the value");
    tap_is_int(polycom_render_config(pool, params_of(bad_ctl), &body, &len,
                                     &error), -1, "a control character fails");
    tap_is_int(polycom_render_config(pool, params_of(bad_ffff), &body, &len,
                                     &error), -1, "U+FFFF fails");
    tap_is_int(polycom_render_config(pool, params_of(bad_lead), &body, &len,
                                     &error), -1,
               "a continuation byte as lead byte fails (found by fuzzing)");
    tap_is_int(polycom_render_config(pool, params_of(overlong), &body, &len,
                                     &error), -1,
               "an overlong UTF-8 form fails (found by fuzzing)");
    tap_ok(body == NULL, "and no body is left behind");
    {
        static const char *const twice[] = { "reg.1.label", "a",
                                             "reg.1.label", "b", NULL };

        tap_is_int(polycom_render_config(pool, params_of(twice), &body, &len,
                                         &error), -1,
                   "a name given twice fails (found by fuzzing)");
    }
    tap_ok(polycom_param_value_valid("tab\there\nnew\rline"),
           "tab, newline and carriage return are text");
    /* What the read-back parse used to catch is refused by the one
     * check now (no document is parsed again before it is served). */
    tap_ok(!polycom_param_value_valid("\xc0\xaf"), "overlong 2-byte form");
    tap_ok(!polycom_param_value_valid("\xe0\x80\xaf"),
           "overlong 3-byte form");
    tap_ok(!polycom_param_value_valid("\xf0\x80\x80\xaf"),
           "overlong 4-byte form");
    tap_ok(!polycom_param_value_valid("\xed\xa0\x80"), "a surrogate");
    tap_ok(!polycom_param_value_valid("\xf4\x90\x80\x80"),
           "past U+10FFFF");
    tap_ok(!polycom_param_value_valid("\xef\xbf\xbe"), "U+FFFE");
    tap_ok(!polycom_param_value_valid("a\x80" "b"), "a stray continuation");
    tap_ok(!polycom_param_value_valid("\xe2\x82"), "cut short");
    tap_ok(!polycom_param_value_valid("\x01"), "a control character");
    tap_ok(polycom_param_value_valid("\xc2\x85 \xe2\x82\xac \xf0\x9f\x93\x9e" " "
                                     "\xef\xbf\xbd"),
           "NEL, euro, an emoji and U+FFFD are text");
}

static void test_master(void)
{
    apr_array_header_t *files = apr_array_make(pool, 2, sizeof(char *));
    apr_array_header_t *models = apr_array_make(pool, 2,
                                                sizeof(polycom_model_firmware));
    polycom_model_firmware *mf;
    polycom_master_spec spec;
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;
    xmlDocPtr doc;

    memset(&spec, 0, sizeof(spec));
    APR_ARRAY_PUSH(files, const char *) = "0004f2e62aa4-settings.cfg";
    APR_ARRAY_PUSH(files, const char *) = "extra.cfg";
    mf = apr_array_push(models);
    mf->model = "SPIP330";
    mf->path = "sip_335.ld";
    spec.app_file_path = "sip.ld";
    spec.config_files = files;
    spec.model_firmware = models;
    tap_is_int(polycom_render_master(pool, &spec, &body, &len, &error), 0,
               "master renders");
    doc = parse(body, len);
    tap_ok(doc != NULL, "master is well-formed XML");
    if (!doc) {
        return;
    }
    tap_is_str(attr_at(doc, "APPLICATION", "APP_FILE_PATH"), "sip.ld",
               "APP_FILE_PATH");
    tap_is_str(attr_at(doc, "APPLICATION", "CONFIG_FILES"),
               "0004f2e62aa4-settings.cfg,extra.cfg",
               "CONFIG_FILES in order");
    tap_is_str(attr_at(doc, "APPLICATION", "OVERRIDES_DIRECTORY"), "",
               "overrides come back next to the master");
    tap_is_str(attr_at(doc, "APPLICATION/APPLICATION_SPIP330",
                       "APP_FILE_PATH_SPIP330"), "sip_335.ld",
               "SPIP330 is pinned to sip_335.ld");
    tap_ok(attr_at(doc, "APPLICATION/APPLICATION_SPIP330",
                   "CONFIG_FILES_SPIP330") == NULL,
           "no CONFIG_FILES_<model> without files of that model");
    xmlFreeDoc(doc);
}

static apr_array_header_t *list_of(const char *const *names)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));

    for (; *names; names++) {
        APR_ARRAY_PUSH(a, const char *) = *names;
    }
    return a;
}

/* Static files after the generated ones, per model where given: the
 * generated files stay first everywhere, so they override the shipped
 * defaults (first file wins). */
static void test_master_static_files(void)
{
    static const char *const generated[] = {
        "0004f2a1b330-device.cfg", "0004f2a1b330-settings.cfg", NULL
    };
    static const char *const shipped[] = { "phone1.cfg", "sip.cfg", NULL };
    static const char *const old[] = { "phone1_318.cfg", "sip_318.cfg",
                                       NULL };
    static const char *const none[] = { NULL };
    apr_array_header_t *firmware = apr_array_make(pool, 2,
                                                  sizeof(polycom_model_firmware));
    apr_array_header_t *model_files = apr_array_make(pool, 3,
                                                     sizeof(polycom_model_files));
    polycom_model_firmware *fw;
    polycom_model_files *mf;
    polycom_master_spec spec;
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;
    xmlDocPtr doc;
    xmlNodePtr node;
    int elements = 0;

    memset(&spec, 0, sizeof(spec));
    fw = apr_array_push(firmware);
    fw->model = "SSIP4000";
    fw->path = "sip_318.ld";
    fw = apr_array_push(firmware);
    fw->model = "SPIP330";
    fw->path = "sip_335.ld";
    mf = apr_array_push(model_files);
    mf->model = "SSIP4000";
    mf->files = list_of(old);
    mf = apr_array_push(model_files);
    mf->model = "VVX411";
    mf->files = list_of(none);
    spec.app_file_path = "sip.ld";
    spec.config_files = list_of(generated);
    spec.static_files = list_of(shipped);
    spec.model_firmware = firmware;
    spec.model_files = model_files;
    tap_is_int(polycom_render_master(pool, &spec, &body, &len, &error), 0,
               "master with static files renders");
    doc = parse(body, len);
    tap_ok(doc != NULL, "it is well-formed XML");
    if (!doc) {
        return;
    }
    tap_is_str(attr_at(doc, "APPLICATION", "CONFIG_FILES"),
               "0004f2a1b330-device.cfg,0004f2a1b330-settings.cfg,"
               "phone1.cfg,sip.cfg",
               "CONFIG_FILES: generated files first, then the static ones");
    tap_is_str(attr_at(doc, "APPLICATION/APPLICATION_SSIP4000",
                       "APP_FILE_PATH_SSIP4000"), "sip_318.ld",
               "a model's pin ...");
    tap_is_str(attr_at(doc, "APPLICATION/APPLICATION_SSIP4000",
                       "CONFIG_FILES_SSIP4000"),
               "0004f2a1b330-device.cfg,0004f2a1b330-settings.cfg,"
               "phone1_318.cfg,sip_318.cfg",
               "... and its own list share one element; generated first");
    tap_ok(attr_at(doc, "APPLICATION/APPLICATION_SPIP330",
                   "CONFIG_FILES_SPIP330") == NULL,
           "a pinned model without files of its own reads CONFIG_FILES");
    tap_is_str(attr_at(doc, "APPLICATION/APPLICATION_VVX411",
                       "CONFIG_FILES_VVX411"),
               "0004f2a1b330-device.cfg,0004f2a1b330-settings.cfg",
               "an empty model list: the generated files only");
    tap_ok(attr_at(doc, "APPLICATION/APPLICATION_VVX411",
                   "APP_FILE_PATH_VVX411") == NULL,
           "no pin where none was given");
    for (node = xmlDocGetRootElement(doc)->children; node; node = node->next) {
        elements += node->type == XML_ELEMENT_NODE;
    }
    tap_is_int(elements, 3, "one APPLICATION_<model> per model");
    xmlFreeDoc(doc);

    memset(&spec, 0, sizeof(spec));
    spec.static_files = list_of(shipped);
    tap_is_int(polycom_render_master(pool, &spec, &body, &len, &error), 0,
               "static files alone render");
    doc = parse(body, len);
    tap_is_str(doc ? attr_at(doc, "APPLICATION", "CONFIG_FILES") : NULL,
               "phone1.cfg,sip.cfg", "without generated files, in order");
    if (doc) {
        xmlFreeDoc(doc);
    }
}

static void test_helpers(void)
{
    const char *a = polycom_etag(pool, "abc", 3);
    const char *b = polycom_etag(pool, "abd", 3);

    tap_ok(a[0] == '"' && a[strlen(a) - 1] == '"' && strlen(a) == 34,
           "ETag is a quoted strong tag");
    tap_ok(strcmp(a, b) && !strcmp(a, polycom_etag(pool, "abc", 3)),
           "ETag follows the content");
    tap_ok(polycom_param_is_secret("reg.1.auth.password")
           && polycom_param_is_secret("device.prov.password")
           && polycom_param_is_secret("device.auth.localAdminPassword")
           && polycom_param_is_secret("reg.2.auth.userId")
           && polycom_param_is_secret("device.prov.user")
           && polycom_param_is_secret("apps.push.password"),
           "credentials are secrets");
    tap_ok(!polycom_param_is_secret("reg.1.address")
           && !polycom_param_is_secret("tcpIpApp.sntp.address")
           && !polycom_param_is_secret("device.prov.serverName"),
           "ordinary settings are not");
    tap_ok(polycom_ucs_elements_count == 1064, "1064 schema elements known");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    xmlInitParser();
    test_config();
    test_bytes();
    test_refusals();
    test_master();
    test_master_static_files();
    test_helpers();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
