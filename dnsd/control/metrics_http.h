/*
 * metrics_http.h - the Prometheus /metrics responder on the control thread's
 * loop (metrics: "host:port" in the config).
 *
 * HTTP/1.x, one request per connection (Connection: close). A request head is
 * bounded to METRICS_HTTP_HEAD_MAX bytes and the whole exchange to
 * METRICS_HTTP_TIMEOUT_MS; at most METRICS_HTTP_MAX_CONNS at a time, a newcomer
 * closing the oldest unanswered one when they are all taken. Every
 * scrape sums the workers' counters (relaxed reads) and reads the served
 * data, which only the control thread replaces, so no lock is taken.
 */
#ifndef DNSD_METRICS_HTTP_H
#define DNSD_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_HTTP_HEAD_MAX 8192
#define METRICS_HTTP_TIMEOUT_MS 5000
#define METRICS_HTTP_MAX_CONNS 16

struct control;
typedef struct metrics_http metrics_http_t;

/* Binds and listens on `hostport` on the control loop of c (c->metrics is
 * set). 0, or -1 with a message naming the address. */
int metrics_http_listen(struct control *c, const char *hostport, char *err,
                       size_t errlen);

/* The control loop stood still for `ms` (a request or reload): every
 * connection's deadline moves by as much. NULL is fine. */
void metrics_http_stalled(metrics_http_t *m, uint64_t ms);

/* Closes the listener and every connection (from the control loop, at stop);
 * the memory goes once the loop has run their close callbacks. NULL is fine. */
void metrics_http_close(metrics_http_t *m);

#endif
