/* What the provisioning path reads and writes through the store: a
 * phone and its layered parameters, its move under way, its uploads and
 * logs (its check-ins: store_checkin.c). */

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "polycom_name.h"
#include "polycom_param.h"
#include "polycom_schema.h"
#include "polycom_store_private.h"

int polycom_store_phone(polycom_db *db, const char *mac,
                        polycom_phone **phone)
{
    apr_array_header_t *rows;
    const polycom_row *r;
    polycom_phone *p;

    *phone = NULL;
    if (polycom_store_select(db, ST_PHONE, &rows, mac, NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        return 0;
    }
    r = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    p = apr_pcalloc(db->pool, sizeof(*p));
    p->mac = apr_pstrdup(db->pool, mac);
    p->model = polycom_row_get(r, "model");
    p->site = polycom_row_get(r, "site");
    p->label = polycom_row_get(r, "label");
    p->enabled = atoi(polycom_row_get(r, "enabled")) != 0;
    *phone = p;
    return 0;
}

int polycom_store_last_ip(polycom_db *db, const char *mac, const char **ip)
{
    apr_array_header_t *rows;

    *ip = "";
    if (polycom_store_select(db, ST_LAST_IP, &rows, mac, NULL) < 0) {
        return -1;
    }
    if (rows->nelts) {
        *ip = polycom_rows_first(rows, "ip");
    }
    return 0;
}

int polycom_store_layers(polycom_db *db, const polycom_phone *phone,
                         polycom_layers *layers)
{
    const char *label = phone ? ST_PARAMS_PHONE : ST_PARAMS_GLOBAL;
    apr_dbd_prepared_t *stmt = polycom_store_prepared(db, label);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv, name_col = polycom_store_column_of(label, "name");
    int value_col = polycom_store_column_of(label, "value");
    int scope_col = polycom_store_column_of(label, "scope");
    int key_col = polycom_store_column_of(label, "scope_key");

    if (!stmt) {
        return -1;
    }
    if (phone) {
        rv = apr_dbd_pvselect(db->driver, db->pool, db->handle, &res, stmt,
                              polycom_store_random_access(db), phone->site,
                              phone->model, phone->mac, NULL);
    }
    else {
        rv = apr_dbd_pvselect(db->driver, db->pool, db->handle, &res, stmt,
                              polycom_store_random_access(db), NULL);
    }
    if (rv) {
        return polycom_store_failed(db, label, rv);
    }
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        const char *name = apr_dbd_get_entry(db->driver, row, name_col);

        /* The default files reach unknown phones: never a secret there. */
        if (!name || (!phone && polycom_param_is_secret(name))) {
            continue;
        }
        polycom_layers_add(layers, polycom_store_entry(db, row, name_col),
                           polycom_store_entry(db, row, value_col),
                           polycom_store_entry(db, row, scope_col),
                           polycom_store_entry(db, row, key_col));
    }
    return 0;
}

/* A phone from a row whose mac is "" (NULL) when the MAC is unknown. */
static polycom_phone *store_phone_of(polycom_db *db, const polycom_row *r)
{
    polycom_phone *p;

    if (!*polycom_row_get(r, "mac")) {
        return NULL;
    }
    p = apr_pcalloc(db->pool, sizeof(*p));
    p->mac = polycom_row_get(r, "mac");
    p->model = polycom_row_get(r, "model");
    p->site = polycom_row_get(r, "site");
    p->label = polycom_row_get(r, "label");
    p->enabled = atoi(polycom_row_get(r, "enabled")) != 0;
    return p;
}

