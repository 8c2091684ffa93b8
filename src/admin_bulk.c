/* The admin API's bulk actions: POST phones/bulk applies one action
 * (enable, disable, site, move, resync) to a selection of phones (a list
 * of MACs) or to every phone of a fleet view (GET phones' q, filter, site,
 * model, stale and stale_after), all or nothing: one transaction through
 * polycom_admin_change, as a single edit is made, with an audit row for
 * each phone it changes and one for the action. ?dry_run=1 reads what the
 * action would touch and change and writes nothing, so that the console
 * can say "this touches N phones" before the admin confirms. */

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_name.h"
#include "polycom_resync.h"

/* MACs a dry run names; the rest are counted. */
#define BULK_SAMPLE_MAX 20

typedef enum {
    BULK_ENABLE, BULK_DISABLE, BULK_SITE, BULK_MOVE, BULK_RESYNC
} bulk_kind;

typedef struct {
    const char *action;              /* as asked: enable, site, ... */
    bulk_kind kind;
    const char *site;                /* BULK_SITE: the new site */
    admin_target target;             /* BULK_MOVE: key set per phone */
    int reboot;                      /* BULK_RESYNC */
    apr_array_header_t *macs;        /* the selection; NULL: the view */
    admin_view view;
    json_t *selected;                /* how the phones were chosen, for
                                      * the audit */
    int dry_run;
    /* What it did, or would do. */
    int phones;                      /* reached */
    int changed;                     /* changed (resync: queued) */
    json_t *skipped;                 /* resync: phones it cannot address */
    json_t *sample;                  /* the first MACs reached */
} admin_bulk;

/* One phone's row (mac model site label enabled sip_address): changed as
 * the action says, audited; with b->dry_run only counted. */
static int bulk_phone(const polycom_admin_request *in, admin_bulk *b,
                      const polycom_row *row)
{
    const char *mac = polycom_row_get(row, "mac");
    const char *site = polycom_row_get(row, "site");
    const char *enabled = polycom_row_get(row, "enabled");
    const char *why = NULL;
    apr_time_t when = 0;
    json_t *detail = NULL;
    int change, rv;

    b->phones++;
    if (json_array_size(b->sample) < BULK_SAMPLE_MAX) {
        json_array_append_new(b->sample, json_string(mac));
    }
    switch (b->kind) {
    case BULK_ENABLE:
    case BULK_DISABLE:
        change = strcmp(enabled, b->kind == BULK_ENABLE ? "1" : "0") != 0;
        enabled = b->kind == BULK_ENABLE ? "1" : "0";
        break;
    case BULK_SITE:
        change = strcmp(site, b->site) != 0;
        detail = polycom_admin_own(in->pool, json_pack(
            "{s:s, s:s}", "from", site, "to", b->site));
        site = b->site;
        break;
    default:
        change = 1;                  /* a move or a resync is new each time */
        break;
    }
    if (!change || b->dry_run) {
        b->changed += change;
        return 0;
    }
    switch (b->kind) {
    case BULK_MOVE:
        b->target.key = mac;
        if (polycom_admin_target_store(in, &b->target, 0) < 0
            || polycom_admin_audit(in, "reprovision.set",
                                   apr_pstrcat(in->pool, "phone/", mac,
                                               NULL),
                                   polycom_admin_target_audit(
                                       in->pool, &b->target)) < 0) {
            return -1;
        }
        break;
    case BULK_RESYNC:
        rv = polycom_resync_enqueue(in->db, mac, b->reboot, in->user,
                                    in->now, &in->pacing, &when, &why);
        if (rv == -1) {
            return -1;
        }
        if (rv == -2) {
            /* As the fleet's resync: listed, the others still queued. */
            json_array_append_new(b->skipped, json_pack(
                "{s:s, s:s}", "mac", mac, "error", why));
            return 0;
        }
        if (polycom_admin_audit(in, b->reboot ? "resync.reboot" : "resync",
                                mac, polycom_admin_own(in->pool, json_pack(
                                    "{s:i}", "phones", 1))) < 0) {
            return -1;
        }
        break;
    default:
        /* The statement a PUT writes the phone's row with; its own
         * parameters stay as they are. */
        if (polycom_store_exec(in->db, POLYCOM_SQL_PHONE_UPSERT, NULL, mac,
                               polycom_row_get(row, "model"), site,
                               polycom_row_get(row, "label"), enabled,
                               apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                            in->now),
                               polycom_row_get(row, "sip_address"),
                               NULL) < 0
            || polycom_admin_audit(in, b->kind == BULK_SITE ? "phone.site"
                                   : b->kind == BULK_ENABLE ? "phone.enable"
                                   : "phone.disable", mac, detail) < 0) {
            return -1;
        }
        break;
    }
    b->changed++;
    return 0;
}

