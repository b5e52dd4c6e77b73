/*
 * xdp.c - setup and teardown of the AF_XDP listener (see xdp.h): the XDP
 * program (embedded at build time), its BPF link, and per receive queue a
 * UMEM with its fill and completion rings and an AF_XDP socket.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dnsd/base/log.h"
#include "xdp_int.h"

/* The object file of xdp_prog.c (generated: xdp_prog_obj.c). */
extern const unsigned char dnsd_xdp_prog_obj[];
extern const size_t dnsd_xdp_prog_obj_len;

/* libbpf's own messages: its warnings explain a failed load, the rest is
 * detail for -v. */
static int xdp_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_msg(level == LIBBPF_WARN ? LOG_WARNING : LOG_DEBUG, "xdp: %s", line);
    return 0;
}

/* Receive queues of the interface (ETHTOOL_GCHANNELS; 1 if it cannot say). */
static unsigned xdp_queue_count(const char *ifname)
{
    struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%.*s", IFNAMSIZ - 1, ifname);
    ifr.ifr_data = (void *)&ch;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unsigned n = 1;
    if (fd >= 0 && ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
        n = ch.rx_count > ch.combined_count ? ch.rx_count : ch.combined_count;
        n = n ? n : 1;
    }
    if (fd >= 0)
        close(fd);
    return n > 256 ? 256 : n; /* the program's map has 256 entries */
}

/* What a failed privileged step most likely means, for the start-up error. */
static const char *xdp_hint(int e)
{
    if (e == EPERM || e == EACCES)
        return " (needs root, or CAP_NET_ADMIN, CAP_BPF and CAP_NET_RAW)";
    if (e == EOPNOTSUPP || e == EINVAL)
        return " (the driver lacks this XDP mode: try mode: generic or auto)";
    if (e == ENOBUFS) /* xdp_umem_account_pages() in net/xdp/xdp_umem.c */
        return " (the UMEM is locked memory, 16 MiB per queue: needs CAP_IPC_LOCK or a "
               "larger RLIMIT_MEMLOCK)";
    if (e == EBUSY || e == EEXIST)
        return " (another XDP program or AF_XDP socket holds the interface or queue)";
    return "";
}

static int xdp_fail(char *err, size_t errlen, const xdp_t *x, const char *what, int e)
{
    snprintf(err, errlen, "xdp %s: %s: %s%s", x->ifname, what, strerror(e), xdp_hint(e));
    return -1;
}

/* Tells the program the port and the addresses it takes: those of `listen`
 * (any port), every address of a family listened on by a wildcard. */
static int xdp_targets(xdp_t *x, const cfg_t *cfg)
{
    uint32_t key = 0, value = cfg->xdp_port, any = 0;
    uint8_t yes = 1;
    int fd = bpf_object__find_map_fd_by_name(x->obj, "dnsd_port"),
        fd4 = bpf_object__find_map_fd_by_name(x->obj, "dnsd_addr4"),
        fd6 = bpf_object__find_map_fd_by_name(x->obj, "dnsd_addr6");
    if (fd < 0 || fd4 < 0 || fd6 < 0)
        return -1;
    for (size_t i = 0; i < cfg->n_listen; i++) {
        const struct sockaddr_storage *a = &cfg->listen[i].addr;
        int r;
        if (a->ss_family == AF_INET) {
            const struct in_addr *in = &((const struct sockaddr_in *)a)->sin_addr;
            any |= in->s_addr == htonl(INADDR_ANY) ? 1 : 0;
            r = bpf_map_update_elem(fd4, in, &yes, BPF_ANY);
        } else {
            const struct in6_addr *in6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
            any |= IN6_IS_ADDR_UNSPECIFIED(in6) ? 2 : 0;
            r = bpf_map_update_elem(fd6, in6, &yes, BPF_ANY);
        }
        if (r != 0)
            return -1;
    }
    if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0)
        return -1;
    key = 1;
    return bpf_map_update_elem(fd, &key, &any, BPF_ANY);
}

/* Opens and loads the embedded program and sets what it takes. */
static int xdp_load(xdp_t *x, const cfg_t *cfg, char *err, size_t errlen)
{
    LIBBPF_OPTS(bpf_object_open_opts, o, .object_name = "dnsd_xdp");
    x->obj = bpf_object__open_mem(dnsd_xdp_prog_obj, dnsd_xdp_prog_obj_len, &o);
    if (!x->obj) {
        int e = errno;
        x->obj = NULL;
        return xdp_fail(err, errlen, x, "opening the XDP program", e);
    }
    if (bpf_object__load(x->obj) != 0)
        return xdp_fail(err, errlen, x, "loading the XDP program", errno);
    if (xdp_targets(x, cfg) != 0)
        return xdp_fail(err, errlen, x, "setting the port and addresses", errno);
    return 0;
}

