/**
 * @file polycom_sip.h
 * @brief SIP NOTIFY check-sync: building the request, parsing responses and
 *        digest challenges, and computing the digest answer (pure C: APR
 *        and APR-util only).
 */
#ifndef POLYCOM_SIP_H
#define POLYCOM_SIP_H

#include <apr_pools.h>

/** One NOTIFY (REFERENCE.md 6). Every string is required unless noted. */
typedef struct {
    const char *request_uri;    /* sip:1001@192.0.2.50:5060 */
    const char *local_host;     /* our address, for Via, From and Contact */
    int local_port;
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

#endif /* POLYCOM_SIP_H */
