/* mod_polycom: the per-directory and per-server configuration records,
 * their merges (every field "add if set, else base") and the accessors
 * that apply defaults where values are read. The directives that fill
 * them are in mod_polycom_directives.c. The accessors are called from
 * every context (they only read).
 */

#include "apr_strings.h"

#include "mod_polycom_private.h"
#include "polycom_upload.h"

void *polycom_create_dir_conf(apr_pool_t *p, char *dir)
{
    polycom_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->provisioning = -1;
    conf->checkins = -1;
    conf->uploads = -1;
    conf->upload_limit = -1;
    conf->log_limit = -1;
    conf->log_keep = -1;
    conf->log_days = -1;
    conf->upload_quota = -1;
    conf->admin = -1;
    conf->bundle_credentials = -1;
    conf->resync_rate = -1;
    conf->resync_per_network = -1;
    conf->guard_limit = -1;
    conf->model_firmware = apr_array_make(p, 4,
                                          sizeof(polycom_model_firmware));
    conf->model_files = apr_array_make(p, 2, sizeof(polycom_model_files));
    return conf;
}

/* A child's pin for a model replaces the parent's pin for that model;
 * pins for other models are inherited. */
static apr_array_header_t *polycom_merge_firmware(
    apr_pool_t *p, const apr_array_header_t *base,
    const apr_array_header_t *add)
{
    apr_array_header_t *merged = apr_array_copy(p, base);
    int i, j;

    for (i = 0; i < add->nelts; i++) {
        const polycom_model_firmware *a =
            &APR_ARRAY_IDX(add, i, polycom_model_firmware);
        int replaced = 0;

        for (j = 0; j < merged->nelts; j++) {
            polycom_model_firmware *m =
                &APR_ARRAY_IDX(merged, j, polycom_model_firmware);

            if (!strcmp(m->model, a->model)) {
                m->path = a->path;
                replaced = 1;
            }
        }
        if (!replaced) {
            APR_ARRAY_PUSH(merged, polycom_model_firmware) = *a;
        }
    }
    return merged;
}

/* Likewise for a model's static files: the child's list for a model
 * replaces the parent's list for that model. */
static apr_array_header_t *polycom_merge_model_files(
    apr_pool_t *p, const apr_array_header_t *base,
    const apr_array_header_t *add)
{
    apr_array_header_t *merged = apr_array_copy(p, base);
    int i, j;

    for (i = 0; i < add->nelts; i++) {
        const polycom_model_files *a =
            &APR_ARRAY_IDX(add, i, polycom_model_files);

        for (j = 0; j < merged->nelts; j++) {
            polycom_model_files *m =
                &APR_ARRAY_IDX(merged, j, polycom_model_files);

            if (!strcmp(m->model, a->model)) {
                m->files = a->files;
                break;
            }
        }
        if (j == merged->nelts) {
            APR_ARRAY_PUSH(merged, polycom_model_files) = *a;
        }
    }
    return merged;
}

void *polycom_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const polycom_dir_conf *base = basev;
    const polycom_dir_conf *add = addv;
    polycom_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->provisioning = add->provisioning != -1 ? add->provisioning
                                                 : base->provisioning;
    conf->checkins = add->checkins != -1 ? add->checkins : base->checkins;
    conf->app_file_path = add->app_file_path ? add->app_file_path
                                             : base->app_file_path;
    conf->model_firmware = polycom_merge_firmware(p, base->model_firmware,
                                                  add->model_firmware);
    conf->config_files = add->config_files ? add->config_files
                                           : base->config_files;
    conf->model_files = polycom_merge_model_files(p, base->model_files,
                                                  add->model_files);
    conf->uploads = add->uploads != -1 ? add->uploads : base->uploads;
    conf->upload_limit = add->upload_limit != -1 ? add->upload_limit
                                                 : base->upload_limit;
    conf->log_limit = add->log_limit != -1 ? add->log_limit
                                           : base->log_limit;
    conf->log_keep = add->log_keep != -1 ? add->log_keep : base->log_keep;
    conf->log_days = add->log_days != -1 ? add->log_days : base->log_days;
    conf->upload_quota = add->upload_quota != -1 ? add->upload_quota
                                                 : base->upload_quota;
    conf->admin = add->admin != -1 ? add->admin : base->admin;
    conf->bundle_credentials = add->bundle_credentials != -1
                               ? add->bundle_credentials
                               : base->bundle_credentials;
    conf->admin_base = add->admin != -1 ? add->admin_base : base->admin_base;
    conf->preview_base = add->preview_base ? add->preview_base
                                           : base->preview_base;
    conf->device_ca = add->device_ca ? add->device_ca : base->device_ca;
    conf->resync_rate = add->resync_rate != -1 ? add->resync_rate
                                               : base->resync_rate;
    conf->resync_per_network = add->resync_per_network != -1
                               ? add->resync_per_network
                               : base->resync_per_network;
    if (add->guard_limit != -1) {
        conf->guard_limit = add->guard_limit;
        conf->guard_window = add->guard_window;
        conf->guard_cooldown = add->guard_cooldown;
    }
    else {
        conf->guard_limit = base->guard_limit;
        conf->guard_window = base->guard_window;
        conf->guard_cooldown = base->guard_cooldown;
    }
    return conf;
}

