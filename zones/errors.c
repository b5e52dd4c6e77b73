/*
 * errors.c - zone_errors_t, the list of load errors every loader fills (the
 * snapshot validator reports them all, not only the first): up to
 * ZONE_ERRORS_KEEP messages kept, the rest counted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/zones.h"

void zone_errors_init(zone_errors_t *e)
{
    memset(e, 0, sizeof *e);
}

void zone_errors_add(zone_errors_t *e, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    int len;

    if (e->n >= ZONE_ERRORS_KEEP)
        goto drop;
    if (!e->msgs && !(e->msgs = calloc(ZONE_ERRORS_KEEP, sizeof *e->msgs)))
        goto drop;
    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0 || !(msg = malloc((size_t)len + 1)))
        goto drop;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
    va_end(ap);
    e->msgs[e->n++] = msg;
    return;
drop:
    e->dropped++;
}

void zone_errors_print(const zone_errors_t *e, FILE *out)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(out, "%s\n", e->msgs[i]);
    if (e->dropped)
        fprintf(out, "... and %zu more errors\n", e->dropped);
}

void zone_errors_deinit(zone_errors_t *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    zone_errors_init(e);
}
