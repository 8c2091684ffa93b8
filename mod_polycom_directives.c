/* mod_polycom: every Polycom* directive, validated in its setter, and
 * the command table. Runs in the parent while the configuration is read.
 * Owns the server-wide values of PolycomCacheSize, PolycomSharedCache,
 * PolycomCheckinWriter,
 * PolycomCheckinQueue and PolycomCheckinRetention, and the longest age
 * any PolycomLogRetention allows (the scheduled prune's), with their
 * accessors.
 */

#include "apr_lib.h"
#include "apr_strings.h"

#include "mod_polycom_private.h"
#include "polycom_sip.h"
#include "polycom_siptls.h"
#include "polycom_shmcache.h"
#include "polycom_upload.h"

/* The names are claimed before the file system is looked at, so only
 * <Location> (and <LocationMatch>) sections can hold our directives. */
static const char *polycom_check_context(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_FILES
                                     | NOT_IN_HTACCESS);
}

/* On/Off into the int of polycom_dir_conf at the offset in cmd->info. */
static const char *polycom_set_flag(cmd_parms *cmd, void *dconf, int on)
{
    const char *err = polycom_check_context(cmd);

    if (err) {
        return err;
    }
    *(int *)((char *)dconf + (apr_size_t)cmd->info) = on;
    return NULL;
}

/* Serving from the database needs the statements mod_dbd prepares. */
static const char *polycom_set_provisioning(cmd_parms *cmd, void *dconf,
                                            int on)
{
    const char *err = polycom_set_flag(cmd, dconf, on);

    return err ? err : on ? polycom_prepare_statements(cmd) : NULL;
}

static int polycom_model_token_valid(const char *model)
{
    apr_size_t i;

    for (i = 0; model[i]; i++) {
        if (i >= POLYCOM_MODEL_MAX || !apr_isalnum(model[i])) {
            return 0;
        }
    }
    return i > 0;
}

static const char *polycom_check_path(cmd_parms *cmd, const char *path)
{
    apr_size_t i;

    if (strlen(path) > POLYCOM_PATH_MAX) {
        return apr_psprintf(cmd->pool, "%s: a firmware path is at most %d "
                            "characters", cmd->cmd->name, POLYCOM_PATH_MAX);
    }
    for (i = 0; path[i]; i++) {
        if (apr_iscntrl(path[i]) || path[i] == ',' || path[i] == ' ') {
            return apr_psprintf(cmd->pool, "%s: firmware path \"%s\" may not "
                                "contain spaces, commas or control "
                                "characters", cmd->cmd->name, path);
        }
    }
    return NULL;
}

/* PolycomFirmware <path>            APP_FILE_PATH for every model
 * PolycomFirmware <MODEL> <path>    APP_FILE_PATH_<MODEL>; "" removes it */
static const char *polycom_set_firmware(cmd_parms *cmd, void *dconf,
                                        const char *arg1, const char *arg2)
{
    polycom_dir_conf *conf = dconf;
    polycom_model_firmware *mf;
    const char *path = arg2 ? arg2 : arg1;
    const char *err = polycom_check_context(cmd);
    int i;

    if (!err) {
        err = polycom_check_path(cmd, path);
    }
    if (err) {
        return err;
    }
    if (!arg2) {
        conf->app_file_path = path;
        return NULL;
    }
    if (!polycom_model_token_valid(arg1)) {
        return apr_psprintf(cmd->pool, "PolycomFirmware: model \"%s\" must be "
                            "a master token of letters and digits, as in "
                            "SPIP330 or VVX411", arg1);
    }
    for (i = 0; i < conf->model_firmware->nelts; i++) {
        mf = &APR_ARRAY_IDX(conf->model_firmware, i, polycom_model_firmware);
        if (!strcmp(mf->model, arg1)) {
            mf->path = path;
            return NULL;
        }
    }
    mf = apr_array_push(conf->model_firmware);
    mf->model = arg1;
    mf->path = path;
    return NULL;
}

