/**
 * @file polycom_render.h
 * @brief Render Polycom master and configuration files with libxml2's
 *        writer (pure C: APR and libxml2, nothing of httpd).
 *
 * Every document is built whole in memory, so a caller either gets a
 * complete, well-formed body or an error and no body at all.
 */
#ifndef POLYCOM_RENDER_H
#define POLYCOM_RENDER_H

#include <apr_pools.h>
#include <apr_tables.h>

/** Per-model firmware: APP_FILE_PATH_<model> in an APPLICATION_<model>. */
typedef struct {
    const char *model;   /* master token, [A-Za-z0-9]+ ("SPIP330") */
    const char *path;
} polycom_model_firmware;

/** Per-model static files: a model whose phones read other shipped
 *  defaults than the rest (CONFIG_FILES_<model>). */
typedef struct {
    const char *model;   /* master token, [A-Za-z0-9]+ ("SSIP4000") */
    const apr_array_header_t *files;  /* const char *; may be empty */
} polycom_model_files;

/** What a master file says. */
typedef struct {
    /** APP_FILE_PATH; NULL or "" means the attribute is empty. */
    const char *app_file_path;
    /** The generated files (const char *), first in CONFIG_FILES and in
     *  every CONFIG_FILES_<model>: the first file wins on the phone. */
    const apr_array_header_t *config_files;
    /** Static files (const char *) after them in CONFIG_FILES; NULL: none. */
    const apr_array_header_t *static_files;
    /** polycom_model_firmware entries, emitted in order. */
    const apr_array_header_t *model_firmware;
    /** polycom_model_files entries: CONFIG_FILES_<model> is the generated
     *  files then these, in place of CONFIG_FILES for that model. */
    const apr_array_header_t *model_files;
} polycom_master_spec;

/** Element names of the UCS 4.0.15 schema, strcmp-sorted (ucs_elements.c). */
extern const char *const polycom_ucs_elements[];
extern const apr_size_t polycom_ucs_elements_count;

/**
 * Render a master (APPLICATION) file. Returns 0 and sets @a body/@a len on
 * success; on failure returns -1 and sets @a error. Memory lives in @a pool.
 */
int polycom_render_master(apr_pool_t *pool, const polycom_master_spec *spec,
                          const char **body, apr_size_t *len,
                          const char **error);

/**
 * Render a configuration file holding @a params (polycom_param of
 * polycom_param.h, sorted by name, names unique) under <polycomConfig>,
 * each parameter placed in the element the UCS schema declares for it.
 * Same contract as above; a name that is not a valid parameter name, or a
 * value that is not valid UTF-8 XML text, fails the whole document and
 * @a error names the parameter (never its value).
 */
int polycom_render_config(apr_pool_t *pool, const apr_array_header_t *params,
                          const char **body, apr_size_t *len,
                          const char **error);

#endif /* POLYCOM_RENDER_H */
