/* Unit tests for User-Agent parsing, one agent per phone family. */
#include <apr_general.h>
#include <apr_pools.h>

#include "polycom_useragent.h"
#include "tap.h"

static apr_pool_t *pool;

static void expect(const char *ua, const char *family, const char *model,
                   const char *firmware, const char *serial,
                   const char *stage)
{
    polycom_useragent u;

    polycom_useragent_parse(pool, ua, &u);
    tap_is_str(u.family, family, "family of '%s'", ua ? ua : "(null)");
    tap_is_str(u.model, model, "model of '%s'", ua ? ua : "(null)");
    tap_is_str(u.firmware, firmware, "firmware of '%s'", ua ? ua : "(null)");
    tap_is_str(u.serial, serial, "serial of '%s'", ua ? ua : "(null)");
    tap_is_str(u.stage, stage, "stage of '%s'", ua ? ua : "(null)");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    expect("FileTransport PolycomSoundPointIP-SPIP_330-UA/3.2.1.0078",
           "SoundPointIP", "SPIP330", "3.2.1.0078", "", "");
    expect("FileTransport PolycomSoundPointIP-SPIP_550-UA/4.0.15.1047 "
           "(SN:0004A11A1A1A) Type/Application",
           "SoundPointIP", "SPIP550", "4.0.15.1047", "0004a11a1a1a",
           "application");
    expect("FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 "
           "Type/Updater", "SoundStationIP", "SSIP6000", "5.0.3.1667", "",
           "updater");
    expect("FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application",
           "VVX", "VVX411", "5.9.5.0614", "", "application");
    expect("FileTransport PolycomRealPresenceTrio-Trio_8800-UA/7.2.2.1094 "
           "(SN:64167f0a8800) Type/Application", "RealPresenceTrio",
           "Trio8800", "7.2.2.1094", "64167f0a8800", "application");
    expect("FileTransport PolyEdge-Edge_E450-UA/8.1.3.0651 Type/Application",
           "Edge", "EdgeE450", "8.1.3.0651", "", "application");
    expect("FileTransport PolyCCX-CCX_500-UA/7.1.1.0573 Type/Application",
           "CCX", "CCX500", "7.1.1.0573", "", "application");
    expect("Microbrowser/1.1 PolycomVVX-VVX_500-UA/5.9.7.4477 "
           "Type/Application", "VVX", "VVX500", "5.9.7.4477", "",
           "application");
    /* Unknown agents are recorded as such. */
    expect("curl/7.88.1", "unknown", "", "", "", "");
    expect("Mozilla/5.0 (X11; Linux x86_64)", "unknown", "", "", "", "");
    expect(NULL, "unknown", "", "", "", "");
    expect("", "unknown", "", "", "", "");
    expect("-UA/1.0", "unknown", "", "", "", "");
    expect("FileTransport Acme-Phone_1-UA/1.0", "unknown", "", "", "", "");
    /* A malformed serial is not a serial. */
    expect("FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 (SN:0004f2zz0000)",
           "VVX", "VVX411", "5.9.5.0614", "", "");

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
