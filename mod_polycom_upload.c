/* mod_polycom: what phones upload (PUT of logs, overrides, directories,
 * call lists): the body read whole within the location's limit, checked,
 * held to the phone's quota, then stored in one transaction. Runs in
 * request threads; the handler (mod_polycom_prov.c) calls it.
 */

#include "apr_strings.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include "mod_polycom_private.h"
#include "polycom_upload.h"

#define POLYCOM_BODY_FIRST 8192

/* Read the whole body into memory, or nothing: past @a limit the answer is
 * 413 at once (before reading when Content-Length says so), and a body cut
 * short by the client or a timeout is 400. */
int polycom_read_body(request_rec *r, apr_off_t limit,
                      const char **body, apr_size_t *len)
{
    char *buf;
    apr_size_t got = 0, size;
    long n = 0;
    int status = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);

    if (status != OK) {
        return status;
    }
    if (r->remaining > limit) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCLOGNO(00010)
                      "upload of %s refused: Content-Length %" APR_OFF_T_FMT
                      " is over the limit of %" APR_OFF_T_FMT " bytes",
                      r->uri, r->remaining, limit);
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    /* What the body says it is, or a little when it is chunked, grown by
     * doubling: a 10-byte upload to a location whose limit is 64M must
     * not take 64M of the child's memory. */
    size = r->remaining > 0 ? (apr_size_t)r->remaining + 1
                            : POLYCOM_BODY_FIRST;
    if (size > (apr_size_t)limit + 1) {
        size = (apr_size_t)limit + 1;
    }
    buf = apr_palloc(r->pool, size);
    if (ap_should_client_block(r)) {
        for (;;) {
            if (got == size && size < (apr_size_t)limit + 1) {
                apr_size_t bigger = size * 2 < (apr_size_t)limit + 1
                                    ? size * 2 : (apr_size_t)limit + 1;
                char *more = apr_palloc(r->pool, bigger);

                memcpy(more, buf, got);
                buf = more;
                size = bigger;
            }
            n = ap_get_client_block(r, buf + got, size - got);
            if (n <= 0) {
                break;
            }
            got += (apr_size_t)n;
            if (got > (apr_size_t)limit) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCLOGNO(00011)
                              "upload of %s refused: the body grew over the "
                              "limit of %" APR_OFF_T_FMT " bytes", r->uri,
                              limit);
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCLOGNO(00012)
                          "upload of %s not stored: the body ended early "
                          "after %" APR_SIZE_T_FMT " bytes (client gone or "
                          "timed out)", r->uri, got);
            return HTTP_BAD_REQUEST;
        }
    }
    /* got < size here: a full buffer grows before the next read, and one
     * of limit + 1 bytes was refused above; so the NUL has its room. */
    buf[got] = '\0';
    *body = buf;
    *len = got;
    return OK;
}

/* PUT of an upload: checked whole, then stored in one transaction, so the
 * previous version stays intact on any failure. */
/* Uploads come from phones that belong: a MAC the database does not know,
 * or a disabled phone, stores nothing (else anyone could fill the
 * database, and have it serve their files back). Checked before the body
 * is read; a probe counts against the enumeration guard. */
static int polycom_upload_allowed(request_rec *r, polycom_request *req,
                                  polycom_db *db)
{
    polycom_phone *phone = NULL;
    int status = polycom_find_phone(r, req, db, &phone);

    if (status == HTTP_NOT_FOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCLOGNO(00120)
                      "upload of %s refused: %s: 404", r->uri,
                      phone ? "the phone is disabled"
                            : "no such phone in the database");
        polycom_metrics_upload_refused(polycom_metrics_get(),
                                       phone ? POLYCOM_REFUSED_DISABLED
                                             : POLYCOM_REFUSED_UNKNOWN);
    }
    return status;
}

/* PolycomUploadQuota: what the phone stores once this upload is in, its
 * other files and logs included. A log counts at most its retention, as
 * the oldest chunks go when it is appended. */
static int polycom_upload_quota(request_rec *r, const polycom_dir_conf *conf,
                                polycom_request *req, polycom_db *db,
                                const char *kind, apr_size_t len)
{
    apr_off_t quota = polycom_conf_upload_quota(conf);
    apr_off_t same, others, after;

    if (polycom_store_usage(db, req->name.mac, kind, &same, &others) < 0) {
        return polycom_db_failed(r, db);
    }
    after = (apr_off_t)len;
    if (polycom_upload_is_log(req->name.kind)) {
        apr_off_t keep = polycom_conf_log_retention(conf).max_bytes;

        after = same + (apr_off_t)len;
        if (after > keep) {
            after = keep > (apr_off_t)len ? keep : (apr_off_t)len;
        }
    }
    if (others + after <= quota) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCLOGNO(00121)
                  "upload of %s refused: the phone would store %"
                  APR_OFF_T_FMT " bytes, over PolycomUploadQuota %"
                  APR_OFF_T_FMT ": 507", r->uri, others + after, quota);
    polycom_metrics_upload_refused(polycom_metrics_get(),
                                   POLYCOM_REFUSED_QUOTA);
    return HTTP_INSUFFICIENT_STORAGE;
}

/* PUT of an upload: checked whole, then stored in one transaction, so the
 * previous version stays intact on any failure. */
int polycom_upload(request_rec *r, const polycom_dir_conf *conf,
                   polycom_request *req)
{
    const char *kind = polycom_name_kind_label(req->name.kind);
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;
    polycom_db db;
    int status, failed, created = 0;

    status = polycom_db_open(r, req, &db);
    if (status != OK) {
        return status;
    }
    status = polycom_upload_allowed(r, req, &db);
    if (status != OK) {
        return status;
    }
    status = polycom_read_body(r, polycom_conf_upload_limit(conf,
                                                            req->name.kind),
                               &body, &len);
    if (status != OK) {
        return status;
    }
    if (polycom_upload_check(r->pool, req->name.kind, body, len,
                             &error) < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCLOGNO(00013)
                      "upload of %s refused: %s", r->uri,
                      ap_escape_logitem(r->pool, error));
        return HTTP_BAD_REQUEST;
    }
    status = polycom_upload_quota(r, conf, req, &db, kind, len);
    if (status != OK) {
        return status;
    }
    if (polycom_upload_is_log(req->name.kind)) {
        polycom_log_retention retention = polycom_conf_log_retention(conf);

        failed = polycom_store_log_append(&db, req->name.mac, kind, body,
                                          len, r->request_time, &retention,
                                          &created);
    }
    else {
        failed = polycom_store_upload_put(&db, req->name.mac, kind, body,
                                          len, r->request_time, &created);
    }
    if (failed < 0) {
        return polycom_db_failed(r, &db);
    }
    req->bytes_in = (apr_off_t)len;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PCLOGNO(00014)
                  "stored %s of %s: %" APR_SIZE_T_FMT " bytes", kind,
                  req->name.mac, len);
    r->status = created ? HTTP_CREATED : HTTP_NO_CONTENT;
    if (created) {
        /* Escaped: the decoded path may hold what a header must not. */
        apr_table_setn(r->headers_out, "Location",
                       ap_escape_uri(r->pool, r->uri));
    }
    return OK;
}