int polycom_store_phone_at(polycom_db *db, const char *mac, int with_own,
                           polycom_phone_at *at)
{
    const char *label = with_own ? ST_PHONE_OWN_AT : ST_PHONE_AT;
    int name_col = polycom_store_column_of(label, "name");
    int value_col = polycom_store_column_of(label, "value");
    apr_array_header_t *rows;
    const polycom_row *r;
    int i;

    memset(at, 0, sizeof(*at));
    at->revision = -1;
    at->own = apr_array_make(db->pool, 8, sizeof(polycom_param));
    if (polycom_store_select(db, label, &rows, mac, NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        return 0;       /* no revision row: nothing is cached */
    }
    r = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    at->revision = apr_atoi64(polycom_row_get(r, "revision"));
    at->moves = atoi(polycom_row_get(r, "moves")) != 0;
    at->phone = store_phone_of(db, r);
    for (i = 0; with_own && at->phone && i < rows->nelts; i++) {
        const polycom_row *own = APR_ARRAY_IDX(rows, i, const polycom_row *);
        const char *name = polycom_row_at(own, name_col);
        polycom_param *p;

        if (!*name) {
            continue;   /* a phone without parameters of its own */
        }
        p = apr_array_push(at->own);
        p->name = name;
        p->value = polycom_row_at(own, value_col);
    }
    polycom_params_sort(at->own);
    return 0;
}

/* The phone's fields, each with its NUL (a label may hold any other
 * byte), then two flags (enabled, any move set up: '0' or '1') and a NUL,
 * then its own parameters as polycom_params_pack makes them. */
#define PHONE_AT_HEAD 5

const char *polycom_phone_at_pack(apr_pool_t *pool,
                                  const polycom_phone_at *at,
                                  apr_size_t *len)
{
    const polycom_phone *p = at->phone;
    const char *head[PHONE_AT_HEAD], *own;
    char flags[3];
    apr_size_t own_len, at_byte = 0, size;
    char *packed;
    int i;

    if (!p || !at->own) {
        return NULL;
    }
    flags[0] = p->enabled ? '1' : '0';
    flags[1] = at->moves ? '1' : '0';
    flags[2] = '\0';
    head[0] = p->mac;
    head[1] = p->model;
    head[2] = p->site;
    head[3] = p->label;
    head[4] = flags;
    own = polycom_params_pack(pool, at->own, &own_len);
    size = own_len;
    for (i = 0; i < PHONE_AT_HEAD; i++) {
        size += strlen(head[i]) + 1;
    }
    packed = apr_palloc(pool, size + 1);
    for (i = 0; i < PHONE_AT_HEAD; i++) {
        apr_size_t n = strlen(head[i]) + 1;

        memcpy(packed + at_byte, head[i], n);
        at_byte += n;
    }
    memcpy(packed + at_byte, own, own_len + 1);
    *len = size;
    return packed;
}

int polycom_phone_at_unpack(apr_pool_t *pool, const char *packed,
                            apr_size_t len, const char *mac,
                            apr_int64_t revision, polycom_phone_at *at)
{
    const char *head[PHONE_AT_HEAD], *end = packed + len, *next = packed;
    const char *flags;
    apr_size_t nuls = 0, i;
    polycom_phone *p;

    /* Every field ends in a NUL within the bytes, and the parameters come
     * in pairs: anything else is not polycom_phone_at_pack's. */
    if (!len || packed[len - 1] != '\0') {
        return -1;
    }
    for (i = 0; i < len; i++) {
        nuls += packed[i] == '\0';
    }
    if (nuls < PHONE_AT_HEAD || (nuls - PHONE_AT_HEAD) % 2) {
        return -1;
    }
    for (i = 0; i < PHONE_AT_HEAD; i++) {
        head[i] = next;
        next += strlen(next) + 1;
    }
    flags = head[4];
    if (strcmp(head[0], mac) || strlen(flags) != 2
        || !strchr("01", flags[0]) || !strchr("01", flags[1])) {
        return -1;
    }
    p = apr_pcalloc(pool, sizeof(*p));
    p->mac = head[0];
    p->model = head[1];
    p->site = head[2];
    p->label = head[3];
    p->enabled = flags[0] == '1';
    memset(at, 0, sizeof(*at));
    at->revision = revision;
    at->moves = flags[1] == '1';
    at->phone = p;
    at->own = polycom_params_unpack(pool, next, (apr_size_t)(end - next));
    return 0;
}

int polycom_store_scopes_since(polycom_db *db, apr_int64_t since,
                               polycom_scopes *scopes,
                               apr_int64_t *snapshot)
{
    apr_array_header_t *rows;
    const polycom_row *r;
    int i;

    *snapshot = -1;
    if (polycom_store_select(db, ST_SCOPES_SINCE, &rows,
                             apr_psprintf(db->pool, "%" APR_INT64_T_FMT,
                                          since), NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        db->error = "no revision row";
        return -1;
    }
    r = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    if (apr_atoi64(polycom_row_get(r, "version")) < POLYCOM_SCHEMA_SCOPES) {
        db->error = "schema_version is older than scope_revisions";
        return -1;
    }
    for (i = 0; i < rows->nelts; i++) {
        r = APR_ARRAY_IDX(rows, i, const polycom_row *);
        if (*polycom_row_get(r, "scope")) {     /* "": nothing moved */
            polycom_scopes_moved(scopes, polycom_row_get(r, "scope"),
                                 polycom_row_get(r, "scope_key"),
                                 apr_atoi64(polycom_row_get(r, "revision")));
        }
    }
    *snapshot = apr_atoi64(polycom_row_get(r, "snapshot_revision"));
    return 0;
}

int polycom_store_layers_at(polycom_db *db, const char *site,
                            const char *model, apr_int64_t *revision,
                            apr_array_header_t **params)
{
    polycom_layers *layers = polycom_layers_make(db->pool, 0);
    apr_array_header_t *rows;
    int i;

    *revision = -1;
    *params = apr_array_make(db->pool, 1, sizeof(polycom_param));
    if (polycom_store_select(db, ST_LAYERS_AT, &rows, site, model,
                             NULL) < 0) {
        return -1;
    }
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *r = APR_ARRAY_IDX(rows, i, const polycom_row *);

        *revision = apr_atoi64(polycom_row_get(r, "revision"));
        if (*polycom_row_get(r, "name")) {   /* "": no layer has any */
            polycom_layers_add(layers, polycom_row_get(r, "name"),
                               polycom_row_get(r, "value"),
                               polycom_row_get(r, "scope"),
                               polycom_row_get(r, "scope_key"));
        }
    }
    *params = polycom_layers_params(layers);
    /* The database's collation may order names otherwise: the same bytes
     * from every database and from the cold path (polycom_params_merge). */
    polycom_params_sort(*params);
    return 0;
}

int polycom_store_params(polycom_db *db, const polycom_phone *phone,
                         apr_array_header_t **params)
{
    polycom_layers *layers = polycom_layers_make(db->pool, 0);

    *params = NULL;
    if (polycom_store_layers(db, phone, layers) < 0) {
        *params = apr_array_make(db->pool, 1, sizeof(polycom_param));
        return -1;
    }
    *params = polycom_layers_params(layers);
    /* The database's collation may order names otherwise: the same bytes
     * from every database and from the cold path (polycom_params_merge). */
    polycom_params_sort(*params);
    return 0;
}

/* A stored text read back must be as long as it was when it was stored:
 * the mysql driver reads at most its fldsz bytes of a column and says
 * nothing when it cuts one short. */
static int store_whole(polycom_db *db, const char *content, const char *size)
{
    if ((apr_int64_t)strlen(content) != apr_atoi64(size)) {
        db->error = apr_psprintf(db->pool, "a stored upload of %s bytes read "
                                 "back as %" APR_SIZE_T_FMT " (with MySQL, "
                                 "raise fldsz in DBDParams)", size,
                                 strlen(content));
        return -1;
    }
    return 0;
}

int polycom_store_upload_get(polycom_db *db, const char *mac,
                             const char *kind, const char **body,
                             apr_size_t *len)
{
    apr_array_header_t *rows;

    *body = NULL;
    *len = 0;
    if (polycom_store_select(db, ST_UPLOAD_GET, &rows, mac, kind, NULL) < 0) {
        return -1;
    }
    if (rows->nelts) {
        const polycom_row *row = APR_ARRAY_IDX(rows, 0, const polycom_row *);

        if (store_whole(db, polycom_row_get(row, "content"),
                        polycom_row_get(row, "size")) < 0) {
            return -1;
        }
        *body = polycom_row_get(row, "content");
        *len = strlen(*body);
    }
    return 0;
}

/* Run one statement inside the caller's transaction; a failure marks the
 * transaction for rollback. */
static int store_exec(polycom_db *db, apr_dbd_transaction_t *txn,
                      const char *label, int *nrows, ...)
{
    apr_dbd_prepared_t *stmt = polycom_store_prepared(db, label);
    apr_array_header_t *values = apr_array_make(db->pool, 8,
                                                sizeof(const char *));
    const char *value;
    va_list args;
    int rv;

    if (!stmt) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
        return -1;
    }
    va_start(args, nrows);
    while ((value = va_arg(args, const char *)) != NULL) {
        APR_ARRAY_PUSH(values, const char *) = value;
    }
    va_end(args);
    rv = apr_dbd_pquery(db->driver, db->pool, db->handle, nrows, stmt,
                        values->nelts, (const char **)values->elts);
    if (rv) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
        return polycom_store_failed(db, label, rv);
    }
    return 0;
}

