/* The admin API's resyncs: SIP check-sync NOTIFYs queued, paced, for a
 * phone (phones/{mac}/resync, whose GET lists its resyncs), a site
 * (sites/{site}/resync), or a list of phones or the fleet (resync). */

#include <string.h>

#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_name.h"
#include "polycom_resync.h"

static const admin_field admin_job_fields[] = {
    { "id",            "id",            ADMIN_NUMBER },
    { "state",         "state",         ADMIN_TEXT },
    { "reboot",        "reboot",        ADMIN_FLAG },
    { "host",          "host",          ADMIN_TEXT },
    { "port",          "port",          ADMIN_NUMBER },
    { "not_before",    "not_before_us", ADMIN_TIME },
    { "queued",        "created_us",    ADMIN_TIME },
    { "admin",         "admin",         ADMIN_TEXT },
    { "status",        "status",        ADMIN_NUMBER },
    { "reason",        "reason",        ADMIN_TEXT },
    { "transmissions", "transmissions", ADMIN_NUMBER },
    { "challenged",    "challenged",    ADMIN_FLAG },
    { "finished",      "finished_us",   ADMIN_TIME },
    { NULL }
};

static void admin_resync_jobs(const polycom_admin_request *in,
                              polycom_admin_response *out, const char *mac)
{
    apr_array_header_t *rows;

    if (polycom_store_select(in->db, POLYCOM_SQL_RESYNC_JOBS, &rows, mac,
                             NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    polycom_admin_list_reply(in, out, mac, "resyncs",
                             polycom_admin_rows_json(in->pool, rows,
                                                     admin_job_fields));
}

/* The phones queued, in the write's transaction. */
typedef struct {
    const char *target;              /* the MAC, the site or "" */
    apr_array_header_t *macs;
    int reboot;
    json_t *queued;
    json_t *skipped;
} admin_resync_change;

static int admin_resync_write(const polycom_admin_request *in, void *data,
                              admin_audit_row *audit, admin_error *err)
{
    admin_resync_change *c = data;
    int i;

    for (i = 0; i < c->macs->nelts; i++) {
        const char *m = APR_ARRAY_IDX(c->macs, i, const char *), *why = NULL;
        apr_time_t when = 0;
        int rv = polycom_resync_enqueue(in->db, m, c->reboot, in->user,
                                        in->now, &in->pacing, &when, &why);

        if (rv == -1) {
            return -1;
        }
        if (rv == -2) {
            json_array_append_new(c->skipped, json_pack("{s:s, s:s}",
                                                        "mac", m,
                                                        "error", why));
            continue;
        }
        json_array_append_new(c->queued, json_pack("{s:s, s:o, s:I}",
            "mac", m, "not_before", polycom_admin_time_json(in->pool,
                apr_psprintf(in->pool, "%" APR_TIME_T_FMT, when)),
            "not_before_us", (json_int_t)when));
    }
    if (json_array_size(c->queued)) {
        audit->action = c->reboot ? "resync.reboot" : "resync";
        audit->target = c->target;
        audit->detail = polycom_admin_own(in->pool, json_pack(
            "{s:I}", "phones", (json_int_t)json_array_size(c->queued)));
    }
    return 0;
}

/* Queue check-sync for phones: one (phones/{mac}/resync), a site, a list
 * ({"macs": [...]}) or the fleet ({"all": true}). */
void polycom_admin_resync(const polycom_admin_request *in,
                          polycom_admin_response *out, const admin_path *path)
{
    const char *mac = path->mac, *site = path->site;
    apr_array_header_t *macs = apr_array_make(in->pool, 16,
                                              sizeof(const char *));
    json_t *body = NULL, *value, *item;
    admin_resync_change c;
    int reboot = 0, i;
    size_t n;

    if (!strcmp(in->method, "GET")) {
        admin_resync_jobs(in, out, mac);
        return;
    }
    if (in->len) {
        const char *key;

        if (!(body = polycom_admin_parse_body(in, out))) {
            return;
        }
        if (!json_is_object(body)) {
            polycom_admin_problem(in->pool, out, 400, "the body must be a "
                                  "JSON object");
            return;
        }
        json_object_foreach(body, key, value) {
            if (strcmp(key, "reboot") && (mac || site
                                          || (strcmp(key, "macs")
                                              && strcmp(key, "all")))) {
                polycom_admin_problem(in->pool, out, 400, apr_psprintf(
                                      in->pool, "unknown field \"%s\"", key));
                return;
            }
        }
        value = json_object_get(body, "reboot");
        if (value && !json_is_boolean(value)) {
            polycom_admin_problem(in->pool, out, 400, "reboot must be true "
                                  "or false");
            return;
        }
        reboot = value && json_is_true(value);
    }
    if (mac) {
        APR_ARRAY_PUSH(macs, const char *) = mac;
    }
    else if (site || (body && json_is_true(json_object_get(body, "all")))) {
        apr_array_header_t *rows;

        if ((site ? polycom_store_select(in->db, POLYCOM_SQL_SITE_MACS,
                                         &rows, site, NULL)
                  : polycom_store_select(in->db, POLYCOM_SQL_ALL_MACS,
                                         &rows, NULL)) < 0) {
            polycom_admin_db_failed(in, out);
            return;
        }
        for (i = 0; i < rows->nelts; i++) {
            APR_ARRAY_PUSH(macs, const char *) = polycom_row_get(
                APR_ARRAY_IDX(rows, i, const polycom_row *), "mac");
        }
    }
    else {
        value = body ? json_object_get(body, "macs") : NULL;
        if (!json_is_array(value) || !json_array_size(value)) {
            polycom_admin_problem(in->pool, out, 400, "name the phones: "
                                  "{\"macs\": [...]} or {\"all\": true}");
            return;
        }
        json_array_foreach(value, n, item) {
            if (!json_is_string(item)
                || !polycom_mac_valid(json_string_value(item))) {
                polycom_admin_problem(in->pool, out, 400, "macs must be MAC "
                                      "addresses of 12 hexadecimal digits");
                return;
            }
            APR_ARRAY_PUSH(macs, const char *) =
                polycom_admin_lower(in->pool, json_string_value(item));
        }
    }
    c.target = mac ? mac : site ? site : "";
    c.macs = macs;
    c.reboot = reboot;
    c.queued = polycom_admin_own(in->pool, json_array());
    c.skipped = polycom_admin_own(in->pool, json_array());
    if (polycom_admin_change(in, out, admin_resync_write, &c) < 0) {
        return;
    }
    if (mac && json_array_size(c.skipped)) {
        json_t *first = json_array_get(c.skipped, 0);

        polycom_admin_problem(in->pool, out,
            !strcmp(json_string_value(json_object_get(first, "error")),
                    "no such phone") ? 404 : 409,
            json_string_value(json_object_get(first, "error")));
        return;
    }
    polycom_admin_answer(in, out, 202, json_pack(
        "{s:O, s:O}", "queued", c.queued, "skipped", c.skipped));
}

