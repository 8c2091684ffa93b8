/* User-Agent parsing for Polycom/Poly phones. */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "polycom_useragent.h"

/* Agents are short; anything longer is not a phone and is not worth a scan. */
#define UA_MAX_LEN 512

static const char *const ua_family_prefixes[] = { "Polycom", "Poly" };

static int ua_is_word_char(char c)
{
    return apr_isalnum(c) || c == '_' || c == '-';
}

static void ua_unknown(polycom_useragent *out)
{
    out->known = 0;
    out->family = "unknown";
    out->model = "";
    out->firmware = "";
    out->serial = "";
    out->stage = "";
}

static const char *ua_strip_underscores(apr_pool_t *pool, const char *s,
                                        apr_size_t len)
{
    char *token = apr_palloc(pool, len + 1);
    apr_size_t i, j = 0;

    for (i = 0; i < len; i++) {
        if (s[i] != '_') {
            token[j++] = s[i];
        }
    }
    token[j] = '\0';
    return token;
}

static void ua_parse_serial(apr_pool_t *pool, const char *ua,
                            polycom_useragent *out)
{
    const char *sn = strstr(ua, "(SN:");
    char *mac;
    int i;

    if (!sn) {
        return;
    }
    sn += 4;
    mac = apr_palloc(pool, 13);
    for (i = 0; i < 12; i++) {
        if (!apr_isxdigit(sn[i])) {
            return;
        }
        mac[i] = (char)apr_tolower(sn[i]);
    }
    if (sn[12] != ')') {
        return;
    }
    mac[12] = '\0';
    out->serial = mac;
}

static void ua_parse_stage(const char *ua, polycom_useragent *out)
{
    const char *type = strstr(ua, "Type/");

    if (!type) {
        return;
    }
    type += 5;
    if (strncasecmp(type, "Application", 11) == 0
        && !apr_isalnum(type[11])) {
        out->stage = "application";
    }
    else if (strncasecmp(type, "Updater", 7) == 0 && !apr_isalnum(type[7])) {
        out->stage = "updater";
    }
}

void polycom_useragent_parse(apr_pool_t *pool, const char *ua,
                             polycom_useragent *out)
{
    const char *marker, *word, *dash, *ver, *ver_end;
    apr_size_t i;

    ua_unknown(out);
    if (!ua || strlen(ua) > UA_MAX_LEN) {
        return;
    }
    marker = strstr(ua, "-UA/");
    if (!marker) {
        return;
    }
    /* The word that holds "<Family>-<Model>" ends at the marker. */
    word = marker;
    while (word > ua && ua_is_word_char(word[-1])) {
        word--;
    }
    dash = memchr(word, '-', (apr_size_t)(marker - word));
    if (!dash || dash == word || dash + 1 >= marker) {
        return;
    }
    for (i = 0; i < sizeof(ua_family_prefixes) / sizeof(ua_family_prefixes[0]);
         i++) {
        apr_size_t plen = strlen(ua_family_prefixes[i]);

        if ((apr_size_t)(dash - word) > plen
            && strncmp(word, ua_family_prefixes[i], plen) == 0) {
            out->family = apr_pstrmemdup(pool, word + plen,
                                         (apr_size_t)(dash - word) - plen);
            break;
        }
    }
    if (!strcmp(out->family, "unknown")) {
        return;
    }
    out->model = ua_strip_underscores(pool, dash + 1,
                                      (apr_size_t)(marker - dash - 1));
    ver = marker + 4;
    ver_end = ver;
    while (apr_isdigit(*ver_end) || *ver_end == '.') {
        ver_end++;
    }
    out->firmware = apr_pstrmemdup(pool, ver, (apr_size_t)(ver_end - ver));
    out->known = 1;
    ua_parse_serial(pool, ver_end, out);
    ua_parse_stage(ver_end, out);
}