/* Every phone of the selection or the view, in one transaction (or read
 * only, for a dry run): 0, -1 (the database), -2 refused with @a err. A
 * MAC of the selection that is no phone refuses the whole action, after
 * the phones before it were changed: the rollback takes them back. */
static int bulk_run(const polycom_admin_request *in, admin_bulk *b,
                    admin_error *err)
{
    apr_array_header_t *rows;
    int i;

    if (!b->macs) {
        if (polycom_admin_view_phones(in, &b->view, &rows) < 0) {
            return -1;
        }
        for (i = 0; i < rows->nelts; i++) {
            if (bulk_phone(in, b, APR_ARRAY_IDX(rows, i,
                                                const polycom_row *)) < 0) {
                return -1;
            }
        }
    }
    for (i = 0; b->macs && i < b->macs->nelts; i++) {
        const char *mac = APR_ARRAY_IDX(b->macs, i, const char *);

        if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows, mac,
                                 NULL) < 0) {
            return -1;
        }
        if (!rows->nelts) {
            err->status = 404;
            err->detail = apr_psprintf(in->pool, "no such phone: %s; "
                                       "nothing was changed", mac);
            return -2;
        }
        if (bulk_phone(in, b, APR_ARRAY_IDX(rows, 0,
                                            const polycom_row *)) < 0) {
            return -1;
        }
    }
    if (b->kind == BULK_MOVE && b->changed && !b->dry_run
        && polycom_store_exec(in->db, POLYCOM_SQL_REPROV_PRUNE, NULL,
                              NULL) < 0) {
        return -1;
    }
    return 0;
}

static int bulk_write(const polycom_admin_request *in, void *data,
                      admin_audit_row *audit, admin_error *err)
{
    admin_bulk *b = data;
    int rv = bulk_run(in, b, err);

    if (rv == 0 && b->changed) {
        audit->action = "phones.bulk";
        audit->target = "";
        audit->detail = polycom_admin_own(in->pool, json_pack(
            "{s:s, s:i, s:i, s:O}", "action", b->action, "phones", b->phones,
            "changed", b->changed, "selected", b->selected));
    }
    return rv;
}

/* The selection of the body: "macs" (a list) or "view" (GET phones'
 * arguments); 0 or -1 with @a err. */
static int bulk_selection(const polycom_admin_request *in, json_t *body,
                          admin_bulk *b, admin_error *err)
{
    static const char *const view_keys[] = {
        "q", "filter", "site", "model", "stale", "stale_after", NULL
    };
    json_t *macs = json_object_get(body, "macs");
    json_t *view = json_object_get(body, "view"), *value;
    apr_hash_t *seen = apr_hash_make(in->pool);
    apr_table_t *args = apr_table_make(in->pool, 8);
    const char *key;
    apr_size_t i;
    size_t n;

    err->status = 400;
    if (!macs == !view) {
        err->detail = "name the phones: \"macs\": [...] or \"view\": {...} "
                      "(the arguments of GET phones)";
        return -1;
    }
    if (macs) {
        if (!json_is_array(macs) || !json_array_size(macs)) {
            err->detail = "macs must be a list of MAC addresses";
            return -1;
        }
        b->macs = apr_array_make(in->pool, (int)json_array_size(macs),
                                 sizeof(const char *));
        json_array_foreach(macs, n, value) {
            const char *mac;

            if (!json_is_string(value)
                || !polycom_mac_valid(json_string_value(value))) {
                err->detail = "macs must be MAC addresses of 12 hexadecimal "
                              "digits";
                return -1;
            }
            mac = polycom_admin_lower(in->pool, json_string_value(value));
            if (!apr_hash_get(seen, mac, APR_HASH_KEY_STRING)) {
                apr_hash_set(seen, mac, APR_HASH_KEY_STRING, mac);
                APR_ARRAY_PUSH(b->macs, const char *) = mac;
            }
        }
        b->selected = polycom_admin_own(in->pool, json_pack(
            "{s:i}", "macs", b->macs->nelts));
        return 0;
    }
    if (!json_is_object(view)) {
        err->detail = "view must be an object of GET phones' arguments";
        return -1;
    }
    json_object_foreach(view, key, value) {
        for (i = 0; view_keys[i] && strcmp(key, view_keys[i]); i++) {
        }
        if (!view_keys[i] || !(json_is_string(value)
                               || json_is_integer(value))) {
            err->detail = apr_psprintf(in->pool, "view takes q, filter, "
                                       "site, model, stale and stale_after "
                                       "as strings, not \"%s\"", key);
            return -1;
        }
        apr_table_setn(args, key, json_is_string(value)
            ? json_string_value(value)
            : apr_psprintf(in->pool, "%" APR_INT64_T_FMT,
                           (apr_int64_t)json_integer_value(value)));
    }
    b->selected = polycom_admin_own(in->pool, json_pack("{s:O}", "view",
                                                        view));
    return polycom_admin_view_parse(in, args, &b->view, err);
}

