/* SIP NOTIFY check-sync: message text, response and challenge parsing,
 * digest answers. Everything here works on bounded buffers from the
 * network and must hold against any bytes at all (it is fuzzed). */

#include <string.h>

#include <apr_lib.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include "polycom_digest.h"
#include "polycom_sip.h"

const char *polycom_sip_transport_name(int transport)
{
    return transport == POLYCOM_SIP_TCP ? "TCP"
           : transport == POLYCOM_SIP_TLS ? "TLS" : "UDP";
}

int polycom_sip_transport(const char *name)
{
    if (!name) {
        return -1;
    }
    return !strcasecmp(name, "udp") ? POLYCOM_SIP_UDP
           : !strcasecmp(name, "tcp") ? POLYCOM_SIP_TCP
           : !strcasecmp(name, "tls") ? POLYCOM_SIP_TLS : -1;
}

const char *polycom_sip_notify_build(apr_pool_t *pool,
                                     const polycom_sip_notify *n)
{
    const char *auth = "";

    if (n->authorization) {
        auth = apr_psprintf(pool, "%s: %s\r\n",
                            n->proxy_authorization ? "Proxy-Authorization"
                                                   : "Authorization",
                            n->authorization);
    }
    return apr_psprintf(pool,
        "NOTIFY %s SIP/2.0\r\n"
        "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:provisioning@%s>;tag=%s\r\n"
        "To: <%s>\r\n"
        "Contact: <sip:provisioning@%s:%d%s>\r\n"
        "Call-ID: %s\r\n"
        "CSeq: %u NOTIFY\r\n"
        "Event: check-sync%s\r\n"
        "Subscription-State: active\r\n"
        "%s"
        "User-Agent: mod_polycom\r\n"
        "Content-Length: 0\r\n"
        "\r\n",
        n->request_uri, polycom_sip_transport_name(n->transport),
        n->local_host, n->local_port, n->branch,
        n->local_host, n->from_tag, n->request_uri, n->local_host,
        n->local_port, n->transport == POLYCOM_SIP_TCP ? ";transport=tcp"
                       : n->transport == POLYCOM_SIP_TLS ? ";transport=tls"
                       : "", n->call_id, n->cseq,
        n->reboot ? ";reboot=true" : "", auth);
}

/* The next line of buf (without CRLF or LF) starting at *pos. */
static int sip_next_line(const char *buf, apr_size_t len, apr_size_t *pos,
                         const char **line, apr_size_t *line_len)
{
    apr_size_t start = *pos, end;

    if (start >= len) {
        return 0;
    }
    for (end = start; end < len && buf[end] != '\n'; end++) {
    }
    *line = buf + start;
    *line_len = end - start;
    if (*line_len && buf[start + *line_len - 1] == '\r') {
        (*line_len)--;
    }
    *pos = end < len ? end + 1 : len;
    return 1;
}

static const char *sip_trim(apr_pool_t *pool, const char *s, apr_size_t len)
{
    while (len && apr_isspace(*s)) {
        s++;
        len--;
    }
    while (len && apr_isspace(s[len - 1])) {
        len--;
    }
    return apr_pstrmemdup(pool, s, len);
}

/* Header names, long and compact forms (RFC 3261 7.3.3). */
static int sip_header_is(const char *name, apr_size_t len, const char *full,
                         const char *compact)
{
    return (strlen(full) == len && !strncasecmp(name, full, len))
           || (compact && len == 1 && apr_tolower(*name) == *compact);
}

