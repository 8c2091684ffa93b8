/* The admin API's import: POST import with a JSON array of phones or CSV,
 * all or nothing. Every row is checked before anything is written; then
 * every phone is written in one transaction with one audit row. */

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include <csv.h>

#include "polycom_admin_private.h"

typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *rows;      /* apr_array_header_t * of char * */
    apr_array_header_t *current;
} admin_csv;

static void admin_csv_field(void *data, size_t len, void *ctx)
{
    admin_csv *csv = ctx;

    if (!csv->current) {
        csv->current = apr_array_make(csv->pool, 8, sizeof(char *));
    }
    APR_ARRAY_PUSH(csv->current, char *) =
        apr_pstrmemdup(csv->pool, data ? data : "", len);
}

static void admin_csv_row(int c, void *ctx)
{
    admin_csv *csv = ctx;

    if (csv->current) {
        APR_ARRAY_PUSH(csv->rows, apr_array_header_t *) = csv->current;
    }
    csv->current = NULL;
}

/* CSV columns: mac,model,site,label,user,password,display_name,server;
 * the phones as JSON (owned by @a pool), or NULL with *error. */
static json_t *admin_csv_to_json(apr_pool_t *pool, const char *body,
                                 apr_size_t len, const char **error)
{
    static const char *const columns[] = {
        "mac", "model", "site", "label", "user", "password", "display_name",
        "server"
    };
    struct csv_parser parser;
    admin_csv csv;
    json_t *array;
    int i, first = 0;

    csv.pool = pool;
    csv.rows = apr_array_make(pool, 64, sizeof(apr_array_header_t *));
    csv.current = NULL;
    if (csv_init(&parser, CSV_STRICT | CSV_APPEND_NULL) != 0) {
        *error = "cannot start the CSV parser";
        return NULL;
    }
    if (csv_parse(&parser, body, len, admin_csv_field, admin_csv_row,
                  &csv) != len
        || csv_fini(&parser, admin_csv_field, admin_csv_row, &csv) != 0) {
        *error = apr_psprintf(pool, "invalid CSV: %s",
                              csv_strerror(csv_error(&parser)));
        csv_free(&parser);
        return NULL;
    }
    csv_free(&parser);

    array = polycom_admin_own(pool, json_array());
    if (csv.rows->nelts
        && !strcasecmp(APR_ARRAY_IDX(APR_ARRAY_IDX(csv.rows, 0,
                                                   apr_array_header_t *),
                                     0, char *), "mac")) {
        first = 1;          /* a header row */
    }
    for (i = first; i < csv.rows->nelts; i++) {
        apr_array_header_t *row = APR_ARRAY_IDX(csv.rows, i,
                                                apr_array_header_t *);
        json_t *phone = json_object(), *line = json_object();
        int c;

        if (row->nelts != (int)(sizeof(columns) / sizeof(columns[0]))) {
            *error = apr_psprintf(pool, "CSV row %d has %d columns, "
                                  "expected 8: mac,model,site,label,user,"
                                  "password,display_name,server", i + 1,
                                  row->nelts);
            json_decref(phone);
            json_decref(line);
            return NULL;
        }
        for (c = 0; c < row->nelts; c++) {
            const char *v = APR_ARRAY_IDX(row, c, char *);

            if (c < 4) {
                json_object_set_new(phone, columns[c], json_string(v));
            }
            else if (*v) {
                json_object_set_new(line, columns[c], json_string(v));
            }
        }
        if (json_object_size(line)) {
            json_object_set_new(phone, "lines", json_pack("[o]", line));
        }
        else {
            json_decref(line);
        }
        json_array_append_new(array, phone);
    }
    return array;
}

int polycom_admin_csv_import_json(apr_pool_t *pool, const char *csv,
                                  apr_size_t len, const char **json,
                                  const char **error)
{
    json_t *array = admin_csv_to_json(pool, csv, len, error);
    char *text;

    *json = NULL;
    if (!array) {
        return -1;
    }
    text = json_dumps(array, JSON_COMPACT);
    if (!text) {
        *error = "the phones do not make JSON";
        return -1;
    }
    *json = apr_pstrdup(pool, text);
    free(text);
    return 0;
}

/* Every phone of an import written, in the write's transaction. */
typedef struct {
    admin_phone *phones;
    size_t count;
    int created;
    int replaced;
} admin_import_change;

