/**
 * @file polycom_admin_private.h
 * @brief What the files of the admin API (src/admin*.c) share with each
 *        other only: APR and jansson, nothing of httpd.
 *
 * src/admin.c routes a request to its handler and holds the helpers every
 * handler uses: answers, problem+json, names, bodies, and the one way to
 * write (polycom_admin_change: the change and its audit row in one
 * transaction); src/admin_rows.c makes rows into JSON and pages them.
 * Each other file serves one family of resources.
 */
#ifndef POLYCOM_ADMIN_PRIVATE_H
#define POLYCOM_ADMIN_PRIVATE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include <jansson.h>

#include "polycom_admin.h"

#define ADMIN_VALUE_MAX    4096
#define ADMIN_LABEL_MAX    256
#define ADMIN_KEY_MAX      64
#define ADMIN_LINES_MAX    34

/* A validation failure: status and what to tell the client. */
typedef struct {
    int status;
    const char *detail;
} admin_error;

/* A phone as the API writes it. */
typedef struct {
    const char *mac;
    const char *model;
    const char *site;
    const char *label;
    const char *sip_address;
    int enabled;
    apr_array_header_t *params;      /* polycom_param */
} admin_phone;

/* The variable parts of a route's path, checked by the router: each is
 * NULL unless the pattern has it. */
typedef struct {
    const char *mac;                 /* {mac}: 12 hex digits, lower case */
    const char *site;                /* {site}: a key */
    const char *model;               /* {model}: its master token */
    const char *file;                /* {file}: as given */
    const char *username;            /* {username}: a valid user name */
} admin_path;

/* A route's handler: the method is one the route allows. */
typedef void (*admin_handler)(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path);

/* ---- Answers (admin.c) ----------------------------------------------- */

/* jansson mallocs: @a json is released with @a pool. */
json_t *polycom_admin_own(apr_pool_t *pool, json_t *json);
void polycom_admin_reply(apr_pool_t *pool, polycom_admin_response *out,
                         int status, const char *content_type, json_t *json);
/* A JSON answer of @a status. */
void polycom_admin_json(apr_pool_t *pool, polycom_admin_response *out,
                        int status, json_t *json);
/* The same with a new reference, which it takes. */
void polycom_admin_answer(const polycom_admin_request *in,
                          polycom_admin_response *out, int status,
                          json_t *json);
const char *polycom_admin_title(int status);
/* 500, counted as a database failure. */
void polycom_admin_db_failed(const polycom_admin_request *in,
                             polycom_admin_response *out);

/* ---- Values and rows (admin_rows.c) ---------------------------------- */

json_t *polycom_admin_time_json(apr_pool_t *pool, const char *time_us);
json_t *polycom_admin_int_json(const char *value);
/* "3600" seconds, or "2026-11-23T21:00:00Z": 0, or -1. */
int polycom_admin_parse_time(const char *text, apr_time_t *out);

/* How a column of a row reads in JSON. */
typedef enum {
    ADMIN_TEXT,         /* a string */
    ADMIN_NUMBER,       /* an integer; null when empty */
    ADMIN_TIME,         /* microseconds as a UTC time; null when empty */
    ADMIN_FLAG,         /* true when "1" */
    ADMIN_MASKED,       /* a secret: the mask when one is stored, else "" */
    ADMIN_DOCUMENT      /* stored JSON text; null when empty */
} admin_kind;

/* One member of an object built from a row; lists end with { NULL }. */
typedef struct {
    const char *key;
    const char *column;
    admin_kind kind;
} admin_field;

/* The object of @a fields read from @a row; NULL when the row lacks a
 * column (a field list that does not match its statement). */
json_t *polycom_admin_row_json(apr_pool_t *pool, const polycom_row *row,
                               const admin_field *fields);
/* Every row so, as an array owned by @a pool; NULL as above. */
json_t *polycom_admin_rows_json(apr_pool_t *pool,
                                const apr_array_header_t *rows,
                                const admin_field *fields);
/* 200 with {"mac": @a mac (unless NULL), @a key: @a list}; a NULL list
 * (from polycom_admin_rows_json) answers 500. */
void polycom_admin_list_reply(const polycom_admin_request *in,
                              polycom_admin_response *out, const char *mac,
                              const char *key, json_t *list);

