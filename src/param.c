/* Polycom parameters: which names and values a configuration file can
 * carry, and which parameters are secrets. */

#include <string.h>
#include <strings.h>

#include <apr_lib.h>

#include <libxml/chvalid.h>
#include <libxml/xmlstring.h>

#include "polycom_param.h"

#define PARAM_NAME_MAX 255

int polycom_param_name_valid(const char *name)
{
    apr_size_t i;

    if (!name || !apr_isalpha(name[0])) {
        return 0;
    }
    for (i = 1; name[i]; i++) {
        if (i >= PARAM_NAME_MAX
            || !(apr_isalnum(name[i]) || name[i] == '.' || name[i] == '_'
                 || name[i] == '-')) {
            return 0;
        }
    }
    return 1;
}

int polycom_param_value_valid(const char *value)
{
    const unsigned char *p = (const unsigned char *)value;
    int left;

    if (!value) {
        return 1;
    }
    left = (int)strlen(value);
    if ((apr_size_t)left != strlen(value)) {
        return 0;       /* longer than an int: not a parameter value */
    }
    /* xmlGetUTF8Char of libxml2 2.9 takes a stray continuation byte for a
     * lead byte (found by fuzzing); xmlCheckUTF8 does not. */
    if (!xmlCheckUTF8(p)) {
        return 0;
    }
    while (left > 0) {
        int clen = left;
        int c = xmlGetUTF8Char(p, &clen);

        if (c < 0 || clen <= 0 || !xmlIsCharQ(c)) {
            return 0;
        }
        p += clen;
        left -= clen;
    }
    return 1;
}

static int param_contains_nocase(const char *haystack, const char *needle)
{
    apr_size_t nlen = strlen(needle);

    for (; *haystack; haystack++) {
        if (strncasecmp(haystack, needle, nlen) == 0) {
            return 1;
        }
    }
    return 0;
}

int polycom_param_is_secret(const char *name)
{
    /* Anything that smells of a credential is withheld from files that
     * unknown phones may read: better one setting too few there than one
     * password too many. */
    static const char *const secret_words[] = {
        "password", "privatekey", "secret", "passphrase"
    };
    static const char *const secret_suffixes[] = {
        ".auth.userId", "device.prov.user"
    };
    apr_size_t i, len;

    if (!name) {
        return 0;
    }
    for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
        if (param_contains_nocase(name, secret_words[i])) {
            return 1;
        }
    }
    len = strlen(name);
    for (i = 0; i < sizeof(secret_suffixes) / sizeof(secret_suffixes[0]);
         i++) {
        apr_size_t slen = strlen(secret_suffixes[i]);

        if (len >= slen
            && strcasecmp(name + len - slen, secret_suffixes[i]) == 0) {
            return 1;
        }
    }
    return 0;
}
