/* The admin API's views of the fleet: discovered phones, check-ins, the
 * audit trail, phones' uploads, and phones' credentials. */

#include <string.h>

#include <apr_general.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include "polycom_admin_private.h"
#include "polycom_digest.h"
#include "polycom_param.h"
#include "polycom_name.h"
#include "polycom_render.h"
#include "polycom_upload.h"

#define ADMIN_DEFAULT_REALM "polycom"
#define ADMIN_BCRYPT_COST   10

/* ------------------------------------------------------------------ */
/* Lists                                                               */
/* ------------------------------------------------------------------ */

static const admin_field admin_discovered_fields[] = {
    { "mac",        "mac",           ADMIN_TEXT },
    { "first_seen", "first_seen_us", ADMIN_TIME },
    { "last_seen",  "last_seen_us",  ADMIN_TIME },
    { "ip",         "last_ip",       ADMIN_TEXT },
    { "model",      "model",         ADMIN_TEXT },
    { "firmware",   "firmware",      ADMIN_TEXT },
    { "requests",   "requests",      ADMIN_NUMBER },
    { NULL }
};

/* One page of the rows of @a label, as {@a key: [@a fields...]}. */
static void admin_paged_list(const polycom_admin_request *in,
                             polycom_admin_response *out, const char *label,
                             const char *key, const admin_field *fields)
{
    apr_array_header_t *rows;

    if (polycom_admin_paged_rows(in, out, label, &rows) == 0) {
        polycom_admin_list_reply(in, out, NULL, key,
                                 polycom_admin_rows_json(in->pool, rows,
                                                         fields));
    }
}

void polycom_admin_discovered(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path)
{
    admin_paged_list(in, out, POLYCOM_SQL_DISCOVERED_LIST, "discovered",
                     admin_discovered_fields);
}

static const admin_field admin_checkin_fields[] = {
    { "id",         "id",         ADMIN_NUMBER },
    { "time",       "time_us",    ADMIN_TIME },
    { "time_us",    "time_us",    ADMIN_NUMBER },
    { "mac",        "mac",        ADMIN_TEXT },
    { "ip",         "ip",         ADMIN_TEXT },
    { "method",     "method",     ADMIN_TEXT },
    { "file",       "file",       ADMIN_TEXT },
    { "status",     "status",     ADMIN_NUMBER },
    { "bytes",      "bytes",      ADMIN_NUMBER },
    { "etag",       "etag",       ADMIN_TEXT },
    { "family",     "family",     ADMIN_TEXT },
    { "model",      "model",      ADMIN_TEXT },
    { "firmware",   "firmware",   ADMIN_TEXT },
    { "stage",      "stage",      ADMIN_TEXT },
    { "user_agent", "user_agent", ADMIN_TEXT },
    { NULL }
};

