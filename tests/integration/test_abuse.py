"""Abuse limits against the real dnsd: response rate
limiting with slip and exemptions, DNS cookies (RFC 7873, RFC 9018) and the
exemption a valid one earns, TCP per-client cap, slowloris and slow-reader
timeouts, and a flood of idle TCP connections that must not slow UDP.

Sources are distinct 127.x.y.z addresses (all of 127/8 is loopback on Linux),
so each test case has its own /24 and its own RRL bucket."""

import json
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import dns.edns
import dns.message
import dns.rcode

from harness import (ORIGIN, DnsdTestCase, free_port, http, opt_rr, parse_metrics, query,
                     tcp_recv, tcp_send, wait_closed)
from test_control import (OK, PUSH, STATUS, RawCtl, control_server, dnsdctl, header,
                          vmrss_kib)

RATE, SLIP = 10, 2
SECRET = "e5e973e5a6b2a43f48e7dc849e37bfcf"


def scrape(port):
    """{sample: value} of GET /metrics."""
    r = http(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    if r is None or r[0] != 200:
        raise AssertionError("GET /metrics: %r" % (r,))
    return parse_metrics(r[2].decode())


def cookie_opt(data):
    return opt_rr(options=[(10, data)])


def flags(raw):
    return struct.unpack("!H", raw[2:4])[0]


def burst(port, src, pkts, settle=1.0):
    """Sends every packet from src as fast as possible, then collects replies
    until `settle` seconds of silence. Returns (replies, seconds spent sending)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        t0 = time.monotonic()
        for p in pkts:
            s.sendto(p, ("127.0.0.1", port))
        spent = time.monotonic() - t0
        replies = []
        while select.select([s], [], [], settle)[0]:
            replies.append(s.recv(65535))
        return replies, spent


def udp_from(port, src, pkt, timeout=2.0):
    """One query from source address src; the reply, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        s.settimeout(timeout)
        s.sendto(pkt, ("127.0.0.1", port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


class AbuseServerMixin:
    @classmethod
    def metrics_extra(cls, more):
        cls.metrics_port = free_port(False)
        return 'metrics: "127.0.0.1:%d"\n%s' % (cls.metrics_port, more)

    def metrics(self):
        return scrape(self.metrics_port)


class RrlTest(AbuseServerMixin, DnsdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server_args = {"extra": cls.metrics_extra(
            "rrl: {rate: %d, slip: %d, exempt: [\"127.0.9.0/24\"]}\n"
            "cookies: {secret: %s}\n" % (RATE, SLIP, SECRET))}
        super().setUpClass()

    def classify(self, replies):
        full = [r for r in replies if not flags(r) & 0x0200]
        tc = [r for r in replies if flags(r) & 0x0200]
        for r in tc:  # a slip: TC and nothing but the question (and OPT)
            self.assertEqual(struct.unpack("!HHH", r[6:12])[:2], (0, 0))
        return full, tc

    def test_rate_and_slip_with_counters(self):
        before = self.metrics()
        n = 200
        pkts = [query(ORIGIN, "SOA", qid=i) for i in range(n)]
        replies, spent = burst(self.port, "127.0.1.1", pkts)
        after = self.metrics()
        full, tc = self.classify(replies)
        limited = n - len(full)
        # A full bucket (RATE) plus what refills while sending (RATE/s), and a
        # token of rounding.
        self.assertGreaterEqual(len(full), RATE)
        self.assertLessEqual(len(full), RATE + int(RATE * spent) + 1)
        self.assertIn(len(tc), (limited // SLIP, (limited + SLIP - 1) // SLIP))
        dropped = n - len(full) - len(tc)
        self.assertGreater(dropped, 0)
        self.assertEqual(after["dnsd_rrl_slipped_total"] - before["dnsd_rrl_slipped_total"],
                         len(tc))
        self.assertEqual(after["dnsd_rrl_dropped_total"] - before["dnsd_rrl_dropped_total"],
                         dropped)
        for r in full:
            self.assertEqual(dns.message.from_wire(r).rcode(), dns.rcode.NOERROR)

    def test_other_prefix_unaffected(self):
        burst(self.port, "127.0.2.1", [query(ORIGIN, qid=i) for i in range(100)], 0.3)
        replies, _ = burst(self.port, "127.0.12.1", [query(ORIGIN, qid=i) for i in range(RATE)])
        full, _ = self.classify(replies)
        self.assertEqual(len(full), RATE)

    def test_exempt_prefix_never_limited(self):
        replies, _ = burst(self.port, "127.0.9.7", [query(ORIGIN, qid=i) for i in range(200)])
        full, tc = self.classify(replies)
        self.assertEqual((len(full), len(tc)), (200, 0))

    def test_valid_server_cookie_not_limited(self):
        client = os.urandom(8)
        # The server cookie is bound to the client address: get it from there.
        raw = udp_from(self.port, "127.0.3.1", query(ORIGIN, opt=cookie_opt(client)))
        server_cookie = self.cookie_of(raw)[8:]
        pkts = [query(ORIGIN, qid=i, opt=cookie_opt(client + server_cookie))
                for i in range(200)]
        before = self.metrics()
        replies, _ = burst(self.port, "127.0.3.1", pkts)
        after = self.metrics()
        full, tc = self.classify(replies)
        self.assertEqual((len(full), len(tc)), (200, 0))
        self.assertEqual(after['dnsd_cookies_total{result="valid"}']
                         - before['dnsd_cookies_total{result="valid"}'], 200)
        # Without the server cookie the same client is limited.
        replies, _ = burst(self.port, "127.0.3.1",
                           [query(ORIGIN, qid=i, opt=cookie_opt(client)) for i in range(100)])
        full, _ = self.classify(replies)
        self.assertLess(len(full), 100)

    def test_tcp_never_limited(self):
        burst(self.port, "127.0.4.1", [query(ORIGIN, qid=i) for i in range(50)], 0.3)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                      source_address=("127.0.4.1", 0)) as s:
            for i in range(100):
                tcp_send(s, query(ORIGIN, qid=i))
            for i in range(100):
                raw = tcp_recv(s, 5)
                self.assertIsNotNone(raw)
                self.assertFalse(flags(raw) & 0x0200)
                self.assertEqual(struct.unpack("!H", raw[:2])[0], i)

    # Cookies ----------------------------------------------------------------

    def cookie_of(self, raw):
        msg = dns.message.from_wire(raw)
        opts = [o for o in msg.options if o.otype == 10]
        self.assertEqual(len(opts), 1, "one COOKIE option in the reply")
        return opts[0].to_wire() if hasattr(opts[0], "to_wire") else opts[0].data

    def test_reply_carries_client_and_server_cookie(self):
        client = bytes.fromhex("0102030405060708")
        raw = udp_from(self.port, "127.0.5.1", query(ORIGIN, opt=cookie_opt(client)))
        self.assertIsNotNone(raw)
        c = self.cookie_of(raw)
        self.assertEqual(len(c), 24)
        self.assertEqual(c[:8], client)
        self.assertEqual(c[8], 1, "version 1")
        self.assertEqual(c[9:12], b"\0\0\0", "reserved")
        ts = struct.unpack("!I", c[12:16])[0]
        self.assertLess(abs(ts - time.time()), 5)

    def test_forged_server_cookie_counts_invalid(self):
        before = self.metrics()
        client = os.urandom(8)
        forged = client + b"\x01\0\0\0" + struct.pack("!I", int(time.time())) + os.urandom(8)
        raw = udp_from(self.port, "127.0.6.1", query(ORIGIN, opt=cookie_opt(forged)))
        self.assertIsNotNone(raw)
        # Answered normally, with a fresh cookie in place of the forged one.
        self.assertEqual(dns.message.from_wire(raw).rcode(), dns.rcode.NOERROR)
        c = self.cookie_of(raw)
        self.assertEqual(c[:8], client)
        self.assertNotEqual(c[8:], forged[8:])
        raw = udp_from(self.port, "127.0.6.1", query(ORIGIN, opt=cookie_opt(client)))
        after = self.metrics()
        inv, co = 'dnsd_cookies_total{result="invalid"}', 'dnsd_cookies_total{result="client_only"}'
        self.assertEqual(after[inv] - before[inv], 1)
        self.assertEqual(after[co] - before[co], 1)

    def test_malformed_cookie_lengths_formerr(self):
        for n in (0, 1, 7, 9, 15, 41, 64):
            raw = udp_from(self.port, "127.0.7.%d" % (n + 1),
                           query(ORIGIN, qid=0x7777, opt=cookie_opt(os.urandom(n))))
            self.assertIsNotNone(raw, "length %d" % n)
            self.assertEqual(flags(raw) & 0xF, 1, "length %d: FORMERR" % n)
        for n in (8, 16, 40):
            raw = udp_from(self.port, "127.0.8.1",
                           query(ORIGIN, opt=cookie_opt(os.urandom(n))))
            self.assertEqual(flags(raw) & 0xF, 0, "length %d: answered" % n)
        two = opt_rr(options=[(10, b"a" * 8), (10, b"b" * 8)])
        raw = udp_from(self.port, "127.0.8.2", query(ORIGIN, opt=two))
        self.assertEqual(flags(raw) & 0xF, 1, "two COOKIE options: FORMERR")


class ReloadLimitsTest(AbuseServerMixin, DnsdTestCase):
    """The abuse limits are part of the served data: a SIGHUP applies them."""

    @classmethod
    def setUpClass(cls):
        cls.server_args = {"extra": cls.metrics_extra("")}
        super().setUpClass()

    def reload(self, text):
        with open(self.server.config, "a") as f:
            f.write(text)
        n = self.server.log().count("SIGHUP: reloaded")
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self.server.log().count("SIGHUP: reloaded") == n:
            self.assertLess(time.monotonic(), deadline, self.server.log())
            time.sleep(0.05)

    def test_rrl_rate_set_by_sighup_is_applied(self):
        pkts = [query(ORIGIN, "SOA", qid=i) for i in range(100)]
        replies, _ = burst(self.port, "127.0.30.1", pkts)
        self.assertEqual(len(replies), 100)  # no RRL configured
        self.reload("rrl: {rate: %d, slip: %d}\n" % (RATE, SLIP))
        before = self.metrics()
        replies, spent = burst(self.port, "127.0.31.1", pkts)
        after = self.metrics()
        full = [r for r in replies if not flags(r) & 0x0200]
        self.assertGreaterEqual(len(full), RATE)
        self.assertLessEqual(len(full), RATE + int(RATE * spent) + 1)
        self.assertGreater(after["dnsd_rrl_dropped_total"] - before["dnsd_rrl_dropped_total"],
                           0)
        self.assertNotIn("restart needed", self.server.log())


class TcpLimitsTest(AbuseServerMixin, DnsdTestCase):
    """max_per_client 4, read_timeout 1 s, idle 3 s."""

    @classmethod
    def setUpClass(cls):
        cls.server_args = {"tcp": {"max_per_client": 4, "read_timeout": 1,
                                   "idle_timeout": 3, "max_connections": 100},
                           "extra": cls.metrics_extra("")}
        super().setUpClass()

    def connect(self, src):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                        source_address=(src, 0))

    def roundtrip(self, s):
        tcp_send(s, query(ORIGIN, qid=0x1111))
        return tcp_recv(s, 3)

    def test_per_client_cap(self):
        before = self.metrics()
        conns = [self.connect("127.0.20.1") for _ in range(4)]
        for s in conns:
            self.assertIsNotNone(self.roundtrip(s))
        extra = self.connect("127.0.20.1")
        self.assertIsNotNone(wait_closed(extra, 3), "the fifth connection is closed")
        extra.close()
        other = self.connect("127.0.20.2")  # another address has its own share
        self.assertIsNotNone(self.roundtrip(other))
        other.close()
        conns.pop().close()
        time.sleep(0.3)
        again = self.connect("127.0.20.1")
        self.assertIsNotNone(self.roundtrip(again), "room again after a close")
        again.close()
        for s in conns:
            s.close()
        after = self.metrics()
        key = 'dnsd_tcp_limit_closed_total{reason="per_client"}'
        self.assertEqual(after[key] - before[key], 1)

    def test_slowloris_read_timeout(self):
        before = self.metrics()
        s = self.connect("127.0.21.1")
        q = query(ORIGIN)
        q = struct.pack("!H", len(q)) + q
        t0 = time.monotonic()
        s.sendall(q[:3])  # a message begun ...
        for b in q[3:9]:  # ... and trickled, a byte every 0.3 s
            time.sleep(0.3)
            try:
                s.sendall(bytes([b]))
            except OSError:
                break
        self.assertIsNotNone(wait_closed(s, 3))
        took = time.monotonic() - t0
        s.close()
        self.assertLess(took, 2.5, "closed by the 1 s read timeout, not the 3 s idle one")
        after = self.metrics()
        key = 'dnsd_tcp_limit_closed_total{reason="read_timeout"}'
        self.assertEqual(after[key] - before[key], 1)

    def test_complete_messages_keep_the_connection(self):
        s = self.connect("127.0.22.1")
        for _ in range(4):  # 2.4 s of queries: each completes well within 1 s
            self.assertIsNotNone(self.roundtrip(s))
            time.sleep(0.6)
        s.close()

    def test_slow_reader_closed(self):
        before = self.metrics()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind(("127.0.23.1", 0))
        s.connect(("127.0.0.1", self.port))
        q = query("big." + ORIGIN, "TXT")
        frame = struct.pack("!H", len(q)) + q
        s.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and sent < 3000:
            try:
                s.send(frame)
                sent += 1
            except BlockingIOError:
                time.sleep(0.01)
        # Never read: the server stops reading, then closes at the idle timeout.
        s.setblocking(True)
        self.assertTrue(self.wait_reset(s, 8))
        s.close()
        after = self.metrics()
        key = 'dnsd_tcp_limit_closed_total{reason="write_timeout"}'
        self.assertEqual(after[key] - before[key], 1)
        with self.connect("127.0.23.2") as s2:
            self.assertIsNotNone(self.roundtrip(s2))

    def wait_reset(self, s, timeout):
        """Drains s until EOF or reset; True when that came within timeout.
        (Draining after the close is fine: the server has given up by then.)"""
        time.sleep(4)  # past the 3 s idle timeout, with nothing read
        s.settimeout(timeout)
        try:
            while s.recv(65536):
                pass
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


class IdleFloodTest(AbuseServerMixin, DnsdTestCase):
    """1,500 idle TCP connections from 1,500 addresses: UDP keeps its pace."""

    FLOOD = 1500

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = 2 * cls.FLOOD + 200
        if hard < need:
            raise unittest.SkipTest("RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
        cls.server_args = {"tcp": {"max_connections": 4000, "idle_timeout": 60},
                           "extra": cls.metrics_extra("")}
        super().setUpClass()

    def udp_times(self, n=100):
        times = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            for i in range(n):
                t0 = time.monotonic()
                s.sendto(query(ORIGIN, qid=i), ("127.0.0.1", self.port))
                raw = s.recv(65535)
                self.assertEqual(struct.unpack("!H", raw[:2])[0], i)
                times.append(time.monotonic() - t0)
        return sorted(times)

    def test_idle_flood_does_not_stop_udp(self):
        base = self.udp_times()
        conns = []
        try:
            for i in range(self.FLOOD):
                src = "127.30.%d.%d" % (i // 10, i % 10 + 1)
                conns.append(socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                                      source_address=(src, 0)))
            time.sleep(0.5)
            self.assertGreaterEqual(self.metrics()["dnsd_tcp_connections_open"], self.FLOOD)
            during = self.udp_times()
            # Every query answered (udp_times fails on a timeout); the median
            # stays within a few ms and no worse than a few times the baseline.
            median, base_median = during[len(during) // 2], base[len(base) // 2]
            self.assertLess(median, max(0.005, 5 * base_median))
            self.assertLess(during[-1], 0.2)
            # The idle connections are served too.
            tcp_send(conns[-1], query(ORIGIN, qid=0x2222))
            self.assertIsNotNone(tcp_recv(conns[-1], 3))
        finally:
            for s in conns:
                s.close()


class ControlEndpointMixin:
    """A daemon with control.unix and control.tcp, idle timeout IDLE seconds."""

    IDLE = 2

    @classmethod
    def setUpClass(cls):
        # These tests read the daemon's RSS. Under ASan, memory freed goes to a
        # quarantine (256 MB by default) before it is reused and would count as
        # held; a small one keeps RSS about live memory. No effect otherwise.
        old = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = (old + ":" if old else "") + "quarantine_size_mb=1"
        try:
            super().setUpClass()
        finally:
            if old is None:
                del os.environ["ASAN_OPTIONS"]
            else:
                os.environ["ASAN_OPTIONS"] = old

    @classmethod
    def make_server(cls):
        return control_server(options={"idle_timeout": cls.IDLE})

    def key(self):
        with open(self.server.path("ctl.key"), "rb") as f:
            return f.read().rstrip(b"\n")

    def tcp_addr(self):
        return ("127.0.0.1", self.server.ctl_port)

    def control_stats(self):
        p = dnsdctl("-s", self.server.sock, "stats")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)["control"]

    def keyless(self):
        """A TCP control connection whose HELLO has been read; no key. None
        when the daemon closes it at once."""
        s = socket.create_connection(self.tcp_addr(), timeout=3)
        hello = b""
        while len(hello) < 8 or len(hello) < 8 + struct.unpack("!I", hello[4:8])[0]:
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                s.close()
                return None
            hello += chunk
        return s


class ControlFloodTest(ControlEndpointMixin, DnsdTestCase):
    """Clients of the TCP control endpoint without the key: what they can make
    the daemon hold, for how long, and that the operator still gets in."""

    def test_keyless_clients_hold_little_and_never_lock_out_the_operator(self):
        pid = self.server.proc.pid
        before = self.control_stats()
        rss0 = vmrss_kib(pid)
        # 40 announce a 64 MiB push (with a made-up header MAC) and send 4 MiB
        # of it as fast as loopback takes it.
        fillers = []
        for _ in range(40):
            s = self.keyless()
            if s is None:
                continue  # over a connection cap
            try:
                s.settimeout(3)
                s.sendall(header(PUSH, 64 << 20) + b"\0" * 32 + b"x" * (4 << 20))
            except OSError:
                pass  # refused and closed while we were still sending
            fillers.append(s)
        grown = vmrss_kib(pid) - rss0
        # 40 more trickle one byte of such a header every 0.3 s, which would
        # hold a connection forever if any byte reset an idle timer.
        pattern = header(PUSH, 64 << 20) + b"\0" * 32
        tricklers = [(self.keyless(), time.monotonic()) for _ in range(40)]
        tricklers = [t for t in tricklers if t[0] is not None]
        closed_after, operator = {}, []
        t_start, step = time.monotonic(), 0
        try:
            while len(closed_after) < len(tricklers) and time.monotonic() - t_start < self.IDLE + 4:
                for i, (s, t0) in enumerate(tricklers):
                    if i not in closed_after and self.trickle(s, pattern[step % 40:][:1]):
                        closed_after[i] = time.monotonic() - t0
                step += 1
                if not operator and time.monotonic() - t_start > 0.5:
                    operator = self.operator_requests()
                    grown = max(grown, vmrss_kib(pid) - rss0)
                time.sleep(0.3)
            operator = operator or self.operator_requests()
        finally:
            for s in fillers + [t[0] for t in tricklers]:
                s.close()
        self.assertEqual(operator, [0, OK], "the operator was locked out (unix, TCP)")
        self.assertLess(grown, 24 << 10, "daemon RSS grew by %d KiB" % grown)
        self.assertEqual(len(tricklers), 40, "trickling clients refused at once")
        self.assertEqual(len(closed_after), 40, "trickling clients left open")
        self.assertLess(max(closed_after.values()), self.IDLE + 1.5)
        after = self.control_stats()
        self.assertGreaterEqual(after["refused"]["bad_mac"] - before["refused"]["bad_mac"], 40)
        moved = {k: after["limits"][k] - before["limits"][k] for k in after["limits"]}
        self.assertGreaterEqual(moved["tcp_evicted"], 8)
        self.assertGreaterEqual(moved["frame_deadline"], 1)

    @staticmethod
    def trickle(s, byte):
        """Sends one byte; True once the daemon has closed the connection."""
        s.setblocking(False)
        try:
            while True:
                data = s.recv(4096)  # the ERR, then EOF
                if not data:
                    return True
        except BlockingIOError:
            pass
        except OSError:
            return True
        try:
            s.send(byte)
        except BlockingIOError:
            pass
        except OSError:
            return True
        return False

    def operator_requests(self):
        """dnsdctl status over the unix socket, STATUS with the key over TCP."""
        p = dnsdctl("-s", self.server.sock, "-t", "3", "status")
        try:
            with RawCtl(self.tcp_addr(), key=self.key(), timeout=3) as c:
                ftype, _ = c.request(STATUS)
        except (OSError, EOFError) as e:
            ftype = repr(e)
        return [p.returncode, ftype]


class ControlPipelineTest(ControlEndpointMixin, DnsdTestCase):
    """A client that pipelines requests and reads no reply."""

    def test_pipelined_requests_unread_replies_bounded_then_all_in_order(self):
        n = 60000
        pid = self.server.proc.pid
        with RawCtl(self.tcp_addr(), key=self.key(), timeout=60) as c:
            self.assertEqual(c.request(STATUS)[0], OK)
            rss0 = vmrss_kib(pid)
            frames = b"".join(c.frame(STATUS, seq=c.seq_out + i) for i in range(n))
            c.seq_out += n
            sender = threading.Thread(target=c.sock.sendall, args=(frames,), daemon=True)
            sender.start()
            time.sleep(1.5)
            grown = vmrss_kib(pid) - rss0
            # Every reply arrives, in order: each MAC verifies with the next
            # sequence number.
            for _ in range(n):
                self.assertEqual(c.reply()[0], OK)
            sender.join(30)
            self.assertFalse(sender.is_alive())
            self.assertEqual(c.request(STATUS)[0], OK)
        self.assertLess(grown, 16 << 10, "daemon RSS grew by %d KiB" % grown)
        self.assertGreaterEqual(self.control_stats()["limits"]["read_paused"], 1)


if __name__ == "__main__":
    unittest.main()
