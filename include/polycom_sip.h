/**
 * @file polycom_sip.h
 * @brief SIP NOTIFY check-sync: building the request, parsing responses and
 *        digest challenges, and computing the digest answer (pure C: APR
 *        and APR-util only).
 */
#ifndef POLYCOM_SIP_H
#define POLYCOM_SIP_H

#include <apr_pools.h>

/** The transports a NOTIFY goes over. */
#define POLYCOM_SIP_UDP 0
#define POLYCOM_SIP_TCP 1
#define POLYCOM_SIP_TLS 2

/** "UDP", "TCP" or "TLS" (the Via's form). */
const char *polycom_sip_transport_name(int transport);

/** POLYCOM_SIP_* for "udp", "tcp" or "tls" (any case); -1 otherwise. */
int polycom_sip_transport(const char *name);

/** One NOTIFY (REFERENCE.md 6). Every string is required unless noted. */
typedef struct {
    const char *request_uri;    /* sip:1001@192.0.2.50:5060 */
    const char *local_host;     /* our address, for Via, From and Contact */
    int local_port;
    int transport;              /* POLYCOM_SIP_*: the Via and Contact say it */
    const char *call_id;
    const char *from_tag;
    const char *branch;         /* starts with the magic cookie z9hG4bK */
    unsigned int cseq;
    int reboot;                 /* Event: check-sync;reboot=true */
    const char *authorization;  /* header value, or NULL */
    int proxy_authorization;    /* send it as Proxy-Authorization */
} polycom_sip_notify;

/** The request text, CRLF line ends, empty body. */
const char *polycom_sip_notify_build(apr_pool_t *pool,
                                     const polycom_sip_notify *notify);

/** A parsed response; strings are "" when the header is absent. */
typedef struct {
    int status;
    const char *reason;
    const char *call_id;
    unsigned int cseq;
    const char *cseq_method;
    const char *via_branch;
    const char *www_authenticate;
    const char *proxy_authenticate;
} polycom_sip_response;

/** Parse a response datagram. Returns 0, or -1 when it is not a SIP/2.0
 *  response with a status line, Call-ID and CSeq. Never reads past len. */
int polycom_sip_response_parse(apr_pool_t *pool, const char *buf,
                               apr_size_t len, polycom_sip_response *out);

/** A Digest challenge (RFC 2617 / 3261). */
typedef struct {
    const char *realm;
    const char *nonce;
    const char *opaque;         /* NULL when absent */
    const char *algorithm;      /* NULL when absent (MD5) */
    int qop_auth;               /* the server offers qop=auth */
} polycom_sip_challenge;

/** Parse a WWW-/Proxy-Authenticate value. Returns 0, or -1 when it is not
 *  a Digest challenge with realm and nonce using MD5. */
int polycom_sip_challenge_parse(apr_pool_t *pool, const char *header,
                                polycom_sip_challenge *out);

/** The Authorization header value answering @a challenge. */
const char *polycom_sip_digest(apr_pool_t *pool,
                               const polycom_sip_challenge *challenge,
                               const char *user, const char *password,
                               const char *method, const char *uri,
                               const char *cnonce, unsigned int nc);

/** A registered Contact, or a registrar's record of the address a
 *  registration came from (Kamailio's received, FreeSWITCH's
 *  network_ip:network_port). */
typedef struct {
    const char *uri;            /* sip:1042@192.0.2.7:5062;transport=tcp */
    const char *host;           /* without brackets */
    int port;                   /* 5060 (5061 over TLS) when absent */
    int transport;              /* from ;transport=; sips: is TLS */
} polycom_sip_contact;

/**
 * Parse a Contact as registrars store it: a bare URI, a name-addr
 * ("Alice" <sip:...>;expires=60) or a host:port. Returns 0, or -1 when no
 * host, the port or the transport is not valid, or a character could add
 * a line to a request.
 */
int polycom_sip_contact_parse(apr_pool_t *pool, const char *text,
                              polycom_sip_contact *out);

#endif /* POLYCOM_SIP_H */
