/*
 * data_log.c - what a load of the data says in the log, at start-up and at
 * every reload: one line per origin, the unsigned-NTS warning, the GeoIP
 * database (data.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dnsd/base/log.h"
#include "dnsd/data/data.h"

bool srv_origin_nts_unsigned(const srv_origin_t *o, char *buf, size_t len)
{
    unsigned listed = 0, elig = 0, eps = 0;

    if (o->pool)
        zone_pool_nts_counts(o->pool, ZONE_GLOBAL, &listed, &elig, &eps);
    if (!eps || o->dz)
        return false;
    snprintf(buf, len,
             "%s: %u NTS-KE endpoint%s answer SRV at _ntske._tcp.%s unsigned: the zone "
             "has no DNSSEC keys, and NTS pool clients reject unsigned SRV records",
             o->name, eps, eps == 1 ? "" : "s", o->name);
    return true;
}

bool srv_origin_describe(const srv_origin_t *o, char *buf, size_t len)
{
    const char *served = o->note;
    size_t n = strlen(o->name);
    if (o->state != SRV_STATE_REFUSED && o->state != SRV_STATE_UNREADABLE) {
        snprintf(buf, len, "%s", o->note);
        return false;
    }
    /* The note starts with the origin, which this line names first. */
    if (strncmp(served, o->name, n) == 0 && served[n] == ':')
        served += n + 2;
    snprintf(buf, len, "%s: state file %s: %s; serving instead: %s", o->name,
             o->state == SRV_STATE_REFUSED ? "refused" : "unreadable", o->state_err,
             served);
    return true;
}

void srv_data_log(const srv_data_t *d)
{
    char line[2048];
    for (size_t i = 0; i < d->n_origins; i++) {
        bool refused = srv_origin_describe(&d->origins[i], line, sizeof line);
        log_msg(refused              ? LOG_ERR
                : d->origins[i].pool ? LOG_INFO
                                     : LOG_WARNING,
                "%s", line);
        if (srv_origin_nts_unsigned(&d->origins[i], line, sizeof line))
            log_msg(LOG_WARNING, "%s", line);
    }
    if (d->geo)
        log_msg(LOG_INFO, "geoip: %s", geo_describe(d->geo));
    else
        log_msg(LOG_INFO,
                "geoip: no database configured; every client gets the '@' zone");
}