/* Page arguments: limit (1..1000, default 100) and offset (>= 0). */
int polycom_admin_page(const polycom_admin_request *in, const char **limit,
                       const char **offset, admin_error *err);
/* One page of a statement taking (limit, offset); on failure the answer
 * is made. */
int polycom_admin_paged_rows(const polycom_admin_request *in,
                             polycom_admin_response *out, const char *label,
                             apr_array_header_t **rows);

/* ---- Names (admin.c) ------------------------------------------------- */

char *polycom_admin_lower(apr_pool_t *pool, const char *s);
/* A key of a site or a model: letters, digits, '.', '_' and '-'. */
int polycom_admin_key_valid(const char *key);
/* "VVX_411" and "VVX411" are the same master token. */
const char *polycom_admin_model_token(apr_pool_t *pool, const char *model);
int polycom_admin_model_valid(const char *token);
/* A user name Apache's authentication can carry. */
int polycom_admin_username_valid(const char *name);

/* ---- Bodies (admin.c) ------------------------------------------------ */

/* The JSON body, or NULL with the problem answered (415, 400). */
json_t *polycom_admin_parse_body(const polycom_admin_request *in,
                                 polycom_admin_response *out);
/* A body that is an object of strings, each under one of @a allowed
 * (NULL-terminated); otherwise NULL, with the problem answered. */
json_t *polycom_admin_parse_strings(const polycom_admin_request *in,
                                    polycom_admin_response *out,
                                    const char *what,
                                    const char *const *allowed);

/* ---- Writes (admin.c) ------------------------------------------------ */

/* The audit row a change describes; no action: nothing changed, no row. */
typedef struct {
    const char *action;
    const char *target;
    json_t *detail;                  /* or NULL; owned by the pool */
} admin_audit_row;

/* A change inside the write's transaction: 0 done, -1 a database error,
 * -2 refused with @a err (nothing is kept). */
typedef int (*admin_change_fn)(const polycom_admin_request *in, void *data,
                               admin_audit_row *audit, admin_error *err);

/* Every write of the API: @a change and the audit row it describes in one
 * transaction, both committed or neither. 0 when committed; otherwise the
 * answer is made (500 for -1, the refusal for -2, the diff of a dry run
 * for -3: ?dry_run=1 rolls every write back) and that is returned. */
int polycom_admin_change(const polycom_admin_request *in,
                         polycom_admin_response *out, admin_change_fn change,
                         void *data);

/* ?dry_run=1 (admin_dryrun.c): asked for; inside the transaction, the
 * phones the change reaches (from its history rows after @a mark) as they
 * would be, NULL on a database error; after the rollback, the answer. */
typedef struct admin_dry_run admin_dry_run;
int polycom_admin_dry_run_asked(const polycom_admin_request *in);
admin_dry_run *polycom_admin_dry_run_after(const polycom_admin_request *in,
                                           const char *mark);
void polycom_admin_dry_run_answer(const polycom_admin_request *in,
                                  polycom_admin_response *out,
                                  const admin_dry_run *dr,
                                  const admin_audit_row *audit);

/* One more audit row inside a change's transaction, for a write that
 * names each thing it changed (a bulk action: a row per phone); the
 * change's own row (admin_audit_row) is still written after it. */
int polycom_admin_audit(const polycom_admin_request *in, const char *action,
                        const char *target, json_t *detail);

/* A DELETE made by @a change, which sets *@a deleted: 204, or 404 with
 * @a missing when there was nothing to delete. */
void polycom_admin_delete(const polycom_admin_request *in,
                          polycom_admin_response *out, admin_change_fn change,
                          void *data, const int *deleted,
                          const char *missing);

/* ---- Parameters and lines (admin_params.c) --------------------------- */

int polycom_admin_params_from_json(apr_pool_t *pool, json_t *object,
                                   apr_array_header_t *params,
                                   admin_error *err);
int polycom_admin_line_to_params(apr_pool_t *pool, int n, json_t *line,
                                 apr_array_header_t *params,
                                 admin_error *err);
int polycom_admin_unmask(apr_pool_t *pool, apr_array_header_t *params,
                         const apr_array_header_t *stored, admin_error *err);
int polycom_admin_scope_params(const polycom_admin_request *in,
                               const char *scope, const char *key,
                               apr_array_header_t **params);
