/* mod_polycom: the authz provider "Require polycom-phone": a phone's own
 * files only to that phone (its credential, or a verified client
 * certificate whose subject CN is its MAC). Runs in request threads.
 */

#include "apr_hash.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include "http_request.h"
#include "http_core.h"
#include "http_main.h"
#include "mod_auth.h"
#include "mod_ssl.h"

#include "apr_optional_hooks.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "mod_polycom_private.h"

/* mod_ssl's optional hook init_server (modules/ssl/mod_ssl_openssl.h,
 * which Debian's apache2-dev does not install): each virtual host's
 * SSL_CTX, once mod_ssl has set it up. */
typedef int polycom_ssl_init_server_fn(server_rec *s, apr_pool_t *p,
                                       int is_proxy, SSL_CTX *ctx);

/* Intermediate certificates a client may send with its own. */
#define POLYCOM_CHAIN_MAX 8

typedef APR_OPTIONAL_FN_TYPE(ssl_var_lookup) polycom_ssl_lookup;

/* The PEM of the client's certificate; the intermediates it sent go to
 * @a chain. */
static const char *polycom_client_pem(request_rec *r,
                                      polycom_ssl_lookup *lookup,
                                      apr_array_header_t *chain)
{
    int i;

    for (i = 0; i < POLYCOM_CHAIN_MAX; i++) {
        const char *pem = lookup(r->pool, r->server, r->connection, r,
                                 apr_psprintf(r->pool,
                                              "SSL_CLIENT_CERT_CHAIN_%d", i));

        if (!pem || !*pem) {
            break;
        }
        APR_ARRAY_PUSH(chain, const char *) = pem;
    }
    return lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_CERT");
}

/* Whether the client's certificate and the intermediates it sent are all
 * within their dates. mod_ssl checks that, except on a virtual host where
 * PolycomDeviceCA turned its time checks off (polycom_devca_init_server):
 * there, and only there, every location of the host checks it here,
 * pinned or not. */
static int polycom_cert_dates_ok(const char *leaf,
                                 const apr_array_header_t *chain,
                                 const char **why)
{
    int i;

    if (polycom_cert_current(leaf, why) != 1) {
        return 0;
    }
    for (i = 0; i < chain->nelts; i++) {
        if (polycom_cert_current(APR_ARRAY_IDX(chain, i, const char *),
                                 why) != 1) {
            *why = apr_pstrcat(chain->pool, "a certificate of its chain: ",
                               *why, NULL);
            return 0;
        }
    }
    return 1;
}

/* Whether mod_ssl verifies client certificates on @a s without their
 * dates: where a location of that host, or of the main server, says
 * PolycomDeviceCA (polycom_devca_init_server). Elsewhere mod_ssl has
 * checked the dates of the whole chain once per handshake, and a request
 * need not parse the certificates again. */
static int polycom_devca_dates_off(const server_rec *s)
{
    const polycom_server_conf *sconf =
        ap_get_module_config(s->module_config, &polycom_module);
    const polycom_server_conf *main_conf = ap_server_conf
        ? ap_get_module_config(ap_server_conf->module_config, &polycom_module)
        : NULL;

    return (sconf && sconf->device_ca_used)
           || (main_conf && main_conf->device_ca_used);
}

/* The MAC in a verified client certificate's subject CN (Polycom's factory
 * certificates name the phone: "0004f2e62aa4" or "00:04:f2:e6:2a:a4"),
 * or NULL. With PolycomDeviceCA, a certificate that chains to a pinned
 * device CA names its phone whatever its dates; any other must be one
 * mod_ssl verified, and within its dates. */