/* PolycomConfigFiles [MODEL] file... | none
 * Static files from disk (the shipped sip.cfg, phone1.cfg) after the
 * generated ones in CONFIG_FILES, or in CONFIG_FILES_<MODEL> for one
 * model; "none" empties the list (inherited ones included). A first word
 * of letters and digits only is a model: a file name has a dot. */
static const char *polycom_set_config_files(cmd_parms *cmd, void *dconf,
                                            int argc, char *const argv[])
{
    polycom_dir_conf *conf = dconf;
    apr_array_header_t *files;
    polycom_model_files *mf;
    const char *model = NULL;
    const char *err = polycom_check_context(cmd);
    apr_size_t total = 0;
    int i;

    if (err) {
        return err;
    }
    if (argc >= 2 && polycom_model_token_valid(argv[0])) {
        model = argv[0];
        argc--;
        argv++;
    }
    if (argc < 1) {
        return "PolycomConfigFiles: [model] file... or [model] none";
    }
    files = apr_array_make(cmd->pool, argc, sizeof(const char *));
    if (!(argc == 1 && !strcasecmp(argv[0], "none"))) {
        for (i = 0; i < argc; i++) {
            const char *base = strrchr(argv[i], '/');
            polycom_name claimed;

            if ((err = polycom_check_path(cmd, argv[i]))) {
                return err;
            }
            base = base ? base + 1 : argv[i];
            if (!strchr(base, '.')) {
                return apr_psprintf(cmd->pool, "PolycomConfigFiles: \"%s\" "
                                    "is no file name (a model token comes "
                                    "first, letters and digits only, as in "
                                    "SPIP330)", argv[i]);
            }
            /* Those names are the module's, generated from the database:
             * listing them here would serve no file from disk. */
            if (polycom_name_parse(base, &claimed)) {
                return apr_psprintf(cmd->pool, "PolycomConfigFiles: \"%s\" "
                                    "is a name mod_polycom generates; list "
                                    "static files only", argv[i]);
            }
            total += strlen(argv[i]) + 1;
            APR_ARRAY_PUSH(files, const char *) = argv[i];
        }
    }
    if (total > POLYCOM_CONFIG_FILES_MAX - POLYCOM_GENERATED_FILES_ROOM) {
        return apr_psprintf(cmd->pool, "PolycomConfigFiles: the list is %"
                            APR_SIZE_T_FMT " characters; phones read at most "
                            "%d of CONFIG_FILES, generated files included",
                            total, POLYCOM_CONFIG_FILES_MAX);
    }
    if (!model) {
        conf->config_files = files;
        return NULL;
    }
    for (i = 0; i < conf->model_files->nelts; i++) {
        mf = &APR_ARRAY_IDX(conf->model_files, i, polycom_model_files);
        if (!strcmp(mf->model, model)) {
            mf->files = files;
            return NULL;
        }
    }
    mf = apr_array_push(conf->model_files);
    mf->model = model;
    mf->files = files;
    return NULL;
}

/* The API's resources are named relative to the <Location> that turns it
 * on, so PolycomAdmin belongs in a plain <Location>. */
static const char *polycom_set_admin(cmd_parms *cmd, void *dconf, int on)
{
    polycom_dir_conf *conf = dconf;
    const char *err = polycom_set_flag(cmd, dconf, on);

    if (err) {
        return err;
    }
    if (on && (!cmd->path || cmd->path[0] != '/')) {
        return "PolycomAdmin On belongs in a <Location /path> section";
    }
    conf->admin_base = on ? cmd->path : NULL;
    return on ? polycom_prepare_statements(cmd) : NULL;
}

/* PolycomDeviceCA file|none: read here, so that a missing or empty file
 * stops the configuration instead of refusing every phone later. */
