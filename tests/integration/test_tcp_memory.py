"""TCP read memory against the real dnsd (docs/hardening.md): with
max_connections open, each holding a partial frame, the daemon's resident
memory (VmRSS) stays within the stated bound - under 5 KiB per connection plus
16 large read buffers of 64 KiB per worker. A frame announcing more than 4 KiB
borrows one of those large buffers; when every one is lent, the connection is
closed and counted (dnsd_tcp_limit_closed_total{reason="large_message"}). The
buffers come back when their connections close, so 64 KB queries are answered
again afterwards.

Sources are distinct 127.x.y.z addresses, so the per-client cap never applies."""

import resource
import socket
import struct
import time
import unittest

import dns.message
import dns.rcode

from harness import ORIGIN, DnsdTestCase, built_with, free_port, header, http, opt_rr, \
    parse_metrics, tcp_recv, tcp_send, wire_name

WORKERS = 1  # so that the node cap is one worker's cap: all of it can be open
MAX_CONNECTIONS = 1000
LATE = 500  # connections that announce 64 KB frames after the cap is reached

# The bound README states, in bytes.
PER_CONNECTION = 5 * 1024
INLINE_FRAME = 2 + 4096  # the largest frame a connection holds without help
LARGE_PER_WORKER = 16 * (2 + 65535)
# Allocator rounding, the metrics page and the like: not per connection.
SLACK = 2 * 1024 * 1024

LARGE_KEY = 'dnsd_tcp_limit_closed_total{reason="large_message"}'


def big_query(qid, total=65535):
    """A valid SOA query padded with an unknown EDNS option to `total` bytes."""
    q = header(qid, ar=1) + wire_name(ORIGIN) + struct.pack("!HH", 6, 1)
    pad = total - len(q + opt_rr(options=[(65001, b"")]))
    return q + opt_rr(options=[(65001, b"p" * pad)])


def is_open(s):
    """True while the server keeps s open (nothing to read, no EOF, no reset)."""
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


class TcpMemoryTest(DnsdTestCase):

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = 2 * (MAX_CONNECTIONS + LATE) + 200  # ours, and dnsd's (inherited)
        if hard < need:
            raise unittest.SkipTest("RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
        cls.metrics_port = free_port(False)
        cls.server_args = {
            "workers": WORKERS,
            "tcp": {"max_connections": MAX_CONNECTIONS, "idle_timeout": 120,
                    "read_timeout": 120},
            "extra": 'metrics: "127.0.0.1:%d"\n' % cls.metrics_port}
        super().setUpClass()

    def metrics(self):
        r = http(self.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r[0], 200)
        return parse_metrics(r[2].decode())

    def rss(self):
        with open("/proc/%d/status" % self.server.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def bound(self, base):
        return base + MAX_CONNECTIONS * PER_CONNECTION + WORKERS * LARGE_PER_WORKER + SLACK

    def connect(self, src):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                        source_address=(src, 0))

    def wait_open(self, n, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.metrics()["dnsd_tcp_connections_open"] >= n:
                return
            time.sleep(0.2)
        self.fail("fewer than %d connections open" % n)

    def big_roundtrips(self, n, qid):
        """n 64 KB queries, each on a connection of its own: all answered."""
        for i in range(n):
            with self.connect("127.0.53.%d" % (i + 1)) as s:
                tcp_send(s, big_query(qid + i))
                raw = tcp_recv(s, 5)
                self.assertIsNotNone(raw, "64 KB query %d not answered" % i)
                msg = dns.message.from_wire(raw)
                self.assertEqual((msg.id, msg.rcode()), (qid + i, dns.rcode.NOERROR))

    def open_large(self, n, net, qid):
        """n connections from 127.<net>.x.y, each announcing a 64 KB message
        and sending 60 KB of it. Returns (sockets, how many the server keeps,
        how many it refused and counted), once each is one or the other."""
        before = self.metrics().get(LARGE_KEY, 0)
        body = big_query(qid)[:60000]
        socks = []
        for i in range(n):
            s = self.connect("127.%d.%d.%d" % (net, i // 200, i % 200 + 1))
            s.settimeout(2)
            try:
                s.sendall(b"\xff\xff" + body)
            except OSError:
                pass  # refused while sending: fine
            socks.append(s)
        # Unread connections look kept too: done when the counts add up and
        # stayed the same for a second (or after 20 s).
        deadline = time.monotonic() + 20
        last = None
        while True:
            time.sleep(0.5)
            refused = self.metrics().get(LARGE_KEY, 0) - before
            kept = sum(is_open(s) for s in socks)
            now = (kept, refused)
            if (kept + refused == n and now == last) or time.monotonic() > deadline:
                return socks, kept, refused
            last = now

    def close_all(self, socks, timeout=20):
        for s in socks:
            s.close()
        deadline = time.monotonic() + timeout
        while self.metrics()["dnsd_tcp_connections_open"] > 0:
            if time.monotonic() > deadline:
                self.fail("connections still open after the client closed them all")
            time.sleep(0.2)

    @unittest.skipIf(built_with("sanitize", default=False),
                     "a sanitizer build's RSS (redzones, quarantine) says nothing about "
                     "the bound; test_large_messages_beyond_the_buffers_are_refused runs")
    def test_partial_frames_stay_within_the_bound(self):
        # Warm up what every worker allocates once (scratch, large buffers).
        self.big_roundtrips(8, 0x1000)
        base = self.rss()
        held, late = [], []
        try:
            # Every connection the cap allows, each with the largest frame a
            # connection holds on its own, one byte short.
            frame = struct.pack("!H", INLINE_FRAME - 2) + b"x" * (INLINE_FRAME - 3)
            for i in range(MAX_CONNECTIONS):
                s = self.connect("127.51.%d.%d" % (i // 200, i % 200 + 1))
                s.sendall(frame)
                held.append(s)
            self.wait_open(MAX_CONNECTIONS)
            time.sleep(0.5)
            rss = self.rss()
            self.assertLessEqual(rss, self.bound(base),
                                 "%d partial frames: RSS %d KiB, base %d KiB"
                                 % (MAX_CONNECTIONS, rss // 1024, base // 1024))
            self.assertTrue(all(is_open(s) for s in held), "partial frames are kept")
            # Then frames announcing 64 KB: the cap makes room by closing idle
            # connections, and only the large buffers hold such frames.
            late, kept, refused = self.open_large(LATE, 52, 0x2000)
            rss = self.rss()
            self.assertLessEqual(rss, self.bound(base),
                                 "after 64 KB frames: RSS %d KiB, base %d KiB"
                                 % (rss // 1024, base // 1024))
            self.assertEqual(kept + refused, LATE)
        finally:
            self.close_all(held + late)

    def test_large_messages_beyond_the_buffers_are_refused(self):
        socks = []
        try:
            socks, kept, refused = self.open_large(100, 54, 0x4000)
            self.assertLessEqual(kept, WORKERS * 16, "at most the large buffers hold")
            self.assertEqual(refused, 100 - kept, "every other one refused, counted")
        finally:
            self.close_all(socks)
        # The large buffers are given back when their connections close.
        self.big_roundtrips(WORKERS * 16 + 4, 0x5000)


if __name__ == "__main__":
    unittest.main()