static int admin_import_write(const polycom_admin_request *in, void *data,
                              admin_audit_row *audit, admin_error *err)
{
    admin_import_change *c = data;
    size_t i;
    int masked = 0;

    for (i = 0; i < c->count; i++) {
        int was_created = 0;
        int rv = polycom_admin_phone_write(in, &c->phones[i], &was_created,
                                           err);

        if (rv == -1) {
            return -1;
        }
        masked |= rv == -2;
        c->created += rv == 0 && was_created;
        c->replaced += rv == 0 && !was_created;
    }
    if (masked) {
        err->status = 400;
        err->detail = "nothing was imported: a masked secret has no stored "
                      "value";
        return -2;
    }
    audit->action = "import";
    audit->target = "";
    audit->detail = polycom_admin_own(in->pool, json_pack(
        "{s:i, s:i}", "created", c->created, "replaced", c->replaced));
    return 0;
}

/* POST import?dry_run=1: what the import would do, row by row, once every
 * row is valid (an invalid one is answered as the import itself would);
 * nothing is written. */
static void admin_import_preview(const polycom_admin_request *in,
                                 polycom_admin_response *out,
                                 const admin_import_change *c)
{
    json_t *rows = json_array();
    int created = 0, replaced = 0;
    size_t i;

    for (i = 0; i < c->count; i++) {
        apr_array_header_t *found;

        if (polycom_store_select(in->db, POLYCOM_SQL_PHONE_GET, &found,
                                 c->phones[i].mac, NULL) < 0) {
            json_decref(rows);
            polycom_admin_db_failed(in, out);
            return;
        }
        created += !found->nelts;
        replaced += found->nelts > 0;
        json_array_append_new(rows, json_pack(
            "{s:I, s:s, s:s, s:s, s:s}", "row", (json_int_t)i + 1,
            "mac", c->phones[i].mac,
            "action", found->nelts ? "replace" : "create",
            "model", c->phones[i].model, "site", c->phones[i].site));
    }
    polycom_admin_answer(in, out, 200, json_pack(
        "{s:b, s:o, s:i, s:i}", "dry_run", 1, "rows", rows,
        "created", created, "replaced", replaced));
}

void polycom_admin_import(const polycom_admin_request *in,
                          polycom_admin_response *out, const admin_path *path)
{
    json_t *array, *value, *errors;
    admin_import_change c;
    apr_hash_t *seen = apr_hash_make(in->pool);
    const char *error = NULL, *dry_run;
    int conflict = 0;
    size_t i;

    if (in->content_type && !strncasecmp(in->content_type, "text/csv", 8)) {
        array = admin_csv_to_json(in->pool, in->body, in->len, &error);
        if (!array) {
            polycom_admin_problem(in->pool, out, 400, error);
            return;
        }
    }
    else if (!(array = polycom_admin_parse_body(in, out))) {
        return;
    }
    if (!json_is_array(array)) {
        polycom_admin_problem(in->pool, out, 400, "import a JSON array of "
                              "phones, or CSV");
        return;
    }
    /* Validate every row first: one bad row and nothing is written. */
    memset(&c, 0, sizeof(c));
    c.count = json_array_size(array);
    c.phones = apr_pcalloc(in->pool, sizeof(*c.phones) * (c.count + 1));
    errors = polycom_admin_own(in->pool, json_array());
    json_array_foreach(array, i, value) {
        admin_error err;

        if (polycom_admin_phone_from_json(in->pool, value, NULL,
                                          &c.phones[i], &err) < 0) {
            json_array_append_new(errors, json_pack("{s:I, s:s}", "row",
                                                    (json_int_t)i + 1,
                                                    "error", err.detail));
        }
        else if (apr_hash_get(seen, c.phones[i].mac, APR_HASH_KEY_STRING)) {
            conflict = 1;
            json_array_append_new(errors, json_pack("{s:I, s:s, s:s}", "row",
                                                    (json_int_t)i + 1,
                                                    "mac", c.phones[i].mac,
                                                    "error", "duplicate mac "
                                                    "in this import"));
        }
        else {
            apr_hash_set(seen, c.phones[i].mac, APR_HASH_KEY_STRING, "");
        }
    }
    if (json_array_size(errors)) {
        json_t *problem = polycom_admin_own(in->pool, json_pack(
            "{s:s, s:s, s:i, s:s, s:O}", "type", "about:blank",
            "title", polycom_admin_title(conflict ? 409 : 400),
            "status", conflict ? 409 : 400,
            "detail", "nothing was imported: fix the rows listed in errors",
            "errors", errors));

        polycom_admin_reply(in->pool, out, conflict ? 409 : 400,
                            "application/problem+json", problem);
        return;
    }
    dry_run = apr_table_get(in->args, "dry_run");
    if (dry_run && !strcmp(dry_run, "1")) {
        admin_import_preview(in, out, &c);
        return;
    }
    if (polycom_admin_change(in, out, admin_import_write, &c) < 0) {
        return;
    }
    polycom_admin_answer(in, out, 200, json_pack(
        "{s:i, s:i, s:i}", "imported", c.created + c.replaced,
        "created", c.created, "replaced", c.replaced));
}