static const char *polycom_set_device_ca(cmd_parms *cmd, void *dconf,
                                         const char *file)
{
    polycom_dir_conf *conf = dconf;
    polycom_server_conf *sconf;
    const char *err = polycom_check_context(cmd), *path;

    if (err) {
        return err;
    }
    if (!strcasecmp(file, "none")) {
        conf->device_ca = POLYCOM_DEVICE_CA_NONE;
        return NULL;
    }
    path = ap_server_root_relative(cmd->pool, file);
    if (!path) {
        return apr_psprintf(cmd->pool, "PolycomDeviceCA: bad path %s", file);
    }
    conf->device_ca = polycom_device_ca_load(cmd->pool, path, &err);
    if (!conf->device_ca) {
        return apr_psprintf(cmd->pool, "PolycomDeviceCA: %s", err);
    }
    sconf = ap_get_module_config(cmd->server->module_config, &polycom_module);
    sconf->device_ca_used = 1;
    return NULL;
}

static const char *polycom_set_preview_base(cmd_parms *cmd, void *dconf,
                                            const char *path)
{
    const char *err = polycom_check_context(cmd);

    if (err) {
        return err;
    }
    if (path[0] != '/' || strpbrk(path, "?#")) {
        return "PolycomAdminPreview: give the URL path of the provisioning "
               "location, such as /prov";
    }
    ((polycom_dir_conf *)dconf)->preview_base = path;
    return NULL;
}

/* PolycomCacheSize: bytes of rendered files each child keeps (0: none).
 * Set at configuration time, before the children; reset to the default
 * before each reading of the configuration (pre_config). */
#define POLYCOM_DEFAULT_CACHE_SIZE ((apr_off_t)32 * 1024 * 1024)
#define POLYCOM_CACHE_SIZE_MAX     ((apr_off_t)4096 * 1024 * 1024)
static apr_off_t polycom_cache_size = POLYCOM_DEFAULT_CACHE_SIZE;

apr_off_t polycom_conf_cache_size(void)
{
    return polycom_cache_size;
}

/* "512K", "1M", "2G", "65536": a number of bytes, or -1 when the text is
 * not one. */
static apr_int64_t polycom_size_of(const char *arg)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10), unit = 1;

    if (end == arg || n < 0) {
        return -1;
    }
    switch (apr_tolower(*end)) {
    case 'k':
        unit = 1024;
        break;
    case 'm':
        unit = 1024 * 1024;
        break;
    case 'g':
        unit = 1024 * 1024 * 1024;
        break;
    }
    if (unit > 1) {
        end++;
    }
    return *end || n > APR_INT64_MAX / unit ? -1 : n * unit;
}

static const char *polycom_set_cache_size(cmd_parms *cmd, void *dconf,
                                          const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t n = strcasecmp(arg, "Off") ? polycom_size_of(arg) : 0;

    if (err) {
        return err;
    }
    if (n < 0 || n > POLYCOM_CACHE_SIZE_MAX) {
        return apr_psprintf(cmd->pool, "PolycomCacheSize: \"%s\" is not "
                            "Off or a size up to 4G (examples: 0, 64M, 1G)",
                            arg);
    }
    polycom_cache_size = (apr_off_t)n;
    return NULL;
}

/* PolycomSharedCache size [slot]: bytes of the render cache all children
 * of the node share (0: none) and the size of its slots, reset with the
 * others (pre_config). */
#define POLYCOM_DEFAULT_SHARED_SLOT 2048
static apr_off_t polycom_shared_cache_size = 0;
static apr_size_t polycom_shared_cache_slot = POLYCOM_DEFAULT_SHARED_SLOT;

apr_off_t polycom_conf_shared_cache_size(void)
{
    return polycom_shared_cache_size;
}

apr_size_t polycom_conf_shared_cache_slot(void)
{
    return polycom_shared_cache_slot;
}