void polycom_admin_checkins(const polycom_admin_request *in,
                            polycom_admin_response *out,
                            const admin_path *path)
{
    const char *mac = apr_table_get(in->args, "mac");
    const char *since = apr_table_get(in->args, "since");
    const char *limit, *offset;
    apr_array_header_t *rows;
    apr_time_t from = 0;
    admin_error err;

    if (polycom_admin_page(in, &limit, &offset, &err) < 0) {
        polycom_admin_problem(in->pool, out, err.status, err.detail);
        return;
    }
    if (mac && !polycom_mac_valid(mac)) {
        polycom_admin_problem(in->pool, out, 400, "mac must be 12 "
                              "hexadecimal digits");
        return;
    }
    if (since && polycom_admin_parse_time(since, &from) < 0) {
        polycom_admin_problem(in->pool, out, 400, "since must be seconds "
                              "since 1970 or YYYY-MM-DDTHH:MM:SSZ");
        return;
    }
    mac = mac ? polycom_admin_lower(in->pool, mac) : "";
    if (polycom_store_select(in->db, POLYCOM_SQL_CHECKIN_LIST, &rows, mac,
                             mac, apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                               from), limit, NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    polycom_admin_list_reply(in, out, NULL, "checkins",
                             polycom_admin_rows_json(in->pool, rows,
                                                     admin_checkin_fields));
}

static const admin_field admin_audit_fields[] = {
    { "id",     "id",      ADMIN_NUMBER },
    { "time",   "time_us", ADMIN_TIME },
    { "user",   "admin",   ADMIN_TEXT },
    { "action", "action",  ADMIN_TEXT },
    { "target", "target",  ADMIN_TEXT },
    { "change", "detail",  ADMIN_DOCUMENT },
    { NULL }
};

void polycom_admin_audit_list(const polycom_admin_request *in,
                              polycom_admin_response *out,
                              const admin_path *path)
{
    admin_paged_list(in, out, POLYCOM_SQL_AUDIT_LIST, "audit",
                     admin_audit_fields);
}

/* ------------------------------------------------------------------ */
/* Uploads                                                             */
/* ------------------------------------------------------------------ */

static const admin_field admin_upload_fields[] = {
    { "kind", "kind",    ADMIN_TEXT },
    { "size", "size",    ADMIN_NUMBER },
    { "time", "time_us", ADMIN_TIME },
    { NULL }
};

/* The list of a phone's uploads, each with the file name it is read at. */
/* GET uploads/{mac}: a phone's uploads, each with the file name it is
 * read at. */
void polycom_admin_upload_list(const polycom_admin_request *in,
                               polycom_admin_response *out,
                               const admin_path *path)
{
    apr_array_header_t *rows;
    json_t *list, *item;
    size_t i;

    if (polycom_store_select(in->db, POLYCOM_SQL_UPLOAD_LIST, &rows,
                             path->mac, path->mac, NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    list = polycom_admin_rows_json(in->pool, rows, admin_upload_fields);
    json_array_foreach(list, i, item) {
        const char *kind = json_string_value(json_object_get(item, "kind"));
        const char *file = polycom_name_file(in->pool, path->mac,
                                             polycom_name_kind_from_label(
                                                 kind));

        json_object_set_new(item, "file", json_string(file ? file : kind));
    }
    polycom_admin_list_reply(in, out, path->mac, "uploads", list);
}

/* An upload removed, in the write's transaction. */
typedef struct {
    const admin_path *path;
    polycom_file_kind kind;
    int deleted;
} admin_upload_removal;

static int admin_upload_delete(const polycom_admin_request *in, void *data,
                               admin_audit_row *audit, admin_error *err)
{
    admin_upload_removal *c = data;

    if (polycom_store_exec(in->db, polycom_upload_is_log(c->kind)
                                   ? POLYCOM_SQL_LOG_DELETE
                                   : POLYCOM_SQL_UPLOAD_DELETE,
                           &c->deleted, c->path->mac,
                           polycom_name_kind_label(c->kind), NULL) < 0) {
        return -1;
    }
    if (c->deleted) {
        audit->action = "upload.delete";
        audit->target = apr_pstrcat(in->pool, c->path->mac, "/",
                                    c->path->file, NULL);
    }
    return 0;
}

/* GET or DELETE uploads/{mac}/{file}. */
void polycom_admin_upload(const polycom_admin_request *in,
                          polycom_admin_response *out, const admin_path *path)
{
    admin_upload_removal c;
    polycom_name name;
    const char *kind, *body = NULL;
    apr_size_t len = 0;
    int failed;

    if (!polycom_name_parse(path->file, &name) || strcmp(name.mac, path->mac)
        || !(polycom_name_is_upload(name.kind)
             || (name.is_default && name.kind == POLYCOM_FILE_DIRECTORY))) {
        polycom_admin_problem(in->pool, out, 404, "not an upload of this "
                              "phone");
        return;
    }
    kind = polycom_name_kind_label(name.kind);
    if (!strcmp(in->method, "GET")) {
        failed = polycom_upload_is_log(name.kind)
                 ? polycom_store_log_get(in->db, path->mac, kind, &body, &len)
                 : polycom_store_upload_get(in->db, path->mac, kind, &body,
                                            &len);
        if (failed < 0) {
            polycom_admin_db_failed(in, out);
            return;
        }
        if (!body) {
            polycom_admin_problem(in->pool, out, 404, "nothing stored");
            return;
        }
        out->status = 200;
        out->content_type = polycom_upload_is_log(name.kind)
                            ? "text/plain; charset=utf-8" : "application/xml";
        out->body = body;
        out->len = len;
        return;
    }
    c.path = path;
    c.kind = name.kind;
    c.deleted = 0;
    polycom_admin_delete(in, out, admin_upload_delete, &c, &c.deleted,
                         "nothing stored");
}

/* ------------------------------------------------------------------ */
/* Phone credentials                                                   */
/* ------------------------------------------------------------------ */

static const admin_field admin_credential_fields[] = {
    { "username", "username",   ADMIN_TEXT },
    { "realm",    "realm",      ADMIN_TEXT },
    { "created",  "created_us", ADMIN_TIME },
    { NULL }
};

/* A credential added or removed, in the write's transaction. */
typedef struct {
    const char *mac;
    const char *user;
    const char *realm;
    const char *hash;                /* bcrypt, for Basic */
    const char *ha1;                 /* for Digest */
    int deleted;
} admin_credential;

static int admin_credential_add(const polycom_admin_request *in, void *data,
                                admin_audit_row *audit, admin_error *err)
{
    admin_credential *c = data;

    if (polycom_store_exec(in->db, POLYCOM_SQL_CRED_INSERT, NULL, c->user,
                           c->mac, c->realm, c->hash, c->ha1,
                           apr_psprintf(in->pool, "%" APR_TIME_T_FMT,
                                        in->now), NULL) < 0) {
        return -1;
    }
    audit->action = "credential.add";
    audit->target = apr_pstrcat(in->pool, c->mac, "/", c->user, NULL);
    return 0;
}

static int admin_credential_remove(const polycom_admin_request *in,
                                   void *data, admin_audit_row *audit,
                                   admin_error *err)
{
    admin_credential *c = data;

    if (polycom_store_exec(in->db, POLYCOM_SQL_CRED_DELETE, &c->deleted,
                           c->mac, c->user, NULL) < 0) {
        return -1;
    }
    if (c->deleted) {
        audit->action = "credential.delete";
        audit->target = apr_pstrcat(in->pool, c->mac, "/", c->user, NULL);
    }
    return 0;
}

/* Whether the phone of @a mac exists; otherwise the answer is made. */
static int admin_phone_exists(const polycom_admin_request *in,
                              polycom_admin_response *out, const char *mac)
{
    apr_array_header_t *rows;

    if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &rows, mac,
                             NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return 0;
    }
    if (!rows->nelts) {
        polycom_admin_problem(in->pool, out, 404, "no such phone");
        return 0;
    }
    return 1;
}

/* DELETE phones/{mac}/credentials/{username} */
void polycom_admin_credential_delete(const polycom_admin_request *in,
                                     polycom_admin_response *out,
                                     const admin_path *path)
{
    admin_credential c;

    if (!admin_phone_exists(in, out, path->mac)) {
        return;
    }
    memset(&c, 0, sizeof(c));
    c.mac = path->mac;
    c.user = path->username;
    polycom_admin_delete(in, out, admin_credential_remove, &c, &c.deleted,
                         "no such credential");
}

/* GET phones/{mac}/credentials lists them; POST adds one. */
void polycom_admin_credentials(const polycom_admin_request *in,
                               polycom_admin_response *out,
                               const admin_path *path)
{
    static const char *const fields[] = {
        "username", "password", "realm", NULL
    };
    const char *mac = path->mac, *password;
    apr_array_header_t *rows;
    json_t *body, *value;
    admin_credential c;
    unsigned char salt[16];
    char hash[128];

    if (!admin_phone_exists(in, out, mac)) {
        return;
    }
    if (!strcmp(in->method, "GET")) {
        if (polycom_store_select(in->db, POLYCOM_SQL_CRED_LIST, &rows, mac,
                                 NULL) < 0) {
            polycom_admin_db_failed(in, out);
            return;
        }
        polycom_admin_list_reply(in, out, mac, "credentials",
                                 polycom_admin_rows_json(
                                     in->pool, rows,
                                     admin_credential_fields));
        return;
    }
    if (!(body = polycom_admin_parse_strings(in, out, "a credential",
                                             fields))) {
        return;
    }
    memset(&c, 0, sizeof(c));
    c.mac = mac;
    value = json_object_get(body, "username");
    c.user = value ? json_string_value(value) : mac;
    value = json_object_get(body, "password");
    password = value ? json_string_value(value) : NULL;
    value = json_object_get(body, "realm");
    c.realm = value ? json_string_value(value) : ADMIN_DEFAULT_REALM;
    if (!polycom_admin_username_valid(c.user)
        || !polycom_admin_username_valid(c.realm)) {
        polycom_admin_problem(in->pool, out, 400, "username and realm are "
                              "letters, digits and . _ - @ (at most 64)");
        return;
    }
    if (!password || strlen(password) < 8 || strlen(password) > 72
        || !polycom_param_value_valid(password)) {
        polycom_admin_problem(in->pool, out, 400, "password is required: 8 "
                              "to 72 bytes of text");
        return;
    }
    if (polycom_store_select(in->db, POLYCOM_SQL_CRED_MAC, &rows, c.user,
                             NULL) < 0) {
        polycom_admin_db_failed(in, out);
        return;
    }
    if (rows->nelts) {
        polycom_admin_problem(in->pool, out, 409, "that username is taken");
        return;
    }
    if (apr_generate_random_bytes(salt, sizeof(salt)) != APR_SUCCESS
        || apr_bcrypt_encode(password, ADMIN_BCRYPT_COST, salt, sizeof(salt),
                             hash, sizeof(hash)) != APR_SUCCESS) {
        polycom_admin_problem(in->pool, out, 500, "cannot hash the password");
        return;
    }
    c.hash = apr_pstrdup(in->pool, hash);
    c.ha1 = polycom_md5_hex(in->pool, apr_pstrcat(in->pool, c.user, ":",
                                                  c.realm, ":", password,
                                                  NULL),
                            strlen(c.user) + strlen(c.realm)
                            + strlen(password) + 2);
    if (polycom_admin_change(in, out, admin_credential_add, &c) < 0) {
        return;
    }
    out->location = apr_pstrcat(in->pool, "phones/", mac, "/credentials",
                                NULL);
    polycom_admin_answer(in, out, 201, json_pack(
        "{s:s, s:s, s:s}", "mac", mac, "username", c.user,
        "realm", c.realm));
}
