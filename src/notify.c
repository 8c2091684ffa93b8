/* One NOTIFY check-sync transaction over UDP, TCP or TLS. */

#include <string.h>

#include <apr_network_io.h>
#include <apr_strings.h>
#include <apr_general.h>

#include "polycom_notify.h"
#include "polycom_sip.h"
#include "polycom_siptls.h"

#define NOTIFY_BUF 4096

static const char *notify_random_hex(apr_pool_t *pool, int bytes)
{
    unsigned char raw[16];
    char *hex = apr_palloc(pool, 2 * sizeof(raw) + 1);
    int i;

    if (bytes > (int)sizeof(raw)) {
        bytes = sizeof(raw);
    }
    if (apr_generate_random_bytes(raw, (apr_size_t)bytes) != APR_SUCCESS) {
        apr_time_t now = apr_time_now();

        memcpy(raw, &now, sizeof(now) < (apr_size_t)bytes ? sizeof(now)
                                                          : (apr_size_t)bytes);
    }
    for (i = 0; i < bytes; i++) {
        static const char digits[] = "0123456789abcdef";

        hex[2 * i] = digits[raw[i] >> 4];
        hex[2 * i + 1] = digits[raw[i] & 0xf];
    }
    hex[2 * bytes] = '\0';
    return hex;
}

/* Send @a text and wait for the final response to (call_id, cseq),
 * retransmitting on timer E until timer F. */
static int notify_transaction(apr_pool_t *pool, apr_socket_t *sock,
                              const polycom_notify_target *t,
                              const char *text, const char *call_id,
                              unsigned int cseq, polycom_sip_response *resp,
                              polycom_notify_outcome *out)
{
    apr_time_t start = apr_time_now();
    apr_interval_time_t interval = t->t1, deadline = 64 * t->t1;
    apr_size_t len;
    char *buf = apr_palloc(pool, NOTIFY_BUF);
    apr_status_t rv;

    for (;;) {
        apr_time_t wait_until;

        len = strlen(text);
        rv = apr_socket_send(sock, text, &len);
        out->transmissions++;
        if (rv != APR_SUCCESS) {
            /* ICMP port unreachable from an earlier datagram, or no
             * route: UDP gives no answer; keep the timers running. */
        }
        wait_until = apr_time_now() + interval;
        for (;;) {
            apr_interval_time_t left = wait_until - apr_time_now();

            if (apr_time_now() - start >= deadline) {
                return 1;                       /* timer F */
            }
            if (left <= 0) {
                break;                          /* timer E: retransmit */
            }
            if (left > deadline - (apr_time_now() - start)) {
                left = deadline - (apr_time_now() - start);
            }
            apr_socket_timeout_set(sock, left);
            len = NOTIFY_BUF - 1;
            rv = apr_socket_recv(sock, buf, &len);
            if (rv != APR_SUCCESS || len == 0) {
                if (!APR_STATUS_IS_TIMEUP(rv) && !APR_STATUS_IS_EAGAIN(rv)
                    && rv != APR_SUCCESS) {
                    /* e.g. ECONNREFUSED from ICMP: wait out the timer */
                    apr_sleep(left < 10000 ? left : 10000);
                }
                continue;
            }
            if (polycom_sip_response_parse(pool, buf, len, resp) < 0
                || strcmp(resp->call_id, call_id) || resp->cseq != cseq
                || strcasecmp(resp->cseq_method, "NOTIFY")) {
                continue;                       /* not ours */
            }
            if (resp->status < 200) {
                interval = t->t2;               /* provisional: T2 pacing */
                continue;
            }
            return 0;
        }
        interval = interval * 2 < t->t2 ? interval * 2 : t->t2;
    }
}

/* Where the header block that starts @a buf ends (its blank line), or
 * NULL when it has not all arrived. */
static char *notify_header_end(char *buf, apr_size_t have)
{
    apr_size_t i;

    for (i = 0; i + 4 <= have; i++) {
        if (!memcmp(buf + i, "\r\n\r\n", 4)) {
            return buf + i;
        }
    }
    return NULL;
}

/* A connected stream: TCP, or TLS over it. */
typedef struct {
    apr_socket_t *sock;
    polycom_siptls *tls;        /* NULL over plain TCP */
} notify_stream;