static const char *polycom_set_shared_cache(cmd_parms *cmd, void *dconf,
                                            const char *size,
                                            const char *slot)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t n = strcasecmp(size, "Off") ? polycom_size_of(size) : 0;
    apr_int64_t m = slot ? polycom_size_of(slot)
                         : POLYCOM_DEFAULT_SHARED_SLOT;

    if (err) {
        return err;
    }
    if (n < 0 || (n > 0 && n < 64 * 1024) || n > POLYCOM_CACHE_SIZE_MAX) {
        return apr_psprintf(cmd->pool, "PolycomSharedCache: \"%s\" is not "
                            "Off or a size from 64K to 4G (examples: 256M, "
                            "1G)", size);
    }
    if (m < POLYCOM_SHMCACHE_SLOT_MIN || m > POLYCOM_SHMCACHE_SLOT_MAX
        || m % 8) {
        return apr_psprintf(cmd->pool, "PolycomSharedCache: the slot size "
                            "\"%s\" is not a multiple of 8 from 512 to 64K "
                            "(examples: 1K, 2K, 8K)", slot);
    }
    polycom_shared_cache_size = (apr_off_t)n;
    polycom_shared_cache_slot = (apr_size_t)m;
    return NULL;
}

/* A whole number from min to max. */
static const char *polycom_parse_count(cmd_parms *cmd, const char *arg,
                                       long min, long max, int *count)
{
    char *end;
    long n = strtol(arg, &end, 10);

    if (end == arg || *end || n < min || n > max) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a whole number "
                            "from %ld to %ld", cmd->cmd->name, arg, min, max);
    }
    *count = (int)n;
    return NULL;
}

static int polycom_writer_enabled;

/* How many check-ins a child holds while the batch before them is being
 * written (PolycomCheckinQueue). Past it a request writes its own
 * check-in, as when no batch thread runs: slower, but memory stays bounded
 * and nothing is lost when the writer falls behind (make bench saw a
 * child's queue, and its memory, grow by 10 MB in one stall; under strace,
 * 200 MB). */
#define POLYCOM_DEFAULT_CHECKIN_QUEUE 8192
static int polycom_checkin_queue;

int polycom_conf_checkin_queue(void)
{
    return polycom_checkin_queue;
}

int polycom_conf_writer_enabled(void)
{
    return polycom_writer_enabled;
}

/* The server-wide values start again from their defaults with each
 * reading of the configuration (pre_config). */
/* PolycomCheckinRetention, in seconds (0: keep forever). */
static apr_int64_t polycom_checkin_seconds =
    (apr_int64_t)POLYCOM_DEFAULT_CHECKIN_DAYS * 86400;
/* The longest age in days any PolycomLogRetention of the configuration
 * allows: -1 when none names days (the default applies), 0 when one keeps
 * logs forever. The scheduled prune removes only what every location
 * would let go. */
static int polycom_log_days_longest = -1;

void polycom_conf_reset(void)
{
    polycom_cache_size = POLYCOM_DEFAULT_CACHE_SIZE;
    polycom_shared_cache_size = 0;
    polycom_shared_cache_slot = POLYCOM_DEFAULT_SHARED_SLOT;
    polycom_writer_enabled = 1;
    polycom_checkin_queue = POLYCOM_DEFAULT_CHECKIN_QUEUE;
    polycom_checkin_seconds = (apr_int64_t)POLYCOM_DEFAULT_CHECKIN_DAYS
                              * 86400;
    polycom_log_days_longest = -1;
}

apr_interval_time_t polycom_conf_checkin_retention(void)
{
    return apr_time_from_sec(polycom_checkin_seconds);
}

apr_interval_time_t polycom_conf_log_age(void)
{
    int days = polycom_log_days_longest != -1 ? polycom_log_days_longest
                                              : POLYCOM_DEFAULT_LOG_DAYS;

    return apr_time_from_sec((apr_interval_time_t)days * 86400);
}

/* PolycomCheckinRetention Off|<age>: the main server's, as the worker that
 * prunes serves the main server's database. A bare number is days, as it
 * always was; d and h name the unit. No "m": read as months by some and
 * minutes by others, it would delete a history by mistake. 0 and Off keep
 * everything. */