int polycom_admin_write_params(const polycom_admin_request *in,
                               const char *scope, const char *key,
                               const apr_array_header_t *params);
json_t *polycom_admin_params_json(const apr_array_header_t *params,
                                  int skip_lines);
json_t *polycom_admin_lines_json(apr_pool_t *pool,
                                 const apr_array_header_t *params);

/* ---- Settings as served, explained (admin_explain.c) ----------------- */

/* A phone's settings file as the provisioning path renders it now. */
typedef struct {
    const polycom_phone *phone;
    polycom_layers *layers;           /* the rows, resolved */
    apr_array_header_t *params;       /* the layers' winners */
    polycom_reprovision_target target;
    int moving;                       /* a move under way: stanza first */
    apr_array_header_t *served;       /* polycom_param, as rendered */
    const char *etag;                 /* NULL when it does not render */
    const char *render_error;
} admin_settings;

/* An override file the phone uploaded, flattened. */
typedef struct {
    const char *file;                 /* "<mac>-phone.cfg" */
    apr_array_header_t *params;       /* polycom_param */
} admin_override;

/* The settings of @a phone now; with @a explain the layers keep what
 * they override and the move is looked up either way. 0 or -1 (db). */
int polycom_admin_settings(const polycom_admin_request *in,
                           const polycom_phone *phone, int explain,
                           admin_settings *view);
/* The phone's override files, the winning one first (admin_override). */
int polycom_admin_overrides(const polycom_admin_request *in, const char *mac,
                            apr_array_header_t **files);
/* A value as the API shows it: the mask for a secret that is set. */
const char *polycom_admin_shown(apr_pool_t *pool, const char *name,
                                const char *value);
/* [{"file", "value"}] of the override files that set @a name. */
json_t *polycom_admin_shadowing(apr_pool_t *pool,
                                const apr_array_header_t *overrides,
                                const char *name);
/* The layer and key a served name comes from ("device-flag" for a .set
 * flag the server adds); *from is its resolution, or NULL. */
void polycom_admin_origin(const admin_settings *view, const char *name,
                          const char **layer, const char **key,
                          const polycom_layered_param **from);
/* The phone, or -1 with 404/500 answered. */
int polycom_admin_find_phone(const polycom_admin_request *in,
                             polycom_admin_response *out, const char *mac,
                             polycom_phone **phone);
/* The ETag of the phone's last good settings fetch, "" for none; NULL on
 * a database error. */
const char *polycom_admin_last_fetch(const polycom_admin_request *in,
                                     const char *mac);

/* Sets "added", "removed" and "changed" of @a doc: @a now's served
 * parameters against @a before (values as snapshots keep them, secrets
 * digested; NULL: nothing before). admin_diff.c */
void polycom_admin_diff_lists(apr_pool_t *pool, const admin_settings *now,
                              const apr_array_header_t *before,
                              json_t *doc);

/* ---- Aggregates for the console (admin_stats.c) ---------------------- */

void polycom_admin_stats(const polycom_admin_request *in,
                         polycom_admin_response *out, const admin_path *path);
/* POST phones/{mac}/secrets: the stored secrets, the reveal audited. */
void polycom_admin_secrets(const polycom_admin_request *in,
                           polycom_admin_response *out, const admin_path *path);

/* ---- Phones (admin_phones.c), used by the import and bulk actions ---- */

/* The search and filter of the fleet view (GET phones), as bound. */
typedef struct {
    const char *site, *model;        /* '' when unused */
    const char *cutoff;              /* stale=: no check-in since */
    const char *q, *like;            /* the search and its LIKE pattern */
    const char *filter;              /* one of the filters, or '' */
    const char *stale_cutoff;        /* stale_after= ago */
    apr_time_t window;               /* stale_after */
    int narrowed;                    /* q, site, model or stale= given */
} admin_view;

/* The view of @a args (q, filter, site, model, stale, stale_after): 0, or
 * -1 with @a err. */
int polycom_admin_view_parse(const polycom_admin_request *in,
                             apr_table_t *args, admin_view *v,
                             admin_error *err);
/* Every phone of the view, by MAC: mac model site label enabled
 * sip_address. */
int polycom_admin_view_phones(const polycom_admin_request *in,
                              const admin_view *v, apr_array_header_t **rows);