static apr_status_t notify_stream_send(notify_stream *s, const char *text,
                                       apr_interval_time_t timeout)
{
    apr_size_t len = strlen(text);

    if (s->tls) {
        return polycom_siptls_send(s->tls, text, len, timeout);
    }
    apr_socket_timeout_set(s->sock, timeout);
    return apr_socket_send(s->sock, text, &len);
}

static apr_status_t notify_stream_recv(notify_stream *s, char *buf,
                                       apr_size_t *len,
                                       apr_interval_time_t timeout)
{
    if (s->tls) {
        return polycom_siptls_recv(s->tls, buf, len, timeout);
    }
    apr_socket_timeout_set(s->sock, timeout);
    return apr_socket_recv(s->sock, buf, len);
}

/* Over TCP and TLS the transport is reliable: one transmission, then wait
 * for the final response until timer F (RFC 3261 17.1.2.2), reading whole
 * messages from the stream (a header block and its Content-Length). */
static int notify_transaction_tcp(apr_pool_t *pool, notify_stream *stream,
                                  const polycom_notify_target *t,
                                  const char *text, const char *call_id,
                                  unsigned int cseq,
                                  polycom_sip_response *resp,
                                  polycom_notify_outcome *out)
{
    apr_time_t deadline = apr_time_now() + 64 * t->t1;
    char *buf = apr_palloc(pool, NOTIFY_BUF);
    apr_size_t have = 0, len;
    apr_status_t rv;

    out->transmissions++;
    if (notify_stream_send(stream, text, 64 * t->t1) != APR_SUCCESS) {
        return 1;
    }
    for (;;) {
        apr_interval_time_t left = deadline - apr_time_now();
        char *end;

        /* Every whole message in the buffer first. */
        while ((end = notify_header_end(buf, have)) != NULL) {
            apr_size_t head = (apr_size_t)(end - buf) + 4, body = 0;
            const char *line;

            buf[head - 1] = '\0';
            for (line = buf; (line = strchr(line, '\n')) != NULL; ) {
                line++;
                if (!strncasecmp(line, "Content-Length:", 15)
                    || !strncasecmp(line, "l:", 2)) {
                    body = (apr_size_t)apr_atoi64(strchr(line, ':') + 1);
                }
            }
            if (body > NOTIFY_BUF || head + body > have) {
                if (body > NOTIFY_BUF) {
                    return 1;                   /* not a response to us */
                }
                buf[head - 1] = '\n';
                break;                          /* the body is to come */
            }
            if (polycom_sip_response_parse(pool, buf, head, resp) == 0
                && !strcmp(resp->call_id, call_id) && resp->cseq == cseq
                && !strcasecmp(resp->cseq_method, "NOTIFY")
                && resp->status >= 200) {
                return 0;
            }
            memmove(buf, buf + head + body, have - head - body);
            have -= head + body;
        }
        if (left <= 0 || have >= NOTIFY_BUF - 1) {
            return 1;                           /* timer F */
        }
        len = NOTIFY_BUF - 1 - have;
        rv = notify_stream_recv(stream, buf + have, &len, left);
        if (rv != APR_SUCCESS && !len) {
            return 1;                           /* closed, or timer F */
        }
        have += len;
        buf[have] = '\0';
    }
}

static int notify_exchange(apr_pool_t *pool, notify_stream *stream,
                           const polycom_notify_target *t, const char *text,
                           const char *call_id, unsigned int cseq,
                           polycom_sip_response *resp,
                           polycom_notify_outcome *out)
{
    return t->transport == POLYCOM_SIP_UDP
           ? notify_transaction(pool, stream->sock, t, text, call_id, cseq,
                                resp, out)
           : notify_transaction_tcp(pool, stream, t, text, call_id, cseq,
                                    resp, out);
}

