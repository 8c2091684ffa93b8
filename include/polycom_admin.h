/**
 * @file polycom_admin.h
 * @brief The JSON admin API over store.c (pure C: APR, APR DBD, jansson,
 *        libcsv and libxml2; nothing of httpd).
 *
 * The glue authenticates and authorises with Apache's own machinery,
 * reads the body, and hands one request here; this file validates it,
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

/** Validate a phone document as PUT phones/{mac} does, without a
 *  database: 0 when valid, else -1 with @a error (for tests and fuzzing). */
int polycom_admin_validate_phone(apr_pool_t *pool, const char *mac,
                                 const char *body, apr_size_t len,
                                 const char **error);

#endif /* POLYCOM_ADMIN_H */
