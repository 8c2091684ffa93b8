/* Fuzz target: SIP responses and digest challenges from the network, and
 * Contacts as a registrar's table holds them (what a phone registered). */
#include "fuzz.h"
#include "polycom_sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    polycom_sip_response resp;
    polycom_sip_challenge challenge;
    polycom_sip_contact contact;

    /* The parser is handed the datagram as received: no terminator. */
    char *copy = apr_palloc(pool, size ? size : 1);

    memcpy(copy, data, size);
    if (polycom_sip_response_parse(pool, copy, size, &resp) == 0) {
        if (polycom_sip_challenge_parse(pool, resp.www_authenticate,
                                        &challenge) == 0) {
            polycom_sip_digest(pool, &challenge, "1001", "secret", "NOTIFY",
                               "sip:1001@192.0.2.1", "abcdef", 1);
        }
    }
    polycom_sip_challenge_parse(pool, fuzz_string(pool, data, size),
                                &challenge);
    polycom_sip_contact_parse(pool, fuzz_string(pool, data, size), &contact);
    apr_pool_destroy(pool);
    return 0;
}