int polycom_notify_send(apr_pool_t *pool, const polycom_notify_target *t,
                        polycom_notify_outcome *out)
{
    apr_sockaddr_t *peer, *local;
    apr_socket_t *sock;
    notify_stream stream = { NULL, NULL };
    const char *tls_error = NULL;
    polycom_sip_notify n;
    polycom_sip_response resp;
    char *local_ip;
    apr_status_t rv;
    int timed_out;

    memset(out, 0, sizeof(*out));
    if (t->transport == POLYCOM_SIP_TLS && !t->tls_ca) {
        /* Never unverified: a NOTIFY (with a digest answer) to whoever
         * holds the address is what TLS is there to prevent. */
        out->reason = apr_psprintf(pool, "not sent to %s:%d over TLS: no CA "
                                   "to verify its certificate (set "
                                   "PolycomResyncTLSCA)", t->host, t->port);
        return -1;
    }
    rv = apr_sockaddr_info_get(&peer, t->host, APR_UNSPEC,
                               (apr_port_t)t->port, 0, pool);
    if (rv == APR_SUCCESS && t->transport != POLYCOM_SIP_UDP) {
        rv = apr_socket_create(&sock, peer->family, SOCK_STREAM,
                               APR_PROTO_TCP, pool);
        if (rv == APR_SUCCESS) {
            apr_socket_timeout_set(sock, 64 * t->t1);
        }
    }
    else if (rv == APR_SUCCESS) {
        rv = apr_socket_create(&sock, peer->family, SOCK_DGRAM,
                               APR_PROTO_UDP, pool);
    }
    if (rv == APR_SUCCESS) {
        /* A connected UDP socket: the kernel picks our address for this
         * peer, and only its datagrams reach us. */
        rv = apr_socket_connect(sock, peer);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_socket_addr_get(&local, APR_LOCAL, sock);
    }
    if (rv == APR_SUCCESS && t->transport == POLYCOM_SIP_TLS
        && polycom_siptls_connect(pool, sock, t->tls_ca, t->host,
                                  64 * t->t1, &stream.tls,
                                  &tls_error) < 0) {
        apr_socket_close(sock);
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        char msg[120];

        out->status = 0;
        out->reason = apr_psprintf(pool, "cannot reach %s:%d over %s: %s",
                                   t->host, t->port,
                                   polycom_sip_transport_name(t->transport),
                                   tls_error ? tls_error
                                   : apr_strerror(rv, msg, sizeof(msg)));
        return -1;
    }
    stream.sock = sock;
    apr_sockaddr_ip_get(&local_ip, local);

    memset(&n, 0, sizeof(n));
    n.request_uri = t->request_uri ? t->request_uri
                    : *t->user
                    ? apr_psprintf(pool, "sip:%s@%s:%d", t->user, t->host,
                                   t->port)
                    : apr_psprintf(pool, "sip:%s:%d", t->host, t->port);
    n.local_host = local_ip;
    n.local_port = local->port;
    n.transport = t->transport;
    n.call_id = apr_pstrcat(pool, notify_random_hex(pool, 12), "@",
                            local_ip, NULL);
    n.from_tag = notify_random_hex(pool, 6);
    n.branch = apr_pstrcat(pool, "z9hG4bK", notify_random_hex(pool, 10),
                           NULL);
    n.cseq = 1;
    n.reboot = t->reboot;

    timed_out = notify_exchange(pool, &stream, t,
                                polycom_sip_notify_build(pool, &n),
                                n.call_id, n.cseq, &resp, out);
    if (!timed_out && (resp.status == 401 || resp.status == 407)
        && t->auth_user && t->auth_password) {
        polycom_sip_challenge challenge;
        const char *header = resp.status == 401 ? resp.www_authenticate
                                                : resp.proxy_authenticate;

        if (polycom_sip_challenge_parse(pool, header, &challenge) == 0) {
            /* A new transaction: new branch, next CSeq, same dialog ids. */
            out->challenged = 1;
            n.cseq = 2;
            n.branch = apr_pstrcat(pool, "z9hG4bK",
                                   notify_random_hex(pool, 10), NULL);
            n.proxy_authorization = resp.status == 407;
            n.authorization = polycom_sip_digest(pool, &challenge,
                                                 t->auth_user,
                                                 t->auth_password, "NOTIFY",
                                                 n.request_uri,
                                                 notify_random_hex(pool, 8),
                                                 1);
            timed_out = notify_exchange(pool, &stream, t,
                                        polycom_sip_notify_build(pool, &n),
                                        n.call_id, n.cseq, &resp, out);
        }
    }
    polycom_siptls_close(stream.tls);
    apr_socket_close(sock);
    if (timed_out) {
        out->status = 408;
        out->reason = "timeout";
    }
    else {
        out->status = resp.status;
        out->reason = resp.reason;
    }
    return 0;
}
