/*
 * notify_off.c - service manager notifications in a build without libsystemd
 * (-DDNSD_SYSTEMD=OFF); see notify.h. Every call does nothing; the first says
 * so once: at debug level, or as a warning when $NOTIFY_SOCKET is set, since
 * a Type=notify unit then waits for a READY=1 that never comes (the unit that
 * `cmake --install` writes for such a build says Type=exec).
 */
#include "dnsd/base/notify.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "dnsd/base/log.h"

static atomic_bool notify_said;

static void notify_none(const char *state)
{
    if (atomic_exchange(&notify_said, true))
        return;
    if (getenv("NOTIFY_SOCKET"))
        log_msg(LOG_WARNING,
                "sd_notify: $NOTIFY_SOCKET is set but this dnsd was built without "
                "systemd support (-DDNSD_SYSTEMD=OFF): the service manager is not told "
                "%s; use Type=exec, not Type=notify",
                state);
    else
        log_msg(LOG_DEBUG,
                "sd_notify: built without systemd support (-DDNSD_SYSTEMD=OFF): "
                "no service manager notifications");
}

void notify_ready(const char *status)
{
    notify_none("READY=1");
}

void notify_reloading(void)
{
    notify_none("RELOADING=1");
}

void notify_stopping(void)
{
    notify_none("STOPPING=1");
}
