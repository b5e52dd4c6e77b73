/*
 * notify.c - sd_notify for Type=notify (see notify.h).
 */
#include "dnsd/base/notify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "dnsd/base/log.h"

static void notify(const char *state)
{
    int r = sd_notify(0, state);
    if (r < 0)
        log_msg(LOG_WARNING,
                "sd_notify: cannot tell the service manager \"%s\": error %d", state, -r);
}

void notify_ready(const char *status)
{
    char msg[300];
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status);
    notify(msg);
}

void notify_reloading(void)
{
    notify("RELOADING=1\nSTATUS=reloading");
}

void notify_stopping(void)
{
    notify("STOPPING=1\nSTATUS=stopping");
}
