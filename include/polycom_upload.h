/**
 * @file polycom_upload.h
 * @brief Checks on the files phones upload (pure C: APR and libxml2).
 */
#ifndef POLYCOM_UPLOAD_H
#define POLYCOM_UPLOAD_H

#include <apr_pools.h>

#include "polycom_name.h"

/** Non-zero for the kinds whose body must be well-formed XML. */
int polycom_upload_is_xml(polycom_file_kind kind);

/** Non-zero for the log kinds, kept as bounded, appended chunks. */
int polycom_upload_is_log(polycom_file_kind kind);

/** The Content-Type to serve a stored upload of this kind with. */
const char *polycom_upload_content_type(polycom_file_kind kind);

/**
 * Check an uploaded body: no NUL byte (the database stores text), and for
 * XML kinds a well-formed document (parsed without network access and
 * without expanding external entities). Returns 0, or -1 with @a error
 * saying why (never quoting the body).
 */
int polycom_upload_check(apr_pool_t *pool, polycom_file_kind kind,
                         const char *body, apr_size_t len,
                         const char **error);

#endif /* POLYCOM_UPLOAD_H */