int polycom_store_upload_put(polycom_db *db, const char *mac,
                             const char *kind, const char *body,
                             apr_size_t len, apr_time_t now, int *created)
{
    apr_dbd_transaction_t *txn = NULL;
    const char *old;
    apr_size_t old_len;
    int nrows = 0, failed;

    if (polycom_store_txn_begin(db, &txn) < 0) {
        return -1;
    }
    failed = polycom_store_upload_get(db, mac, kind, &old, &old_len) < 0;
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    else {
        *created = old == NULL;
        failed = store_exec(db, txn, ST_UPLOAD_PUT, &nrows, mac, kind, body,
                            apr_off_t_toa(db->pool, (apr_off_t)len),
                            apr_psprintf(db->pool, "%" APR_TIME_T_FMT, now),
                            NULL) < 0;
    }
    return polycom_store_txn_end(db, txn, failed);
}

int polycom_store_log_get(polycom_db *db, const char *mac, const char *kind,
                          const char **body, apr_size_t *len)
{
    apr_array_header_t *rows, *chunks;
    int i;

    *body = NULL;
    *len = 0;
    if (polycom_store_select(db, ST_LOG_GET, &rows, mac, kind, NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        return 0;
    }
    chunks = apr_array_make(db->pool, rows->nelts, sizeof(const char *));
    for (i = 0; i < rows->nelts; i++) {
        const polycom_row *row = APR_ARRAY_IDX(rows, i, const polycom_row *);

        if (store_whole(db, polycom_row_get(row, "content"),
                        polycom_row_get(row, "size")) < 0) {
            return -1;
        }
        APR_ARRAY_PUSH(chunks, const char *) = polycom_row_get(row,
                                                               "content");
    }
    *body = apr_array_pstrcat(db->pool, chunks, 0);
    *len = strlen(*body);
    return 0;
}

/* The newest chunk whose removal (with every older one) brings the log
 * within its bounds, or 0 when nothing has to go. */
static int store_log_cut(polycom_db *db, const char *mac, const char *kind,
                         apr_time_t now,
                         const polycom_log_retention *retention,
                         apr_int64_t *cut, int *chunks)
{
    apr_dbd_prepared_t *stmt = polycom_store_prepared(db, ST_LOG_SIZES);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_off_t total = 0;
    int rv, newest = 1, id_col = polycom_store_column_of(ST_LOG_SIZES, "id");
    int size_col = polycom_store_column_of(ST_LOG_SIZES, "size");
    int time_col = polycom_store_column_of(ST_LOG_SIZES, "time_us");

    *cut = 0;
    *chunks = 0;
    if (!stmt) {
        return -1;
    }
    rv = apr_dbd_pvselect(db->driver, db->pool, db->handle, &res, stmt,
                          polycom_store_random_access(db), mac, kind, NULL);
    if (rv) {
        return polycom_store_failed(db, ST_LOG_SIZES, rv);
    }
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        apr_int64_t id = apr_atoi64(apr_dbd_get_entry(db->driver, row,
                                                      id_col));
        apr_off_t size = apr_atoi64(apr_dbd_get_entry(db->driver, row,
                                                      size_col));
        apr_time_t time = apr_atoi64(apr_dbd_get_entry(db->driver, row,
                                                       time_col));

        total += size;
        (*chunks)++;
        /* Rows come newest first: the first one over a bound and all
         * older ones go; the newest chunk always stays. */
        if (!newest && !*cut
            && (total > retention->max_bytes
                || (retention->max_age > 0
                    && now - time > retention->max_age))) {
            *cut = id;
        }
        newest = 0;
    }
    return 0;
}

