/* GET phones/{mac}/explain: every parameter a phone gets now, the layer it
 * comes from, what it overrides below it, and whether the phone's own
 * override files set it too (and so win on the phone).
 *
 * The settings are computed here exactly as the provisioning path renders
 * them: the same rows through the same resolver (src/layers.c), the same
 * move handling and .set flags (src/device.c), the same renderer, so the
 * ETag explain reports is the one the phone would get.
 */

#include <string.h>

#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_device.h"
#include "polycom_digest.h"
#include "polycom_flat.h"
#include "polycom_name.h"
#include "polycom_param.h"
#include "polycom_render.h"
#include "polycom_reprovision.h"

/* The override files a phone uploads, the one that wins on the phone
 * first: settings made on the phone itself beat the web interface's. */
static const polycom_file_kind admin_override_files[] = {
    POLYCOM_FILE_PHONE_OVERRIDE, POLYCOM_FILE_WEB_OVERRIDE
};
#define ADMIN_OVERRIDE_FILES \
    (sizeof(admin_override_files) / sizeof(admin_override_files[0]))

int polycom_admin_settings(const polycom_admin_request *in,
                           const polycom_phone *phone, int explain,
                           admin_settings *view)
{
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;

    memset(view, 0, sizeof(*view));
    view->phone = phone;
    view->layers = polycom_layers_make(in->pool, explain);
    if (polycom_store_layers(in->db, phone, view->layers) < 0) {
        return -1;
    }
    view->params = polycom_layers_params(view->layers);
    /* A move matters to the settings only through the stanza's names in a
     * layer, as in polycom_generate; explain shows the target either way. */
    if (explain || polycom_device_move_params(view->params)) {
        if (polycom_store_reprovision(in->db, phone->mac, phone->site,
                                      in->now, &view->target) < 0) {
            return -1;
        }
        view->moving = view->target.id
                       && strcmp(view->target.state, "confirmed");
    }
    view->served = polycom_device_settings(in->pool, view->params,
                                           view->moving);
    if (polycom_render_config(in->pool, view->served, &body, &len,
                              &error) < 0) {
        view->render_error = error;
        return 0;
    }
    view->etag = polycom_etag(in->pool, body, len);
    return 0;
}

int polycom_admin_overrides(const polycom_admin_request *in, const char *mac,
                            apr_array_header_t **files)
{
    apr_size_t i;

    *files = apr_array_make(in->pool, 2, sizeof(admin_override));
    for (i = 0; i < ADMIN_OVERRIDE_FILES; i++) {
        polycom_file_kind kind = admin_override_files[i];
        const char *body = NULL, *error = NULL;
        apr_size_t len = 0;
        admin_override *o;

        if (polycom_store_upload_get(in->db, mac,
                                     polycom_name_kind_label(kind), &body,
                                     &len) < 0) {
            return -1;
        }
        if (!body) {
            continue;
        }
        o = apr_array_push(*files);
        o->file = polycom_name_file(in->pool, mac, kind);
        /* A file the phone sent that does not read is no override the
         * server can explain: listed with no parameters. */
        if (polycom_flat_from_xml(in->pool, body, len, &o->params,
                                  &error) < 0) {
            o->params = apr_array_make(in->pool, 1, sizeof(polycom_param));
        }
    }
    return 0;
}

const char *polycom_admin_shown(apr_pool_t *pool, const char *name,
                                const char *value)
{
    return polycom_param_is_secret(name) && value && *value
           ? POLYCOM_SECRET_MASK : (value ? value : "");
}

static const char *admin_param_in(const apr_array_header_t *params,
                                  const char *name)
{
    int i;

    for (i = 0; params && i < params->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(params, i, polycom_param).name, name)) {
            return APR_ARRAY_IDX(params, i, polycom_param).value;
        }
    }
    return NULL;
}

json_t *polycom_admin_shadowing(apr_pool_t *pool,
                                const apr_array_header_t *overrides,
                                const char *name)
{
    json_t *list = json_array();
    int i;

    for (i = 0; i < overrides->nelts; i++) {
        const admin_override *o = &APR_ARRAY_IDX(overrides, i,
                                                 admin_override);
        const char *value = admin_param_in(o->params, name);

        if (value) {
            json_array_append_new(list, json_pack("{s:s, s:s}", "file",
                o->file, "value", polycom_admin_shown(pool, name, value)));
        }
    }
    return list;
}

/* "global", "site", ... with the key that names the layer. */
static json_t *admin_layer_json(apr_pool_t *pool, const char *name,
                                const polycom_layer_value *v)
{
    return json_pack("{s:s, s:s, s:s}", "layer", v->scope, "key", v->key,
                     "value", polycom_admin_shown(pool, name, v->value));
}

/* Where a served name comes from, as layer and key: a layer's row, the
 * .set flag the server adds for a device.* value, or (during a move) the
 * reprovisioning target's own file. */
void polycom_admin_origin(const admin_settings *view, const char *name,
                          const char **layer, const char **key,
                          const polycom_layered_param **from)
{
    const apr_array_header_t *resolved = polycom_layers_resolved(
        view->layers);
    int i;

    *from = NULL;
    for (i = 0; i < resolved->nelts; i++) {
        const polycom_layered_param *lp =
            &APR_ARRAY_IDX(resolved, i, polycom_layered_param);

        if (!strcmp(lp->name, name)) {
            *from = lp;
            *layer = lp->winner.scope;
            *key = lp->winner.key;
            return;
        }
    }
    *layer = "device-flag";
    *key = "";
}

/* The reprovisioning stanza, first in CONFIG_FILES during a move: its
 * parameters win over any layer's (which are left out of the settings). */
