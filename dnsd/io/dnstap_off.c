/*
 * dnstap_off.c - the query log module of a build without dnstap
 * (-DDNSD_DNSTAP=OFF: no libfstrm, libprotobuf-c or protoc-c needed); see
 * dnstap.h. A config that asks for a query log is refused at start-up and by
 * --check; nothing else here is ever reached with a log open.
 */
#include "dnsd/io/dnstap.h"

#include <stdio.h>

int dnstap_check(const cfg_t *cfg, char *err, size_t errlen)
{
    if (!cfg->dnstap_path)
        return 0;
    snprintf(err, errlen,
             "%s: query_log: this dnsd was built without dnstap support "
             "(-DDNSD_DNSTAP=OFF); remove query_log or use a build with it",
             cfg->path ? cfg->path : "config");
    return -1;
}

dnstap_t *dnstap_new(const cfg_t *cfg, size_t n_workers, char *err, size_t errlen)
{
    dnstap_check(cfg, err, errlen);
    return NULL;
}

dnstap_q_t *dnstap_queue(dnstap_t *dt, size_t i)
{
    return NULL;
}

void dnstap_log(dnstap_q_t *q, answer_transport_t transport,
                const struct sockaddr *client, const struct sockaddr *server,
                const uint8_t *query, size_t qlen, const uint8_t *resp, size_t rlen,
                stat_counters_t *st)
{
}

uint64_t dnstap_dropped(const dnstap_t *dt)
{
    return 0;
}

void dnstap_free(dnstap_t *dt) {}
