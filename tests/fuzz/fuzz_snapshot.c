/*
 * fuzz_snapshot.c - the strict JSON reader (zones/json.c) and the snapshot
 * parser and validator over it (zones/snapshot.c) on arbitrary bytes; an
 * accepted snapshot is then turned into a pool (zones/pool.c) and drawn from
 * (zones/select.c) with a fixed-seed RNG for every zone of a few walks, both
 * families and all quarters.
 *
 * Invariants (abort() when broken): the reader returns at most one token per
 * input byte before END or ERROR (linear), never nests past ZONE_JSON_DEPTH,
 * balances brackets at END, hands out strings without NULs, places errors at
 * line and column >= 1 and keeps returning ERROR after one; the snapshot is
 * accepted only if the reader reads the whole input, and a reader error is
 * reported as a syntax error. Failure leaves *out NULL and at least one
 * message; success leaves none; every pick is distinct, eligible and of the
 * family asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/zones.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

#define FS_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_snapshot: invariant broken: %s (line %d)\n", #cond,    \
                    __LINE__);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static const zone_pool_params_t fs_params = {.min_score = 10, .full_score = 15};

/* Whether srv is in a zone of the walk that is not split (< 8 eligible). */
static bool fs_in_unsplit(const zone_pool_t *pool, const zone_server_t *srv,
                          const int *walk, size_t n_walk, int family)
{
    for (size_t w = 0; w < n_walk; w++) {
        unsigned total, eligible;
        zone_pool_counts(pool, walk[w], family, &total, &eligible);
        if (eligible >= 8)
            continue;
        if (walk[w] == ZONE_GLOBAL)
            return true;
        for (size_t k = 0; k < srv->n_zones; k++)
            if (srv->zones[k] == walk[w])
                return true;
    }
    return false;
}

static void fs_picks(const zone_pool_t *pool, const int *walk, size_t n_walk, int family,
                     int quarter, zone_rng_t *rng)
{
    zone_pick_t pick;
    size_t want = 1 + zone_rng_below(rng, ZONE_PICK_MAX);
    size_t n = zone_pool_pick(pool, family, quarter, walk, n_walk, want, rng, &pick);

    FS_CHECK(n == pick.n && n <= want);
    FS_CHECK((n == 0) == (pick.zone == -1));
    for (size_t i = 0; i < n; i++) {
        FS_CHECK(pick.srv[i]->family == family);
        FS_CHECK(zone_weight(pick.srv[i], &fs_params) > 0);
        /* Numbered names stay disjoint across the walk (zones.h). */
        FS_CHECK(quarter < 0 || zone_pool_quarter(pool, pick.srv[i]) == quarter ||
                 fs_in_unsplit(pool, pick.srv[i], walk, n_walk, family));
        for (size_t j = 0; j < i; j++)
            FS_CHECK(pick.srv[i] != pick.srv[j]);
    }
}

/* NTS endpoints: distinct (host, port) with NTS and weight, SRV RDATA that is
 * 6 bytes and the host, weights 1..65535 with the largest at 65535. */
static void fs_nts_picks(const zone_pool_t *pool, const int *walk, size_t n_walk,
                         zone_rng_t *rng)
{
    const zone_snapshot_t *snap = zone_pool_snapshot(pool);
    zone_pick_t pick;
    uint16_t w[ZONE_PICK_MAX];
    uint8_t rd[6 + 255];
    size_t n = zone_pool_pick(pool, ZONE_NTS, -1, walk, n_walk, 8, rng, &pick), len;

    zone_srv_weights(pick.weight, n, w);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *host = zone_server_nts_host(snap, pick.srv[i], &len);
        FS_CHECK(host && pick.srv[i]->nts_port && pick.weight[i] > 0 && w[i] >= 1);
        FS_CHECK(zone_srv_rdata(snap, pick.srv[i], w[i], rd) == 6 + len);
        for (size_t j = 0; j < i; j++) {
            size_t l2;
            const uint8_t *h2 = zone_server_nts_host(snap, pick.srv[j], &l2);
            FS_CHECK(pick.srv[j]->nts_port != pick.srv[i]->nts_port || l2 != len ||
                     memcmp(h2, host, len) != 0);
        }
    }
    bool top = n == 0;
    for (size_t i = 0; i < n; i++)
        top |= w[i] == 65535;
    FS_CHECK(top);
    FS_CHECK(zone_pool_pick(pool, ZONE_NTS, 0, walk, n_walk, 8, rng, &pick) == 0);
}

