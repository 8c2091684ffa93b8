/* Unit tests of the admin API's routing (src/admin.c): which resource a
 * method and path reach, and the 404 and 405 the httpd glue answers
 * before it reads a body or takes a database connection; plus the CSV
 * of an import as JSON. No database: routing must not need one. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_admin.h"
#include "tap.h"

static apr_pool_t *pool;

/* The pattern @a method on @a path reaches, or "404", or "405 <Allow>". */
static const char *route(const char *method, const char *path)
{
    const polycom_admin_resource *resource = NULL;
    const char *allow = NULL;
    int status = polycom_admin_route(method, path, &resource, &allow);

    if (status == 405) {
        return apr_psprintf(pool, "405 %s", allow ? allow : "(no Allow)");
    }
    if (status) {
        return apr_itoa(pool, status);
    }
    return resource ? polycom_admin_resource_pattern(resource)
                    : "(no resource)";
}

static void test_resources(void)
{
    static const struct {
        const char *method;
        const char *path;
        const char *want;
    } cases[] = {
        { "GET",    "phones",                         "phones" },
        { "HEAD",   "phones",                         "phones" },
        { "GET",    "phones/0004F2ABC001",            "phones/{mac}" },
        { "PUT",    "phones/0004f2abc001",            "phones/{mac}" },
        { "DELETE", "phones/0004f2abc001",            "phones/{mac}" },
        { "POST",   "phones/0004f2abc001/reprovision",
          "phones/{mac}/reprovision" },
        { "GET",    "phones/0004f2abc001/resync",     "phones/{mac}/resync" },
        { "POST",   "phones/0004f2abc001/credentials",
          "phones/{mac}/credentials" },
        { "DELETE", "phones/0004f2abc001/credentials/alice",
          "phones/{mac}/credentials/{username}" },
        { "GET",    "uploads/0004f2abc001",           "uploads/{mac}" },
        { "DELETE", "uploads/0004f2abc001/0004f2abc001-app.log",
          "uploads/{mac}/{file}" },
        { "GET",    "preview/0004f2abc001/0004f2abc001.cfg",
          "preview/{mac}/{file}" },
        { "PUT",    "params/global",                  "params/global" },
        { "GET",    "params/site/hq",                 "params/site/{site}" },
        { "DELETE", "params/model/VVX_411",           "params/model/{model}" },
        { "POST",   "sites/hq/reprovision",           "sites/{site}/reprovision" },
        { "POST",   "sites/hq/resync",                "sites/{site}/resync" },
        { "GET",    "reprovision",                    "reprovision" },
        { "GET",    "reprovision/bundle",             "reprovision/bundle" },
        { "POST",   "resync",                         "resync" },
        { "POST",   "import",                         "import" },
        { "GET",    "discovered",                     "discovered" },
        { "GET",    "checkins",                       "checkins" },
        { "GET",    "audit",                          "audit" },
        { "GET",    "metrics",                        "metrics" },
        /* Empty segments count for nothing, as before the table. */
        { "GET",    "phones//0004f2abc001/",          "phones/{mac}" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tap_is_str(route(cases[i].method, cases[i].path), cases[i].want,
                   "%s %s reaches %s", cases[i].method, cases[i].path,
                   cases[i].want);
    }
}

static void test_refusals(void)
{
    static const struct {
        const char *method;
        const char *path;
        const char *want;
    } cases[] = {
        { "POST",   "phones",                 "405 GET, HEAD" },
        { "PATCH",  "phones/0004f2abc001",    "405 GET, HEAD, PUT, DELETE" },
        { "GET",    "phones/0004f2abc001/credentials/alice", "405 DELETE" },
        { "PUT",    "uploads/0004f2abc001",   "405 GET, HEAD" },
        { "PUT",    "uploads/0004f2abc001/x", "405 GET, HEAD, DELETE" },
        { "GET",    "import",                 "405 POST" },
        { "GET",    "resync",                 "405 POST" },
        { "DELETE", "sites/hq/resync",        "405 POST" },
        { "POST",   "metrics",                "405 GET, HEAD" },
        { "GET",    "phones/0004f2abc001/lines", "404" },
        { "GET",    "phones/0004f2abc001/credentials/a/b", "404" },
        { "GET",    "params",                 "404" },
        { "GET",    "params/layer/x",         "404" },
        { "GET",    "params/site",            "404" },
        { "GET",    "reprovision/other",      "404" },
        { "GET",    "nothing",                "404" },
        { "GET",    "",                       "404" },
        { "GET",    "/",                      "404" },
        { "GET",    "a/b/c/d/e/f",            "404" },
        /* A method name is matched whole, never as a part of another. */
        { "ET",     "phones",                 "405 GET, HEAD" },
        { "",       "phones",                 "405 GET, HEAD" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tap_is_str(route(cases[i].method, cases[i].path), cases[i].want,
                   "%s %s: %s", *cases[i].method ? cases[i].method : "(none)",
                   *cases[i].path ? cases[i].path : "(empty)",
                   cases[i].want);
    }
}

/* What the glue sends: the same problem+json the handler would. */
static void test_refuse(void)
{
    polycom_admin_response out;

    memset(&out, 0, sizeof(out));
    tap_is_int(polycom_admin_refuse(pool, "PATCH", "phones/0004f2abc001",
                                    &out), 405, "PATCH of a phone refused");
    tap_is_int(out.status, 405, "with status 405");
    tap_is_str(out.allow, "GET, HEAD, PUT, DELETE", "and its Allow");
    tap_is_str(out.content_type, "application/problem+json",
               "as problem+json");
    tap_ok(out.body && strstr(out.body, "\"status\":405"), "a body of 405");

    memset(&out, 0, sizeof(out));
    tap_is_int(polycom_admin_refuse(pool, "POST", "phones/x/y/z", &out), 404,
               "an unknown path refused");
    tap_ok(out.status == 404 && !out.allow, "404 without Allow");

    memset(&out, 0, sizeof(out));
    tap_is_int(polycom_admin_refuse(pool, "GET", "phones", &out), 0,
               "a resource's method is let through");
    tap_is_int(out.status, 0, "with nothing answered");
}

/* The names in a path are checked after routing, before any handler
 * runs: these answers need no database (there is none here). */
static void test_path_names(void)
{
    static const struct {
        const char *method;
        const char *path;
        int status;
    } cases[] = {
        { "GET",    "phones/xyz",                              400 },
        { "GET",    "uploads/0004f2abc0011",                   400 },
        { "PUT",    "params/site/no%20spaces",                 400 },
        { "GET",    "params/model/VVX-411!",                   400 },
        { "POST",   "sites/a*b/resync",                        400 },
        { "DELETE", "phones/0004f2abc001/credentials/a:b",     404 },
        { "PATCH",  "phones/xyz",                              405 },
        { "GET",    "metrics",                                 404 },
    };
    polycom_admin_request in;
    polycom_admin_response out;
    apr_size_t i;

    memset(&in, 0, sizeof(in));
    in.pool = pool;
    in.body = "";
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        in.method = cases[i].method;
        in.path = cases[i].path;
        polycom_admin_handle(&in, &out);
        tap_is_int(out.status, cases[i].status, "%s %s: %d, no database "
                   "asked", cases[i].method, cases[i].path, cases[i].status);
    }
}

static void test_is_resource(void)
{
    tap_ok(polycom_admin_is_resource("phones/0004f2abc001"),
           "phones is the API's");
    tap_ok(polycom_admin_is_resource("metrics"), "metrics is the API's");
    tap_ok(polycom_admin_is_resource("params/global"), "params is the API's");
    tap_ok(!polycom_admin_is_resource("index.html"),
           "the dashboard's files are Apache's");
    tap_ok(!polycom_admin_is_resource("phonesx"),
           "a name that only begins like a resource is not one");
}

static void test_csv(void)
{
    const char *json, *error;
    static const char csv[] =
        "mac,model,site,label,user,password,display_name,server\r\n"
        "0004F2ABC001,VVX_411,hq,\"Front, desk\",1001,pw-1001,Front,"
        "pbx.example.com\r\n"
        "0004f2abc002,VVX411,hq,Back,,,,\n";

    tap_is_int(polycom_admin_csv_import_json(pool, csv, sizeof(csv) - 1,
                                             &json, &error), 0,
               "CSV with a header row parses");
    tap_is_str(json, "[{\"mac\":\"0004F2ABC001\",\"model\":\"VVX_411\","
               "\"site\":\"hq\",\"label\":\"Front, desk\",\"lines\":"
               "[{\"user\":\"1001\",\"password\":\"pw-1001\","
               "\"display_name\":\"Front\",\"server\":\"pbx.example.com\"}]},"
               "{\"mac\":\"0004f2abc002\",\"model\":\"VVX411\",\"site\":\"hq\","
               "\"label\":\"Back\"}]",
               "each row a phone, a line only where one is given");
    tap_is_int(polycom_admin_csv_import_json(pool, "a,b\n", 4, &json,
                                             &error), -1,
               "a row of 2 columns is refused");
    tap_ok(error && strstr(error, "expected 8"), "saying what is expected");
    tap_is_int(polycom_admin_csv_import_json(pool, "\"open", 5, &json,
                                             &error), -1,
               "an unterminated quote is refused");
    tap_is_int(polycom_admin_csv_import_json(pool, "", 0, &json, &error), 0,
               "an empty CSV is no phones");
    tap_is_str(json, "[]", "an empty array");
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);

    test_resources();
    test_refusals();
    test_refuse();
    test_path_names();
    test_is_resource();
    test_csv();
    return tap_done();
}
