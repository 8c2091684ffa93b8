/* Unit tests for layered parameters (src/layers.c): the most specific
 * layer wins whatever order the rows come in, what it overrides is kept
 * most specific first, and serving and explaining agree. */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_layers.h"
#include "polycom_param.h"
#include "tap.h"

static apr_pool_t *pool;

static const char *winners(const polycom_layers *layers)
{
    apr_array_header_t *params = polycom_layers_params(layers);
    const char *out = "";
    int i;

    for (i = 0; i < params->nelts; i++) {
        const polycom_param *p = &APR_ARRAY_IDX(params, i, polycom_param);

        out = apr_pstrcat(pool, out, p->name, "=", p->value, ";", NULL);
    }
    return out;
}

int main(void)
{
    polycom_layers *serve, *explain;
    const apr_array_header_t *resolved;
    const polycom_layered_param *lp;
    /* name, value, scope, key: grouped by name, layers in any order */
    static const char *const rows[][4] = {
        { "a", "global-a", "global", "" },
        { "b", "phone-b", "phone", "0004f2000001" },
        { "b", "global-b", "global", "" },
        { "b", "model-b", "model", "VVX411" },
        { "b", "site-b", "site", "hq" },
        { "c", "site-c", "site", "hq" },
        { "c", "bogus", "fleet", "" },
        { "d", "model-d", "model", "VVX411" },
        { "d", "global-d", "global", "" },
    };
    apr_size_t i;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    tap_ok(polycom_layer_rank("global") < polycom_layer_rank("site")
           && polycom_layer_rank("site") < polycom_layer_rank("model")
           && polycom_layer_rank("model") < polycom_layer_rank("phone"),
           "global < site < model < phone");
    tap_ok(polycom_layer_rank("fleet") == -1 && polycom_layer_rank(NULL) == -1,
           "no other scope is a layer");

    serve = polycom_layers_make(pool, 0);
    explain = polycom_layers_make(pool, 1);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        polycom_layers_add(serve, rows[i][0], rows[i][1], rows[i][2],
                           rows[i][3]);
        polycom_layers_add(explain, rows[i][0], rows[i][1], rows[i][2],
                           rows[i][3]);
    }
    tap_is_str(winners(serve), "a=global-a;b=phone-b;c=site-c;d=model-d;",
               "the most specific layer wins, whatever the row order");
    tap_is_str(winners(explain), winners(serve),
               "explaining resolves exactly as serving does");

    resolved = polycom_layers_resolved(explain);
    tap_ok(resolved->nelts == 4, "one entry per name");
    lp = &APR_ARRAY_IDX(resolved, 1, polycom_layered_param);
    tap_is_str(lp->winner.scope, "phone", "b comes from the phone layer");
    tap_is_str(lp->winner.key, "0004f2000001", "with the phone's MAC as key");
    tap_ok(lp->overridden && lp->overridden->nelts == 3,
           "b overrides three values");
    tap_is_str(APR_ARRAY_IDX(lp->overridden, 0, polycom_layer_value).scope,
               "model", "most specific overridden value first");
    tap_is_str(APR_ARRAY_IDX(lp->overridden, 1, polycom_layer_value).value,
               "site-b", "then the site's");
    tap_is_str(APR_ARRAY_IDX(lp->overridden, 2, polycom_layer_value).scope,
               "global", "then the global one");
    lp = &APR_ARRAY_IDX(resolved, 2, polycom_layered_param);
    tap_ok(lp->overridden->nelts == 0, "a row of no layer overrides nothing");
    lp = &APR_ARRAY_IDX(polycom_layers_resolved(serve), 1,
                        polycom_layered_param);
    tap_ok(lp->overridden == NULL, "serving keeps no losers");

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
