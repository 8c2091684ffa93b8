/* XML rendering of Polycom masters and configuration files.
 *
 * libxml2's text writer escapes every attribute value by construction, so a
 * label with & < > " ' or non-ASCII text comes out well-formed and exact.
 * What the writer cannot protect against (a name that is no XML name, bytes
 * that are no UTF-8, characters XML forbids, an attribute given twice) is
 * refused before writing, so every document written is well-formed by
 * construction and none is parsed again before it is served; the render
 * fuzz target (t/fuzz/fuzz_render.c) parses every document it renders.
 */

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include <libxml/xmlwriter.h>

#include "polycom_param.h"
#include "polycom_render.h"

/* One element of the configuration tree: its parameters, then children. */
typedef struct render_node render_node;
struct render_node {
    const char *name;
    apr_array_header_t *params;    /* const polycom_param * */
    apr_array_header_t *children;  /* render_node * */
};

typedef struct {
    xmlBufferPtr buffer;
    xmlTextWriterPtr writer;
} render_doc;

static apr_status_t render_free_buffer(void *data)
{
    xmlBufferFree(data);
    return APR_SUCCESS;
}

static apr_status_t render_free_writer(void *data)
{
    xmlFreeTextWriter(data);
    return APR_SUCCESS;
}

/* Both libxml2 objects are malloc'd by libxml2: tie them to the pool so an
 * early return on any path cannot leak them. The writer is registered last
 * so that it is freed (and flushed) before the buffer it writes to. */
static int render_open(apr_pool_t *pool, render_doc *doc)
{
    doc->buffer = xmlBufferCreate();
    if (!doc->buffer) {
        return -1;
    }
    apr_pool_cleanup_register(pool, doc->buffer, render_free_buffer,
                              apr_pool_cleanup_null);
    doc->writer = xmlNewTextWriterMemory(doc->buffer, 0);
    if (!doc->writer) {
        return -1;
    }
    apr_pool_cleanup_register(pool, doc->writer, render_free_writer,
                              apr_pool_cleanup_null);
    if (xmlTextWriterSetIndent(doc->writer, 1) < 0
        || xmlTextWriterSetIndentString(doc->writer, BAD_CAST "  ") < 0
        || xmlTextWriterStartDocument(doc->writer, "1.0", "UTF-8",
                                      "yes") < 0) {
        return -1;
    }
    return 0;
}

static int render_close(apr_pool_t *pool, render_doc *doc,
                        const char **body, apr_size_t *len)
{
    if (xmlTextWriterEndDocument(doc->writer) < 0) {
        return -1;
    }
    /* Freeing the writer flushes it into the buffer. */
    apr_pool_cleanup_run(pool, doc->writer, render_free_writer);
    doc->writer = NULL;
    *len = (apr_size_t)xmlBufferLength(doc->buffer);
    *body = apr_pstrmemdup(pool, (const char *)xmlBufferContent(doc->buffer),
                           *len);
    apr_pool_cleanup_run(pool, doc->buffer, render_free_buffer);
    doc->buffer = NULL;
    return 0;
}

static int render_attr(render_doc *doc, const char *name, const char *value)
{
    return xmlTextWriterWriteAttribute(doc->writer, BAD_CAST name,
                                       BAD_CAST (value ? value : "")) < 0
           ? -1 : 0;
}

/* The master's attributes come from the configuration, not the database:
 * checked here as settings are (polycom_render_config), since no parser
 * reads the document back. */
static int render_master_attr(render_doc *doc, const char *name,
                              const char *value)
{
    if (!polycom_param_name_valid(name)
        || !polycom_param_value_valid(value)) {
        return -1;
    }
    return render_attr(doc, name, value);
}

/* The generated files, then @a more: comma-separated as the phone reads
 * CONFIG_FILES, "" for none. */
static const char *render_file_list(apr_pool_t *pool,
                                    const apr_array_header_t *generated,
                                    const apr_array_header_t *more)
{
    apr_array_header_t *all = apr_array_make(pool, 4, sizeof(const char *));

    if (generated) {
        apr_array_cat(all, generated);
    }
    if (more) {
        apr_array_cat(all, more);
    }
    return all->nelts ? apr_array_pstrcat(pool, all, ',') : "";
}

