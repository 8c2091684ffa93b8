/* Fuzz target: rendering arbitrary database values. The input is lines of
 * name=value; whatever they hold, the result is a complete, well-formed
 * document or a refusal, never half of one. They go through the device.*
 * flags as a settings file does (during a move when the input's length is
 * odd). */
#include "fuzz.h"
#include "polycom_device.h"
#include "polycom_param.h"
#include "polycom_render.h"

#include <libxml/parser.h>

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
        xmlDocPtr doc = xmlReadMemory(body, (int)len, "f.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR
                                      | XML_PARSE_NOWARNING);
        if (!doc) {
            __builtin_trap();       /* rendered, yet not well-formed */
        }
        xmlFreeDoc(doc);
    }
    else if (!error) {
        __builtin_trap();
    }
    apr_pool_destroy(pool);
    return 0;
}
