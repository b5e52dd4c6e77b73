/*
 * metrics_req.c - the request head of the /metrics responder (RFC 9112
 * sections 2-5; see metrics.h). Pure, so it is unit-tested and fuzzed
 * without a socket.
 */
#include <stdio.h>
#include <string.h>

#include "dnsd/control/metrics.h"

/* tchar (RFC 9110 section 5.6.2) */
static bool metrics_req_tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Length of the head including its empty line, or 0 if not complete. */
static size_t metrics_req_head_len(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* One line [p, end) without its line end. Request line: method SP target SP
 * version; returns the result it decides, METRICS_REQ_MORE if fine so far. */
static metrics_req_t metrics_req_line(const uint8_t *p, const uint8_t *end,
                                      metrics_request_t *req)
{
    const uint8_t *m = p;
    while (p < end && metrics_req_tchar(*p))
        p++;
    size_t mlen = (size_t)(p - m);
    if (mlen == 0 || p == end || *p++ != ' ')
        return METRICS_REQ_BAD_REQUEST;
    const uint8_t *t = p;
    while (p<end && * p> ' ' && *p < 0x7f)
        p++;
    size_t tlen = (size_t)(p - t);
    if (tlen == 0 || *t != '/' || p == end || *p++ != ' ')
        return METRICS_REQ_BAD_REQUEST;
    size_t vlen = (size_t)(end - p);
    if (vlen < 5 || memcmp(p, "HTTP/", 5) != 0)
        return METRICS_REQ_BAD_REQUEST;
    if (vlen != 8 || (memcmp(p, "HTTP/1.1", 8) != 0 && memcmp(p, "HTTP/1.0", 8) != 0))
        return METRICS_REQ_BAD_VERSION;
    req->head = mlen == 4 && memcmp(m, "HEAD", 4) == 0;
    if (!req->head && !(mlen == 3 && memcmp(m, "GET", 3) == 0))
        return METRICS_REQ_BAD_METHOD;
    size_t plen = 0;
    while (plen < tlen && t[plen] != '?')
        plen++;
    if (plen == 8 && memcmp(t, "/metrics", 8) == 0)
        return METRICS_REQ_METRICS;
    return METRICS_REQ_NOT_FOUND;
}

/* A header field line: name ":" value, no control bytes but HTAB. */
static bool metrics_req_header_line(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *n = p;
    while (p < end && metrics_req_tchar(*p))
        p++;
    if (p == n || p == end || *p != ':')
        return false;
    for (p++; p < end; p++)
        if ((*p < ' ' && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

void metrics_req_parse(const uint8_t *buf, size_t len, size_t max, metrics_request_t *req)
{
    req->head = false;
    size_t hl = metrics_req_head_len(buf, len < max ? len : max);
    if (hl == 0) {
        req->result = len >= max ? METRICS_REQ_TOO_LARGE : METRICS_REQ_MORE;
        return;
    }
    const uint8_t *p = buf, *end = buf + hl;
    metrics_req_t r = METRICS_REQ_MORE;
    for (bool first = true; p < end;) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == p) /* the empty line */
            break;
        if (first)
            r = metrics_req_line(p, le, req);
        else if (!metrics_req_header_line(p, le))
            r = METRICS_REQ_BAD_REQUEST;
        first = false;
        p = nl + 1;
        if (r == METRICS_REQ_BAD_REQUEST)
            break;
    }
    req->result = r == METRICS_REQ_MORE ? METRICS_REQ_BAD_REQUEST : r;
}

int metrics_req_status(metrics_req_t r)
{
    switch (r) {
    case METRICS_REQ_METRICS:
        return 200;
    case METRICS_REQ_NOT_FOUND:
        return 404;
    case METRICS_REQ_BAD_METHOD:
        return 405;
    case METRICS_REQ_TOO_LARGE:
        return 431;
    case METRICS_REQ_BAD_VERSION:
        return 505;
    default:
        return 400;
    }
}

const char *metrics_req_error_body(metrics_req_t r)
{
    switch (r) {
    case METRICS_REQ_METRICS:
        return "OK\n";
    case METRICS_REQ_NOT_FOUND:
        return "Not Found\n";
    case METRICS_REQ_BAD_METHOD:
        return "Method Not Allowed\n";
    case METRICS_REQ_TOO_LARGE:
        return "Request Header Fields Too Large\n";
    case METRICS_REQ_BAD_VERSION:
        return "HTTP Version Not Supported\n";
    default:
        return "Bad Request\n";
    }
}

size_t metrics_req_head(metrics_req_t r, size_t body_len, char *hdr, size_t cap)
{
    const char *reason = metrics_req_error_body(r);
    int n = snprintf(hdr, cap,
                     "HTTP/1.1 %d %.*s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     metrics_req_status(r), (int)strlen(reason) - 1, reason,
                     r == METRICS_REQ_METRICS ? "text/plain; version=0.0.4; charset=utf-8"
                                              : "text/plain; charset=utf-8",
                     body_len, r == METRICS_REQ_BAD_METHOD ? "Allow: GET, HEAD\r\n" : "");
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
