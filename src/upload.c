/* Checks on uploaded bodies, before anything is stored. */

#include <string.h>

#include <apr_strings.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "polycom_upload.h"

int polycom_upload_is_xml(polycom_file_kind kind)
{
    return kind == POLYCOM_FILE_PHONE_OVERRIDE
           || kind == POLYCOM_FILE_WEB_OVERRIDE
           || kind == POLYCOM_FILE_DIRECTORY || kind == POLYCOM_FILE_CALLS;
}

int polycom_upload_is_log(polycom_file_kind kind)
{
    return kind == POLYCOM_FILE_BOOT_LOG || kind == POLYCOM_FILE_APP_LOG;
}

const char *polycom_upload_content_type(polycom_file_kind kind)
{
    return polycom_upload_is_log(kind) ? "text/plain; charset=utf-8"
                                       : "application/xml";
}

int polycom_upload_check(apr_pool_t *pool, polycom_file_kind kind,
                         const char *body, apr_size_t len,
                         const char **error)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    int wellformed;

    if (memchr(body, '\0', len)) {
        *error = "the body contains a NUL byte";
        return -1;
    }
    if (!polycom_upload_is_xml(kind)) {
        return 0;
    }
    if (len == 0 || len > (apr_size_t)0x7fffffff) {
        *error = "an XML upload cannot be empty";
        return -1;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        *error = "libxml2 could not allocate a parser";
        return -1;
    }
    /* NOERROR/NOWARNING keep libxml2 from printing a hostile body to
     * stderr; the error is read back from the context instead. No NOENT
     * (no entity substitution), no DTD loading, no network. */
    doc = xmlCtxtReadMemory(ctxt, body, (int)len, "upload.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR
                            | XML_PARSE_NOWARNING);
    wellformed = doc != NULL && ctxt->wellFormed;
    if (!wellformed) {
        const xmlError *err = xmlCtxtGetLastError(ctxt);

        *error = apr_psprintf(pool, "not well-formed XML (line %d: %s)",
                              err ? err->line : 0,
                              err && err->message
                              ? apr_pstrndup(pool, err->message,
                                             strcspn(err->message, "\n"))
                              : "parse error");
    }
    if (doc) {
        xmlFreeDoc(doc);
    }
    xmlFreeParserCtxt(ctxt);
    return wellformed ? 0 : -1;
}
