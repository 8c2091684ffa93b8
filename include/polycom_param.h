/**
 * @file polycom_param.h
 * @brief One Polycom parameter, what makes its name and value acceptable,
 *        and which parameters are secrets (pure C: APR only).
 */
#ifndef POLYCOM_PARAM_H
#define POLYCOM_PARAM_H

#include <apr_tables.h>

/** One Polycom parameter ("reg.1.address" = "1001"). */
typedef struct {
    const char *name;
    const char *value;
} polycom_param;

/** Non-zero for a syntactically valid parameter name (an XML attribute name
 *  made of letters, digits, '.', '_' and '-', starting with a letter). */
int polycom_param_name_valid(const char *name);

/** Non-zero when @a value is text XML can carry: valid UTF-8, no control
 *  characters other than tab, newline and carriage return. */
int polycom_param_value_valid(const char *value);

/** Non-zero when the parameter holds a secret (passwords, credentials);
 *  such parameters never go into a file served to unknown phones. */
int polycom_param_is_secret(const char *name);

/** Sorts polycom_param entries by name, byte for byte (strcmp): the
 *  order of a rendered file, the same from every database. */
void polycom_params_sort(apr_array_header_t *params);

/** @a base and @a own (each sorted by name, one per name) as one list
 *  sorted by name, @a own's value winning where both have a name. */
apr_array_header_t *polycom_params_merge(apr_pool_t *pool,
                                         const apr_array_header_t *base,
                                         const apr_array_header_t *own);

/** Parameters as one block of bytes ("name\0value\0" each) for the
 *  render cache, and back: the entries of the unpacked list point into
 *  @a packed. */
const char *polycom_params_pack(apr_pool_t *pool,
                                const apr_array_header_t *params,
                                apr_size_t *len);
apr_array_header_t *polycom_params_unpack(apr_pool_t *pool,
                                          const char *packed,
                                          apr_size_t len);

#endif /* POLYCOM_PARAM_H */