static const char *polycom_cert_mac(request_rec *r)
{
    const polycom_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                        &polycom_module);
    polycom_ssl_lookup *lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    const polycom_device_ca *pinned = conf ? polycom_conf_device_ca(conf)
                                           : NULL;
    const char *verify, *cn, *leaf, *why = NULL, *pinned_why = "";
    apr_array_header_t *chain;
    char *mac;
    int i = 0;

    if (!lookup) {
        return NULL;
    }
    chain = apr_array_make(r->pool, 4, sizeof(const char *));
    leaf = polycom_client_pem(r, lookup, chain);
    if (!leaf || !*leaf) {
        return NULL;
    }
    mac = apr_palloc(r->pool, 13);
    if (pinned
        && polycom_device_ca_verify(pinned, r->pool, leaf,
                                    (const char *const *)chain->elts,
                                    chain->nelts, mac, &pinned_why) == 0) {
        return mac;
    }
    verify = lookup(r->pool, r->server, r->connection, r,
                    "SSL_CLIENT_VERIFY");
    if (!verify || strcmp(verify, "SUCCESS")) {
        return NULL;
    }
    if (polycom_devca_dates_off(r->server)
        && !polycom_cert_dates_ok(leaf, chain, &why)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCLOGNO(00160)
                      "client certificate %s refused: %s%s%s%s%s",
                      lookup(r->pool, r->server, r->connection, r,
                             "SSL_CLIENT_S_DN"), why,
                      pinned ? "; PolycomDeviceCA " : "",
                      pinned ? polycom_device_ca_file(pinned) : "",
                      pinned ? " does not accept it: " : "",
                      pinned ? pinned_why : "");
        return NULL;
    }
    /* One phone per certificate: a subject with a second CN could name
     * another MAC, and which CN mod_ssl gives is not the CA's choice. */
    cn = lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_S_DN_CN_1");
    if (cn && *cn) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00152)
                      "a client certificate whose subject has more than one "
                      "CN names no phone: %s",
                      lookup(r->pool, r->server, r->connection, r,
                             "SSL_CLIENT_S_DN"));
        return NULL;
    }
    cn = lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_S_DN_CN");
    for (; cn && *cn && i < 13; cn++) {
        if (*cn == ':' || *cn == '-') {
            continue;
        }
        mac[i++] = (char)apr_tolower(*cn);
    }
    if (i != 12 || (cn && *cn)) {
        return NULL;
    }
    mac[12] = '\0';
    return polycom_mac_valid(mac) ? mac : NULL;
}

static int polycom_is_https(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ssl_is_https) *is_https =
        APR_RETRIEVE_OPTIONAL_FN(ssl_is_https);

    return is_https && is_https(r->connection);
}

/* Allows a phone's own files only to that phone: the authenticated user
 * must be one of its credentials, or a verified client certificate must
 * name its MAC. Files that belong to no phone (000000000000 names,
 * firmware, sounds) carry no secret and stay open, so a phone fresh out of
 * the box can bootstrap. A leaked credential unlocks one phone. */
static authz_status polycom_phone_check(request_rec *r,
                                        const char *require_args,
                                        const void *parsed)
{
    polycom_request *req = ap_get_module_config(r->request_config,
                                                &polycom_module);
    const char *cert_mac;
    apr_array_header_t *rows;
    polycom_db db;

    if (!req || req->admin_path || req->name.is_default) {
        return AUTHZ_GRANTED;
    }
    if (r->main) {
        /* The admin's preview, authorised in the admin location; any other
         * subrequest (an SSI include, a handler's look-up) is judged like
         * the phone's own request, or it would hand out any phone's file
         * to whoever can make one. */
        polycom_request *main = ap_get_module_config(r->main->request_config,
                                                     &polycom_module);

        if (main && main->admin_path) {
            return AUTHZ_GRANTED;
        }
    }
    cert_mac = polycom_cert_mac(r);
    if (cert_mac && !strcmp(cert_mac, req->name.mac)) {
        return AUTHZ_GRANTED;
    }
    if (!r->user) {
        /* A verified certificate of another phone is a definite no. */
        return cert_mac ? AUTHZ_DENIED : AUTHZ_DENIED_NO_USER;
    }
    if (r->ap_auth_type && !strcasecmp(r->ap_auth_type, "Basic")
        && !polycom_is_https(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00024)
                      "Basic credentials over plain HTTP refused for %s: use "
                      "Digest, or Basic over HTTPS", r->uri);
        return AUTHZ_DENIED;
    }
    if (polycom_db_open(r, req, &db) != OK) {
        return AUTHZ_GENERAL_ERROR;
    }
    if (polycom_store_select(&db, POLYCOM_SQL_CRED_MAC, &rows, r->user,
                             NULL) < 0) {
        polycom_db_failed(r, &db);
        return AUTHZ_GENERAL_ERROR;
    }
    if (rows->nelts
        && !strcmp(polycom_rows_first(rows, "mac"), req->name.mac)) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCLOGNO(00025)
                  "user \"%s\" is not a credential of phone %s: denied",
                  ap_escape_logitem(r->pool, r->user), req->name.mac);
    return AUTHZ_DENIED;
}

/* Read as the configuration is: the section that says "Require
 * polycom-phone" is marked, so that the start-up can name the locations
 * that serve phones' files without it. cmd->context is the section's own
 * configuration (server-wide: the server's defaults). */