static const char *polycom_set_checkin_retention(cmd_parms *cmd,
                                                 void *dconf,
                                                 const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t n, unit = 86400;
    char *end;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "Off")) {
        polycom_checkin_seconds = 0;
        return NULL;
    }
    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (end != arg && *end && !end[1]) {
        unit = *end == 'd' ? 86400 : *end == 'h' ? 3600 : 0;
        end += unit != 0;
    }
    if (!apr_isdigit(*arg) || *end || errno || !unit
        || n > (apr_int64_t)POLYCOM_DAYS_MAX * 86400 / unit) {
        return apr_psprintf(cmd->pool, "PolycomCheckinRetention: \"%s\" is "
                            "not Off or an age of at most 3650 days: days "
                            "(90 or 90d) or hours (12h)",
                            arg);
    }
    polycom_checkin_seconds = n * unit;
    return NULL;
}

static const char *polycom_set_checkin_queue(cmd_parms *cmd, void *dconf,
                                             const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : polycom_parse_count(cmd, arg, 16, 1000000,
                                           &polycom_checkin_queue);
}

static const char *polycom_set_checkin_writer(cmd_parms *cmd, void *dconf,
                                              int flag)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    polycom_writer_enabled = flag;
    return NULL;
}

/* A size in bytes, 1 byte to 64 MiB. */
static const char *polycom_parse_size(cmd_parms *cmd, const char *arg,
                                      apr_off_t *size)
{
    apr_int64_t n = polycom_size_of(arg);

    if (n < 1 || n > POLYCOM_SIZE_MAX) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a size from 1 "
                            "byte to 64M (examples: 65536, 512K, 1M)",
                            cmd->cmd->name, arg);
    }
    *size = (apr_off_t)n;
    return NULL;
}

static const char *polycom_set_size(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    apr_off_t *field = (apr_off_t *)((char *)dconf
                                     + (apr_size_t)cmd->info);
    const char *err = polycom_check_context(cmd);

    return err ? err : polycom_parse_size(cmd, arg, field);
}

/* A whole number from 1 to 100000 into the int at cmd->info. */
static const char *polycom_set_count(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    int *field = (int *)((char *)dconf + (apr_size_t)cmd->info);
    const char *err = polycom_check_context(cmd);

    return err ? err : polycom_parse_count(cmd, arg, 1, 100000, field);
}

/* PolycomSipTimerT1 <ms>: server config only. */
static const char *polycom_set_sip_t1(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    polycom_server_conf *sconf =
        ap_get_module_config(cmd->server->module_config, &polycom_module);

    return polycom_parse_count(cmd, arg, 1, 100000, &sconf->sip_t1_ms);
}

/* PolycomResyncProxy <host>[:<port>] [udp|tcp|tls] [<domain>]: server config
 * only. The NOTIFY of a phone without a sip_address goes to this proxy
 * (the site's registrar) with the line's AOR as its Request-URI, and the
 * proxy follows the registration. */
static const char *polycom_set_resync_proxy(cmd_parms *cmd, void *dconf,
                                            const char *address,
                                            const char *transport,
                                            const char *domain)
{
    polycom_server_conf *sconf =
        ap_get_module_config(cmd->server->module_config, &polycom_module);
    polycom_resync_route *route = &sconf->resync_route;
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;
    int t = transport ? polycom_sip_transport(transport) : POLYCOM_SIP_UDP;

    if (apr_parse_addr_port(&host, &scope, &port, address, cmd->pool)
        != APR_SUCCESS || !host || scope) {
        return apr_psprintf(cmd->pool, "PolycomResyncProxy: \"%s\" is not "
                            "host or host:port", address);
    }
    if (t < 0) {
        return apr_psprintf(cmd->pool, "PolycomResyncProxy: transport "
                            "\"%s\" is not udp, tcp or tls", transport);
    }
    if (domain && (!*domain || strpbrk(domain, " \t\"<>@;:\\/"))) {
        return apr_psprintf(cmd->pool, "PolycomResyncProxy: \"%s\" is not "
                            "a SIP domain", domain);
    }
    route->proxy_host = host;
    route->proxy_port = port ? port : t == POLYCOM_SIP_TLS ? 5061 : 5060;
    route->proxy_transport = t;
    route->domain = domain;
    return NULL;
}

