/*
 * dnstap.c - dnstap over Frame Streams (see dnstap.h).
 */
#include "dnsd/io/dnstap.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fstrm.h>

#include "dnstap.pb-c.h"
#include "dnsd/io/dnstap_out.h"
#include "dnsd/base/log.h"

#define DNSTAP_CONTENT_TYPE "protobuf:dnstap.Dnstap"

typedef struct dnstap_slot {
    atomic_bool busy; /* set by the worker, cleared by the I/O thread */
    dnstap_t *dt;
    uint8_t buf[DNSTAP_SLOT];
} dnstap_slot_t;

struct dnstap_q {
    dnstap_t *dt;
    struct fstrm_iothr_queue *ioq;
    dnstap_slot_t *slots; /* DNSTAP_SLOTS, used in turn */
    unsigned next;
};

struct dnstap {
    struct fstrm_iothr *iothr;
    dnstap_out_t *out;
    atomic_uint_fast64_t dropped; /* by the I/O thread: not written */
    dnstap_q_t *queues;
    size_t n;
    char identity[256];
    char version[32];
};

/* libfstrm is done with the message, written or dropped (no reader, a
 * failed or timed-out write): its slot is free again (I/O thread). */
static void dnstap_release(void *buf, void *arg)
{
    dnstap_slot_t *slot = arg;
    if (!dnstap_out_written(slot->dt->out))
        atomic_fetch_add_explicit(&slot->dt->dropped, 1, memory_order_relaxed);
    atomic_store_explicit(&slot->busy, false, memory_order_release);
}

/* The writer for PATH: unix socket or file, as configured or as found. */
static struct fstrm_writer *dnstap_writer(dnstap_t *dt, const cfg_t *cfg, char *err,
                                          size_t errlen)
{
    const char *path = cfg->dnstap_path;
    struct stat st;
    bool unix_sock = cfg->dnstap_mode == CFG_DNSTAP_UNIX ||
                     (cfg->dnstap_mode == CFG_DNSTAP_AUTO && stat(path, &st) == 0 &&
                      S_ISSOCK(st.st_mode));
    if (!unix_sock) { /* the I/O thread opens it: fail here, with a reason */
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            snprintf(err, errlen, "query_log.dnstap %s: %s", path, strerror(errno));
            return NULL;
        }
        close(fd);
    }
    if (!(dt->out = dnstap_out_new(path, unix_sock, err, errlen)))
        return NULL;
    struct fstrm_rdwr *rdwr = dnstap_out_rdwr(dt->out);
    struct fstrm_writer_options *wopt = fstrm_writer_options_init();
    fstrm_writer_options_add_content_type(wopt, DNSTAP_CONTENT_TYPE,
                                          strlen(DNSTAP_CONTENT_TYPE));
    struct fstrm_writer *w = rdwr ? fstrm_writer_init(wopt, &rdwr) : NULL;
    fstrm_writer_options_destroy(&wopt);
    if (!w)
        snprintf(err, errlen, "query_log.dnstap %s: cannot set up the %s writer", path,
                 unix_sock ? "unix socket" : "file");
    else
        log_msg(LOG_INFO, "query log: dnstap to %s %s",
                unix_sock ? "unix socket" : "file", path);
    return w;
}

int dnstap_check(const cfg_t *cfg, char *err, size_t errlen)
{
    return 0; /* this build has dnstap */
}

dnstap_t *dnstap_new(const cfg_t *cfg, size_t n_workers, char *err, size_t errlen)
{
    dnstap_t *dt = calloc(1, sizeof *dt);
    struct fstrm_writer *w = NULL;
    struct fstrm_iothr_options *iopt = NULL;
    if (!dt || !(dt->queues = calloc(n_workers, sizeof *dt->queues))) {
        snprintf(err, errlen, "query_log.dnstap: out of memory");
        goto fail;
    }
    dt->n = n_workers;
    snprintf(dt->identity, sizeof dt->identity, "%s", cfg->identity ? cfg->identity : "");
    snprintf(dt->version, sizeof dt->version, "dnsd %s", DNSD_VERSION);
    if (!(w = dnstap_writer(dt, cfg, err, errlen)))
        goto fail;
    iopt = fstrm_iothr_options_init();
    fstrm_iothr_options_set_num_input_queues(iopt, (unsigned)n_workers);
    fstrm_iothr_options_set_input_queue_size(iopt, DNSTAP_SLOTS);
    fstrm_iothr_options_set_queue_model(iopt, FSTRM_IOTHR_QUEUE_MODEL_SPSC);
    dt->iothr = fstrm_iothr_init(iopt, &w); /* takes w over, even on failure */
    fstrm_iothr_options_destroy(&iopt);
    if (!dt->iothr) {
        snprintf(err, errlen, "query_log.dnstap %s: cannot start the I/O thread",
                 cfg->dnstap_path);
        goto fail;
    }
    for (size_t i = 0; i < n_workers; i++) {
        dnstap_q_t *q = &dt->queues[i];
        q->dt = dt;
        q->ioq = fstrm_iothr_get_input_queue_idx(dt->iothr, i);
        q->slots = calloc(DNSTAP_SLOTS, sizeof *q->slots);
        if (!q->ioq || !q->slots) {
            snprintf(err, errlen, "query_log.dnstap: out of memory");
            goto fail;
        }
        for (unsigned k = 0; k < DNSTAP_SLOTS; k++)
            q->slots[k].dt = dt;
    }
    return dt;
fail:
    if (w)
        fstrm_writer_destroy(&w);
    dnstap_free(dt);
    return NULL;
}

