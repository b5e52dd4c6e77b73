/*
 * notify.h - service manager notifications (sd_notify(3)) for Type=notify
 * units: READY=1 once the daemon answers, RELOADING=1 ... READY=1 around a
 * reload, STOPPING=1 at shutdown. Without $NOTIFY_SOCKET (not started by
 * systemd) every call does nothing. Safe from any thread. Built with
 * -DDNSD_SYSTEMD=OFF, notify_off.c stands in: every call does nothing and
 * the first one says so in the log (a warning when $NOTIFY_SOCKET is set,
 * since a Type=notify unit would then wait for READY=1 in vain).
 */
#ifndef DNSD_NOTIFY_H
#define DNSD_NOTIFY_H

/* READY=1 with a STATUS= line, e.g. "serving 2 zones with 4 workers". */
void notify_ready(const char *status);
void notify_reloading(void);
void notify_stopping(void);

#endif