int polycom_store_log_append(polycom_db *db, const char *mac,
                             const char *kind, const char *body,
                             apr_size_t len, apr_time_t now,
                             const polycom_log_retention *retention,
                             int *created)
{
    apr_dbd_transaction_t *txn = NULL;
    apr_int64_t cut = 0;
    int nrows = 0, failed, chunks = 0;

    if (polycom_store_txn_begin(db, &txn) < 0) {
        return -1;
    }
    /* The size query after the insert tells both what to prune and whether
     * this chunk is the log's first (created). */
    failed = store_exec(db, txn, ST_LOG_ADD, &nrows, mac, kind,
                           apr_psprintf(db->pool, "%" APR_TIME_T_FMT, now),
                           apr_off_t_toa(db->pool, (apr_off_t)len), body,
                           NULL) < 0
             || store_log_cut(db, mac, kind, now, retention, &cut,
                              &chunks) < 0
             || (cut && store_exec(db, txn, ST_LOG_PRUNE, &nrows, mac, kind,
                                   apr_psprintf(db->pool, "%" APR_INT64_T_FMT,
                                                cut), NULL) < 0);
    if (failed) {
        apr_dbd_transaction_mode_set(db->driver, txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    else {
        *created = chunks == 1;
    }
    return polycom_store_txn_end(db, txn, failed);
}

int polycom_store_usage(polycom_db *db, const char *mac, const char *kind,
                        apr_off_t *same_kind, apr_off_t *other_kinds)
{
    apr_array_header_t *rows;
    const polycom_row *row;

    *same_kind = *other_kinds = 0;
    if (polycom_store_select(db, ST_USAGE, &rows, kind, kind, mac, mac,
                             NULL) < 0) {
        return -1;
    }
    if (rows->nelts) {
        row = APR_ARRAY_IDX(rows, 0, const polycom_row *);
        *same_kind = (apr_off_t)apr_atoi64(polycom_row_get(row,
                                                           "same_kind"));
        *other_kinds = (apr_off_t)apr_atoi64(polycom_row_get(row,
                                                             "other_kinds"));
    }
    return 0;
}

/* One round of a retention prune, outside any transaction: each round
 * commits on its own, so a long backlog never holds a lock for long. It
 * runs only when no other thread of the process (nor process of the node)
 * is writing to SQLite, and else returns 1 at once: beside a transaction
 * of another thread of its child (a batch of check-ins that child writes
 * itself, an upload), it waited for that transaction inside
 * apr_dbd_sqlite3's process-wide mutex, which the transaction needed for
 * its next statement. Both stood still
 * until the busy timeout, and so did every request of that child: 5 s in
 * make bench's master runs (a timeout on each of wrk's connections),
 * caught by timing SQLite's statements. Waiting for the turn instead would
 * hold up the resync worker, which runs the prune between its jobs. */
static int store_prune(polycom_db *db, const char *label, apr_time_t before,
                       int *deleted)
{
    *deleted = 0;
    return polycom_store_exec_unless_busy(db, label, deleted,
                                          apr_psprintf(db->pool, "%"
                                                       APR_TIME_T_FMT,
                                                       before), NULL);
}

int polycom_store_prune_checkins(polycom_db *db, apr_time_t before,
                                 int *deleted)
{
    int hours, rv;

    /* The hourly counts go with the check-ins (an hour once it is wholly
     * past the cut-off): one small range of a primary key each round. */
    *deleted = 0;
    rv = store_prune(db, ST_PRUNE_CHECKIN_HOURS, before, &hours);
    return rv ? rv : store_prune(db, ST_PRUNE_CHECKINS, before, deleted);
}

int polycom_store_prune_logs(polycom_db *db, apr_time_t before, int *deleted)
{
    return store_prune(db, ST_PRUNE_LOGS, before, deleted);
}

int polycom_store_prune_snapshots(polycom_db *db, apr_time_t before,
                                  int *deleted)
{
    return store_prune(db, ST_PRUNE_SNAPSHOTS, before, deleted);
}

int polycom_store_reprovision(polycom_db *db, const char *mac,
                              const char *site, apr_time_t now,
                              polycom_reprovision_target *t)
{
    apr_array_header_t *rows;
    const polycom_row *r;

    memset(t, 0, sizeof(*t));
    if (polycom_store_select(db, POLYCOM_SQL_REPROV_ACTIVE, &rows, mac, mac,
                             site, apr_psprintf(db->pool, "%" APR_TIME_T_FMT,
                                                now), NULL) < 0) {
        return -1;
    }
    if (!rows->nelts) {
        return 0;
    }
    r = APR_ARRAY_IDX(rows, 0, const polycom_row *);
    t->id = apr_atoi64(polycom_row_get(r, "id"));
    t->server = polycom_row_get(r, "server");
    t->server_type = polycom_row_get(r, "server_type");
    t->boot_server = polycom_row_get(r, "boot_server");
    t->user = polycom_row_get(r, "prov_user");
    t->password = polycom_row_get(r, "prov_password");
    t->scope = polycom_row_get(r, "scope");
    t->scope_key = polycom_row_get(r, "scope_key");
    t->deadline_us = polycom_row_get(r, "deadline_us");
    t->delivered_us = polycom_row_get(r, "delivered_us");
    t->confirmed_us = polycom_row_get(r, "confirmed_us");
    /* Stored 'confirmed': with its time when a request at the target's
     * address proved it (applied), without when an admin said so (done). */
    t->state = polycom_row_get(r, "state");
    if (!strcmp(t->state, "confirmed")) {
        t->state = *t->confirmed_us ? "applied" : "done";
    }
    return 0;
}

