/*
 * fuzz_demand.c - the demand table reader (zones/demand.c, strict JSON) on
 * arbitrary bytes. The buffer is exactly the input (no NUL), so any read past
 * its end is an ASan report.
 *
 * Invariants: failure adds at least one message, each "fuzz.json:LINE:COL: ...";
 * success leaves every rate finite and >= 0, and the solver accepts the table
 * as demand.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/balance.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

#define FD_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_demand: invariant broken: %s (line %d)\n", #cond,      \
                    __LINE__);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    static zone_demand_t t;
    zone_errors_t errs;
    char *buf = malloc(len ? len : 1);

    if (!buf)
        abort();
    memcpy(buf, in, len);
    zone_errors_init(&errs);
    if (zone_demand_parse("fuzz.json", buf, len, &t, &errs) == 0) {
        FD_CHECK(errs.n == 0);
        double d[ZONE_ID_MAX];
        for (int z = 0; z < ZONE_ID_MAX; z++) {
            for (int f = 0; f < ZONE_BAL_FAMILIES; f++)
                FD_CHECK(isfinite(t.rate[z][f]) && t.rate[z][f] >= 0);
            d[z] = t.rate[z][0];
        }
        /* A tiny problem: any valid table is valid demand for the solver. */
        int next[ZONE_ID_MAX];
        next[0] = -1;
        for (int z = 1; z < ZONE_ID_MAX; z++)
            next[z] = 0;
        zone_bal_t *b = zone_bal_new(zone_id_count(), next);
        int de = zone_id_lookup("de", 2);
        static zone_bal_zone_t zones[ZONE_ID_MAX];
        zone_bal_result_t res = {.zones = zones};
        FD_CHECK(b && zone_bal_add(b, 10, &de, NULL, 1) == 0 &&
                 zone_bal_add(b, 90, NULL, NULL, 0) == 0);
        FD_CHECK(zone_bal_solve(b, d, NULL, 2.0, &res) == 0);
        FD_CHECK(res.worst_with <= 2.0 * (1 + 1e-6) || res.fallback);
        zone_bal_free(b);
    } else {
        FD_CHECK(errs.n + errs.dropped >= 1);
        for (size_t i = 0; i < errs.n; i++)
            FD_CHECK(strncmp(errs.msgs[i], "fuzz.json:", 10) == 0);
    }
    zone_errors_deinit(&errs);
    free(buf);
    return 0;
}
