/*
 * nts.c - NTS-KE endpoints (RFC 8915) of NTS-capable servers and the SRV
 * records that name them (RFC 2782), as the NTS pool's "srv-pool.md" has
 * clients find servers: an SRV lookup under the pool's name, RFC 2782's
 * weighted ordering, then TLS to the target host and port.
 *
 * Endpoints. Several servers may share one NTS-KE endpoint (host, port): a
 * dual-stack host listed once per address, or a key-exchange front for a
 * group of NTP servers. A client that the SRV answer sends to the endpoint
 * gets NTP service from the servers behind it, so the endpoint carries the
 * load that the classic pool would have sent to each of them: its weight in
 * a zone is the SUM of the weights of its eligible servers in that zone (the
 * maximum would starve a front for many servers; a mean would favour small
 * ones). One SRV record per endpoint: a client gains nothing from seeing the
 * same target twice, and two records would double its share.
 *
 * Built once per snapshot, next to pool.c's tables, in the same layout, so
 * select.c draws endpoints with the same exact sampling without
 * replacement: pool_table() returns these tables for family ZONE_NTS.
 */
#include <stdlib.h>
#include <string.h>

#include "pool_int.h"

/* ---- host names -------------------------------------------------------- */

static bool nts_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-';
}

/* One label of text[0..n): LDH, 1..63 bytes, no hyphen at either end. */
static const char *nts_label(const char *text, size_t n, bool *digits)
{
    *digits = true;
    if (n == 0)
        return "empty label";
    if (n > 63)
        return "label longer than 63 bytes";
    if (text[0] == '-' || text[n - 1] == '-')
        return "label starts or ends with '-'";
    for (size_t i = 0; i < n; i++) {
        if (!nts_ldh(text[i]))
            return "not a host name (letters, digits, '-' and dots only)";
        *digits = *digits && text[i] >= '0' && text[i] <= '9';
    }
    return NULL;
}

int zone_nts_host_parse(const char *text, size_t len, uint8_t lname[255],
                        size_t *lname_len, const char **why)
{
    size_t at = 0, start = 0;
    bool digits = false;

    if (len > 0 && text[len - 1] == '.')
        len--; /* a FQDN as a zone file writes it */
    *why = NULL;
    if (len == 0)
        *why = "empty host name (the root is no SRV target: RFC 2782)";
    for (size_t i = 0; i <= len && !*why; i++) {
        if (i < len && text[i] != '.')
            continue;
        *why = nts_label(text + start, i - start, &digits);
        if (!*why && at + 1 + (i - start) + 1 > 255)
            *why = "longer than 255 bytes in wire form";
        if (*why)
            break;
        lname[at] = (uint8_t)(i - start);
        for (size_t k = start; k < i; k++) {
            char c = text[k];
            lname[at + 1 + k - start] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        at += 1 + (i - start);
        start = i + 1;
    }
    if (!*why && digits)
        *why = "last label is all digits: an address, not a host name";
    if (*why)
        return -1;
    lname[at++] = 0;
    *lname_len = at;
    return 0;
}

int zone_snapshot_set_nts(zone_snapshot_t *snap, zone_server_t *srv, const uint8_t *lname,
                          size_t len, uint16_t port)
{
    if (snap->nts_cap - snap->nts_len < len) {
        size_t cap = snap->nts_cap ? snap->nts_cap * 2 : 4096;
        while (cap - snap->nts_len < len)
            cap *= 2;
        uint8_t *p = realloc(snap->nts_names, cap);
        if (!p)
            return -1;
        snap->nts_names = p;
        snap->nts_cap = cap;
    }
    memcpy(snap->nts_names + snap->nts_len, lname, len);
    srv->nts_host = (uint32_t)snap->nts_len;
    srv->nts_port = port;
    snap->nts_len += len;
    return 0;
}

const uint8_t *zone_server_nts_host(const zone_snapshot_t *snap, const zone_server_t *srv,
                                    size_t *len)
{
    if (!srv->nts_port || !snap->nts_names)
        return NULL;
    const uint8_t *p = snap->nts_names + srv->nts_host;
    size_t n = 0;
    while (p[n])
        n += 1u + p[n];
    *len = n + 1;
    return p;
}

zone_snapshot_t *zone_snapshot_dup(const zone_snapshot_t *s)
{
    zone_snapshot_t *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    *c = *s;
    c->servers = malloc((s->n_servers ? s->n_servers : 1) * sizeof *c->servers);
    c->nts_names = malloc(s->nts_len ? s->nts_len : 1);
    c->nts_cap = s->nts_len;
    if (!c->servers || !c->nts_names) {
        zone_snapshot_free(c);
        return NULL;
    }
    memcpy(c->servers, s->servers, s->n_servers * sizeof *c->servers);
    if (s->nts_len)
        memcpy(c->nts_names, s->nts_names, s->nts_len);
    return c;
}