static const polycom_model_firmware *render_find_firmware(
    const apr_array_header_t *list, const char *model)
{
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        const polycom_model_firmware *mf =
            &APR_ARRAY_IDX(list, i, polycom_model_firmware);

        if (!strcmp(mf->model, model)) {
            return mf;
        }
    }
    return NULL;
}

static const polycom_model_files *render_find_files(
    const apr_array_header_t *list, const char *model)
{
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        const polycom_model_files *mf =
            &APR_ARRAY_IDX(list, i, polycom_model_files);

        if (!strcmp(mf->model, model)) {
            return mf;
        }
    }
    return NULL;
}

/* One APPLICATION_<model> carrying whatever the spec says for that model,
 * as Polycom's own masters do (APP_FILE_PATH_SSIP4000 beside
 * CONFIG_FILES_SSIP4000): a phone reads the element of its model once. */
static int render_model(apr_pool_t *pool, render_doc *doc,
                        const polycom_master_spec *spec, const char *model)
{
    const polycom_model_firmware *fw =
        render_find_firmware(spec->model_firmware, model);
    const polycom_model_files *files =
        render_find_files(spec->model_files, model);

    if (!polycom_param_name_valid(model)
        || xmlTextWriterStartElement(doc->writer, BAD_CAST
            apr_pstrcat(pool, "APPLICATION_", model, NULL)) < 0
        || (fw && render_master_attr(doc, apr_pstrcat(pool,
                                                      "APP_FILE_PATH_",
                                                      model, NULL),
                                     fw->path) < 0)
        || (files && render_master_attr(doc, apr_pstrcat(pool, "CONFIG_FILES_",
                                                  model, NULL),
                                 render_file_list(pool, spec->config_files,
                                                  files->files)) < 0)) {
        return -1;
    }
    return xmlTextWriterEndElement(doc->writer) < 0 ? -1 : 0;
}

int polycom_render_master(apr_pool_t *pool, const polycom_master_spec *spec,
                          const char **body, apr_size_t *len,
                          const char **error)
{
    static const char *const empty_directories[] = {
        "MISC_FILES", "LOG_FILE_DIRECTORY", "OVERRIDES_DIRECTORY",
        "CONTACTS_DIRECTORY", "LICENSE_DIRECTORY", "USER_PROFILES_DIRECTORY",
        "CALL_LISTS_DIRECTORY"
    };
    render_doc doc;
    apr_size_t i;
    int j;

    if (render_open(pool, &doc) < 0
        || xmlTextWriterStartElement(doc.writer, BAD_CAST "APPLICATION") < 0
        || render_master_attr(&doc, "APP_FILE_PATH",
                              spec->app_file_path) < 0
        || render_master_attr(&doc, "CONFIG_FILES",
                              render_file_list(pool, spec->config_files,
                                               spec->static_files)) < 0) {
        *error = "a master attribute (a path or file list of the "
                 "configuration) is not UTF-8 XML text, or libxml2's writer "
                 "failed";
        return -1;
    }
    /* Empty directory attributes mean "next to this master": uploads and
     * per-phone files come back into the same provisioning location. */
    for (i = 0; i < sizeof(empty_directories) / sizeof(empty_directories[0]);
         i++) {
        if (render_attr(&doc, empty_directories[i], "") < 0) {
            *error = "libxml2 writer failed on the master";
            return -1;
        }
    }
    /* Models in the order they were given: pins first, then models that
     * only have files of their own. */
    for (j = 0; spec->model_firmware && j < spec->model_firmware->nelts;
         j++) {
        if (render_model(pool, &doc, spec,
                         APR_ARRAY_IDX(spec->model_firmware, j,
                                       polycom_model_firmware).model) < 0) {
            *error = "a model name or its path or files are not valid in "
                     "XML, or libxml2's writer failed";
            return -1;
        }
    }
    for (j = 0; spec->model_files && j < spec->model_files->nelts; j++) {
        const char *model = APR_ARRAY_IDX(spec->model_files, j,
                                          polycom_model_files).model;

        if (!render_find_firmware(spec->model_firmware, model)
            && render_model(pool, &doc, spec, model) < 0) {
            *error = "a model name or its path or files are not valid in "
                     "XML, or libxml2's writer failed";
            return -1;
        }
    }
    if (xmlTextWriterEndElement(doc.writer) < 0
        || render_close(pool, &doc, body, len) < 0) {
        *error = "libxml2 writer failed to finish the master";
        return -1;
    }
    return 0;
}

