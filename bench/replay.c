/*
 * replay.c - dnsd-replay: answers a dnsperf query file in-process, through
 * the same srv_data_new() and answer_respond() the daemon uses, with no socket.
 *
 *   dnsd-replay -c CONFIG -d QUERYFILE [-n PASSES] [-s SRC]... [-D]
 *
 * Queries are built once (plain DNS, no EDNS, as dnsperf sends them by
 * default; with -D an OPT record with the DO bit, as dnsperf -D); query i comes from
 * source address i mod (number of -s), so the GeoIP lookup sees the bench's mapped and
 * unmapped clients. The RNG has a fixed seed, so the instruction count is the same on
 * every run:
 *
 *   valgrind --tool=callgrind --toggle-collect=replay_run dnsd-replay ...
 *
 * counts only replay_run(), i.e. the query path, not the loading. Prints the
 * queries answered, the RCODE counts and the wall time per query (meaningless
 * under valgrind; a rough figure otherwise). Exits 1 unless every query got
 * an answer.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dnsd/query/answer.h"
#include "config/cfg.h"
#include "dnsd/data/data.h"

#define REPLAY_MAX_SRC 16
#define REPLAY_QMAX 300 /* header + 255-byte name + type and class, rounded up */

typedef struct replay_query {
    uint8_t wire[REPLAY_QMAX];
    size_t len;
} replay_query_t;

typedef struct replay {
    replay_query_t *q;
    size_t n, cap;
    struct sockaddr_storage src[REPLAY_MAX_SRC];
    size_t n_src;
    uint64_t rcode[16];
    uint64_t unanswered;
} replay_t;

static const struct {
    const char *name;
    uint16_t type;
} replay_types[] = {{"A", 1},   {"NS", 2},   {"CNAME", 5}, {"SOA", 6},  {"PTR", 12},
                    {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255}};

static int replay_type(const char *s)
{
    for (size_t i = 0; i < sizeof(replay_types) / sizeof(replay_types[0]); i++)
        if (strcasecmp(s, replay_types[i].name) == 0)
            return replay_types[i].type;
    return -1;
}

/* "0.pool.ntp.org" -> length-prefixed labels; returns the wire length or 0. */
static size_t replay_name(const char *name, uint8_t *out)
{
    size_t n = 0;
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        if (l == 0 || l > 63 || n + l + 2 > 255)
            return 0;
        out[n++] = (uint8_t)l;
        memcpy(out + n, name, l);
        n += l;
        name += l + (dot ? 1 : 0);
    }
    out[n++] = 0;
    return n;
}

static bool replay_do; /* -D: EDNS with the DO bit (RFC 3225) */

static int replay_add(replay_t *r, const char *name, int type, uint16_t id)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        replay_query_t *q = realloc(r->q, cap * sizeof(*q));
        if (!q)
            return -1;
        r->q = q;
        r->cap = cap;
    }
    replay_query_t *q = &r->q[r->n];
    uint8_t *p = q->wire;
    memset(p, 0, 12);
    p[0] = (uint8_t)(id >> 8);
    p[1] = (uint8_t)id;
    p[5] = 1; /* QDCOUNT */
    size_t nl = replay_name(name, p + 12);
    if (!nl)
        return -1;
    p += 12 + nl;
    *p++ = (uint8_t)(type >> 8);
    *p++ = (uint8_t)type;
    *p++ = 0;
    *p++ = 1;        /* class IN */
    if (replay_do) { /* root, OPT, 1232, TTL 0 0 DO 0, RDLENGTH 0 */
        static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0};
        memcpy(p, opt, sizeof opt);
        p += sizeof opt;
        q->wire[11] = 1; /* ARCOUNT */
    }
    q->len = (size_t)(p - q->wire);
    r->n++;
    return 0;
}

