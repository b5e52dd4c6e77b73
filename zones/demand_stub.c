/*
 * demand_stub.c - placeholder until demand tables are read with the strict
 * JSON reader (zones/json.c): every table is refused, so a pushed table never
 * changes anything. Replaced by demand.c.
 */
#include "balance.h"

int zone_demand_parse(const char *name, const char *buf, size_t len, zone_demand_t *out,
                      zone_errors_t *errs)
{
    (void)buf;
    (void)len;
    (void)out;
    zone_errors_add(errs, "%s:1:1: (document): demand tables are not read yet", name);
    return -1;
}

int zone_demand_load(const char *path, zone_demand_t *out, zone_errors_t *errs)
{
    return zone_demand_parse(path, "", 0, out, errs);
}
