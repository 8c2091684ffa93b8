/* Unit tests for the file-name parser: which names are the module's. */
#include <apr_general.h>

#include "polycom_name.h"
#include "tap.h"

static void expect(const char *name, polycom_file_kind kind, const char *mac)
{
    polycom_name n;
    int ours = polycom_name_parse(name, &n);

    if (kind == POLYCOM_FILE_NONE) {
        tap_ok(!ours, "'%s' is not ours", name);
        return;
    }
    tap_ok(ours && n.kind == kind && !strcmp(n.mac, mac),
           "'%s' is %s of %s", name, polycom_name_kind_label(kind), mac);
}

int main(void)
{
    polycom_name n;

    expect("0004f2e62aa4.cfg", POLYCOM_FILE_MASTER, "0004f2e62aa4");
    expect("0004F2E62AA4.CFG", POLYCOM_FILE_MASTER, "0004f2e62aa4");
    expect("000000000000.cfg", POLYCOM_FILE_MASTER, "000000000000");
    expect("0004f2e62aa4-settings.cfg", POLYCOM_FILE_SETTINGS, "0004f2e62aa4");
    expect("000000000000-settings.cfg", POLYCOM_FILE_SETTINGS, "000000000000");
    expect("0004f2e62aa4-phone.cfg", POLYCOM_FILE_PHONE_OVERRIDE, "0004f2e62aa4");
    expect("0004f2e62aa4-web.cfg", POLYCOM_FILE_WEB_OVERRIDE, "0004f2e62aa4");
    expect("0004f2e62aa4-directory.xml", POLYCOM_FILE_DIRECTORY, "0004f2e62aa4");
    expect("000000000000-directory.xml", POLYCOM_FILE_DIRECTORY, "000000000000");
    expect("0004f2e62aa4-calls.xml", POLYCOM_FILE_CALLS, "0004f2e62aa4");
    expect("0004f2e62aa4-license.cfg", POLYCOM_FILE_LICENSE, "0004f2e62aa4");
    expect("000000000000-license.cfg", POLYCOM_FILE_LICENSE, "000000000000");
    expect("0004f2e62aa4-boot.log", POLYCOM_FILE_BOOT_LOG, "0004f2e62aa4");
    expect("0004F2E62AA4-App.Log", POLYCOM_FILE_APP_LOG, "0004f2e62aa4");

    expect("0004f2e62aa.cfg", POLYCOM_FILE_NONE, NULL);        /* 11 digits */
    expect("0004f2e62aa4a.cfg", POLYCOM_FILE_NONE, NULL);      /* 13 digits */
    expect("0004f2e62ag4.cfg", POLYCOM_FILE_NONE, NULL);       /* not hex */
    expect("0004f2e62aa4.cfg.bak", POLYCOM_FILE_NONE, NULL);
    expect("0004f2e62aa4-phone.cfg~", POLYCOM_FILE_NONE, NULL);
    expect("x0004f2e62aa4.cfg", POLYCOM_FILE_NONE, NULL);
    expect("sip.ld", POLYCOM_FILE_NONE, NULL);
    expect("3111-44500-001.sip.ld", POLYCOM_FILE_NONE, NULL);
    expect("..", POLYCOM_FILE_NONE, NULL);
    expect("", POLYCOM_FILE_NONE, NULL);
    expect("000000000000-phone.cfg", POLYCOM_FILE_NONE, NULL); /* no such */
    expect("000000000000-boot.log", POLYCOM_FILE_NONE, NULL);
    expect("0004f2e62aa4-mb.cfg", POLYCOM_FILE_NONE, NULL);    /* browser */

    tap_ok(!polycom_name_parse(NULL, &n), "NULL is not ours");
    {
        char big[4096];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        memcpy(big + sizeof(big) - 5, ".cfg", 4);
        tap_ok(!polycom_name_parse(big, &n), "a 4 KB name is not ours");
    }
    tap_ok(polycom_name_is_generated(POLYCOM_FILE_MASTER)
           && polycom_name_is_generated(POLYCOM_FILE_SETTINGS)
           && !polycom_name_is_generated(POLYCOM_FILE_PHONE_OVERRIDE),
           "generated kinds are the master and the settings");
    tap_ok(polycom_name_is_upload(POLYCOM_FILE_APP_LOG)
           && !polycom_name_is_upload(POLYCOM_FILE_MASTER)
           && !polycom_name_is_upload(POLYCOM_FILE_LICENSE),
           "logs are uploads, masters and licences are not");
    tap_ok(polycom_mac_valid("0004F2e62aa4") && !polycom_mac_valid("0004f2")
           && !polycom_mac_valid("0004f2e62aa4x"), "MAC validation");
    return tap_done();
}