/* PolycomResyncTLSCA <file>: server config only. Read here, so that a
 * missing file or one without a PEM certificate stops the configuration
 * instead of failing every TLS resync later. */
static const char *polycom_set_resync_tls_ca(cmd_parms *cmd, void *dconf,
                                             const char *file)
{
    polycom_server_conf *sconf =
        ap_get_module_config(cmd->server->module_config, &polycom_module);
    const char *path = ap_server_root_relative(cmd->pool, file), *err;

    if (!path) {
        return apr_psprintf(cmd->pool, "PolycomResyncTLSCA: bad path %s",
                            file);
    }
    if (polycom_siptls_ca_check(cmd->pool, path, &err) < 0) {
        return apr_psprintf(cmd->pool, "PolycomResyncTLSCA: %s", err);
    }
    sconf->resync_tls_ca = path;
    return NULL;
}

/* PolycomResyncRegistrar <driver> <params> <query>: server config only.
 * The registrar's registration table, read over an APR DBD connection of
 * its own (the registrar's database is rarely ours). */
static const char *polycom_set_resync_registrar(cmd_parms *cmd, void *dconf,
                                                const char *driver,
                                                const char *params,
                                                const char *query)
{
    polycom_server_conf *sconf =
        ap_get_module_config(cmd->server->module_config, &polycom_module);
    const char *p = query;

    while (apr_isspace(*p)) {
        p++;
    }
    if (!*driver || strpbrk(driver, "/ \t")) {
        return apr_psprintf(cmd->pool, "PolycomResyncRegistrar: \"%s\" is "
                            "not an APR DBD driver name (sqlite3, pgsql, "
                            "mysql)", driver);
    }
    if (strncasecmp(p, "SELECT", 6) || !strstr(p, "%s")) {
        return "PolycomResyncRegistrar: the query must be a SELECT with %s "
               "for the line's user (and a second %s for its domain)";
    }
    sconf->registrar_driver = driver;
    sconf->registrar_params = params;
    sconf->registrar_query = query;
    sconf->resync_route.registrar = 1;
    return NULL;
}

/* PolycomEnumerationGuard Off | <count> <seconds> [<cool-down seconds>] */
static const char *polycom_set_guard(cmd_parms *cmd, void *dconf,
                                     const char *count, const char *window,
                                     const char *cooldown)
{
    polycom_dir_conf *conf = dconf;
    const char *err = polycom_check_context(cmd);
    char *end;
    long n, w, c = POLYCOM_GUARD_COOLDOWN;

    if (err) {
        return err;
    }
    if (!strcasecmp(count, "Off") && !window) {
        conf->guard_limit = 0;
        return NULL;
    }
    n = strtol(count, &end, 10);
    if (end == count || *end || n < 1 || n > 100000 || !window) {
        return "PolycomEnumerationGuard: Off, or <count> <seconds> "
               "[<cool-down seconds>] with a count from 1 to 100000";
    }
    w = strtol(window, &end, 10);
    if (end == window || *end || w < 1 || w > 86400) {
        return "PolycomEnumerationGuard: the window is 1 to 86400 seconds";
    }
    if (cooldown) {
        c = strtol(cooldown, &end, 10);
        if (end == cooldown || *end || c < 1 || c > 86400) {
            return "PolycomEnumerationGuard: the cool-down is 1 to 86400 "
                   "seconds";
        }
    }
    conf->guard_limit = (int)n;
    conf->guard_window = (int)w;
    conf->guard_cooldown = (int)c;
    return NULL;
}

