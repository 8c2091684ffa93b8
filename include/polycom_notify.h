/**
 * @file polycom_notify.h
 * @brief Send one SIP NOTIFY check-sync as a non-INVITE client transaction
 *        over UDP (RFC 3261 17.1.2: timers E and F), TCP or TLS (one
 *        transmission, timer F), to the phone or to a proxy that routes it,
 *        answering one digest challenge with the phone's line credentials
 *        on the same connection (pure C: APR, and OpenSSL for TLS).
 */
#ifndef POLYCOM_NOTIFY_H
#define POLYCOM_NOTIFY_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct {
    const char *host;           /* where it goes: the phone, or a proxy */
    int port;
    int transport;              /* POLYCOM_SIP_UDP, _TCP or _TLS */
    const char *tls_ca;         /* TLS: CA file the peer's certificate must
                                 * chain to; NULL: nothing is sent */
    const char *request_uri;    /* NULL: sip:user@host:port */
    const char *user;           /* user part of that URI, or "" */
    const char *auth_user;      /* line credentials for a challenge, or NULL */
    const char *auth_password;
    int reboot;
    apr_interval_time_t t1;     /* RFC 3261 T1 (500 ms) */
    apr_interval_time_t t2;     /* RFC 3261 T2 (4 s) */
} polycom_notify_target;

typedef struct {
    int status;                 /* final status, or 408 when timer F fired */
    const char *reason;         /* reason phrase, "timeout", or the error */
    int transmissions;          /* datagrams sent, retransmissions included */
    int challenged;             /* a 401/407 was answered */
} polycom_notify_outcome;

/** Run the transaction; returns 0 when it ended (any final status or a
 *  timeout), -1 when it could not start (address, socket), with
 *  out->reason saying why. Blocks for at most 64*T1 per attempt. */
int polycom_notify_send(apr_pool_t *pool, const polycom_notify_target *target,
                        polycom_notify_outcome *out);

#endif /* POLYCOM_NOTIFY_H */