int polycom_sip_response_parse(apr_pool_t *pool, const char *buf,
                               apr_size_t len, polycom_sip_response *out)
{
    const char *line, *colon;
    apr_size_t pos = 0, line_len, i;
    int have_cseq = 0;

    memset(out, 0, sizeof(*out));
    out->reason = out->call_id = out->cseq_method = out->via_branch = "";
    out->www_authenticate = out->proxy_authenticate = "";
    if (!sip_next_line(buf, len, &pos, &line, &line_len) || line_len < 12
        || strncmp(line, "SIP/2.0 ", 8)) {
        return -1;
    }
    for (i = 8; i < 11; i++) {
        if (!apr_isdigit(line[i])) {
            return -1;
        }
        out->status = out->status * 10 + (line[i] - '0');
    }
    if (out->status < 100 || (line_len > 11 && line[11] != ' ')) {
        return -1;
    }
    out->reason = line_len > 12 ? sip_trim(pool, line + 12, line_len - 12)
                                : "";
    while (sip_next_line(buf, len, &pos, &line, &line_len) && line_len) {
        const char *value;
        apr_size_t name_len;

        colon = memchr(line, ':', line_len);
        if (!colon) {
            continue;
        }
        name_len = (apr_size_t)(colon - line);
        while (name_len && apr_isspace(line[name_len - 1])) {
            name_len--;
        }
        value = sip_trim(pool, colon + 1,
                         line_len - (apr_size_t)(colon - line) - 1);
        if (sip_header_is(line, name_len, "Call-ID", "i")) {
            out->call_id = value;
        }
        else if (sip_header_is(line, name_len, "CSeq", NULL)) {
            char *end;
            apr_int64_t n = apr_strtoi64(value, &end, 10);

            if (end != value && n >= 0 && n <= 0xffffffffLL) {
                out->cseq = (unsigned int)n;
                out->cseq_method = sip_trim(pool, end, strlen(end));
                have_cseq = 1;
            }
        }
        else if (sip_header_is(line, name_len, "Via", "v")
                 && !*out->via_branch) {
            const char *b = strstr(value, "branch=");

            if (b) {
                b += 7;
                out->via_branch = apr_pstrndup(pool, b, strcspn(b, ";, \t"));
            }
        }
        else if (sip_header_is(line, name_len, "WWW-Authenticate", NULL)) {
            out->www_authenticate = value;
        }
        else if (sip_header_is(line, name_len, "Proxy-Authenticate", NULL)) {
            out->proxy_authenticate = value;
        }
    }
    return *out->call_id && have_cseq ? 0 : -1;
}

/* One name=value or name="value" pair of a challenge; returns where the
 * next pair starts, or NULL at the end. */
static const char *sip_param(apr_pool_t *pool, const char *p,
                             const char **name, const char **value)
{
    const char *start;

    while (*p == ' ' || *p == '\t' || *p == ',') {
        p++;
    }
    if (!*p) {
        return NULL;
    }
    start = p;
    while (*p && *p != '=' && *p != ',') {
        p++;
    }
    *name = sip_trim(pool, start, (apr_size_t)(p - start));
    *value = "";
    if (*p != '=') {
        return p;
    }
    p++;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '"') {
        start = ++p;
        while (*p && *p != '"') {
            p += (p[0] == '\\' && p[1]) ? 2 : 1;
        }
        *value = apr_pstrmemdup(pool, start, (apr_size_t)(p - start));
        if (*p == '"') {
            p++;
        }
    }
    else {
        start = p;
        while (*p && *p != ',') {
            p++;
        }
        *value = sip_trim(pool, start, (apr_size_t)(p - start));
    }
    return p;
}

/* A challenge value we will quote back: no quote, backslash or control
 * character, so a hostile challenge cannot add a header to our request. */
static int sip_safe_value(const char *v)
{
    for (; v && *v; v++) {
        if (*v == '"' || *v == '\\' || apr_iscntrl(*v)) {
            return 0;
        }
    }
    return 1;
}

int polycom_sip_challenge_parse(apr_pool_t *pool, const char *header,
                                polycom_sip_challenge *out)
{
    const char *p, *name, *value;

    memset(out, 0, sizeof(*out));
    if (!header || strncasecmp(header, "Digest", 6)
        || (header[6] != ' ' && header[6] != '\t')) {
        return -1;
    }
    for (p = header + 7; p && *p; ) {
        p = sip_param(pool, p, &name, &value);
        if (!p) {
            break;
        }
        if (!strcasecmp(name, "realm")) {
            out->realm = value;
        }
        else if (!strcasecmp(name, "nonce")) {
            out->nonce = value;
        }
        else if (!strcasecmp(name, "opaque")) {
            out->opaque = value;
        }
        else if (!strcasecmp(name, "algorithm")) {
            out->algorithm = value;
        }
        else if (!strcasecmp(name, "qop")) {
            const char *q;

            for (q = value; (q = strstr(q, "auth")) != NULL; q += 4) {
                if ((q == value || q[-1] == ',' || q[-1] == ' ')
                    && (q[4] == '\0' || q[4] == ',' || q[4] == ' ')) {
                    out->qop_auth = 1;
                }
            }
        }
    }
    if (!out->realm || !out->nonce
        || (out->algorithm && strcasecmp(out->algorithm, "MD5"))
        || !sip_safe_value(out->realm) || !sip_safe_value(out->nonce)
        || !sip_safe_value(out->opaque)) {
        return -1;
    }
    return 0;
}

static const char *sip_md5_hex(apr_pool_t *pool, const char *text)
{
    return polycom_md5_hex(pool, text, strlen(text));
}

