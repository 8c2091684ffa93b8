/**
 * @file polycom_admin.h
 * @brief The JSON admin API over store.c (pure C: APR, APR DBD, jansson,
 *        libcsv and libxml2; nothing of httpd).
 *
 * The glue authenticates and authorises with Apache's own machinery,
 * refuses what no route takes (polycom_admin_refuse) before anything
 * else, reads the body, and hands one request here; this file validates it,
 * changes the database in one transaction, writes the audit row, and
 * answers with JSON or application/problem+json.
 */
#ifndef POLYCOM_ADMIN_H
#define POLYCOM_ADMIN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "polycom_resync.h"
#include "polycom_store.h"

/** Longest body the API reads, and longest import. */
#define POLYCOM_ADMIN_BODY_MAX   (1024 * 1024)
#define POLYCOM_ADMIN_IMPORT_MAX (8 * 1024 * 1024)

/** What secrets read as. Writing it back keeps the stored secret. */
#define POLYCOM_SECRET_MASK "********"

typedef struct {
    apr_pool_t *pool;
    polycom_db *db;
    const char *method;        /* "GET", "PUT", "POST", "DELETE" */
    const char *path;          /* relative to the admin location, no '/' */
    apr_table_t *args;         /* decoded query arguments */
    const char *content_type;  /* or NULL */
    const char *body;
    apr_size_t len;
    const char *user;          /* the authenticated admin, or "" */
    apr_time_t now;
    polycom_resync_pacing pacing;  /* for resync requests */
    /** PolycomBundleCredentials On in this admin location: the bundle may
     *  carry the fleet target's credentials when asked to. */
    int bundle_credentials;
    /** PolycomConfigFiles where the admin location is: the static files
     *  after the generated ones in CONFIG_FILES (const char *), or NULL. */
    const apr_array_header_t *static_files;
} polycom_admin_request;

typedef struct {
    int status;
    const char *content_type;
    const char *body;
    apr_size_t len;
    const char *location;      /* for 201 */
    const char *allow;         /* for 405 */
    /** For GET preview/{mac}/{file}: the glue serves the file itself. */
    const char *preview_file;
    /** A database call failed (for the metrics). */
    int db_failed;
    /** The body carries provisioning credentials (the glue logs it). */
    int credentials_disclosed;
} polycom_admin_response;

/** Answer one admin request. Never fails: every outcome is a response. */
void polycom_admin_handle(const polycom_admin_request *in,
                          polycom_admin_response *out);

/** A problem+json body (RFC 9457) for @a status with @a detail. */
void polycom_admin_problem(apr_pool_t *pool, polycom_admin_response *out,
                           int status, const char *detail);

/** Which resources the API has: non-zero when @a path names one (the glue
 *  leaves every other path under the location to Apache: the dashboard). */
int polycom_admin_is_resource(const char *path);

/** One resource of the API: a path pattern ("phones/{mac}/credentials"),
 *  the methods it takes, and its handler. */
typedef struct polycom_admin_resource polycom_admin_resource;

/**
 * Route @a method on @a path (relative to the admin location) by the
 * API's table of resources, without a body or a database: 0 with *route
 * (when @a route is not NULL); 404 when no resource has that path; 405
 * when the resource does not take @a method, with *allow the methods it
 * takes (as the Allow header lists them). HEAD goes wherever GET does.
 */
int polycom_admin_route(const char *method, const char *path,
                        const polycom_admin_resource **route,
                        const char **allow);

/** The pattern of @a route, such as "phones/{mac}". */
const char *polycom_admin_resource_pattern(const polycom_admin_resource *route);

/**
 * What the glue answers before it reads a body or takes a database
 * connection: 0 when @a method on @a path reaches a resource; otherwise
 * 404 or 405, with the same problem+json (and Allow) in @a out that
 * polycom_admin_handle would give.
 */
int polycom_admin_refuse(apr_pool_t *pool, const char *method,
                         const char *path, polycom_admin_response *out);

/**
 * Whether a request may change anything, by where a browser says it comes
 * from: NULL when it may, else why not (answer 403). GET and HEAD always
 * may; a request with neither @a origin (Origin) nor @a fetch_site
 * (Sec-Fetch-Site), as curl sends, may; a browser's must come from
 * @a self_origin ("http://host:port" as this server is reached) and carry
 * @a requested_with (X-Requested-With). Arguments absent are NULL.
 */
const char *polycom_admin_csrf_refusal(const char *method, const char *origin,
                                       const char *fetch_site,
                                       const char *requested_with,
                                       const char *self_origin);

/** Validate a phone document as PUT phones/{mac} does, without a
 *  database: 0 when valid, else -1 with @a error (for tests and fuzzing). */
int polycom_admin_validate_phone(apr_pool_t *pool, const char *mac,
                                 const char *body, apr_size_t len,
                                 const char **error);

/** The phones of a CSV import (columns mac,model,site,label,user,password,
 *  display_name,server; a header row is optional) as the JSON array an
 *  import of JSON takes: 0 with *json (compact text in @a pool), or -1
 *  with *error. No database (for tests and fuzzing). */
int polycom_admin_csv_import_json(apr_pool_t *pool, const char *csv,
                                  apr_size_t len, const char **json,
                                  const char **error);

#endif /* POLYCOM_ADMIN_H */
