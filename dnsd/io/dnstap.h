/*
 * dnstap.h - the query log: dnstap (https://dnstap.info) AUTH_QUERY and
 * AUTH_RESPONSE messages in a Frame Streams output (libfstrm), config
 * query_log: {dnstap: PATH} (a unix socket if PATH is one at start-up, else
 * a file), or {file: PATH} / {unix: PATH} to say which.
 *
 * Off the query path: each worker encodes into a fixed ring of its own
 * buffers (no allocation) and submits to its own single-producer input queue
 * of one fstrm I/O thread, which batches the writes. When the ring or the
 * queue is full - a slow or absent reader - the message is dropped and
 * counted (stat_counters_t.dnstap_dropped); an answer never waits for the log.
 * A unix socket reader may come and go: fstrm reconnects. A file is
 * truncated at start. The socket and file I/O under libfstrm is ours
 * (dnstap_out.h): every operation has a deadline, so a reader that stalls
 * costs dropped messages (dnstap_dropped), never a hung I/O thread, and
 * dnstap_free() returns within DNSTAP_STOP_MS whatever the reader does.
 */
#ifndef DNSD_DNSTAP_H
#define DNSD_DNSTAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnsd/query/answer.h"
#include "config/cfg.h"
#include "dnsd/query/stats.h"

/* One worker's buffers: the largest message logged (a query or a response
 * plus addresses and times), and how many may wait for the I/O thread. */
#define DNSTAP_SLOT 4096
#define DNSTAP_SLOTS 512

typedef struct dnstap dnstap_t;
typedef struct dnstap_q dnstap_q_t;

/* 0 when this build can write the query log cfg asks for (if any); -1 with a
 * message when cfg asks for one and dnsd was built without dnstap
 * (-DDNSD_DNSTAP=OFF: dnstap_off.c stands in for this module). */
int dnstap_check(const cfg_t *cfg, char *err, size_t errlen);

/* Opens cfg->dnstap_path for n_workers producers and starts the I/O thread.
 * NULL with a message when the path cannot be used. */
dnstap_t *dnstap_new(const cfg_t *cfg, size_t n_workers, char *err, size_t errlen);

/* Worker i's queue (i < n_workers). */
dnstap_q_t *dnstap_queue(dnstap_t *dt, size_t i);

/* Logs one exchange: AUTH_QUERY with the query, AUTH_RESPONSE with the
 * response; `client` is the query's source, `server` the address and port it
 * was sent to (NULL or another family: left out). Only from the worker owning q. */
void dnstap_log(dnstap_q_t *q, answer_transport_t transport,
                const struct sockaddr *client, const struct sockaddr *server,
                const uint8_t *query, size_t qlen, const uint8_t *resp, size_t rlen,
                stat_counters_t *st);

/* Messages the I/O thread could not write (no reader, a write that failed or
 * ran out of time), from any thread; 0 for NULL. */
uint64_t dnstap_dropped(const dnstap_t *dt);

/* Writes out what is queued within DNSTAP_STOP_MS, stops the I/O thread,
 * logs what was dropped and frees; after the workers have stopped. NULL is
 * fine. */
void dnstap_free(dnstap_t *dt);

#endif