/* dnsperf's format: "name type" per line; blank lines and '#' comments skipped. */
static int replay_load(replay_t *r, const char *path)
{
    char line[512], name[300], type[32];
    unsigned lineno = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        int t = -1;
        if (sscanf(line, "%299s %31s", name, type) != 2 || (t = replay_type(type)) < 0 ||
            replay_add(r, name, t, (uint16_t)lineno) != 0) {
            fprintf(stderr, "%s:%u: cannot use \"%.*s\"\n", path, lineno,
                    (int)strcspn(line, "\r\n"), line);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    if (!r->n)
        fprintf(stderr, "%s: no queries\n", path);
    return r->n ? 0 : -1;
}

static int replay_source(replay_t *r, const char *text)
{
    struct sockaddr_storage *ss = &r->src[r->n_src];
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (r->n_src == REPLAY_MAX_SRC)
        return -1;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(40000);
    } else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(40000);
    } else {
        return -1;
    }
    r->n_src++;
    return 0;
}

/* The measured part: only answer_respond() and the RCODE tally. Not inlined, so
 * callgrind's --toggle-collect can name it. */
__attribute__((noinline)) void replay_run(replay_t *r, answer_ctx_t *ctx,
                                          const srv_data_t *d, unsigned passes);
__attribute__((noinline)) void replay_run(replay_t *r, answer_ctx_t *ctx,
                                          const srv_data_t *d, unsigned passes)
{
    static uint8_t out[ANSWER_BUF_SIZE];
    for (unsigned p = 0; p < passes; p++) {
        for (size_t i = 0; i < r->n; i++) {
            const struct sockaddr *src = (const struct sockaddr *)&r->src[i % r->n_src];
            size_t len = answer_respond(ctx, d, r->q[i].wire, r->q[i].len, src,
                                        ANSWER_UDP, out, sizeof out);
            if (len < 12)
                r->unanswered++;
            else
                r->rcode[out[3] & 0x0f]++;
        }
    }
}

static void replay_report(const replay_t *r, unsigned passes, double secs)
{
    static const char *names[16] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                    "NXDOMAIN", "NOTIMP",  "REFUSED"};
    uint64_t total = (uint64_t)r->n * passes;
    printf("queries %llu (%zu x %u passes), sources %zu\n", (unsigned long long)total,
           r->n, passes, r->n_src);
    printf("rcodes:");
    for (int i = 0; i < 16; i++)
        if (r->rcode[i])
            printf(" %s %llu", names[i] ? names[i] : "other",
                   (unsigned long long)r->rcode[i]);
    printf("; unanswered %llu\n", (unsigned long long)r->unanswered);
    printf("wall %.1f ns/query\n", secs * 1e9 / (double)total);
}

static int replay_usage(void)
{
    fputs("usage: dnsd-replay -c CONFIG -d QUERYFILE [-n PASSES] [-s SRC]... [-D]\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *config = NULL, *queries = NULL;
    unsigned passes = 1;
    replay_t r = {0};
    cfg_t cfg = {0};
    srv_data_t *data = NULL;
    stat_counters_t stats = {0};
    answer_ctx_t ctx = {.stats = &stats};
    char err[CFG_ERR_MAX];
    struct timespec t0, t1;
    int opt, rc = 1;

    while ((opt = getopt(argc, argv, "c:d:n:s:D")) != -1) {
        if (opt == 'D')
            replay_do = true;
        else if (opt == 'c')
            config = optarg;
        else if (opt == 'd')
            queries = optarg;
        else if (opt == 'n' && atoi(optarg) > 0)
            passes = (unsigned)atoi(optarg);
        else if (opt == 's' && replay_source(&r, optarg) == 0)
            continue;
        else
            return replay_usage();
    }
    if (!config || !queries || optind != argc)
        return replay_usage();
    if (!r.n_src && replay_source(&r, "127.0.0.1") != 0)
        return 1;
    if (replay_load(&r, queries) != 0)
        goto fail;
    if (cfg_load(&cfg, config, err, sizeof err) != 0 ||
        !(data = srv_data_new(&cfg, err, sizeof err))) {
        fprintf(stderr, "%s\n", err);
        goto fail;
    }
    zone_rng_seed(&ctx.rng, 2026);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    replay_run(&r, &ctx, data, passes);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    replay_report(&r, passes,
                  (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    rc = r.unanswered ? 1 : 0;
fail:
    srv_data_free(data);
    cfg_deinit(&cfg);
    free(r.q);
    return rc;
}
