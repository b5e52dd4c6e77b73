/*
 * signer.h - the DNSSEC signer thread (docs/dnssec.md): re-signs the static
 * data of every signed origin before its signatures expire and keeps
 * replacing the pre-drawn pool answer sets with fresh signed draws, so the
 * query path only ever copies bytes.
 */
#ifndef DNSD_SIGNER_H
#define DNSD_SIGNER_H

typedef struct signer signer_t;

/* Starts the thread; it reads srv_current (worker.h) as an RCU reader.
 * NULL with a message when the thread cannot be created. */
signer_t *signer_start(char *err, size_t errlen);

/* Stops and joins the thread; NULL is fine. Before srv_current is freed. */
void signer_stop(signer_t *s);

#endif
