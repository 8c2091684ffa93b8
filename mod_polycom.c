/* mod_polycom: Apache httpd as a Polycom provisioning server.
 *
 * The module record, its hooks and the start-up of each generation. The
 * httpd glue is split by concern into mod_polycom_<concern>.c (config,
 * dbd, prov, admin, authz, checkin, writer, resync; see
 * docs/architecture.md); the pure parts in src/ know nothing of httpd.
 */

#include "apr_shm.h"
#include "apr_strings.h"

#include <libxml/parser.h>

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#define POLYCOM_MODULE_RECORD
#include "mod_polycom_private.h"

/* Counters shared by all children (shared memory made in post_config). */
static polycom_metrics *polycom_shared_metrics = NULL;
static polycom_metrics polycom_local_metrics;

polycom_metrics *polycom_metrics_get(void)
{
    return polycom_shared_metrics ? polycom_shared_metrics
                                  : &polycom_local_metrics;
}
static void polycom_child_init(apr_pool_t *pchild, server_rec *s)
{
    polycom_store_child_init(pchild);
    polycom_gate_child_init(pchild, s);
    polycom_cache_init(pchild);
    polycom_shared_child_init(pchild);
    polycom_batch_start(pchild, s);
    polycom_resync_child_init(pchild, s);
}

static int polycom_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp)
{
    polycom_conf_reset();
    polycom_gate_register(pconf);
    return OK;
}

static int polycom_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv;
    server_rec *v;
    int in_use = 0;

    if (polycom_shared_post_config(pconf, s) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Before the check-in writer forks (below). */
    polycom_gate_post_config(s);

    /* One worker, for the main server's database. */
    polycom_start_worker(pconf, s);

    /* Once per process; libxml2 must never be cleaned up by a module,
     * since other modules in the same process may use it. */
    xmlInitParser();

    /* Anonymous shared memory, made before the children fork, so that
     * every child counts into the same metrics. It lives in pconf: a
     * restart starts the counters again from zero. */
    rv = apr_shm_create(&shm, sizeof(polycom_metrics), NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PCLOGNO(00016)
                     "no shared memory for the metrics: each child will "
                     "count for itself");
        polycom_shared_metrics = NULL;
    }
    else {
        polycom_shared_metrics = apr_shm_baseaddr_get(shm);
        polycom_metrics_init(polycom_shared_metrics);
    }

    /* The check-in writer, for the configuration that will serve (not the
     * first reading, which only checks it), if any server uses us. */
    for (v = s; v; v = v->next) {
        polycom_server_conf *sconf =
            ap_get_module_config(v->module_config, &polycom_module);

        in_use |= sconf->statements_prepared;
    }
    polycom_writer_start(pconf, s, polycom_conf_writer_enabled() && in_use
                         && ap_state_query(AP_SQ_MAIN_STATE)
                            != AP_SQ_MS_CREATE_PRE_CONFIG);
    /* Locations open to anyone who guesses a MAC: said once, for the
     * configuration that will serve. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        polycom_authz_check_open(ptemp, s);
    }
    return OK;
}

static void polycom_register_hooks(apr_pool_t *p)
{
    /* Before mod_alias, which would map the name into the file system. */
    ap_hook_translate_name(polycom_translate_name, NULL, NULL,
                           APR_HOOK_FIRST);
    /* Before core's map_to_storage, which would walk and stat the file
     * system for a file that only exists in the database. */
    ap_hook_map_to_storage(polycom_map_to_storage, NULL, NULL,
                           APR_HOOK_FIRST);
    ap_hook_handler(polycom_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(polycom_admin_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(polycom_log_transaction, NULL, NULL,
                            APR_HOOK_MIDDLE);
    ap_hook_pre_config(polycom_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(polycom_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(dbd, post_connect, polycom_dbd_post_connect, NULL, NULL,
                      APR_HOOK_FIRST);
    APR_OPTIONAL_HOOK(dbd, post_connect, polycom_dbd_post_connect_done, NULL,
                      NULL, APR_HOOK_REALLY_LAST);
    ap_hook_child_init(polycom_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    polycom_authz_register(p);
}

AP_DECLARE_MODULE(polycom) = {
    STANDARD20_MODULE_STUFF,
    polycom_create_dir_conf,     /* create per-directory config structure */
    polycom_merge_dir_conf,      /* merge per-directory config structures */
    polycom_create_server_conf,  /* create per-server config structure    */
    NULL,                        /* merge per-server config structures    */
    polycom_cmds,                /* command apr_table_t                   */
    polycom_register_hooks,      /* register hooks                        */
    AP_MODULE_FLAG_NONE          /* flags                                 */
};

