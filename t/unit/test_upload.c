/* Unit tests for the checks on uploaded bodies. */
#include <apr_general.h>
#include <apr_pools.h>

#include <libxml/parser.h>

#include "polycom_upload.h"
#include "tap.h"

static apr_pool_t *pool;

static int check(polycom_file_kind kind, const char *body, apr_size_t len)
{
    const char *error = NULL;
    int rv = polycom_upload_check(pool, kind, body, len, &error);

    if (rv < 0 && !error) {
        return -2;      /* a refusal must always say why */
    }
    return rv;
}

#define CHECK(kind, s) check(kind, s, sizeof(s) - 1)

int main(void)
{
    const char *error = NULL;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    xmlInitParser();

    tap_is_int(CHECK(POLYCOM_FILE_PHONE_OVERRIDE,
                     "<PHONE_CONFIG><OVERRIDES a=\"1\"/></PHONE_CONFIG>"), 0,
               "a well-formed override passes");
    tap_is_int(CHECK(POLYCOM_FILE_DIRECTORY, "<directory><item_list>"
                     "</directory>"), -1, "mismatched tags fail");
    tap_is_int(CHECK(POLYCOM_FILE_CALLS, ""), -1, "an empty XML upload fails");
    tap_is_int(CHECK(POLYCOM_FILE_WEB_OVERRIDE, "<a>&undefined;</a>"), -1,
               "an undefined entity fails");
    tap_is_int(CHECK(POLYCOM_FILE_WEB_OVERRIDE, "<a>\xff\xfe</a>"), -1,
               "bytes that are not UTF-8 fail");
    tap_is_int(CHECK(POLYCOM_FILE_PHONE_OVERRIDE, "<a/>\0<b/>"), -1,
               "a NUL byte fails");
    tap_is_int(CHECK(POLYCOM_FILE_APP_LOG, "free text < & >\n"), 0,
               "a log need not be XML");
    tap_is_int(CHECK(POLYCOM_FILE_APP_LOG, "a\0b"), -1,
               "but may not hold a NUL byte");
    /* An external entity is declared, never fetched or expanded. */
    tap_is_int(CHECK(POLYCOM_FILE_DIRECTORY,
                     "<!DOCTYPE d [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
                     "<d>&e;</d>"), 0,
               "an external entity is accepted as text, not loaded");
    polycom_upload_check(pool, POLYCOM_FILE_DIRECTORY, "<a><b></a>", 10,
                         &error);
    tap_ok(error && strstr(error, "line 1"), "the error gives the line: %s",
           error ? error : "(none)");
    tap_ok(polycom_upload_is_xml(POLYCOM_FILE_CALLS)
           && !polycom_upload_is_xml(POLYCOM_FILE_BOOT_LOG)
           && polycom_upload_is_log(POLYCOM_FILE_BOOT_LOG),
           "kinds: XML and logs");
    tap_is_str(polycom_upload_content_type(POLYCOM_FILE_APP_LOG),
               "text/plain; charset=utf-8", "logs are served as text");
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