void *polycom_create_server_conf(apr_pool_t *p, server_rec *s)
{
    polycom_server_conf *sconf = apr_pcalloc(p, sizeof(*sconf));

    sconf->sip_t1_ms = -1;
    return sconf;
}

/* Defaults are applied where values are read, so that "unset" survives
 * every merge and a child can set a value back to the default. */
int polycom_conf_provisioning(const polycom_dir_conf *conf)
{
    return conf->provisioning == 1;
}

int polycom_conf_checkins(const polycom_dir_conf *conf)
{
    return conf->checkins != 0;
}

const char *polycom_conf_app_file_path(const polycom_dir_conf *conf)
{
    return conf->app_file_path ? conf->app_file_path
                               : POLYCOM_DEFAULT_APP_FILE_PATH;
}

int polycom_conf_uploads(const polycom_dir_conf *conf)
{
    return conf->uploads == 1;
}

apr_off_t polycom_conf_upload_limit(const polycom_dir_conf *conf,
                                    polycom_file_kind kind)
{
    if (polycom_upload_is_log(kind)) {
        return conf->log_limit != -1 ? conf->log_limit
                                     : POLYCOM_DEFAULT_LOG_LIMIT;
    }
    return conf->upload_limit != -1 ? conf->upload_limit
                                    : POLYCOM_DEFAULT_UPLOAD_LIMIT;
}

apr_off_t polycom_conf_upload_quota(const polycom_dir_conf *conf)
{
    return conf->upload_quota != -1 ? conf->upload_quota
                                    : POLYCOM_DEFAULT_UPLOAD_QUOTA;
}

polycom_resync_pacing polycom_conf_pacing(const polycom_dir_conf *conf)
{
    polycom_resync_pacing pacing;

    pacing.via_registrar = 0;          /* the server's, set by the caller */
    pacing.per_minute = conf->resync_rate != -1
                        ? conf->resync_rate : POLYCOM_DEFAULT_RESYNC_RATE;
    pacing.per_network = conf->resync_per_network != -1
                         ? conf->resync_per_network
                         : POLYCOM_DEFAULT_RESYNC_NET;
    return pacing;
}

polycom_guard_settings polycom_conf_guard(const polycom_dir_conf *conf)
{
    polycom_guard_settings guard;
    int unset = conf->guard_limit == -1;

    guard.limit = unset ? POLYCOM_GUARD_LIMIT : conf->guard_limit;
    guard.window = apr_time_from_sec(unset ? POLYCOM_GUARD_WINDOW
                                           : conf->guard_window);
    guard.cooldown = apr_time_from_sec(unset ? POLYCOM_GUARD_COOLDOWN
                                             : conf->guard_cooldown);
    return guard;
}

const polycom_device_ca *polycom_conf_device_ca(const polycom_dir_conf *conf)
{
    return conf->device_ca == POLYCOM_DEVICE_CA_NONE ? NULL
                                                     : conf->device_ca;
}

const char *polycom_conf_preview_base(const polycom_dir_conf *conf)
{
    return conf->preview_base ? conf->preview_base
                              : POLYCOM_DEFAULT_PREVIEW_BASE;
}

apr_interval_time_t polycom_conf_sip_t1(const polycom_server_conf *sconf)
{
    return apr_time_from_msec(sconf->sip_t1_ms != -1
                              ? sconf->sip_t1_ms : POLYCOM_DEFAULT_SIP_T1_MS);
}

polycom_log_retention polycom_conf_log_retention(
    const polycom_dir_conf *conf)
{
    polycom_log_retention retention;
    int days = conf->log_days != -1 ? conf->log_days
                                    : POLYCOM_DEFAULT_LOG_DAYS;

    retention.max_bytes = conf->log_keep != -1 ? conf->log_keep
                                               : POLYCOM_DEFAULT_LOG_KEEP;
    retention.max_age = apr_time_from_sec((apr_interval_time_t)days * 86400);
    return retention;
}
