/**
 * @file polycom_param.h
 * @brief One Polycom parameter, what makes its name and value acceptable,
 *        and which parameters are secrets (pure C: APR only).
 */
#ifndef POLYCOM_PARAM_H
#define POLYCOM_PARAM_H

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

#endif /* POLYCOM_PARAM_H */
