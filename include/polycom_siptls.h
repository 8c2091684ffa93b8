/**
 * @file polycom_siptls.h
 * @brief The TLS client side of a NOTIFY over TLS (RFC 3261 26.2.1): a
 *        handshake on a connected TCP socket, the peer's certificate
 *        verified against the admin's CA file and checked to name the host
 *        or IP address the NOTIFY was sent to, and reads and writes with a
 *        deadline (pure C: OpenSSL and APR only).
 *
 * There is no unverified mode: without a CA file nothing is sent. A peer
 * that closes mid-write raises SIGPIPE: the caller ignores it (httpd's
 * children do).
 */
#ifndef POLYCOM_SIPTLS_H
#define POLYCOM_SIPTLS_H

#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_time.h>

typedef struct polycom_siptls polycom_siptls;

/** Whether @a file is a readable PEM file holding at least one
 *  certificate: 0, else -1 with *error. */
int polycom_siptls_ca_check(apr_pool_t *pool, const char *file,
                            const char **error);

/**
 * The handshake on @a sock (connected), within @a timeout. The server's
 * certificate must chain to a certificate of @a ca_file and name @a host
 * (a DNS name, matched with X509_check_host and sent as SNI, or an IP
 * address, matched with X509_check_ip_asc). Returns 0 with *out, whose
 * OpenSSL objects @a pool frees, or -1 with *error saying what failed
 * (the certificate's problem in OpenSSL's words when it is one).
 */
int polycom_siptls_connect(apr_pool_t *pool, apr_socket_t *sock,
                           const char *ca_file, const char *host,
                           apr_interval_time_t timeout, polycom_siptls **out,
                           const char **error);

/** Write all of @a len bytes within @a timeout. */
apr_status_t polycom_siptls_send(polycom_siptls *tls, const char *buf,
                                 apr_size_t len, apr_interval_time_t timeout);

/** Read what has come, up to *len bytes, waiting at most @a timeout;
 *  *len says how much. APR_TIMEUP, or APR_EOF when the peer closed. */
apr_status_t polycom_siptls_recv(polycom_siptls *tls, char *buf,
                                 apr_size_t *len, apr_interval_time_t timeout);

/** Send close_notify (without waiting for the peer's). */
void polycom_siptls_close(polycom_siptls *tls);

#endif /* POLYCOM_SIPTLS_H */