/* The action of the body and what it needs; 0 or -1 with @a err. */
static int bulk_action(const polycom_admin_request *in, json_t *body,
                       admin_bulk *b, admin_error *err)
{
    static const char *const actions[] = {
        "enable", "disable", "site", "move", "resync", NULL
    };
    static const char *const fields[] = {
        "action", "macs", "view", "site", "target", "reboot", NULL
    };
    json_t *site = json_object_get(body, "site");
    json_t *target = json_object_get(body, "target");
    json_t *reboot = json_object_get(body, "reboot"), *value;
    const char *key;
    apr_size_t i;

    err->status = 400;
    json_object_foreach(body, key, value) {
        for (i = 0; fields[i] && strcmp(key, fields[i]); i++) {
        }
        if (!fields[i]) {
            err->detail = apr_psprintf(in->pool, "unknown field \"%s\"", key);
            return -1;
        }
    }
    b->action = json_string_value(json_object_get(body, "action"));
    for (i = 0; b->action && actions[i] && strcmp(b->action, actions[i]);
         i++) {
    }
    if (!b->action || !actions[i]) {
        err->detail = "action must be one of enable, disable, site, move, "
                      "resync";
        return -1;
    }
    b->kind = (bulk_kind)i;
    if ((site && b->kind != BULK_SITE) || (target && b->kind != BULK_MOVE)
        || (reboot && b->kind != BULK_RESYNC)) {
        err->detail = "site goes with action site, target with move, "
                      "reboot with resync";
        return -1;
    }
    if (b->kind == BULK_SITE) {
        if (!json_is_string(site)
            || !polycom_admin_key_valid(json_string_value(site))) {
            err->detail = "site must be a name of letters, digits, '.', '_' "
                          "and '-' (at most 64)";
            return -1;
        }
        b->site = json_string_value(site);
    }
    if (b->kind == BULK_MOVE) {
        b->target.scope = "phone";
        b->target.user = b->target.password = b->target.deadline = "";
        if (!target) {
            err->detail = "target is required: {\"server\": ...} as POST "
                          "phones/{mac}/reprovision takes it";
            return -1;
        }
        if (polycom_admin_target_from_json(in->pool, target, &b->target,
                                           err) < 0) {
            err->detail = apr_pstrcat(in->pool, "target: ", err->detail,
                                      NULL);
            return -1;
        }
    }
    if (reboot && !json_is_boolean(reboot)) {
        err->detail = "reboot must be true or false";
        return -1;
    }
    b->reboot = reboot && json_is_true(reboot);
    return 0;
}

void polycom_admin_bulk(const polycom_admin_request *in,
                        polycom_admin_response *out, const admin_path *path)
{
    json_t *body = polycom_admin_parse_body(in, out), *answer;
    admin_error err = { 400, "the body must be a JSON object" };
    admin_bulk b;

    if (!body) {
        return;
    }
    memset(&b, 0, sizeof(b));
    b.skipped = polycom_admin_own(in->pool, json_array());
    b.sample = polycom_admin_own(in->pool, json_array());
    if (!json_is_object(body) || bulk_action(in, body, &b, &err) < 0
        || bulk_selection(in, body, &b, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    b.dry_run = polycom_admin_dry_run_asked(in);
    if (b.dry_run) {
        /* Read only, outside any transaction: nothing to roll back. */
        int rv = bulk_run(in, &b, &err);

        if (rv == -2) {
            polycom_admin_problem(in->pool, out, err.status, err.detail);
        }
        else if (rv < 0) {
            polycom_admin_db_failed(in, out);
        }
        else {
            polycom_admin_answer(in, out, 200, json_pack(
                "{s:b, s:s, s:i, s:i, s:O, s:b}", "dry_run", 1,
                "action", b.action, "phones", b.phones, "changed", b.changed,
                "macs", b.sample,
                "truncated", b.phones > (int)json_array_size(b.sample)));
        }
        return;
    }
    if (polycom_admin_change(in, out, bulk_write, &b) < 0) {
        return;
    }
    answer = json_pack("{s:s, s:i, s:i}", "action", b.action,
                       "phones", b.phones, "changed", b.changed);
    if (b.kind == BULK_RESYNC) {
        json_object_set(answer, "skipped", b.skipped);
    }
    polycom_admin_answer(in, out, 200, answer);
}