static void fs_pool(zone_snapshot_t *snap)
{
    /* The servers' own zones first, then a few fixed ones. */
    int ids[12] = {ZONE_GLOBAL, ZONE_EUROPE, zone_id_lookup("de", 2),
                   zone_id_lookup("uk", 2)};
    size_t n_ids = 4;
    for (size_t i = 0; i < snap->n_servers && n_ids < 12; i++)
        if (snap->servers[i].n_zones)
            ids[n_ids++] = snap->servers[i].zones[0];

    zone_pool_t *pool = zone_pool_new(snap, &fs_params);
    if (!pool)
        return;
    zone_rng_t rng;
    zone_rng_seed(&rng, 42);
    for (size_t i = 0; i < n_ids; i++) {
        int walk[3];
        size_t n_walk = zone_walk(ids[i], walk);
        FS_CHECK(n_walk >= 1 && n_walk <= 3);
        for (int fam = 4; fam <= 6; fam += 2)
            for (int quarter = -1; quarter < 4; quarter++)
                fs_picks(pool, walk, n_walk, fam, quarter, &rng);
        fs_nts_picks(pool, walk, n_walk, &rng);
        unsigned total, eligible;
        zone_pool_counts(pool, ids[i], 4, &total, &eligible);
        FS_CHECK(eligible <= total);
    }
    zone_pool_free(pool);
}

/* The reader alone; returns its last token type (END or ERROR). */
static int fs_reader(const char *buf, size_t len)
{
    zone_json_t j;
    zone_json_token_t t;
    unsigned depth = 0;
    size_t n = 0;
    int type;

    zone_json_init(&j, buf, len, ZONE_JSON_DEPTH);
    while ((type = zone_json_next(&j, &t)) > 0) {
        FS_CHECK(++n <= len);
        FS_CHECK(t.line >= 1 && t.col >= 1);
        if (type == ZONE_JSON_OBJECT || type == ZONE_JSON_ARRAY)
            FS_CHECK(++depth <= ZONE_JSON_DEPTH);
        else if (type == ZONE_JSON_OBJECT_END || type == ZONE_JSON_ARRAY_END)
            FS_CHECK(depth-- > 0);
        else if (type == ZONE_JSON_KEY || type == ZONE_JSON_STRING)
            FS_CHECK(strlen(t.text) == t.len);
    }
    if (type == ZONE_JSON_END)
        FS_CHECK(depth == 0 && zone_json_next(&j, &t) == ZONE_JSON_END);
    else
        FS_CHECK(type == ZONE_JSON_ERROR && j.err[0] && j.err_line >= 1 &&
                 j.err_col >= 1 && zone_json_next(&j, &t) == ZONE_JSON_ERROR);
    zone_json_deinit(&j);
    return type;
}

static bool fs_has(const zone_errors_t *e, const char *needle)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], needle))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    zone_errors_t errs;
    zone_snapshot_t *snap = NULL;
    /* An exact-size copy without a NUL: the parser must respect len. */
    char *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    memcpy(buf, in, len);
    int read = fs_reader(buf, len);
    zone_errors_init(&errs);
    int rc = zone_snapshot_parse("fuzz.json", buf, len, &snap, &errs);
    /* A reader error is the scan's last message (unless the list was full). */
    if (read == ZONE_JSON_ERROR && errs.n < ZONE_ERRORS_KEEP)
        FS_CHECK(fs_has(&errs, "syntax error: ") || fs_has(&errs, "empty snapshot"));
    if (rc == 0) {
        FS_CHECK(read == ZONE_JSON_END);
        FS_CHECK(snap && errs.n == 0 && errs.dropped == 0);
        for (size_t i = 0; i < snap->n_servers; i++)
            FS_CHECK(snap->servers[i].family == 4 || snap->servers[i].family == 6);
        fs_pool(snap);
    } else {
        FS_CHECK(rc == -1 && !snap && errs.n > 0);
    }
    zone_errors_deinit(&errs);
    free(buf);
    return 0;
}
