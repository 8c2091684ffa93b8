/**
 * @file polycom_layers.h
 * @brief Layered parameters: which of the rows that can apply to a phone
 *        wins (global < site < model < phone), and what it overrides
 *        (pure C: APR only).
 *
 * The one place that precedence is decided: the settings a phone is
 * served (polycom_store_params) and what GET /admin/phones/{mac}/explain
 * says about them are both made here, from the same rows, so the two can
 * never disagree about which layer wins.
 */
#ifndef POLYCOM_LAYERS_H
#define POLYCOM_LAYERS_H

#include <apr_pools.h>
#include <apr_tables.h>

/** A layer's rank, lowest first: 0 global, 1 site, 2 model, 3 phone;
 *  -1 for anything else (a row no phone reads). */
int polycom_layer_rank(const char *scope);

/** One value of a parameter at one layer. */
typedef struct {
    const char *scope;      /* "global", "site", "model", "phone" */
    const char *key;        /* "" (global), the site, model token or MAC */
    const char *value;
} polycom_layer_value;

/** A parameter as the layers resolve it. */
typedef struct {
    const char *name;
    polycom_layer_value winner;
    /** polycom_layer_value it overrides, most specific first; NULL when
     *  the resolver was made without keeping them. */
    apr_array_header_t *overridden;
} polycom_layered_param;

typedef struct polycom_layers polycom_layers;

/** A resolver; with @a keep_overridden the losing values are kept too
 *  (for explain), otherwise only the winners (for serving). */
polycom_layers *polycom_layers_make(apr_pool_t *pool, int keep_overridden);

/** One row that applies to the phone. Rows must arrive grouped by name
 *  (ORDER BY name), in any order of layers within a name; strings must
 *  live as long as the resolver's pool. A row of an unknown scope is
 *  ignored. */
void polycom_layers_add(polycom_layers *layers, const char *name,
                        const char *value, const char *scope,
                        const char *key);

/** The winners as polycom_param (polycom_param.h), in the order of their
 *  names' arrival (sorted when the rows were). */
apr_array_header_t *polycom_layers_params(const polycom_layers *layers);

/** The same parameters with their layers: polycom_layered_param. */
const apr_array_header_t *polycom_layers_resolved(
    const polycom_layers *layers);

#endif /* POLYCOM_LAYERS_H */
