/* Fuzz target: rendering arbitrary database values. The input is lines of
 * name=value; whatever they hold, the result is a complete, well-formed
 * document or a refusal, never half of one. They go through the device.*
 * flags as a settings file does (during a move when the input's length is
 * odd). The server serves rendered documents without parsing them again:
 * here every one is parsed, so the check lives in the fuzzer. The first
 * two lines' values also make a master (its path and a model's). */
#include "fuzz.h"
#include "polycom_device.h"
#include "polycom_param.h"
#include "polycom_render.h"

#include <libxml/parser.h>

static void fuzz_parses(const char *body, apr_size_t len)
{
    xmlDocPtr doc = xmlReadMemory(body, (int)len, "f.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR
                                  | XML_PARSE_NOWARNING);

    if (!doc) {
        __builtin_trap();           /* rendered, yet not well-formed */
    }
    xmlFreeDoc(doc);
}

static void fuzz_master(apr_pool_t *pool, const apr_array_header_t *params)
{
    polycom_master_spec spec;
    apr_array_header_t *models = apr_array_make(pool, 1,
                                                sizeof(polycom_model_firmware));
    apr_array_header_t *files = apr_array_make(pool, 1, sizeof(char *));
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;

    memset(&spec, 0, sizeof(spec));
    if (params->nelts > 0) {
        const polycom_param *p = &APR_ARRAY_IDX(params, 0, polycom_param);
        polycom_model_firmware *mf = apr_array_push(models);

        spec.app_file_path = p->value;
        mf->model = p->name;
        mf->path = p->value;
        APR_ARRAY_PUSH(files, const char *) = p->name;
    }
    spec.config_files = files;
    spec.model_firmware = models;
    if (polycom_render_master(pool, &spec, &body, &len, &error) == 0) {
        fuzz_parses(body, len);
    }
    else if (!error || body) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    apr_array_header_t *params = apr_array_make(pool, 8,
                                                sizeof(polycom_param));
    char *text = apr_pstrmemdup(pool, (const char *)data, size), *line, *last;
    const char *body = NULL, *error = NULL;
    apr_size_t len = 0;

    for (line = apr_strtok(text, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        char *eq = strchr(line, '=');
        polycom_param *p = apr_array_push(params);

        if (eq) {
            *eq = '\0';
        }
        p->name = line;
        p->value = eq ? eq + 1 : "";
    }
    params = polycom_device_settings(pool, params, (int)(size & 1));
    if (polycom_render_config(pool, params, &body, &len, &error) == 0) {
        fuzz_parses(body, len);
    }
    else if (!error || body) {
        __builtin_trap();           /* refused without a reason, or half */
    }
    fuzz_master(pool, params);
    apr_pool_destroy(pool);
    return 0;
}