const char *polycom_sip_digest(apr_pool_t *pool,
                               const polycom_sip_challenge *c,
                               const char *user, const char *password,
                               const char *method, const char *uri,
                               const char *cnonce, unsigned int nc)
{
    const char *ha1 = sip_md5_hex(pool, apr_pstrcat(pool, user, ":",
                                                    c->realm, ":", password,
                                                    NULL));
    const char *ha2 = sip_md5_hex(pool, apr_pstrcat(pool, method, ":", uri,
                                                    NULL));
    const char *nc_text = apr_psprintf(pool, "%08x", nc);
    const char *response, *header;

    if (c->qop_auth) {
        response = sip_md5_hex(pool, apr_pstrcat(pool, ha1, ":", c->nonce,
                                                 ":", nc_text, ":", cnonce,
                                                 ":auth:", ha2, NULL));
    }
    else {
        response = sip_md5_hex(pool, apr_pstrcat(pool, ha1, ":", c->nonce,
                                                 ":", ha2, NULL));
    }
    header = apr_psprintf(pool, "Digest username=\"%s\", realm=\"%s\", "
                          "nonce=\"%s\", uri=\"%s\", response=\"%s\", "
                          "algorithm=MD5", user, c->realm, c->nonce, uri,
                          response);
    if (c->qop_auth) {
        header = apr_psprintf(pool, "%s, qop=auth, nc=%s, cnonce=\"%s\"",
                              header, nc_text, cnonce);
    }
    if (c->opaque) {
        header = apr_psprintf(pool, "%s, opaque=\"%s\"", header, c->opaque);
    }
    return header;
}

/* The ;name=value parameter of a URI's parameters (between its host part
 * and any header part), or NULL. */
static const char *sip_uri_param(apr_pool_t *pool, const char *params,
                                 const char *name)
{
    apr_size_t len = strlen(name);
    const char *p;

    for (p = params; p && (p = strchr(p, ';')) != NULL; p++) {
        if (!strncasecmp(p + 1, name, len) && p[1 + len] == '=') {
            return apr_pstrndup(pool, p + 2 + len, strcspn(p + 2 + len,
                                                           ";?>"));
        }
    }
    return NULL;
}

int polycom_sip_contact_parse(apr_pool_t *pool, const char *text,
                              polycom_sip_contact *out)
{
    const char *uri, *rest, *hostpart, *end, *at, *transport, *p;
    apr_size_t len;
    int tls = 0;

    memset(out, 0, sizeof(*out));
    if (!text) {
        return -1;
    }
    for (p = text; *p; p++) {
        if (apr_iscntrl(*p)) {
            return -1;          /* a line break would add a header */
        }
    }
    if ((p = strchr(text, '<')) != NULL) {          /* name-addr */
        end = strchr(p, '>');
        if (!end) {
            return -1;
        }
        uri = apr_pstrmemdup(pool, p + 1, (apr_size_t)(end - p - 1));
    }
    else {                      /* addr-spec: its parameters end at ';' */
        uri = sip_trim(pool, text, strlen(text));
    }
    if (!strncasecmp(uri, "sips:", 5)) {
        tls = 1;
        rest = uri + 5;
    }
    else if (!strncasecmp(uri, "sip:", 4)) {
        rest = uri + 4;
    }
    else {
        rest = uri;             /* host:port, as a received column holds */
        uri = apr_pstrcat(pool, "sip:", uri, NULL);
    }
    at = strchr(rest, '@');
    hostpart = at && at < rest + strcspn(rest, ";?") ? at + 1 : rest;
    if (*hostpart == '[') {                         /* IPv6 reference */
        end = strchr(hostpart, ']');
        if (!end) {
            return -1;
        }
        out->host = apr_pstrmemdup(pool, hostpart + 1,
                                   (apr_size_t)(end - hostpart - 1));
        end++;
    }
    else {
        len = strcspn(hostpart, ":;?>");
        out->host = apr_pstrmemdup(pool, hostpart, len);
        end = hostpart + len;
    }
    out->port = 0;
    if (*end == ':') {
        char *stop;
        apr_int64_t port = apr_strtoi64(end + 1, &stop, 10);

        if (stop == end + 1 || port < 1 || port > 65535) {
            return -1;
        }
        out->port = (int)port;
        end = stop;
    }
    if (!*out->host || strpbrk(out->host, " \t\"<>@")) {
        return -1;
    }
    transport = sip_uri_param(pool, end, "transport");
    out->transport = tls ? POLYCOM_SIP_TLS
                         : transport ? polycom_sip_transport(transport)
                                     : POLYCOM_SIP_UDP;
    if (out->transport < 0) {
        return -1;
    }
    if (!out->port) {           /* the transport's own (RFC 3263 4.2) */
        out->port = out->transport == POLYCOM_SIP_TLS ? 5061 : 5060;
    }
    if (*end && *end != ';' && *end != '?' && *end != '>') {
        return -1;
    }
    out->uri = uri;
    return 0;
}