static json_t *admin_stanza_json(const polycom_admin_request *in,
                                 const admin_settings *view,
                                 const apr_array_header_t *overrides)
{
    polycom_reprovision stanza;
    apr_array_header_t *params;
    json_t *list = json_array();
    int i;

    stanza.server = view->target.server;
    stanza.server_type = view->target.server_type;
    stanza.boot_server = view->target.boot_server;
    stanza.user = view->target.user;
    stanza.password = view->target.password;
    params = polycom_reprovision_params(in->pool, &stanza, 1);
    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);
        const char *layer, *key;
        const polycom_layered_param *lp;
        json_t *below = json_array();

        polycom_admin_origin(view, p->name, &layer, &key, &lp);
        if (lp) {
            int j;

            json_array_append_new(below, admin_layer_json(in->pool, p->name,
                                                          &lp->winner));
            for (j = 0; j < lp->overridden->nelts; j++) {
                json_array_append_new(below, admin_layer_json(in->pool,
                    p->name, &APR_ARRAY_IDX(lp->overridden, j,
                                            polycom_layer_value)));
            }
        }
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:o, "
                                              "s:o}",
            "name", p->name,
            "value", polycom_admin_shown(in->pool, p->name, p->value),
            "layer", "reprovision", "key", view->target.scope,
            "overrides", below,
            "shadowed_by", polycom_admin_shadowing(in->pool, overrides,
                                                   p->name)));
    }
    return list;
}

static json_t *admin_explain_params(const polycom_admin_request *in,
                                    const admin_settings *view,
                                    const apr_array_header_t *overrides)
{
    json_t *list = json_array();
    int i, j;

    for (i = 0; i < view->served->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(view->served, i,
                                                polycom_param);
        const char *layer, *key;
        const polycom_layered_param *lp;
        json_t *below = json_array();

        polycom_admin_origin(view, p->name, &layer, &key, &lp);
        for (j = 0; lp && j < lp->overridden->nelts; j++) {
            json_array_append_new(below, admin_layer_json(in->pool, p->name,
                &APR_ARRAY_IDX(lp->overridden, j, polycom_layer_value)));
        }
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:o, "
                                              "s:o}",
            "name", p->name,
            "value", polycom_admin_shown(in->pool, p->name, p->value),
            "layer", layer, "key", key, "overrides", below,
            "shadowed_by", polycom_admin_shadowing(in->pool, overrides,
                                                   p->name)));
    }
    return list;
}

/* Names the override files set that the server does not serve at all. */
static json_t *admin_overrides_only(apr_pool_t *pool,
                                    const admin_settings *view,
                                    const apr_array_header_t *overrides)
{
    json_t *list = json_array();
    int i, j;

    for (i = 0; i < overrides->nelts; i++) {
        const admin_override *o = &APR_ARRAY_IDX(overrides, i,
                                                 admin_override);

        for (j = 0; j < o->params->nelts; j++) {
            const polycom_param *p = &APR_ARRAY_IDX(o->params, j,
                                                    polycom_param);

            if (!admin_param_in(view->served, p->name)) {
                json_array_append_new(list, json_pack("{s:s, s:s, s:s}",
                    "name", p->name, "file", o->file,
                    "value", polycom_admin_shown(pool, p->name, p->value)));
            }
        }
    }
    return list;
}

int polycom_admin_find_phone(const polycom_admin_request *in,
                             polycom_admin_response *out, const char *mac,
                             polycom_phone **phone)
{
    if (polycom_store_phone(in->db, mac, phone) < 0) {
        polycom_admin_db_failed(in, out);
        return -1;
    }
    if (!*phone) {
        polycom_admin_problem(in->pool, out, 404, "no such phone");
        return -1;
    }
    return 0;
}

const char *polycom_admin_last_fetch(const polycom_admin_request *in,
                                     const char *mac)
{
    apr_array_header_t *rows;

    if (polycom_store_select(in->db, POLYCOM_SQL_LAST_FETCH, &rows, mac,
                             NULL) < 0) {
        return NULL;
    }
    return rows->nelts ? polycom_rows_first(rows, "settings_etag") : "";
}

void polycom_admin_explain(const polycom_admin_request *in,
                           polycom_admin_response *out,
                           const admin_path *path)
{
    polycom_phone *phone;
    admin_settings view;
    apr_array_header_t *overrides;
    const char *fetched;
    json_t *doc, *params, *statics = json_array();
    int i;

    if (polycom_admin_find_phone(in, out, path->mac, &phone) < 0) {
        json_decref(statics);
        return;
    }
    if (polycom_admin_settings(in, phone, 1, &view) < 0
        || polycom_admin_overrides(in, phone->mac, &overrides) < 0
        || !(fetched = polycom_admin_last_fetch(in, phone->mac))) {
        json_decref(statics);
        polycom_admin_db_failed(in, out);
        return;
    }
    params = admin_explain_params(in, &view, overrides);
    if (view.moving) {
        json_array_extend(params, polycom_admin_own(in->pool,
            admin_stanza_json(in, &view, overrides)));
    }
    for (i = 0; in->static_files && i < in->static_files->nelts; i++) {
        json_array_append_new(statics, json_string(
            APR_ARRAY_IDX(in->static_files, i, const char *)));
    }
    doc = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:b, s:b, s:o, s:o, "
                    "s:o}",
        "mac", phone->mac, "model", phone->model, "site", phone->site,
        "enabled", phone->enabled,
        "etag", view.etag ? json_string(view.etag) : json_null(),
        "fetched_etag", *fetched ? json_string(fetched) : json_null(),
        "up_to_date", view.etag && !strcmp(fetched, view.etag),
        "moving", view.moving,
        "params", params,
        "overrides_only", admin_overrides_only(in->pool, &view, overrides),
        "static_files", statics);
    polycom_admin_answer(in, out, 200, doc);
}