/* Attaches the program through a link (detached when dnsd's fd closes). */
static int xdp_attach(xdp_t *x, cfg_xdp_mode_t mode, char *err, size_t errlen)
{
    struct bpf_program *prog = bpf_object__find_program_by_name(x->obj, "dnsd_xdp");
    int prog_fd = prog ? bpf_program__fd(prog) : -1;
    for (int native = mode != CFG_XDP_GENERIC; native >= 0; native--) {
        LIBBPF_OPTS(bpf_link_create_opts, lo,
                    .flags = native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
        x->link_fd = bpf_link_create(prog_fd, x->ifindex, BPF_XDP, &lo);
        if (x->link_fd >= 0) {
            x->native = native;
            return 0;
        }
        int e = errno;
        if (!native || mode == CFG_XDP_NATIVE)
            return xdp_fail(
                err, errlen, x,
                native ? "attaching in native mode" : "attaching in generic mode", e);
        log_msg(LOG_INFO, "xdp %s: native mode unavailable (%s), using generic",
                x->ifname, strerror(e));
    }
    return -1;
}

/* Binds one socket; zero copy as configured ("auto": if the driver can). */
static int xdp_bind(xdp_t *x, xdp_sock_t *s, unsigned q, cfg_xdp_zc_t zc)
{
    struct xsk_socket_config sc = {
        .rx_size = XDP_RING,
        .tx_size = XDP_RING,
        .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
        .xdp_flags = x->native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE,
    };
    bool try_zc = zc == CFG_XDP_ZC_ON || (zc == CFG_XDP_ZC_AUTO && x->native);
    int r = -EINVAL;
    for (int z = try_zc; z >= 0; z--) {
        sc.bind_flags = XDP_USE_NEED_WAKEUP | (z ? XDP_ZEROCOPY : XDP_COPY);
        r = xsk_socket__create(&s->xsk, x->ifname, q, s->umem, &s->rx, &s->tx, &sc);
        if (r == 0 || zc == CFG_XDP_ZC_ON)
            break;
    }
    return r;
}

/*
 * Copy-mode transmit stops after 32 frames per system call unless the
 * socket's budget is raised (XDP_MAX_TX_SKB_BUDGET, Linux 6.17): a wake-up's
 * replies then go in one kick. Older kernels refuse the option and get a few
 * kicks (xdp_io.c bounds them by what is queued).
 */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif
static void xdp_tx_budget(xdp_sock_t *s)
{
    unsigned budget = XDP_BATCH * XDP_BATCHES_PER_WAKEUP;
    if (setsockopt(s->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof budget) != 0)
        log_msg(LOG_DEBUG, "xdp: queue %u: transmit budget stays 32 frames a call: %s",
                s->st.queue, strerror(errno));
}

static int xdp_sock_new(xdp_t *x, unsigned q, const cfg_t *cfg, char *err, size_t errlen)
{
    char what[64];
    xdp_sock_t *s = calloc(1, sizeof *s);
    if (!(x->socks[q] = s))
        return xdp_fail(err, errlen, x, "socket state", ENOMEM);
    s->fd = -1;
    s->port = cfg->xdp_port;
    s->st.queue = q;
    s->st.worker = q % x->n_workers;
    size_t size = (size_t)XDP_FRAMES * XDP_FRAME;
    s->area = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (s->area == MAP_FAILED) {
        s->area = NULL;
        return xdp_fail(err, errlen, x, "UMEM", errno);
    }
    struct xsk_umem_config uc = {.fill_size = XDP_RING,
                                 .comp_size = XDP_RING,
                                 .frame_size = XDP_FRAME,
                                 .frame_headroom = 0};
    int r = xsk_umem__create(&s->umem, s->area, size, &s->fill, &s->comp, &uc);
    if (r != 0) {
        s->umem = NULL;
        return xdp_fail(err, errlen, x, "creating the UMEM", -r);
    }
    if ((r = xdp_bind(x, s, q, cfg->xdp_zero_copy)) != 0) {
        s->xsk = NULL;
        snprintf(what, sizeof what, "AF_XDP socket on queue %u", q);
        if (cfg->xdp_zero_copy == CFG_XDP_ZC_ON && (r == -EOPNOTSUPP || r == -EINVAL)) {
            snprintf(err, errlen,
                     "xdp %s: %s: %s (the driver lacks zero copy: try "
                     "zero_copy: auto or off)",
                     x->ifname, what, strerror(-r));
            return -1;
        }
        return xdp_fail(err, errlen, x, what, -r);
    }
    s->fd = xsk_socket__fd(s->xsk);
    xdp_tx_budget(s);
    xdp_sock_prime(s);
    return 0;
}

/* The mode the kernel actually gave: zero copy shows in XDP_OPTIONS. */
static void xdp_describe(xdp_t *x)
{
    struct xdp_options opts = {0};
    socklen_t len = sizeof opts;
    x->zero_copy = x->n_socks &&
                   getsockopt(x->socks[0]->fd, SOL_XDP, XDP_OPTIONS, &opts, &len) == 0 &&
                   (opts.flags & XDP_OPTIONS_ZEROCOPY);
    snprintf(x->mode, sizeof x->mode, "%s/%s", x->native ? "native" : "generic",
             x->zero_copy ? "zero-copy" : "copy");
}

/* Puts every socket in the program's map, which starts the redirect. */
static int xdp_publish(xdp_t *x, char *err, size_t errlen)
{
    int map = bpf_object__find_map_fd_by_name(x->obj, "dnsd_xsks");
    for (size_t q = 0; q < x->n_socks; q++) {
        int r = map < 0 ? -ENOENT : xsk_socket__update_xskmap(x->socks[q]->xsk, map);
        if (r != 0)
            return xdp_fail(err, errlen, x, "adding a socket to the map", -r);
    }
    return 0;
}

xdp_t *xdp_new(const cfg_t *cfg, unsigned n_workers, char *err, size_t errlen)
{
    xdp_t *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "xdp: out of memory");
        return NULL;
    }
    x->link_fd = -1;
    x->n_workers = n_workers ? n_workers : 1;
    snprintf(x->ifname, sizeof x->ifname, "%s", cfg->xdp_interface);
    libbpf_set_print(xdp_libbpf_print);
    if (!(x->ifindex = (int)if_nametoindex(x->ifname))) {
        xdp_fail(err, errlen, x, "interface", errno);
        goto fail;
    }
    unsigned n = xdp_queue_count(x->ifname);
    if (!(x->socks = calloc(n, sizeof *x->socks))) {
        xdp_fail(err, errlen, x, "socket table", ENOMEM);
        goto fail;
    }
    if (xdp_load(x, cfg, err, errlen) != 0 ||
        xdp_attach(x, cfg->xdp_mode, err, errlen) != 0)
        goto fail;
    for (x->n_socks = 0; x->n_socks < n; x->n_socks++)
        if (xdp_sock_new(x, (unsigned)x->n_socks, cfg, err, errlen) != 0) {
            x->n_socks++; /* freed with the rest */
            goto fail;
        }
    if (xdp_publish(x, err, errlen) != 0)
        goto fail;
    xdp_describe(x);
    log_msg(LOG_INFO, "xdp %s: UDP port %u on %zu queue%s, %s mode", x->ifname,
            cfg->xdp_port, x->n_socks, x->n_socks == 1 ? "" : "s", x->mode);
    return x;
