/*
 * dnstap_out.h - the bytes under the dnstap Frame Streams writer: a unix
 * stream socket or a file, as an fstrm_rdwr that libfstrm's writer and I/O
 * thread drive (the Frame Streams handshake and framing stay libfstrm's).
 *
 * libfstrm's own unix socket writer blocks in connect, read and write with no
 * timeout, so a reader that accepts and never answers the handshake, or stops
 * reading, holds its I/O thread forever, and with it the join at shutdown.
 * Here every operation on the socket is non-blocking with a deadline: one
 * operation may take DNSTAP_IO_MS while running (then the connection is
 * dropped and libfstrm reconnects later), and once dnstap_out_stop() is
 * called everything the I/O thread still does ends within DNSTAP_STOP_MS.
 *
 * Data frames that reach the transport are counted, so that the owner can
 * tell, for each message libfstrm hands back, whether it was written or
 * dropped (dnstap_out_written).
 */
#ifndef DNSD_DNSTAP_OUT_H
#define DNSD_DNSTAP_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include <fstrm.h>

/* A reader that cannot take one batch (at most 64 messages, 256 KiB) or answer
 * a handshake step within 2 s is stalled: drop it, libfstrm retries in 5 s. */
#define DNSTAP_IO_MS 2000
/* At shutdown the queued messages get 1 s to reach a reader; then the I/O
 * thread gives up whatever it is waiting for, so the process can exit. */
#define DNSTAP_STOP_MS 1000

typedef struct dnstap_out dnstap_out_t;

/* The transport to `path`: a unix socket (connected by the I/O thread) or a
 * file (truncated at its first open). NULL with a message on error. */
dnstap_out_t *dnstap_out_new(const char *path, bool unix_sock, char *err, size_t errlen);

/* An fstrm_rdwr over `out` for fstrm_writer_init(); `out` stays ours (the
 * rdwr's destruction leaves it), and must outlive the writer. NULL when out
 * of memory. */
struct fstrm_rdwr *dnstap_out_rdwr(dnstap_out_t *out);

/* From any thread: starts the stop deadline and wakes a wait in progress. */
void dnstap_out_stop(dnstap_out_t *out);

/* On the I/O thread, for each message libfstrm releases, in order: true when
 * it was written to the transport, false when it was dropped. */
bool dnstap_out_written(dnstap_out_t *out);

/* After the writer is destroyed; NULL is fine. */
void dnstap_out_free(dnstap_out_t *out);

#endif
