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
#include <uv.h>

#define METRICS_HTTP_HEAD_MAX 8192
#define METRICS_HTTP_TIMEOUT_MS 5000
#define METRICS_HTTP_MAX_CONNS 16

typedef struct metrics_http metrics_http_t;

/* The page for one scrape, rendered by the responder's owner from its
 * counters and the responder's own: requests by status (200, 400, 404, 405,
 * other) and connections accepted, evicted and refused. malloc'd text and
 * its length, or NULL when out of memory. */
typedef char *(*metrics_http_render_fn)(void *arg, const uint64_t requests[5],
                                        const uint64_t conns[3], size_t *len);

/* Binds and listens on `hostport` on `loop` (the control thread's); *out is
 * set even on failure, for metrics_http_close. 0, or -1 with a message
 * naming the address. */
int metrics_http_listen(uv_loop_t *loop, const char *hostport,
                        metrics_http_render_fn render, void *arg, metrics_http_t **out,
                        char *err, size_t errlen);

/* The control loop stood still for `ms` (a request or reload): every
 * connection's deadline moves by as much. NULL is fine. */
void metrics_http_stalled(metrics_http_t *m, uint64_t ms);

/* What the responder counted, as the render function gets it: requests by
 * status and connections accepted, evicted, refused (zeros for NULL). */
void metrics_http_counts(const metrics_http_t *m, uint64_t requests[5],
                         uint64_t conns[3]);

/* Closes the listener and every connection (from the control loop, at stop);
 * the memory goes once the loop has run their close callbacks. NULL is fine. */
void metrics_http_close(metrics_http_t *m);

#endif
