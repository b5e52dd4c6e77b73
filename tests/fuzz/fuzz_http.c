/*
 * fuzz_http.c - the /metrics responder's request parser
 * (dnsd/control/metrics_req.c), fed as the responder feeds it: the bytes
 * received so far, growing, against the 8 KiB head limit or a small one; and
 * the family table's two renderers (metrics.c), Prometheus and STATS JSON,
 * with zone names and counters taken from the input.
 *
 * Input: byte 0 picks the head limit (bit 0: 8192 or 64) and the read sizes
 * (bits 1-7), the rest is the stream. Invariants abort(): once a prefix gets
 * an answer, every longer input gets the same one (the head is decided by
 * its own bytes); MORE only below the limit; every answer has a response
 * head that fits the responder's 256-byte buffer and names its status; the
 * rendered page is lines of "# ..." or "dnsd_NAME[{...}] VALUE" whatever the
 * label bytes, with every quote inside a label escaped; STATS is one JSON
 * object whose braces balance outside its strings; only a HEAD request is
 * answered without a body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd/control/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

#define FH_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_http: invariant broken: %s (line %d)\n", #cond,        \
                    __LINE__);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static void fh_parse(const uint8_t *p, size_t n, size_t max, size_t step)
{
    metrics_request_t first = {METRICS_REQ_MORE, false};
    size_t got = 0;
    for (size_t k = 0; k <= n; k += step) {
        metrics_request_t r;
        metrics_req_parse(p, k, max, &r);
        if (r.result == METRICS_REQ_MORE) {
            FH_CHECK(first.result == METRICS_REQ_MORE);
            FH_CHECK(k < max);
            continue;
        }
        if (first.result == METRICS_REQ_MORE) {
            first = r;
            got = k;
        }
        FH_CHECK(r.result == first.result && r.head == first.head);
        char hdr[256], want[16];
        size_t hl = metrics_req_head(r.result, 123456, hdr, sizeof hdr);
        FH_CHECK(hl > 0 && hl == strlen(hdr));
        snprintf(want, sizeof want, "HTTP/1.1 %d ", metrics_req_status(r.result));
        FH_CHECK(strncmp(hdr, want, strlen(want)) == 0);
        FH_CHECK(strstr(hdr, "\r\n\r\n") == hdr + hl - 4);
        FH_CHECK(!r.head || (k >= 5 && memcmp(p, "HEAD ", 5) == 0));
    }
    (void)got;
}

/* One label value: everything between the quotes must be escaped text. */
static void fh_check_labels(const char *l, const char *end)
{
    for (const char *p = l; p < end; p++) {
        if (*p != '"')
            continue;
        for (p++; p < end && *p != '"'; p++)
            if (*p == '\\') {
                p++;
                FH_CHECK(p < end && (*p == '\\' || *p == '"' || *p == 'n'));
            }
        FH_CHECK(p < end);
    }
}

/* STATS: one object whose braces balance outside its (escaped) strings. */
static void fh_check_json(const metrics_snap_t *s)
{
    strbuf_t b = {0};
    metrics_render_json((const metrics_table_t *const[]){&metrics_core}, 1, s, &b);
    char *out = strbuf_take(&b);
    if (!out)
        return;
    int depth = 0;
    bool in_str = false;
    for (const char *p = out; *p; p++) {
        if (in_str && *p == '\\')
            FH_CHECK(*++p != '\0');
        else if (*p == '"')
            in_str = !in_str;
        else if (!in_str)
            depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
        FH_CHECK(depth >= 0 && (depth > 0 || p[1] == '\0'));
    }
    FH_CHECK(depth == 0 && !in_str && out[0] == '{');
    free(out);
}

static void fh_render(const uint8_t *p, size_t n)
{
    static stat_counters_t st;
    char names[3][64];
    metrics_origin_t o[3];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 3; i++) {
        size_t k = n > (size_t)i * 40 ? n - (size_t)i * 40 : 0;
        k = k < sizeof names[i] - 1 ? k : sizeof names[i] - 1;
        memcpy(names[i], p + (n - k), k);
        names[i][k] = '\0';
        for (size_t j = 0; j < k; j++)
            if (!names[i][j])
                names[i][j] = 'x';
        o[i].name = names[i];
        o[i].has_pool = k & 1;
        o[i].serial = k * 7919;
        o[i].snapshot_time = (double)k * 1e8 + 0.5;
    }
    memset(&st, 0, sizeof st);
    memcpy(&st, p, n < sizeof st ? n : sizeof st);
    metrics_label_count_t fr[1] = {{names[0], 3}};
    metrics_snap_t s = {.version = names[1],
                        .workers = n,
                        .st = &st,
                        .origins = o,
                        .n_origins = 3,
                        .frames_refused = fr,
                        .n_frames_refused = 1};
    metrics_hist_observe(&s.push_duration[n & 1], (double)n / 100);
    char *out = NULL;
    size_t len = 0;
    if (metrics_render((const metrics_table_t *const[]){&metrics_core}, 1, &s, &out,
                       &len) != 0)
        return;
    FH_CHECK(len == strlen(out) && len > 0 && out[len - 1] == '\n');
    for (char *l = out; *l;) {
        char *nl = strchr(l, '\n');
        FH_CHECK(nl != NULL);
        if (*l != '#') {
            FH_CHECK(strncmp(l, "dnsd_", 5) == 0);
            fh_check_labels(l, nl);
            char *sp = nl;
            while (sp > l && sp[-1] != ' ')
                sp--;
            FH_CHECK(sp > l && sp < nl);
        }
        l = nl + 1;
    }
    free(out);
    fh_check_json(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    if (len < 1)
        return 0;
    size_t max = (in[0] & 1) ? 64 : 8192;
    size_t step = 1 + (in[0] >> 1);
    fh_parse(in + 1, len - 1, max, step);
    fh_parse(in + 1, len - 1, max, len);
    fh_render(in + 1, len - 1);
    return 0;
}
