/* File-name parsing: the provisioning namespace of a Polycom phone. */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "polycom_name.h"

typedef struct {
    const char *suffix;          /* including the leading '-' or '.' */
    polycom_file_kind kind;
    int allowed_for_default;     /* exists for 000000000000 */
} name_suffix;

static const name_suffix name_suffixes[] = {
    { ".cfg",                   POLYCOM_FILE_MASTER,         1 },
    { POLYCOM_SETTINGS_SUFFIX,  POLYCOM_FILE_SETTINGS,       1 },
    { "-phone.cfg",             POLYCOM_FILE_PHONE_OVERRIDE, 0 },
    { "-web.cfg",               POLYCOM_FILE_WEB_OVERRIDE,   0 },
    { "-directory.xml",         POLYCOM_FILE_DIRECTORY,      1 },
    { "-calls.xml",             POLYCOM_FILE_CALLS,          0 },
    { "-license.cfg",           POLYCOM_FILE_LICENSE,        1 },
    { "-boot.log",              POLYCOM_FILE_BOOT_LOG,       0 },
    { "-app.log",               POLYCOM_FILE_APP_LOG,        0 },
    { "-device.cfg",            POLYCOM_FILE_DEVICE,         1 },
};

int polycom_mac_valid(const char *s)
{
    int i;

    if (!s) {
        return 0;
    }
    for (i = 0; i < 12; i++) {
        if (!apr_isxdigit(s[i])) {
            return 0;
        }
    }
    return s[12] == '\0';
}

int polycom_name_parse(const char *basename, polycom_name *out)
{
    apr_size_t i;
    const char *rest;

    memset(out, 0, sizeof(*out));
    if (!basename) {
        return 0;
    }
    for (i = 0; i < 12; i++) {
        if (!apr_isxdigit(basename[i])) {
            return 0;
        }
        out->mac[i] = (char)apr_tolower(basename[i]);
    }
    out->mac[12] = '\0';
    rest = basename + 12;

    for (i = 0; i < sizeof(name_suffixes) / sizeof(name_suffixes[0]); i++) {
        if (strcasecmp(rest, name_suffixes[i].suffix) == 0) {
            out->is_default = strcmp(out->mac, "000000000000") == 0;
            if (out->is_default && !name_suffixes[i].allowed_for_default) {
                break;
            }
            out->kind = name_suffixes[i].kind;
            return 1;
        }
    }
    memset(out, 0, sizeof(*out));
    return 0;
}

int polycom_name_is_generated(polycom_file_kind kind)
{
    return kind == POLYCOM_FILE_MASTER || kind == POLYCOM_FILE_SETTINGS
           || kind == POLYCOM_FILE_DEVICE;
}

int polycom_name_is_upload(polycom_file_kind kind)
{
    switch (kind) {
    case POLYCOM_FILE_PHONE_OVERRIDE:
    case POLYCOM_FILE_WEB_OVERRIDE:
    case POLYCOM_FILE_DIRECTORY:
    case POLYCOM_FILE_CALLS:
    case POLYCOM_FILE_BOOT_LOG:
    case POLYCOM_FILE_APP_LOG:
        return 1;
    default:
        return 0;
    }
}

const char *polycom_name_kind_label(polycom_file_kind kind)
{
    switch (kind) {
    case POLYCOM_FILE_MASTER:         return "master";
    case POLYCOM_FILE_SETTINGS:       return "settings";
    case POLYCOM_FILE_PHONE_OVERRIDE: return "phone-override";
    case POLYCOM_FILE_WEB_OVERRIDE:   return "web-override";
    case POLYCOM_FILE_DIRECTORY:      return "directory";
    case POLYCOM_FILE_CALLS:          return "calls";
    case POLYCOM_FILE_LICENSE:        return "license";
    case POLYCOM_FILE_BOOT_LOG:       return "boot-log";
    case POLYCOM_FILE_APP_LOG:        return "app-log";
    case POLYCOM_FILE_DEVICE:         return "device";
    default:                          return "none";
    }
}

const char *polycom_name_file(apr_pool_t *pool, const char *mac,
                              polycom_file_kind kind)
{
    apr_size_t i;

    for (i = 0; i < sizeof(name_suffixes) / sizeof(name_suffixes[0]); i++) {
        if (name_suffixes[i].kind == kind) {
            return apr_pstrcat(pool, mac, name_suffixes[i].suffix, NULL);
        }
    }
    return NULL;
}

polycom_file_kind polycom_name_kind_from_label(const char *label)
{
    apr_size_t i;

    for (i = 0; label && i < sizeof(name_suffixes) / sizeof(name_suffixes[0]);
         i++) {
        if (!strcmp(polycom_name_kind_label(name_suffixes[i].kind), label)) {
            return name_suffixes[i].kind;
        }
    }
    return POLYCOM_FILE_NONE;
}