static const char *polycom_phone_parse(cmd_parms *cmd, const char *line,
                                       const void **parsed)
{
    polycom_dir_conf *conf = cmd->context
        ? ap_get_module_config(cmd->context, &polycom_module) : NULL;

    if (conf) {
        conf->phone_auth = 1;
    }
    return NULL;
}

static const authz_provider polycom_authz_provider = {
    &polycom_phone_check,
    &polycom_phone_parse,
};

/* Whether <Location> path @a outer covers path @a inner, as httpd 2.4's
 * location walk matches (a prefix ending at a slash or at the end). */
static int polycom_location_covers(const char *outer, const char *inner)
{
    apr_size_t len = strlen(outer);

    if (strncmp(outer, inner, len)) {
        return 0;
    }
    return len == 0 || outer[len - 1] == '/' || inner[len] == '\0'
           || inner[len] == '/';
}

/* At start-up, once per generation: every <Location> that turns
 * provisioning on, in which neither it, nor a <Location> that covers it,
 * nor the server says "Require polycom-phone", is named in one line. Its
 * phones' settings (SIP and admin passwords), directories and call lists
 * go to anyone who guesses a MAC. What the module cannot see: a Require
 * of another kind in a nested section, or a <RequireAny> that grants
 * without the phone, which replace or widen this one. */
void polycom_authz_check_open(apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *named = apr_hash_make(ptemp);
    server_rec *v;

    for (v = s; v; v = v->next) {
        core_server_config *core = ap_get_core_module_config(v->module_config);
        ap_conf_vector_t **sections = (ap_conf_vector_t **)core->sec_url->elts;
        polycom_dir_conf *defaults =
            ap_get_module_config(v->lookup_defaults, &polycom_module);
        int i, j;

        for (i = 0; i < core->sec_url->nelts; i++) {
            polycom_dir_conf *conf =
                ap_get_module_config(sections[i], &polycom_module);
            core_dir_config *where =
                ap_get_core_module_config(sections[i]);
            int guarded;

            /* A section read before the module was loaded has no
             * configuration of ours, and cannot turn provisioning on. */
            if (!conf || conf->provisioning != 1 || !where || !where->d
                || apr_hash_get(named, &sections[i], sizeof(sections[i]))) {
                continue;
            }
            guarded = (defaults && defaults->phone_auth) || conf->phone_auth;
            for (j = 0; !guarded && !where->r
                        && j < core->sec_url->nelts; j++) {
                polycom_dir_conf *outer =
                    ap_get_module_config(sections[j], &polycom_module);
                core_dir_config *outer_where =
                    ap_get_core_module_config(sections[j]);

                guarded = outer && outer->phone_auth && !outer_where->r
                          && outer_where->d
                          && polycom_location_covers(outer_where->d,
                                                     where->d);
            }
            if (guarded) {
                continue;
            }
            apr_hash_set(named, &sections[i], sizeof(sections[i]), "");
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, v, PCLOGNO(00151)
                         "<Location %s> serves phones' own files without "
                         "Require polycom-phone: anyone who guesses a MAC "
                         "gets that phone's settings (its SIP and admin "
                         "passwords), directory and call list. Add per-phone "
                         "authentication (see conf/polycom.conf)", where->d);
        }
    }
}

/* On a virtual host where a location says PolycomDeviceCA (or the main
 * server does, whose locations every host inherits), the handshake must
 * let an expired factory certificate through: mod_ssl's verify callback
 * refuses an expired certificate under any SSLVerifyClient, so that
 * host's verification stops checking dates. Require polycom-phone makes
 * up for it (polycom_cert_mac): past its dates, only a certificate from a
 * pinned device CA is accepted. */
static int polycom_devca_init_server(server_rec *s, apr_pool_t *p,
                                     int is_proxy, SSL_CTX *ctx)
{
    if (is_proxy || !ctx || !polycom_devca_dates_off(s)) {
        return OK;
    }
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
                                X509_V_FLAG_NO_CHECK_TIME);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, PCLOGNO(00161)
                 "PolycomDeviceCA: TLS client certificates on %s:%u are "
                 "verified without their dates; Require polycom-phone "
                 "checks them", s->server_hostname ? s->server_hostname : "*",
                 (unsigned)s->port);
    return OK;
}

void polycom_authz_register(apr_pool_t *p)
{
    polycom_ssl_init_server_fn *init_server = polycom_devca_init_server;

    apr_optional_hook_add("init_server", (void (*)(void))init_server, NULL,
                          NULL, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "polycom-phone",
                              AUTHZ_PROVIDER_VERSION,
                              &polycom_authz_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
