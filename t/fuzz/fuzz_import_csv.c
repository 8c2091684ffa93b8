/* Fuzz target: the CSV of an import (libcsv, then the rows as the JSON an
 * import takes), and each phone of it checked as PUT phones/{mac} does. */
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "polycom_admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *json = NULL, *error = NULL;
    json_t *array, *phone;
    size_t i;

    if (polycom_admin_csv_import_json(pool, (const char *)data, size, &json,
                                      &error) < 0) {
        if (!error) {
            __builtin_trap();           /* a refusal always says why */
        }
        apr_pool_destroy(pool);
        return 0;
    }
    /* What the parser made must be a JSON array the import can read. */
    array = json_loads(json, 0, NULL);
    if (!json_is_array(array)) {
        __builtin_trap();
    }
    json_array_foreach(array, i, phone) {
        char *text = json_dumps(phone, JSON_COMPACT);

        if (!text || (polycom_admin_validate_phone(pool, NULL, text,
                                                   strlen(text), &error) < 0
                      && !error)) {
            __builtin_trap();
        }
        free(text);
    }
    json_decref(array);
    apr_pool_destroy(pool);
    return 0;
}