dnstap_q_t *dnstap_queue(dnstap_t *dt, size_t i)
{
    return dt && i < dt->n ? &dt->queues[i] : NULL;
}

/* Encodes one message into the next free slot and queues it; false when it
 * was dropped (no free slot, queue full, larger than a slot). */
static bool dnstap_put(dnstap_q_t *q, Dnstap__Message *m)
{
    dnstap_slot_t *slot = &q->slots[q->next];
    if (atomic_load_explicit(&slot->busy, memory_order_acquire))
        return false;
    Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
    d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
    d.message = m;
    d.has_identity = d.has_version = 1;
    d.identity.data = (uint8_t *)q->dt->identity;
    d.identity.len = strlen(q->dt->identity);
    d.version.data = (uint8_t *)q->dt->version;
    d.version.len = strlen(q->dt->version);
    size_t len = protobuf_c_message_get_packed_size(&d.base);
    if (len > sizeof slot->buf)
        return false;
    protobuf_c_message_pack(&d.base, slot->buf);
    atomic_store_explicit(&slot->busy, true, memory_order_relaxed);
    if (fstrm_iothr_submit(q->dt->iothr, q->ioq, slot->buf, len, dnstap_release, slot) !=
        fstrm_res_success) {
        atomic_store_explicit(&slot->busy, false, memory_order_relaxed);
        return false;
    }
    q->next = (q->next + 1) % DNSTAP_SLOTS;
    return true;
}

/* Client address and port, in network byte order for the address. */
static void dnstap_client(Dnstap__Message *m, const struct sockaddr *sa)
{
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        m->socket_family = DNSTAP__SOCKET_FAMILY__INET;
        m->query_address.data = (uint8_t *)&in->sin_addr;
        m->query_address.len = 4;
        m->query_port = ntohs(in->sin_port);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        m->socket_family = DNSTAP__SOCKET_FAMILY__INET6;
        m->query_address.data = (uint8_t *)&in6->sin6_addr;
        m->query_address.len = 16;
        m->query_port = ntohs(in6->sin6_port);
    } else {
        return;
    }
    m->has_socket_family = m->has_query_address = m->has_query_port = 1;
}

/* Our address and port, when of the client's family (dnstap has one family). */
static void dnstap_server(Dnstap__Message *m, const struct sockaddr *sa)
{
    if (!m->has_socket_family || !sa)
        return;
    if (sa->sa_family == AF_INET && m->socket_family == DNSTAP__SOCKET_FAMILY__INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        m->response_address.data = (uint8_t *)&in->sin_addr;
        m->response_address.len = 4;
        m->response_port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6 &&
               m->socket_family == DNSTAP__SOCKET_FAMILY__INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        m->response_address.data = (uint8_t *)&in6->sin6_addr;
        m->response_address.len = 16;
        m->response_port = ntohs(in6->sin6_port);
    } else {
        return;
    }
    m->has_response_address = m->has_response_port = 1;
}

void dnstap_log(dnstap_q_t *q, answer_transport_t transport,
                const struct sockaddr *client, const struct sockaddr *server,
                const uint8_t *query, size_t qlen, const uint8_t *resp, size_t rlen,
                stat_counters_t *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now); /* vDSO: no system call */
    Dnstap__Message m = DNSTAP__MESSAGE__INIT;
    dnstap_client(&m, client);
    dnstap_server(&m, server);
    m.has_socket_protocol = 1;
    m.socket_protocol = transport == ANSWER_TCP ? DNSTAP__SOCKET_PROTOCOL__TCP
                                                : DNSTAP__SOCKET_PROTOCOL__UDP;
    m.has_query_time_sec = m.has_query_time_nsec = 1;
    m.query_time_sec = (uint64_t)now.tv_sec;
    m.query_time_nsec = (uint32_t)now.tv_nsec;
    m.type = DNSTAP__MESSAGE__TYPE__AUTH_QUERY;
    m.has_query_message = 1;
    m.query_message.data = (uint8_t *)query;
    m.query_message.len = qlen;
    if (!dnstap_put(q, &m))
        st->dnstap_dropped++;
    m.type = DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE;
    m.has_query_message = 0; /* the response alone: half the bytes */
    m.has_response_time_sec = m.has_response_time_nsec = m.has_response_message = 1;
    m.response_time_sec = (uint64_t)now.tv_sec;
    m.response_time_nsec = (uint32_t)now.tv_nsec;
    m.response_message.data = (uint8_t *)resp;
    m.response_message.len = rlen;
    if (!dnstap_put(q, &m))
        st->dnstap_dropped++;
}

uint64_t dnstap_dropped(const dnstap_t *dt)
{
    return dt ? atomic_load_explicit(&dt->dropped, memory_order_relaxed) : 0;
}

void dnstap_free(dnstap_t *dt)
{
    if (!dt)
        return;
    if (dt->iothr) {
        /* Flushes the queues and joins the thread, within DNSTAP_STOP_MS
         * whatever the reader does (dnstap_out.h). */
        dnstap_out_stop(dt->out);
        fstrm_iothr_destroy(&dt->iothr);
        uint64_t n = dnstap_dropped(dt);
        log_msg(n ? LOG_WARNING : LOG_INFO,
                "query log: stopped; %llu dnstap messages not written (reader slow, "
                "stalled or absent)",
                (unsigned long long)n);
    }
    dnstap_out_free(dt->out);
    for (size_t i = 0; dt->queues && i < dt->n; i++)
        free(dt->queues[i].slots);
    free(dt->queues);
    free(dt);
}
