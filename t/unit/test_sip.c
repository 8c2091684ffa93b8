/* Unit tests for the SIP NOTIFY builder, response and challenge parsers,
 * and the digest answer. */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "polycom_sip.h"
#include "tap.h"

static apr_pool_t *pool;

static void test_build(void)
{
    polycom_sip_notify n;
    const char *text;

    memset(&n, 0, sizeof(n));
    n.request_uri = "sip:1001@192.0.2.50:5060";
    n.local_host = "192.0.2.10";
    n.local_port = 5099;
    n.call_id = "abc@192.0.2.10";
    n.from_tag = "t1";
    n.branch = "z9hG4bKxyz";
    n.cseq = 7;
    text = polycom_sip_notify_build(pool, &n);
    tap_ok(!strncmp(text, "NOTIFY sip:1001@192.0.2.50:5060 SIP/2.0\r\n", 41),
           "request line");
    tap_ok(strstr(text, "\r\nVia: SIP/2.0/UDP 192.0.2.10:5099;branch="
                        "z9hG4bKxyz;rport\r\n") != NULL, "Via with branch");
    tap_ok(strstr(text, "\r\nFrom: <sip:provisioning@192.0.2.10>;tag=t1\r\n")
           != NULL, "From with tag");
    tap_ok(strstr(text, "\r\nTo: <sip:1001@192.0.2.50:5060>\r\n") != NULL,
           "To");
    tap_ok(strstr(text, "\r\nCSeq: 7 NOTIFY\r\n") != NULL, "CSeq");
    tap_ok(strstr(text, "\r\nEvent: check-sync\r\n") != NULL, "Event");
    tap_ok(strstr(text, "\r\nMax-Forwards: 70\r\n") != NULL, "Max-Forwards");
    tap_ok(strstr(text, "\r\nContact: <sip:provisioning@192.0.2.10:5099>\r\n")
           != NULL, "Contact");
    tap_ok(strstr(text, "\r\nContent-Length: 0\r\n\r\n") != NULL
           && !strcmp(strstr(text, "\r\n\r\n"), "\r\n\r\n"),
           "empty body after the blank line");
    tap_ok(!strstr(text, "Authorization"), "no Authorization unasked");
    n.reboot = 1;
    n.authorization = "Digest x";
    n.proxy_authorization = 1;
    text = polycom_sip_notify_build(pool, &n);
    tap_ok(strstr(text, "\r\nEvent: check-sync;reboot=true\r\n") != NULL,
           "reboot asks for it in the Event");
    tap_ok(strstr(text, "\r\nProxy-Authorization: Digest x\r\n") != NULL,
           "Proxy-Authorization when challenged by a proxy");
}

static void test_parse(void)
{
    static const char ok[] =
        "SIP/2.0 200 OK\r\n"
        "v: SIP/2.0/UDP 192.0.2.10:5099;branch=z9hG4bKxyz;rport=5099\r\n"
        "From: <sip:provisioning@192.0.2.10>;tag=t1\r\n"
        "To: <sip:1001@192.0.2.50>;tag=p1\r\n"
        "i: abc@192.0.2.10\r\n"
        "CSeq: 7 NOTIFY\r\n"
        "Content-Length: 0\r\n\r\n";
    static const char challenge[] =
        "SIP/2.0 401 Unauthorized\n"
        "Call-ID: abc\n"
        "CSeq: 1 NOTIFY\n"
        "WWW-Authenticate: Digest realm=\"PolycomSPIP\", nonce=\"n0nce\", "
        "qop=\"auth,auth-int\", opaque=\"op\"\n\n";
    polycom_sip_response r;
    polycom_sip_challenge c;

    tap_is_int(polycom_sip_response_parse(pool, ok, sizeof(ok) - 1, &r), 0,
               "a 200 parses");
    tap_ok(r.status == 200 && !strcmp(r.reason, "OK")
           && !strcmp(r.call_id, "abc@192.0.2.10") && r.cseq == 7
           && !strcmp(r.cseq_method, "NOTIFY")
           && !strcmp(r.via_branch, "z9hG4bKxyz"),
           "status, compact Call-ID and Via, CSeq");
    tap_is_int(polycom_sip_response_parse(pool, challenge,
                                          sizeof(challenge) - 1, &r), 0,
               "a 401 with bare LF parses");
    tap_is_int(r.status, 401, "its status is 401");
    tap_is_int(polycom_sip_challenge_parse(pool, r.www_authenticate, &c), 0,
               "its challenge parses");
    tap_ok(!strcmp(c.realm, "PolycomSPIP") && !strcmp(c.nonce, "n0nce")
           && c.qop_auth && !strcmp(c.opaque, "op"), "realm, nonce, qop, opaque");
    tap_is_int(polycom_sip_response_parse(pool, "NOTIFY sip:x SIP/2.0\r\n",
                                          22, &r), -1, "a request is no response");
    tap_is_int(polycom_sip_response_parse(pool, "SIP/2.0 2x0 OK\r\n", 16, &r),
               -1, "a bad status fails");
    tap_is_int(polycom_sip_response_parse(pool, "SIP/2.0 200 OK\r\n\r\n", 18,
                                          &r), -1, "no Call-ID/CSeq fails");
    tap_is_int(polycom_sip_response_parse(pool, "", 0, &r), -1, "empty fails");
    tap_is_int(polycom_sip_challenge_parse(pool, "Basic realm=\"x\"", &c), -1,
               "Basic is not Digest");
    tap_is_int(polycom_sip_challenge_parse(pool, "Digest realm=\"x\"", &c), -1,
               "no nonce fails");
    tap_is_int(polycom_sip_challenge_parse(pool,
                   "Digest realm=\"x\", nonce=\"y\", algorithm=SHA-256", &c),
               -1, "only MD5");
    tap_is_int(polycom_sip_challenge_parse(pool,
                   "Digest realm=\"a\rEvil: 1\", nonce=\"y\"", &c), -1,
               "control characters in a value are refused");
}

