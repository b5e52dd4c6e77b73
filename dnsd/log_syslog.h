/*
 * log_syslog.h - log.c's syslog(3) output, apart because <syslog.h> defines
 * LOG_ERR, LOG_INFO and LOG_DEBUG, which log.h also names.
 */
#ifndef DNSD_LOG_SYSLOG_H
#define DNSD_LOG_SYSLOG_H

#include <stddef.h>

void log_syslog_open(void);

/* level as log.h counts it: 0 err, 1 warn, 2 info, 3 debug. */
void log_syslog_line(int level, const char *msg);

/* The syslog priority number of a log.h level, for the "<N>" journal prefix. */
int log_syslog_priority(int level);

#endif