/* PolycomLogRetention <size> [<days>] */
static const char *polycom_set_log_retention(cmd_parms *cmd, void *dconf,
                                             const char *size,
                                             const char *days)
{
    polycom_dir_conf *conf = dconf;
    const char *err = polycom_check_context(cmd);
    char *end;
    long n;

    if (!err) {
        err = polycom_parse_size(cmd, size, &conf->log_keep);
    }
    if (err || !days) {
        return err;
    }
    n = strtol(days, &end, 10);
    if (end == days || *end || n < 0 || n > 3650) {
        return "PolycomLogRetention: days must be a whole number from 0 "
               "(no age limit) to 3650";
    }
    conf->log_days = (int)n;
    if (n == 0 || polycom_log_days_longest == 0) {
        polycom_log_days_longest = 0;
    }
    else if (n > polycom_log_days_longest) {
        polycom_log_days_longest = (int)n;
    }
    return NULL;
}

const command_rec polycom_cmds[] = {
    AP_INIT_FLAG("PolycomProvisioning", polycom_set_provisioning,
                 (void *)APR_OFFSETOF(polycom_dir_conf, provisioning),
                 ACCESS_CONF,
                 "On to serve the Polycom provisioning file names here"),
    AP_INIT_FLAG("PolycomCheckins", polycom_set_flag,
                 (void *)APR_OFFSETOF(polycom_dir_conf, checkins), ACCESS_CONF,
                 "Off to stop recording one check-in row per request"),
    AP_INIT_TAKE12("PolycomFirmware", polycom_set_firmware, NULL, ACCESS_CONF,
                   "[model] path: the master's APP_FILE_PATH, or a model's "
                   "APP_FILE_PATH_<model>"),
    AP_INIT_TAKE_ARGV("PolycomConfigFiles", polycom_set_config_files, NULL,
                      ACCESS_CONF, "[model] file... | [model] none: static "
                      "files after the generated ones in CONFIG_FILES (or "
                      "CONFIG_FILES_<model>), such as the shipped sip.cfg"),
    AP_INIT_FLAG("PolycomAdmin", polycom_set_admin,
                 (void *)APR_OFFSETOF(polycom_dir_conf, admin), ACCESS_CONF,
                 "On to serve the JSON admin API in this <Location>; protect "
                 "it with Apache's own AuthType and Require"),
    AP_INIT_FLAG("PolycomBundleCredentials", polycom_set_flag,
                 (void *)APR_OFFSETOF(polycom_dir_conf, bundle_credentials),
                 ACCESS_CONF, "On to let GET reprovision/bundle"
                 "?with_credentials=1 put the fleet target's user and "
                 "password into 000000000000-device.cfg, which every phone "
                 "may read (default Off)"),
    AP_INIT_TAKE1("PolycomDeviceCA", polycom_set_device_ca, NULL,
                  ACCESS_CONF, "PEM file of the Polycom device CAs whose "
                  "factory certificates Require polycom-phone accepts, "
                  "expired or not; on its virtual host, mod_ssl's TLS "
                  "verification no longer checks dates; "
                  "none: mod_ssl's verification alone (default)"),
    AP_INIT_TAKE1("PolycomAdminPreview", polycom_set_preview_base, NULL,
                  ACCESS_CONF, "URL path of the provisioning location the "
                  "admin API previews files from (default /prov)"),
    AP_INIT_TAKE1("PolycomResyncRate", polycom_set_count,
                  (void *)APR_OFFSETOF(polycom_dir_conf, resync_rate),
                  RSRC_CONF | ACCESS_CONF, "SIP NOTIFY check-syncs per "
                  "minute, overall (default 60)"),
    AP_INIT_TAKE1("PolycomResyncPerNetwork", polycom_set_count,
                  (void *)APR_OFFSETOF(polycom_dir_conf, resync_per_network),
                  RSRC_CONF | ACCESS_CONF, "SIP NOTIFY check-syncs per "
                  "minute to one /24 network or host (default 10)"),
    /* Server scope: the resync worker runs per server, not per
     * location, so a <Location> value would have nothing to steer. */
    AP_INIT_TAKE1("PolycomSipTimerT1", polycom_set_sip_t1, NULL,
                  RSRC_CONF, "RFC 3261 T1 in milliseconds for "
                  "NOTIFY retransmissions (default 500; timeout 64*T1)"),
    AP_INIT_TAKE123("PolycomResyncProxy", polycom_set_resync_proxy, NULL,
                    RSRC_CONF, "<host>[:<port>] [udp|tcp|tls] [<domain>]: "
                    "send the NOTIFY of a phone without a sip_address "
                    "through this SIP proxy to its line's AOR"),
    AP_INIT_TAKE1("PolycomResyncTLSCA", polycom_set_resync_tls_ca, NULL,
                  RSRC_CONF, "<file>: the CA certificates (PEM) a SIP peer's "
                  "certificate must chain to for a NOTIFY over TLS (none: "
                  "nothing is sent over TLS)"),
    AP_INIT_TAKE3("PolycomResyncRegistrar", polycom_set_resync_registrar,
                  NULL, RSRC_CONF, "<driver> <params> <query>: read where a "
                  "phone is registered from the registrar's own table (the "
                  "query's %s: the line's user, then its domain)"),
    AP_INIT_TAKE123("PolycomEnumerationGuard", polycom_set_guard, NULL,
                    ACCESS_CONF, "Off, or <count> <seconds> [<cool-down>]: "
                    "an address asking for more unknown MACs than that gets "
                    "429 (default 30 60 300)"),
    AP_INIT_FLAG("PolycomUploads", polycom_set_flag,
                 (void *)APR_OFFSETOF(polycom_dir_conf, uploads), ACCESS_CONF,
                 "On to accept the phones' PUT of logs, overrides, "
                 "directories and call lists"),
    AP_INIT_TAKE1("PolycomUploadLimit", polycom_set_size,
                  (void *)APR_OFFSETOF(polycom_dir_conf, upload_limit),
                  ACCESS_CONF, "largest override, directory or call list "
                  "upload (default 256K)"),
    AP_INIT_TAKE1("PolycomLogLimit", polycom_set_size,
                  (void *)APR_OFFSETOF(polycom_dir_conf, log_limit),
                  ACCESS_CONF, "largest single log upload (default 512K)"),
    AP_INIT_TAKE12("PolycomLogRetention", polycom_set_log_retention, NULL,
                   ACCESS_CONF, "size [days]: how much of each phone's log "
                   "to keep (default 1M, 30 days)"),
    AP_INIT_TAKE1("PolycomUploadQuota", polycom_set_size,
                  (void *)APR_OFFSETOF(polycom_dir_conf, upload_quota),
                  ACCESS_CONF, "bytes of uploads and logs stored per phone "
                  "in all; an upload past it is refused with 507 "
                  "(default 4M)"),
    AP_INIT_TAKE1("PolycomCheckinRetention", polycom_set_checkin_retention,
                  NULL, RSRC_CONF, "check-in history to keep (days, or "
                  "12h); older rows are pruned in the background "
                  "(default 90 days; Off or 0 keeps them forever)"),
    AP_INIT_TAKE1("PolycomCacheSize", polycom_set_cache_size, NULL, RSRC_CONF,
                  "bytes of rendered masters and settings each child keeps "
                  "while the database does not change (default 32M; Off)"),
    AP_INIT_TAKE12("PolycomSharedCache", polycom_set_shared_cache, NULL,
                   RSRC_CONF, "bytes of rendered masters and settings all "
                   "children of the node share, and the largest file with "
                   "its key (default Off; slot 2K)"),
    AP_INIT_FLAG("PolycomCheckinWriter", polycom_set_checkin_writer, NULL,
                 RSRC_CONF, "On (default): one process per server writes "
                 "the check-ins of all children; Off: each child writes "
                 "its own"),
    AP_INIT_TAKE1("PolycomCheckinQueue", polycom_set_checkin_queue, NULL,
                  RSRC_CONF, "check-ins a child holds while the batch "
                  "before them is written; past it requests write their "
                  "own (default 8192)"),
    { NULL }
};