static void test_digest(void)
{
    /* RFC 2617 3.5's worked example. */
    polycom_sip_challenge c;
    const char *h;

    memset(&c, 0, sizeof(c));
    c.realm = "testrealm@host.com";
    c.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    c.opaque = "5ccc069c403ebaf9f0171e9517f40e41";
    c.qop_auth = 1;
    h = polycom_sip_digest(pool, &c, "Mufasa", "Circle Of Life", "GET",
                           "/dir/index.html", "0a4f113b", 1);
    tap_ok(strstr(h, "response=\"6629fae49393a05397450978507c4ef1\"") != NULL,
           "RFC 2617 digest example: %s", h);
    tap_ok(strstr(h, "nc=00000001") && strstr(h, "cnonce=\"0a4f113b\"")
           && strstr(h, "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
           "nc, cnonce and opaque echoed");
    c.qop_auth = 0;
    h = polycom_sip_digest(pool, &c, "Mufasa", "Circle Of Life", "GET",
                           "/dir/index.html", "0a4f113b", 1);
    tap_ok(!strstr(h, "qop="), "no qop when none was offered");
}

/* Contacts as registrars store them. */
static void test_contact(void)
{
    polycom_sip_contact c;

    tap_is_int(polycom_sip_contact_parse(pool, "<sip:1042@192.0.2.7:5062;"
                                         "transport=TCP>;expires=3600", &c),
               0, "name-addr with parameters");
    tap_ok(!strcmp(c.host, "192.0.2.7") && c.port == 5062
           && c.transport == POLYCOM_SIP_TCP
           && !strcmp(c.uri, "sip:1042@192.0.2.7:5062;transport=TCP"),
           "host, port, transport and URI");
    tap_is_int(polycom_sip_contact_parse(pool, "\"Desk\" <sip:1042@host."
                                         "example>", &c), 0, "display name");
    tap_ok(!strcmp(c.host, "host.example") && c.port == 5060
           && c.transport == POLYCOM_SIP_UDP, "default port 5060 over UDP");
    tap_is_int(polycom_sip_contact_parse(pool, "sips:1042@[2001:db8::7]",
                                         &c), 0, "sips and IPv6");
    tap_ok(!strcmp(c.host, "2001:db8::7") && c.port == 5061
           && c.transport == POLYCOM_SIP_TLS, "TLS on 5061");
    tap_is_int(polycom_sip_contact_parse(pool, "<sip:1042@192.0.2.7:5063;"
                                         "transport=TLS;ob>", &c), 0,
               "transport=TLS (any case) in a sip: URI");
    tap_ok(!strcmp(c.host, "192.0.2.7") && c.port == 5063
           && c.transport == POLYCOM_SIP_TLS, "TLS, on its own port");
    tap_is_int(polycom_sip_contact_parse(pool, "sip:1042@192.0.2.7;"
                                         "transport=tls", &c), 0,
               "transport=tls without a port");
    tap_ok(c.port == 5061 && c.transport == POLYCOM_SIP_TLS,
           "TLS on TLS's default port, 5061 (RFC 3263 4.2)");
    tap_is_int(polycom_sip_contact_parse(pool, "sips:1042@192.0.2.7;"
                                         "transport=tcp", &c), 0,
               "sips: with transport=tcp");
    tap_ok(c.transport == POLYCOM_SIP_TLS, "sips: is TLS whatever it says");
    tap_is_int(polycom_sip_contact_parse(pool, "198.51.100.9:40001", &c), 0,
               "host:port (a received column)");
    tap_ok(c.port == 40001 && !strcmp(c.uri, "sip:198.51.100.9:40001"),
           "as a SIP URI");
    tap_is_int(polycom_sip_contact_parse(pool, "sip:1042@h:70000", &c), -1,
               "port out of range refused");
    tap_is_int(polycom_sip_contact_parse(pool, "sip:1042@h;transport=sctp",
                                         &c), -1, "unknown transport refused");
    tap_is_int(polycom_sip_contact_parse(pool, "sip:1042@h\r\nX: y", &c),
               -1, "a line break refused");
    tap_is_int(polycom_sip_contact_parse(pool, "<sip:1042@>", &c), -1,
               "no host refused");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_build();
    test_parse();
    test_digest();
    test_contact();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
