/*
 * log_syslog.c - syslog(3) for log.c (see log_syslog.h).
 */
#include "log_syslog.h"

#include <syslog.h>

int log_syslog_priority(int level)
{
    static const int prio[4] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    return level >= 0 && level < 4 ? prio[level] : LOG_INFO;
}

void log_syslog_open(void)
{
    /* LOG_NDELAY: connect now, while /dev/log is still reachable (before a
     * privilege drop or a chroot could make it not). */
    openlog("dnsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_syslog_line(int level, const char *msg)
{
    syslog(log_syslog_priority(level), "%s", msg);
}