int polycom_admin_phone_from_json(apr_pool_t *pool, json_t *object,
                                  const char *mac, admin_phone *phone,
                                  admin_error *err);
/* Write one validated phone inside the caller's transaction: 0, -1 (the
 * database), -2 (a masked secret with nothing stored, in @a err). */
int polycom_admin_phone_write(const polycom_admin_request *in,
                              admin_phone *phone, int *created,
                              admin_error *err);

/* ---- Reprovisioning targets (admin_reprovision.c) --------------------- */

/* A target as a request sets it, and where. */
typedef struct {
    const char *scope;               /* phone, site or fleet */
    const char *key;                 /* the MAC, the site or "" */
    const char *server;
    const char *type;
    const char *boot;
    const char *user;
    const char *password;
    const char *deadline;            /* microseconds, or "" */
    int deleted;
} admin_target;

/* The target of @a body, checked (user, password and deadline default to
 * what @a t holds): 0, or -1 with @a err. */
int polycom_admin_target_from_json(apr_pool_t *pool, json_t *body,
                                   admin_target *t, admin_error *err);
/* @a t replaces the target at its scope, in the caller's transaction;
 * @a prune: drop the states of replaced targets now. */
int polycom_admin_target_store(const polycom_admin_request *in,
                               const admin_target *t, int prune);
/* The audit's detail of @a t (its password masked), owned by @a pool. */
json_t *polycom_admin_target_audit(apr_pool_t *pool, const admin_target *t);

/* ---- The handlers of the route table (admin.c) ----------------------- */

/* admin_bulk.c: POST phones/bulk */
void polycom_admin_bulk(const polycom_admin_request *in,
                        polycom_admin_response *out, const admin_path *path);

/* admin_phones.c */
void polycom_admin_phone_list(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path);
void polycom_admin_phone(const polycom_admin_request *in,
                         polycom_admin_response *out,
                         const admin_path *path);
void polycom_admin_preview(const polycom_admin_request *in,
                           polycom_admin_response *out,
                           const admin_path *path);
/* admin_explain.c, admin_diff.c */
void polycom_admin_explain(const polycom_admin_request *in,
                           polycom_admin_response *out,
                           const admin_path *path);
void polycom_admin_phone_diff(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path);
/* admin_history.c: history (GET lists, POST history/restore restores),
 * and the fleet's diff?since= */
void polycom_admin_history(const polycom_admin_request *in,
                           polycom_admin_response *out,
                           const admin_path *path);
void polycom_admin_fleet_diff(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path);
/* admin_params.c */
void polycom_admin_layer(const polycom_admin_request *in,
                         polycom_admin_response *out,
                         const admin_path *path);
/* admin_import.c */
void polycom_admin_import(const polycom_admin_request *in,
                          polycom_admin_response *out,
                          const admin_path *path);
/* admin_reprovision.c: reprovision (GET lists the targets), and the
 * target of a phone, a site or the fleet */
void polycom_admin_reprovision(const polycom_admin_request *in,
                               polycom_admin_response *out,
                               const admin_path *path);
void polycom_admin_reprovision_done(const polycom_admin_request *in,
                                    polycom_admin_response *out,
                                    const admin_path *path);
void polycom_admin_bundle(const polycom_admin_request *in,
                          polycom_admin_response *out,
                          const admin_path *path);
/* admin_resync.c: queue resyncs (GET lists a phone's) */
void polycom_admin_resync(const polycom_admin_request *in,
                          polycom_admin_response *out,
                          const admin_path *path);
/* admin_fleet.c */
void polycom_admin_discovered(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path);
void polycom_admin_checkins(const polycom_admin_request *in,
                            polycom_admin_response *out,
                            const admin_path *path);
void polycom_admin_audit_list(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path);
void polycom_admin_upload_list(const polycom_admin_request *in,
                               polycom_admin_response *out,
                               const admin_path *path);
void polycom_admin_upload(const polycom_admin_request *in,
                          polycom_admin_response *out,
                          const admin_path *path);
void polycom_admin_credentials(const polycom_admin_request *in,
                               polycom_admin_response *out,
                               const admin_path *path);
void polycom_admin_credential_delete(const polycom_admin_request *in,
                                     polycom_admin_response *out,
                                     const admin_path *path);

#endif /* POLYCOM_ADMIN_PRIVATE_H */
