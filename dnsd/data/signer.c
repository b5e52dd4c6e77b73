/*
 * signer.c - the DNSSEC signer thread.
 *
 * Every SIGNER_TICK_MS it reads the served data under RCU (a QSBR
 * reader, like the workers), re-signs the static data of an origin whose
 * earliest signature expires within `refresh`, and replaces the next batch
 * of pool answer sets of every origin, sized so that every set is redrawn
 * once per SIGNER_CYCLE_S (or per half `refresh` when that is shorter).
 * What it replaced is freed after a grace period, when no worker can still
 * be copying it.
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "dnssec/dnssec_pool.h"
#include "dnsd/base/log.h"
#include "dnsd/data/signer.h"
#include "dnsd/data/data.h"

#define SIGNER_TICK_MS 100
/* A full redraw of every pool set per minute: a resolver that re-asks after
 * its TTL (150 s by default) sees other servers, at about 200 signatures/s
 * for a 5,000-server pool (well under 1% of a core). */
#define SIGNER_CYCLE_S 60
/* Sets replaced per origin per tick at most, bounding the tick's work. */
#define SIGNER_BATCH 512
/* After new keep fractions (docs/balancing.md) moved materially, the whole
 * round is redrawn within this many seconds, so signed answers spill as the
 * unsigned ones do within STALE_S + one tick of the publish (longer only for
 * pools of more than BATCH x 10 x STALE_S = 25,600 sets, at BATCH per tick):
 * at most about 2,400 signatures/s for a 5,000-server pool, and only while
 * the fractions move. */
#define SIGNER_STALE_S 5

struct signer {
    pthread_t thread;
    atomic_bool stop;
};

typedef struct signer_retired {
    dsec_set_t *sets[SIGNER_BATCH * 4];
    size_t n;
    dsec_zsigs_t *zsigs[8];
    size_t nz;
    uint32_t next_err_log; /* no error line before this time */
} signer_retired_t;

static size_t signer_budget(const srv_origin_t *o)
{
    size_t total = dsec_pool_sets(o->dp);
    uint32_t cycle = o->dz->params.refresh / 2;
    if (cycle > SIGNER_CYCLE_S || cycle == 0)
        cycle = SIGNER_CYCLE_S;
    if (dsec_pool_stale(o->dp))
        cycle = SIGNER_STALE_S;
    size_t n = (total * SIGNER_TICK_MS + cycle * 1000u - 1) / (cycle * 1000u);
    return n > SIGNER_BATCH ? SIGNER_BATCH : n;
}

/* One pass over the served data; what it replaced goes to rt. */
static void signer_pass(signer_retired_t *rt, uint32_t now)
{
    const srv_data_t *d = rcu_dereference(srv_current);
    for (size_t i = 0; d && i < d->n_origins; i++) {
        const srv_origin_t *o = &d->origins[i];
        dsec_zsigs_t *old = NULL;
        if (!o->dz)
            continue;
        int rc = dsec_zone_refresh(o->dz, now, &old);
        if (rc < 0 &&
            now >= rt->next_err_log) { /* retried every tick, logged each minute */
            log_msg(LOG_ERR, "%s: dnssec: re-signing failed; retrying", o->name);
            rt->next_err_log = now + 60;
        } else if (rc > 0)
            log_msg(LOG_INFO, "%s: dnssec: static data re-signed", o->name);
        if (old && rt->nz < 8)
            rt->zsigs[rt->nz++] = old;
        if (o->dp && rt->n + SIGNER_BATCH <= sizeof rt->sets / sizeof *rt->sets) {
            size_t n = 0;
            /* Draws follow the keep table served now (read under RCU, copied). */
            dsec_pool_set_keep(o->dp, o->balance.mode == CFG_BALANCE_OFF ? NULL : o->keep,
                               o->balance.explicit_names);
            dsec_pool_refresh(o->dp, signer_budget(o), now, rt->sets + rt->n, &n);
            rt->n += n;
        }
    }
}

static void *signer_main(void *arg)
{
    signer_t *s = arg;
    signer_retired_t *rt = calloc(1, sizeof *rt);
    struct timespec tick = {0, SIGNER_TICK_MS * 1000000L};

    rcu_register_thread();
    while (rt && !atomic_load(&s->stop)) {
        rt->n = rt->nz = 0;
        signer_pass(rt, (uint32_t)time(NULL));
        rcu_thread_offline(); /* waiting and sleeping hold no data */
        if (rt->n || rt->nz)
            synchronize_rcu();
        for (size_t i = 0; i < rt->n; i++)
            dsec_set_free(rt->sets[i]);
        for (size_t i = 0; i < rt->nz; i++)
            dsec_zsigs_free(rt->zsigs[i]);
        nanosleep(&tick, NULL);
        rcu_thread_online();
    }
    rcu_unregister_thread();
    free(rt);
    return NULL;
}

signer_t *signer_start(char *err, size_t errlen)
{
    signer_t *s = calloc(1, sizeof *s);
    int rc;
    if (!s) {
        snprintf(err, errlen, "signer: out of memory");
        return NULL;
    }
    if ((rc = pthread_create(&s->thread, NULL, signer_main, s)) != 0) {
        snprintf(err, errlen, "signer: pthread_create: %s", strerror(rc));
        free(s);
        return NULL;
    }
    return s;
}

void signer_stop(signer_t *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    free(s);
}
