/*
 * xdp_io.c - the AF_XDP query path (see xdp.h): rings in, answers out. No
 * allocation, no lock, no logging, no system call per packet: the rings are
 * kicked when the kernel asks to be woken (XDP_USE_NEED_WAKEUP), once per
 * XDP_BATCH replies and at the end of a wake-up of the worker, however short
 * the batches it answered.
 */
#include <errno.h>
#include <sys/socket.h>

#include "dnsd/io/dnstap.h"
#include "dnsd/data/data.h"
#include "xdp_int.h"
#include "dnsd/io/xdp_pkt.h"

/*
 * Copy-mode transmit sends at most this many frames per system call and then
 * fails with EAGAIN (net/xdp/xsk.c, TX_BATCH_SIZE), unless the socket's
 * XDP_MAX_TX_SKB_BUDGET was raised (xdp.c does where the kernel has it).
 */
#define XDP_TX_KERNEL_BUDGET 32u

static uint64_t xdp_frame_of(uint64_t addr)
{
    return addr & ~(uint64_t)(XDP_FRAME - 1);
}

/* The frame goes back to user space's pool (it never holds more than all). */
static void xdp_free_push(xdp_sock_t *s, uint64_t frame)
{
    if (s->n_free < XDP_FRAMES)
        s->free[s->n_free++] = frame;
}

/* Transmitted frames come back through the completion ring. */
static void xdp_reap(xdp_sock_t *s)
{
    uint32_t idx, n = xsk_ring_cons__peek(&s->comp, XDP_RING, &idx);
    for (uint32_t i = 0; i < n; i++)
        xdp_free_push(s, xdp_frame_of(*xsk_ring_cons__comp_addr(&s->comp, idx + i)));
    if (n)
        xsk_ring_cons__release(&s->comp, n);
}

/* Gives the kernel free frames to receive into. */
static void xdp_refill(xdp_sock_t *s)
{
    uint32_t room = xsk_prod_nb_free(&s->fill, XDP_RING), idx;
    if (room && !s->n_free)
        s->st.fill_stalls++; /* every frame is in flight: the kernel may run dry */
    uint32_t want = room < s->n_free ? room : s->n_free;
    uint32_t n = want ? xsk_ring_prod__reserve(&s->fill, want, &idx) : 0;
    for (uint32_t i = 0; i < n; i++)
        *xsk_ring_prod__fill_addr(&s->fill, idx + i) = s->free[--s->n_free];
    if (n)
        xsk_ring_prod__submit(&s->fill, n);
    /* Drivers that stop receiving on an empty fill ring want a kick. */
    if (xsk_ring_prod__needs_wakeup(&s->fill)) {
        s->st.wakeups++;
        (void)recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
    }
}

void xdp_sock_prime(xdp_sock_t *s)
{
    s->n_free = 0;
    for (uint32_t i = XDP_FRAMES; i > 0; i--)
        s->free[s->n_free++] = (uint64_t)(i - 1) * XDP_FRAME;
    xdp_refill(s);
}

static void xdp_count(xdp_sock_t *s, xdp_pkt_result_t r)
{
    static const xdp_drop_t map[] = {
        [XDP_PKT_BAD_FRAME] = XDP_DROP_FRAME,
        [XDP_PKT_NOT_OURS] = XDP_DROP_NOT_OURS,
        [XDP_PKT_BAD_CHECKSUM] = XDP_DROP_CHECKSUM,
        [XDP_PKT_BAD_UDP_CHECKSUM] = XDP_DROP_UDP_SUM,
        [XDP_PKT_BAD_ADDRESS] = XDP_DROP_ADDRESS,
    };
    s->st.dropped[map[r]]++;
}

/* Answers the frame at umem address `addr` into the reply slot of its frame.
 * Returns the reply's frame length, or 0 when there is nothing to send. */
static uint32_t xdp_answer(xdp_sock_t *s, const srv_data_t *data, uint64_t addr,
                           uint32_t len)
{
    uint64_t off = addr & (XDP_FRAME - 1);
    if (off + len > XDP_REPLY_OFF) {
        s->st.dropped[XDP_DROP_TOO_BIG]++;
        return 0;
    }
    const uint8_t *frame = xsk_umem__get_data(s->area, addr);
    uint8_t *out = xsk_umem__get_data(s->area, addr - off + XDP_REPLY_OFF);
    xdp_pkt_t p;
    xdp_pkt_result_t r = xdp_pkt_parse(frame, len, s->port, &p);
    if (r != XDP_PKT_OK) {
        xdp_count(s, r);
        return 0;
    }
    size_t n = answer_respond(s->ans, data, frame + p.hdr_len, p.dns_len,
                              (const struct sockaddr *)&p.src, ANSWER_UDP,
                              out + p.hdr_len, ANSWER_UDP_MAX);
    if (n == 0) {
        s->st.dropped[XDP_DROP_NO_ANSWER]++;
        return 0;
    }
    if (s->ans->dnstap)
        dnstap_log(s->ans->dnstap, ANSWER_UDP, (const struct sockaddr *)&p.src,
                   (const struct sockaddr *)&p.dst, frame + p.hdr_len, p.dns_len,
                   out + p.hdr_len, n, s->ans->stats);
    return (uint32_t)xdp_pkt_reply(frame, &p, out, n);
}