static int render_element_cmp(const void *key, const void *member)
{
    return strcmp(key, *(const char *const *)member);
}

static int render_is_element(const char *name)
{
    return bsearch(name, polycom_ucs_elements, polycom_ucs_elements_count,
                   sizeof(polycom_ucs_elements[0]), render_element_cmp)
           != NULL;
}

static render_node *render_node_make(apr_pool_t *pool, const char *name)
{
    render_node *node = apr_palloc(pool, sizeof(*node));

    node->name = name;
    node->params = apr_array_make(pool, 4, sizeof(const polycom_param *));
    node->children = apr_array_make(pool, 2, sizeof(render_node *));
    return node;
}

/* Find the element a parameter belongs to, creating the chain of elements
 * named by its dotted prefixes that the schema declares. */
static render_node *render_place(apr_pool_t *pool, apr_hash_t *nodes,
                                 render_node *root, const char *name)
{
    render_node *node = root;
    const char *dot;
    char *prefix = apr_pstrdup(pool, name);

    for (dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.')) {
        apr_size_t plen = (apr_size_t)(dot - name);
        render_node *child;

        prefix[plen] = '\0';
        if (render_is_element(prefix)) {
            child = apr_hash_get(nodes, prefix, plen);
            if (!child) {
                child = render_node_make(pool, apr_pstrmemdup(pool, name,
                                                              plen));
                apr_hash_set(nodes, child->name, plen, child);
                APR_ARRAY_PUSH(node->children, render_node *) = child;
            }
            node = child;
        }
        prefix[plen] = '.';
    }
    return node;
}

static int render_node_write(render_doc *doc, const render_node *node)
{
    int i;

    if (xmlTextWriterStartElement(doc->writer, BAD_CAST node->name) < 0) {
        return -1;
    }
    for (i = 0; i < node->params->nelts; i++) {
        const polycom_param *p = APR_ARRAY_IDX(node->params, i,
                                               const polycom_param *);

        if (render_attr(doc, p->name, p->value) < 0) {
            return -1;
        }
    }
    for (i = 0; i < node->children->nelts; i++) {
        if (render_node_write(doc, APR_ARRAY_IDX(node->children, i,
                                                 render_node *)) < 0) {
            return -1;
        }
    }
    return xmlTextWriterEndElement(doc->writer) < 0 ? -1 : 0;
}

int polycom_render_config(apr_pool_t *pool, const apr_array_header_t *params,
                          const char **body, apr_size_t *len,
                          const char **error)
{
    apr_hash_t *nodes = apr_hash_make(pool);
    apr_hash_t *seen = apr_hash_make(pool);
    render_node *root = render_node_make(pool, "polycomConfig");
    render_doc doc;
    int i;

    for (i = 0; params && i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        if (!polycom_param_name_valid(p->name)) {
            *error = apr_psprintf(pool, "parameter name \"%s\" is not a "
                                  "valid Polycom parameter name",
                                  polycom_param_value_valid(p->name)
                                  ? p->name : "(not UTF-8)");
            return -1;
        }
        if (!polycom_param_value_valid(p->value)) {
            *error = apr_psprintf(pool, "value of parameter %s is not valid "
                                  "UTF-8 XML text", p->name);
            return -1;
        }
        /* Twice the same attribute is no XML: refuse rather than guess
         * which value the caller meant (found by fuzzing). */
        if (apr_hash_get(seen, p->name, APR_HASH_KEY_STRING)) {
            *error = apr_psprintf(pool, "parameter %s is given twice",
                                  p->name);
            return -1;
        }
        apr_hash_set(seen, p->name, APR_HASH_KEY_STRING, p);
        APR_ARRAY_PUSH(render_place(pool, nodes, root, p->name)->params,
                       const polycom_param *) = p;
    }
    if (render_open(pool, &doc) < 0 || render_node_write(&doc, root) < 0
        || render_close(pool, &doc, body, len) < 0) {
        *error = "libxml2 writer failed on the configuration";
        return -1;
    }
    return 0;
}
