/**
 * @file polycom_reprovision.h
 * @brief The reprovisioning stanza (REFERENCE.md 3.3): device.* values that
 *        move a phone to another provisioning server (pure C: APR only).
 */
#ifndef POLYCOM_REPROVISION_H
#define POLYCOM_REPROVISION_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *server;        /* host, host/path or URL */
    const char *server_type;   /* FTP, TFTP, HTTP, HTTPS or FTPS */
    const char *boot_server;   /* Default, Custom, Static, CustomAndDefault */
    const char *user;          /* "" when none */
    const char *password;      /* "" when none */
} polycom_reprovision;

/** 0..4 for FTP, TFTP, HTTP, HTTPS, FTPS (any case); -1 otherwise. */
int polycom_reprovision_server_type(const char *name);

/** 0..3 for Default, Custom, Static, CustomAndDefault (any case); -1. */
int polycom_reprovision_boot_server(const char *name);

/** Non-zero for a server value phones accept: 1 to 255 characters, no
 *  spaces, quotes, backslashes or control characters. */
int polycom_reprovision_server_valid(const char *server);

/** The server without scheme, credentials and trailing slash, host lower
 *  case: "https://u:p@Prov.Example.com:8443/polycom/" ->
 *  "prov.example.com:8443/polycom". */
const char *polycom_reprovision_address(apr_pool_t *pool, const char *server);

/** The server without user:password@ (the scheme, host and path kept):
 *  "https://u:p@host/p" -> "https://host/p"; unchanged when it has none. */
const char *polycom_reprovision_server_public(apr_pool_t *pool,
                                              const char *server);

/**
 * The stanza as parameters (polycom_param, sorted by name): device.set,
 * and each device.* value with its own .set="1" (polycom_device_apply).
 * Numeric values are used for the server type and boot-server option:
 * SIP 3.x and UCS both accept them. The user and password are left out
 * unless @a with_credentials.
 */
/** The parameters a stanza sets, in the order polycom_reprovision_params
 *  adds them (the last two only with credentials), NULL-terminated: the
 *  one list device.c keeps out of the settings while a move is under
 *  way. */
#define POLYCOM_STANZA_SERVER      "device.prov.serverName"
#define POLYCOM_STANZA_TYPE        "device.prov.serverType"
#define POLYCOM_STANZA_BOOT        "device.dhcp.bootSrvUseOpt"
#define POLYCOM_STANZA_USER        "device.prov.user"
#define POLYCOM_STANZA_PASSWORD    "device.prov.password"
extern const char *const polycom_reprovision_names[];

apr_array_header_t *polycom_reprovision_params(apr_pool_t *pool,
                                               const polycom_reprovision *t,
                                               int with_credentials);

#endif /* POLYCOM_REPROVISION_H */
