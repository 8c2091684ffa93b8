/* Unit tests of polycom_admin_csrf_refusal (src/admin.c): what a browser
 * on another origin sends is refused, what curl and the console send is
 * let through, and reads are never refused. */
#include <stdlib.h>

#include <apr_general.h>

#include "polycom_admin.h"
#include "tap.h"

#define SELF "http://127.0.0.1:8529"

static const char *refusal(const char *method, const char *origin,
                           const char *fetch_site, const char *with)
{
    return polycom_admin_csrf_refusal(method, origin, fetch_site, with, SELF);
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);

    tap_ok(!refusal("PUT", NULL, NULL, NULL),
           "curl (no Origin, no Sec-Fetch-Site) may write");
    tap_ok(!refusal("POST", SELF, "same-origin", "polycom-console"),
           "the console on this origin, with X-Requested-With, may write");
    tap_ok(!refusal("DELETE", "HTTP://127.0.0.1:8529", NULL, "x"),
           "an origin is compared without regard to case");
    tap_ok(refusal("POST", "http://evil.example", "cross-site", "x") != NULL,
           "a page on another origin may not, even with the header");
    tap_ok(refusal("POST", "http://127.0.0.1:8530", NULL, "x") != NULL,
           "another port is another origin");
    tap_ok(refusal("POST", "null", NULL, NULL) != NULL,
           "an opaque origin (a sandboxed page, a data: URL) may not");
    tap_ok(refusal("PUT", NULL, "same-site", "x") != NULL,
           "a sibling site (Sec-Fetch-Site same-site) may not");
    tap_ok(refusal("POST", SELF, "same-origin", NULL) != NULL,
           "a browser without X-Requested-With may not, even on this origin");
    tap_ok(!refusal("PUT", NULL, "none", "x"),
           "a request the admin typed (Sec-Fetch-Site none) with the header "
           "may");
    tap_ok(!refusal("GET", "http://evil.example", "cross-site", NULL)
           && !refusal("HEAD", "http://evil.example", "cross-site", NULL),
           "reads are never refused here (the browser keeps the answer from "
           "the other page)");
    tap_ok(polycom_admin_csrf_refusal("POST", SELF, NULL, "x", NULL) != NULL,
           "with no known origin of its own, a browser's write is refused");
    return tap_done();
}
