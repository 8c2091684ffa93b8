/* Layered parameters: the precedence of global < site < model < phone,
 * decided in one place for serving and for explaining.
 *
 * Rows of one name arrive together (the store reads them ORDER BY name);
 * within a name the most specific layer wins whatever the order the
 * database returned them in, so no SQL has to know the precedence.
 */

#include <string.h>

#include "polycom_layers.h"
#include "polycom_param.h"

struct polycom_layers {
    apr_pool_t *pool;
    int keep_overridden;
    apr_array_header_t *resolved;   /* polycom_layered_param */
    apr_array_header_t *ranks;      /* int, the winner's rank per entry */
};

int polycom_layer_rank(const char *scope)
{
    static const char *const order[] = { "global", "site", "model",
                                         "phone" };
    int i;

    for (i = 0; scope && i < (int)(sizeof(order) / sizeof(order[0])); i++) {
        if (!strcmp(scope, order[i])) {
            return i;
        }
    }
    return -1;
}

polycom_layers *polycom_layers_make(apr_pool_t *pool, int keep_overridden)
{
    polycom_layers *layers = apr_palloc(pool, sizeof(*layers));

    layers->pool = pool;
    layers->keep_overridden = keep_overridden;
    layers->resolved = apr_array_make(pool, 64,
                                      sizeof(polycom_layered_param));
    layers->ranks = apr_array_make(pool, 64, sizeof(int));
    return layers;
}

/* Keep the overridden values most specific first. */
static void layers_keep(apr_array_header_t *list,
                        const polycom_layer_value *v)
{
    int i, rank = polycom_layer_rank(v->scope);

    apr_array_push(list);
    for (i = list->nelts - 1; i > 0; i--) {
        polycom_layer_value *before = &APR_ARRAY_IDX(list, i - 1,
                                                     polycom_layer_value);

        if (polycom_layer_rank(before->scope) >= rank) {
            break;
        }
        APR_ARRAY_IDX(list, i, polycom_layer_value) = *before;
    }
    APR_ARRAY_IDX(list, i, polycom_layer_value) = *v;
}

void polycom_layers_add(polycom_layers *layers, const char *name,
                        const char *value, const char *scope,
                        const char *key)
{
    polycom_layered_param *last = NULL;
    polycom_layer_value v;
    int rank = polycom_layer_rank(scope), *last_rank;

    if (rank < 0 || !name) {
        return;
    }
    v.scope = scope;
    v.key = key ? key : "";
    v.value = value ? value : "";
    if (layers->resolved->nelts) {
        last = &APR_ARRAY_IDX(layers->resolved, layers->resolved->nelts - 1,
                              polycom_layered_param);
    }
    if (!last || strcmp(last->name, name)) {
        last = apr_array_push(layers->resolved);
        last->name = name;
        last->winner = v;
        last->overridden = layers->keep_overridden
            ? apr_array_make(layers->pool, 2, sizeof(polycom_layer_value))
            : NULL;
        APR_ARRAY_PUSH(layers->ranks, int) = rank;
        return;
    }
    last_rank = &APR_ARRAY_IDX(layers->ranks, layers->ranks->nelts - 1, int);
    if (rank > *last_rank) {
        if (last->overridden) {
            layers_keep(last->overridden, &last->winner);
        }
        last->winner = v;
        *last_rank = rank;
    }
    else if (last->overridden) {
        layers_keep(last->overridden, &v);
    }
}

apr_array_header_t *polycom_layers_params(const polycom_layers *layers)
{
    apr_array_header_t *out = apr_array_make(layers->pool,
                                             layers->resolved->nelts + 1,
                                             sizeof(polycom_param));
    int i;

    for (i = 0; i < layers->resolved->nelts; i++) {
        const polycom_layered_param *lp =
            &APR_ARRAY_IDX(layers->resolved, i, polycom_layered_param);
        polycom_param *p = apr_array_push(out);

        p->name = lp->name;
        p->value = lp->winner.value;
    }
    return out;
}

const apr_array_header_t *polycom_layers_resolved(
    const polycom_layers *layers)
{
    return layers->resolved;
}