/*
 * Copy-mode transmit happens in the system call: kick until the `queued`
 * replies are out. A kernel without XDP_MAX_TX_SKB_BUDGET sends 32 frames a
 * call, so the bound grows with what is queued (a reply left on the ring
 * would wait for the next query); a wedged device still cannot spin us.
 */
static void xdp_kick_tx(xdp_sock_t *s, uint32_t queued)
{
    int kicks = (int)(queued / XDP_TX_KERNEL_BUDGET) + 2;
    for (int i = 0; i < kicks && xsk_ring_prod__needs_wakeup(&s->tx); i++) {
        s->st.wakeups++;
        if (sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
            break;
        if (errno != EAGAIN && errno != EBUSY && errno != EINTR)
            break; /* ENETDOWN, ENOBUFS: the replies left in the ring go later */
        xdp_reap(s);
    }
}

/* Puts the k replies on the transmit ring, to go with the wake-up's kick
 * (*queued counts them); what does not fit is dropped. */
static void xdp_send(xdp_sock_t *s, const uint64_t *addr, const uint32_t *len, uint32_t k,
                     uint32_t *queued)
{
    uint32_t idx = 0, room = xsk_prod_nb_free(&s->tx, k);
    if (room < k) {
        s->st.comp_stalls++; /* the kernel has not taken earlier replies yet */
        xdp_kick_tx(s, *queued);
        *queued = 0;
        room = xsk_prod_nb_free(&s->tx, k);
    }
    uint32_t got = room < k ? room : k;
    if (got)
        (void)xsk_ring_prod__reserve(&s->tx, got, &idx); /* all-or-nothing: fits */
    for (uint32_t i = 0; i < got; i++) {
        struct xdp_desc *d = xsk_ring_prod__tx_desc(&s->tx, idx + i);
        d->addr = addr[i];
        d->len = len[i];
        d->options = 0;
    }
    for (uint32_t i = got; i < k; i++) {
        s->st.dropped[XDP_DROP_TX_FULL]++;
        xdp_free_push(s, xdp_frame_of(addr[i]));
    }
    if (got) {
        xsk_ring_prod__submit(&s->tx, got);
        s->st.tx += got;
        *queued += got;
    }
}

/* One batch: returns how many frames were received (0 when drained). */
static uint32_t xdp_batch(xdp_sock_t *s, uint32_t *queued)
{
    uint32_t ri, n = xsk_ring_cons__peek(&s->rx, XDP_BATCH, &ri), k = 0;
    if (!n)
        return 0;
    const srv_data_t *data = srv_data_get();
    uint64_t addr[XDP_BATCH];
    uint32_t len[XDP_BATCH];
    for (uint32_t i = 0; i < n; i++) {
        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, ri + i);
        uint64_t a = d->addr;
        uint32_t l = xdp_answer(s, data, a, d->len);
        if (l) {
            addr[k] = xdp_frame_of(a) + XDP_REPLY_OFF;
            len[k++] = l;
        } else {
            xdp_free_push(s, xdp_frame_of(a));
        }
    }
    xsk_ring_cons__release(&s->rx, n);
    s->st.rx += n;
    if (k)
        xdp_send(s, addr, len, k, queued);
    return n;
}

/*
 * Drains the receive ring in batches while frames keep coming (up to
 * XDP_BATCHES_PER_WAKEUP), kicking the transmit ring once per XDP_BATCH
 * replies and once at the end. A frame that arrived while a batch was
 * answered is taken at once: going back to the event loop for it would cost
 * an epoll_wait, and often a sleep and a wake-up, where a look at the ring
 * costs a cache line. Short batches share a kick, but no reply waits for
 * more than a batch's worth of others, as on the socket path.
 */
void xdp_on_readable(uv_poll_t *poll, int status, int events)
{
    xdp_sock_t *s = poll->data;
    uint32_t queued = 0;
    if (status < 0)
        return;
    xdp_reap(s);
    for (int i = 0; i < XDP_BATCHES_PER_WAKEUP; i++) {
        if (xdp_batch(s, &queued) == 0)
            break;
        if (queued >= XDP_BATCH) {
            xdp_kick_tx(s, queued);
            queued = 0;
        }
    }
    if (queued)
        xdp_kick_tx(s, queued);
    xdp_reap(s);
    xdp_refill(s);
}
