/*
 * log.h - one line per event on stderr: "dnsd[PID]: LEVEL: message", or to
 * syslog (config log.target). When stderr is the journal ($JOURNAL_STREAM
 * names it, systemd.exec(5)), lines start with the sd-daemon(3) priority
 * prefix "<N>" instead, so journald records each line's level.
 *
 * For start-up, shutdown, reloads and other rare events only: never called per
 * query (the query path counts in stat_counters_t instead). Safe from any thread:
 * each line goes out in a single write(2), so lines of different threads never
 * interleave.
 */
#ifndef DNSD_LOG_H
#define DNSD_LOG_H

#include <syslog.h>

/* A level is syslog(3)'s priority: LOG_ERR, LOG_WARNING, LOG_INFO or
 * LOG_DEBUG, so the journal prefix and syslog need no translation. */
typedef int log_level_t;

/* The level of the config's log.level (0 err .. 3 debug, cfg.h). */
log_level_t log_level_of(int cfg_level);

/* Lines above `max` (less severe) are not written. Default LOG_INFO. Set once
 * at start-up, before any thread is started. */
void log_set_level(log_level_t max);
log_level_t log_get_level(void);

/* Sends lines to syslog (facility daemon, ident "dnsd", with the PID) instead
 * of stderr. Call once at start-up, before any thread is started. */
void log_use_syslog(void);

void log_msg(log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