fail:
    xdp_free(x);
    return NULL;
}

int xdp_worker_start(xdp_t *x, unsigned w, uv_loop_t *loop, answer_ctx_t *ans)
{
    for (size_t q = 0; q < x->n_socks; q++) {
        xdp_sock_t *s = x->socks[q];
        if (s->st.worker != w)
            continue;
        s->ans = ans;
        int r = uv_poll_init(loop, &s->poll, s->fd);
        if (r < 0)
            return r;
        s->polling = true;
        s->poll.data = s;
        if ((r = uv_poll_start(&s->poll, UV_READABLE, xdp_on_readable)) < 0)
            return r;
    }
    return 0;
}

void xdp_worker_close(xdp_t *x, unsigned w)
{
    for (size_t q = 0; x && q < x->n_socks; q++) {
        xdp_sock_t *s = x->socks[q];
        if (s && s->st.worker == w && s->polling &&
            !uv_is_closing((uv_handle_t *)&s->poll))
            uv_close((uv_handle_t *)&s->poll, NULL);
    }
}

static void xdp_sock_free(xdp_sock_t *s)
{
    if (!s)
        return;
    if (s->xsk)
        xsk_socket__delete(s->xsk);
    if (s->umem)
        xsk_umem__delete(s->umem);
    if (s->area)
        munmap(s->area, (size_t)XDP_FRAMES * XDP_FRAME);
    free(s);
}

void xdp_free(xdp_t *x)
{
    if (!x)
        return;
    if (x->link_fd >= 0)
        close(x->link_fd); /* detaches the program: traffic goes to the kernel */
    for (size_t q = 0; q < x->n_socks; q++)
        xdp_sock_free(x->socks[q]);
    free(x->socks);
    bpf_object__close(x->obj);
    free(x);
}

const char *xdp_mode(const xdp_t *x)
{
    return x->mode;
}

const char *xdp_interface(const xdp_t *x)
{
    return x->ifname;
}

size_t xdp_queues(const xdp_t *x)
{
    return x->n_socks;
}

void xdp_queue_stats(const xdp_t *x, size_t i, xdp_qstats_t *out)
{
    const uint64_t *in = (const uint64_t *)&x->socks[i]->st.rx;
    uint64_t *o = &out->rx;
    out->queue = x->socks[i]->st.queue;
    out->worker = x->socks[i]->st.worker;
    for (const uint64_t *end = &x->socks[i]->st.k_rx_dropped; in < end; in++, o++)
        *o = __atomic_load_n(in, __ATOMIC_RELAXED);
    struct xdp_statistics k = {0};
    socklen_t len = sizeof k;
    if (getsockopt(x->socks[i]->fd, SOL_XDP, XDP_STATISTICS, &k, &len) == 0) {
        out->k_rx_dropped = k.rx_dropped;
        out->k_rx_invalid = k.rx_invalid_descs;
        out->k_tx_invalid = k.tx_invalid_descs;
        out->k_rx_ring_full = k.rx_ring_full;
        out->k_fill_ring_empty = k.rx_fill_ring_empty_descs;
        out->k_tx_ring_empty = k.tx_ring_empty_descs;
    }
}
