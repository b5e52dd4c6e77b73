"""The AF_XDP listener (config "xdp:", dnsd/io/xdp.h) on a veth pair between two
network namespaces (xdprig.py), dnsd in one, the clients in the other:

- the UDP cases of the core, malformed and pool (CountryTest, NamesTest,
  AaaaAllTest, QuartersTest but its restart case, NumberedNamesAcrossTheWalkTest,
  WeightedSelectionTest) suites run against the XDP listener, unchanged but
  for the address (the pool suite's loopback client addresses 127.0.N.x
  become 198.18.N.x, mapped alike by its test GeoIP DB; ::1 becomes the
  client's 2001:db8:53::2, unmapped alike; ECS clients stay as they are);
  each class checks that XDP, not the socket path, answered;
- kdig and dig get the same answers over XDP (port 53) as from the same
  daemon's socket path (port 5300), IPv4 and IPv6; dnsperf loses nothing;
- TCP to the same address, UDP to other ports or to addresses dnsd does not
  listen on, and fragmented queries reach the kernel; bad frames are dropped
  and counted; status and metrics show
  the queues and the mode;
- all of it in generic mode, the kdig/dnsperf part in native mode too;
- start-up: a missing interface or missing privileges are clear errors, and
  xdp.fallback serves on the socket path instead.

Everything that needs the rig is skipped, with the reason on stderr, when
namespaces or XDP are unavailable (not root, dnsd built without -DDNSD_XDP=ON,
a kernel without XDP).
"""

import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

import dns.message

import harness
import pooltest
import test_core
import test_malformed
import test_pool
import test_stats_metrics
from test_privs import status_fields
import xdprig
from harness import (BINARY_DIR, DNSD, ORIGIN, DnsdTestCase, Server, check_clean_exit,
                     dig, kdig, parse_presentation, query)
from xdprig import SRV4, SRV6

XDP_PORT, SOCK_PORT, METRICS_PORT = 53, 5300, 9153
DNSDCTL = os.path.join(BINARY_DIR, "bin", "dnsdctl")

RIG = None
RIG_WHY = None


def rig_src(addr):
    """The rig's stand-in for a pool test's loopback client address."""
    return "198.18." + addr[len("127.0."):] if addr.startswith("127.0.") else addr


def rig_addr(addr):
    return {"127.0.0.1": SRV4, "::1": SRV6}.get(addr, addr)


POOL_SRCS = [rig_src(a) for a in (pooltest.DE_SRC, pooltest.FR_SRC, pooltest.LU_SRC,
                                  pooltest.US_SRC, pooltest.GB_SRC, pooltest.SE_SRC,
                                  pooltest.AT_SRC, pooltest.KE_SRC, pooltest.TR_SRC,
                                  pooltest.UNMAPPED_SRC)]


def skip(why):
    sys.stderr.write("test_xdp: SKIPPED: %s\n" % why)
    raise unittest.SkipTest(why)


def rig():
    """The module's rig, built and entered on first use; skips when it cannot
    be, or when this dnsd cannot run the XDP listener on it."""
    global RIG, RIG_WHY
    if RIG is None and RIG_WHY is None:
        r = xdprig.Rig(client_addrs=POOL_SRCS)
        RIG_WHY = r.open()
        if RIG_WHY is None:
            RIG = r
            RIG.enter_client()
            RIG_WHY = probe_xdp()
    if RIG_WHY:
        skip(RIG_WHY)
    return RIG


def probe_xdp():
    """None if dnsd starts its XDP listener on the rig, else why not."""
    s = XdpServer(mode="generic")
    try:
        s.start()
    except RuntimeError as e:
        text = str(e)
        if "built without AF_XDP support" in text:
            return "dnsd was built without AF_XDP support (configure with -DDNSD_XDP=ON)"
        return "the AF_XDP listener does not start on a veth here: %s" % text[-600:]
    finally:
        s.stop()
    return None


def tearDownModule():
    if RIG:
        RIG.close()


# --------------------------------------------------------------------------
# The daemon on the rig
# --------------------------------------------------------------------------

def rig_config(path, mode, extra=""):
    """Rewrites a harness config to listen on the rig (XDP_PORT, and
    SOCK_PORT for the socket path) with the xdp and control keys."""
    with open(path) as f:
        lines = f.read().split("\n")
    assert lines[0].startswith("listen:"), lines[0]
    lines[0] = 'listen: ["%s:%d", "[%s]:%d", "%s:%d", "[%s]:%d"]' % (
        SRV4, XDP_PORT, SRV6, XDP_PORT, SRV4, SOCK_PORT, SRV6, SOCK_PORT)
    text = "\n".join(lines) + "\n"
    if mode:
        text += "xdp:\n  interface: %s\n  port: %d\n  mode: %s\n" % (RIG.srv_if if RIG
                                                                      else "none", XDP_PORT,
                                                                      mode)
    text += "control: {unix: %s}\n" % os.path.join(os.path.dirname(path), "ctl.sock")
    with open(path, "w") as f:
        f.write(text + extra)
    return path


class RigServerMixin:
    """A harness Server started in the rig's server namespace."""

    def rig_setup(self, mode, rig_extra):
        self.mode, self.rig_extra = mode, rig_extra
        self.config = rig_config(self.config, mode, rig_extra)
        self.port = XDP_PORT

    def start(self, timeout=10.0, argv_prefix=()):
        self.stderr = open(self.path("stderr.log"), "w+")
        argv = RIG.in_srv(list(argv_prefix) + [DNSD, "-c", self.config])
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.stderr,
                                     stderr=self.stderr, cwd=self.dir,
                                     preexec_fn=harness._die_with_parent)
        deadline, probe = time.monotonic() + timeout, query(ORIGIN, "SOA")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsd exited with %d before answering:\n%s"
                                   % (self.proc.returncode, self.log()))
            reply = harness.udp_exchange(XDP_PORT, probe, 0.2, SRV4)
            if reply is not None and len(reply) > 2 and reply[2] & 0x80:
                return self
        self.kill()
        raise RuntimeError("dnsd did not answer within %.0f s:\n%s" % (timeout, self.log()))

    def status(self):
        p = subprocess.run([DNSDCTL, "-s", self.path("ctl.sock"), "status"],
                           capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            raise AssertionError("dnsdctl status: %s" % p.stderr)
        return json.loads(p.stdout)

    def xdp_total(self, key="rx"):
        return sum(q[key] for q in self.status()["xdp"]["queues"])


class XdpServer(RigServerMixin, Server):
    def __init__(self, mode="generic", rig_extra="", **kw):
        super().__init__(**kw)
        self.rig_setup(mode, rig_extra)


class XdpPoolServer(RigServerMixin, pooltest.PoolServer):
    """A pool suite's server on the rig: its test DB's loopback networks
    become the rig's (rig_src); networks meant for ECS stay."""

    def __init__(self, *a, mode="generic", **kw):
        if kw.get("nets", pooltest.GEO_NETS) is not None:
            kw["nets"] = [rig_src(n) for n in kw.get("nets", pooltest.GEO_NETS)]
        super().__init__(*a, **kw)
        self.rig_setup(mode, "")


# --------------------------------------------------------------------------
# The existing suites' UDP cases against the XDP listener
# --------------------------------------------------------------------------

class XdpSuiteMixin:
    """Runs a DnsdTestCase's tests with UDP and TCP aimed at the rig address;
    UDP to XDP_PORT is XDP's, TCP the kernel's."""

    @classmethod
    def make_server(cls):
        rig()
        return XdpServer()

    @classmethod
    def tearDownClass(cls):
        # Those UDP cases must have gone through XDP, not the socket path.
        rx, tx = cls.server.xdp_total("rx"), cls.server.xdp_total("tx")
        super().tearDownClass()
        if rx < 5 or tx < 5:
            raise AssertionError("the XDP listener saw %d frames, sent %d" % (rx, tx))

    @property
    def port(self):
        return XDP_PORT

    def udp(self, pkt, timeout=2.0, addr="127.0.0.1"):
        return harness.udp_exchange(XDP_PORT, pkt, timeout, rig_addr(addr))

    def tcp(self, pkt, timeout=3.0, addr="127.0.0.1"):
        with harness.tcp_connect(XDP_PORT, rig_addr(addr)) as s:
            harness.tcp_send(s, pkt)
            return harness.tcp_recv(s, timeout)


class XdpCoreTest(XdpSuiteMixin, test_core.CoreTest):
    pass


class XdpMalformedTest(XdpSuiteMixin, test_malformed.MalformedTest):
    pass


def rig_client_src(src):
    """The rig address standing in for a pool test's client address: ::1,
    unmapped in the test DB, becomes CLI6, unmapped too."""
    return xdprig.CLI6 if src == "::1" else rig_src(src)


class RigClient(pooltest.Client):
    """pooltest's client from the rig stand-in of its source address."""

    def __init__(self, port, src):
        v6 = ":" in src
        self.sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        self.sock.bind((rig_client_src(src), 0))
        self.sock.connect((SRV6 if v6 else SRV4, XDP_PORT))


class XdpPoolMixin(XdpSuiteMixin):
    """A pool suite's class against the XDP listener: the suite's own server
    (snapshot, zone options, test DB) as an XdpPoolServer, its clients from
    the rig's stand-in addresses. Same snapshots, draws and tolerances."""

    server_class = XdpPoolServer

    @classmethod
    def make_server(cls):
        rig()
        return super(XdpSuiteMixin, cls).make_server()

    def client(self, src):
        c = RigClient(XDP_PORT, src)
        self.addCleanup(c.close)
        return c

    def diagnose(self, src):
        # _country reports the source it saw: the rig's stand-in.
        d = super().diagnose(src)
        if d.get("address") == rig_client_src(src) + " (source)":
            d["address"] = src + " (source)"
        return d


class XdpPoolNamesTest(XdpPoolMixin, test_pool.NamesTest):
    pass


class XdpPoolAaaaAllTest(XdpPoolMixin, test_pool.AaaaAllTest):
    pass


class XdpPoolQuartersTest(XdpPoolMixin, test_pool.QuartersTest):
    def test_split_is_deterministic_per_snapshot(self):
        self.skipTest("starts more daemons on loopback: a socket-path case, "
                      "covered by test_pool")


class XdpPoolCountryTest(XdpPoolMixin, test_pool.CountryTest):
    pass


class XdpPoolNumberedNamesAcrossTheWalkTest(XdpPoolMixin,
                                            test_pool.NumberedNamesAcrossTheWalkTest):
    pass


class XdpPoolWeightedSelectionTest(XdpPoolMixin, test_pool.WeightedSelectionTest):
    pass


# --------------------------------------------------------------------------
# Real clients, other traffic, counters
# --------------------------------------------------------------------------

CASES = [(ORIGIN, "SOA"), (ORIGIN, "NS"), (ORIGIN, "TXT"), ("www." + ORIGIN, "A"),
         ("www." + ORIGIN, "AAAA"), ("mid." + ORIGIN, "TXT"), ("nosuch." + ORIGIN, "A"),
         ("a." + ORIGIN, "A"), ("example.com", "A")]


def udp_raw(addr, port, payload, timeout=2.0, src=None):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        if src:
            s.bind((src, 0))
        s.settimeout(timeout)
        s.sendto(payload, (addr, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


class XdpRigTest(unittest.TestCase):
    mode = "generic"

    @classmethod
    def setUpClass(cls):
        rig()
        cls.server = XdpServer(mode=cls.mode,
                               rig_extra='metrics: "%s:%d"\n' % (SRV4, METRICS_PORT))
        cls.addClassCleanup(cls.server.kill)
        try:
            cls.server.start()
        except RuntimeError as e:
            if cls.mode == "native" and "native mode" in str(e):
                skip("native XDP is not available on this veth: %s" % str(e)[-300:])
            raise

    @classmethod
    def tearDownClass(cls):
        check_clean_exit(*cls.server.stop())

    def same_answers(self, tool, addr):
        for name, rdtype in CASES:
            for opts in ((), ("+bufsize=1232",)):
                with self.subTest(tool=tool.__name__, addr=addr, name=name, type=rdtype,
                                  opts=opts):
                    a = parse_presentation(tool(XDP_PORT, name, rdtype, *opts, addr=addr))
                    b = parse_presentation(tool(SOCK_PORT, name, rdtype, *opts, addr=addr))
                    a.pop("id", None), b.pop("id", None)
                    self.assertIn("status", a)
                    self.assertEqual(a, b)

    def test_kdig_and_dig_get_the_socket_paths_answers(self):
        before = self.server.xdp_total("tx")
        for addr in (SRV4, SRV6):
            self.same_answers(kdig, addr)
            self.same_answers(dig, addr)
        # Every UDP exchange on XDP_PORT was XDP's (4 runs x 2 option sets).
        self.assertGreaterEqual(self.server.xdp_total("tx") - before, 4 * 2 * len(CASES))

    def test_every_queue_answers_in_native_mode(self):
        # The rig's veth has two receive queues: two AF_XDP sockets, one per
        # queue, each served by its own worker (queue q by worker q modulo
        # the workers), and traffic from many source ports reaches both.
        if self.mode != "native":
            # veth records the receive queue only on its NAPI path, which
            # native XDP turns on; generic XDP sees every frame as queue 0.
            self.skipTest("generic XDP on veth sees every frame on queue 0")
        queues = self.server.status()["xdp"]["queues"]
        self.assertEqual([(q["queue"], q["worker"]) for q in queues], [(0, 0), (1, 1)])
        before = [(q["rx"], q["tx"]) for q in queues]
        # 16 client sockets: veth picks the queue by flow, so all landing on
        # one of the two queues has a chance of 2^-15.
        r = self.dnsperf(SRV4, seconds=2, qps=4000, clients=16)
        self.assertEqual(r["Queries lost"], 0, r)
        after = [(q["rx"], q["tx"]) for q in self.server.status()["xdp"]["queues"]]
        self.assertEqual(len(after), 2)
        for (rx0, tx0), (rx1, tx1) in zip(before, after):
            self.assertGreater(rx1, rx0, (before, after))
            self.assertGreater(tx1, tx0, (before, after))

    def dnsperf(self, addr, seconds=3, qps=4000, clients=2):
        qfile = os.path.join(self.server.dir, "queries.txt")
        with open(qfile, "w") as f:
            f.write("%s SOA\nwww.%s A\nwww.%s AAAA\nnosuch.%s A\n" % ((ORIGIN,) * 4))
        p = subprocess.run(["dnsperf", "-s", addr, "-p", str(XDP_PORT), "-d", qfile,
                            "-l", str(seconds), "-Q", str(qps), "-c", str(clients), "-t", "2"],
                           capture_output=True, text=True, timeout=seconds + 30)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = {}
        for key in ("Queries sent", "Queries completed", "Queries lost"):
            line = next(ln for ln in p.stdout.splitlines() if key + ":" in ln)
            out[key] = int(line.split(":")[1].split()[0])
        return out

    def test_dnsperf_loses_nothing(self):
        for addr in (SRV4, SRV6):
            with self.subTest(addr=addr):
                before = self.server.xdp_total("tx")
                r = self.dnsperf(addr)
                self.assertGreater(r["Queries sent"], 1000, r)
                self.assertEqual(r["Queries lost"], 0, r)
                self.assertEqual(r["Queries completed"], r["Queries sent"], r)
                self.assertGreaterEqual(self.server.xdp_total("tx") - before,
                                        r["Queries sent"])

    def test_tcp_on_the_same_address_stays_with_the_kernel(self):
        before = self.server.xdp_total("rx")
        for addr in (SRV4, SRV6):
            with self.subTest(addr=addr):
                out = parse_presentation(kdig(XDP_PORT, ORIGIN, "SOA", "+tcp", addr=addr))
                self.assertEqual(out["status"], "NOERROR")
        self.assertEqual(self.server.xdp_total("rx"), before)

    def test_other_udp_ports_reach_the_kernel(self):
        # A one-shot UDP echo in the server namespace, on another port.
        echo = subprocess.Popen(RIG.in_srv([
            sys.executable, "-c",
            "import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "s.bind(('%s',7007))\nprint('up',flush=True)\ns.settimeout(10)\n"
            "d,a=s.recvfrom(100)\ns.sendto(d[::-1],a)\n" % SRV4]),
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(echo.stdout.close)
        self.addCleanup(echo.wait)
        self.addCleanup(echo.kill)
        self.assertEqual(echo.stdout.readline().strip(), "up")
        before = self.server.xdp_total("rx")
        self.assertEqual(udp_raw(SRV4, 7007, b"not dns"), b"snd ton")
        self.assertEqual(echo.wait(timeout=10), 0)
        self.assertEqual(self.server.xdp_total("rx"), before)

    def test_other_addresses_of_the_host_stay_with_the_kernel(self):
        # 198.18.0.3 is the server's, but dnsd does not listen on it: the
        # kernel gets the query and, with no socket there, refuses it. XDP
        # answering it would speak for an address dnsd was not given.
        before = self.server.xdp_total("rx")
        self.assertIsNone(harness.udp_exchange(XDP_PORT, query(ORIGIN, "SOA"), 1.0,
                                               xdprig.SRV4_OTHER))
        self.assertEqual(self.server.xdp_total("rx"), before)

    def test_fragmented_query_is_reassembled_by_the_kernel(self):
        # 1800 bytes of EDNS padding (RFC 7830): over the 1500-byte MTU, so
        # the query arrives in fragments, which XDP leaves to the kernel; the
        # socket on the same address and port answers.
        pad = harness.opt_rr(payload=1232, options=[(12, b"\0" * 1800)])
        pkt = query(ORIGIN, "SOA", qid=0x7777, opt=pad)
        before = self.server.xdp_total("rx")
        raw = udp_raw(SRV4, XDP_PORT, pkt)
        self.assertIsNotNone(raw, "no answer to a fragmented query")
        self.assertEqual(raw[:2], pkt[:2])
        self.assertEqual(dns.message.from_wire(raw).rcode(), 0)
        self.assertEqual(self.server.xdp_total("rx"), before)

    def send_frame(self, frame):
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
            s.bind((RIG.cli_if, 0))
            s.send(frame)

    def frame(self, ip_csum_ok=True, udp_len=None, src=xdprig.CLI4):
        dns_q = query(ORIGIN, "SOA")
        ulen = 8 + len(dns_q)
        udp = struct.pack("!HHHH", 40000, XDP_PORT, udp_len or ulen, 0) + dns_q
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(SRV4))
        s = sum(struct.unpack("!10H", ip))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        csum = (~s & 0xffff) ^ (0 if ip_csum_ok else 0x5555)
        ip = ip[:10] + struct.pack("!H", csum) + ip[12:]
        eth = bytes.fromhex(RIG.mac("srv").replace(":", "") + RIG.mac("cli").replace(":", ""))
        return eth + b"\x08\x00" + ip + udp

    def drops(self):
        out = {}
        for q in self.server.status()["xdp"]["queues"]:
            for k, v in q["dropped"].items():
                out[k] = out.get(k, 0) + v
        return out

    def test_bad_frames_are_dropped_and_counted(self):
        cases = [("checksum", self.frame(ip_csum_ok=False)),
                 ("frame", self.frame(udp_len=900)),
                 ("address", self.frame(src="127.0.0.1"))]
        for reason, frame in cases:
            with self.subTest(reason=reason):
                before = self.drops()
                self.send_frame(frame)
                deadline = time.monotonic() + 3
                while self.drops()[reason] == before[reason] and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertEqual(self.drops()[reason], before[reason] + 1)
        # A well-formed frame built the same way is answered (the check above
        # is not an artefact of the raw frames).
        before = self.server.xdp_total("tx")
        self.send_frame(self.frame())
        deadline = time.monotonic() + 3
        while self.server.xdp_total("tx") == before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.server.xdp_total("tx"), before + 1)

    def raw_udp(self, addr, checksum, pkt):
        """Sends pkt to XDP_PORT as a UDP datagram written by hand, its
        checksum "good", "bad" (off by one), "partial" (the pseudo-header's
        sum alone, as TX checksum offload leaves it) or "zero"; returns the
        reply to the source port, or None."""
        v6 = ":" in addr
        fam, src = (socket.AF_INET6, xdprig.CLI6) if v6 else (socket.AF_INET, xdprig.CLI4)
        with socket.socket(fam, socket.SOCK_DGRAM) as rx, \
                socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_UDP) as tx:
            rx.bind((src, 0))
            tx.bind((src, 0))  # the pseudo-header's source address
            sport, ulen = rx.getsockname()[1], 8 + len(pkt)
            udp = struct.pack("!HHHH", sport, XDP_PORT, ulen, 0) + pkt
            pseudo = (socket.inet_pton(fam, src) + socket.inet_pton(fam, addr)
                      + struct.pack("!HH", 17, ulen))
            data = pseudo + (udp if checksum != "partial" else b"")
            s = sum(struct.unpack("!%dH" % (len(data) // 2), data[:len(data) // 2 * 2]))
            s += data[-1] << 8 if len(data) % 2 else 0
            while s >> 16:
                s = (s & 0xffff) + (s >> 16)
            c = {"good": ~s & 0xffff or 0xffff, "bad": (~s + 1) & 0xffff or 1,
                 "partial": s, "zero": 0}[checksum]
            tx.sendto(udp[:6] + struct.pack("!H", c) + udp[8:], (addr, 0))
            rx.settimeout(2.0 if checksum in ("good", "zero") else 0.3)
            try:
                return rx.recv(65535)
            except socket.timeout:
                return None

    def test_udp_checksums_are_verified(self):
        # A datagram whose UDP checksum does not verify is not answered but
        # counted (reason udp_checksum); a partial one (TX offload's
        # pseudo-header sum) is one of them; none at all (0) is fine over
        # IPv4 only (RFC 768; RFC 8200 section 8.1). An odd query length
        # checks the padding of the last byte.
        for addr in (SRV4, SRV6):
            for checksum, answered in (("good", True), ("bad", False), ("partial", False),
                                       ("zero", ":" not in addr)):
                for odd in (False, True):
                    with self.subTest(addr=addr, checksum=checksum, odd=odd):
                        pkt = query(("ab." if odd else "") + ORIGIN, "SOA")
                        before, tx = self.drops()["udp_checksum"], self.server.xdp_total("tx")
                        reply = self.raw_udp(addr, checksum, pkt)
                        deadline = time.monotonic() + 3
                        while (self.drops()["udp_checksum"] == before and not answered
                               and time.monotonic() < deadline):
                            time.sleep(0.05)
                        if answered:
                            self.assertIsNotNone(reply)
                            self.assertEqual(reply[:2], pkt[:2])
                            self.assertEqual(self.drops()["udp_checksum"], before)
                            self.assertEqual(self.server.xdp_total("tx"), tx + 1)
                        else:
                            self.assertIsNone(reply)
                            self.assertEqual(self.drops()["udp_checksum"], before + 1)
                            self.assertEqual(self.server.xdp_total("tx"), tx)

    def test_status_and_metrics_show_queues_and_mode(self):
        harness.udp_exchange(XDP_PORT, query(ORIGIN, "SOA"), 2.0, SRV4)
        x = self.server.status()["xdp"]
        self.assertEqual(x["interface"], RIG.srv_if)
        self.assertEqual(x["mode"], "%s/copy" % self.mode)
        # The rig's veth has two queues; the harness runs two workers.
        self.assertEqual([(q["queue"], q["worker"]) for q in x["queues"]], [(0, 0), (1, 1)])
        q = x["queues"][0]
        for key in ("rx", "tx", "fill_stalls", "completion_stalls", "dropped", "kernel"):
            self.assertIn(key, q)
        self.assertGreater(sum(q["rx"] for q in x["queues"]), 0)
        with socket.create_connection((SRV4, METRICS_PORT), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            body = harness.recv_until_eof(s).partition(b"\r\n\r\n")[2].decode()
        m = harness.parse_metrics(body)
        self.assertEqual(m['dnsd_xdp_info{interface="%s",mode="%s/copy"}'
                           % (RIG.srv_if, self.mode)], 1)
        self.assertGreater(m['dnsd_xdp_packets_total{queue="0",direction="rx"}']
                           + m['dnsd_xdp_packets_total{queue="1",direction="rx"}'], 0)
        self.assertIn('dnsd_xdp_dropped_total{queue="0",reason="checksum"}', m)
        self.assertIn('dnsd_xdp_dropped_total{queue="0",reason="udp_checksum"}', m)
        self.assertIn('dnsd_xdp_ring_stalls_total{queue="0",ring="fill"}', m)


    def test_stats_shows_the_xdp_families_as_the_page_does(self):
        """STATS and /metrics render the xdp_* families from one table
        (dnsd/control/metrics_xdp.c): with no traffic between the reads,
        every xdp series of the page is in STATS with the same value."""
        harness.udp_exchange(XDP_PORT, query(ORIGIN, "SOA"), 2.0, SRV4)
        time.sleep(0.3)  # the rings drained, the reply's completion reaped
        page, types = test_stats_metrics.parse_page(self.scrape())
        p = subprocess.run([DNSDCTL, "-s", self.server.path("ctl.sock"), "stats"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        stats = json.loads(p.stdout)
        xdp = {k: v for k, v in page.items() if k.startswith("dnsd_xdp_")}
        self.assertIn('dnsd_xdp_packets_total{queue="0",direction="rx"}', xdp)
        flat = test_stats_metrics.leaves(stats)
        for key, (name, labels, value) in sorted(xdp.items()):
            with self.subTest(series=key):
                path = test_stats_metrics.stats_path(name, labels, types)
                self.assertEqual(flat.get(path), value, ".".join(path))
        only_page, only_stats = test_stats_metrics.one_sided(
            xdp, types, {k: v for k, v in stats.items() if k.startswith("xdp_")})
        self.assertEqual(only_page + only_stats, [])

    def scrape(self):
        with socket.create_connection((SRV4, METRICS_PORT), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            return harness.recv_until_eof(s).partition(b"\r\n\r\n")[2].decode()


class XdpNativeRigTest(XdpRigTest):
    """The same in native (driver) mode, which veth offers."""
    mode = "native"


# --------------------------------------------------------------------------
# Start-up errors and the fallback
# --------------------------------------------------------------------------

class XdpStartupTest(unittest.TestCase):

    def run_server(self, xdp, argv_prefix=(), expect_start=True, listen_port=None,
                   listen=None):
        rig()
        s = XdpServer(mode=None)
        self.addCleanup(s.tmp.cleanup)
        self.addCleanup(s.stop)
        with open(s.config) as f:
            text = f.read()
        if listen_port:
            text = text.replace(':%d"' % XDP_PORT, ':%d"' % listen_port)
        if listen:
            text = "listen: %s\n" % listen + text.split("\n", 1)[1]
        with open(s.config, "w") as f:
            f.write(text + "xdp:\n" + "".join("  %s: %s\n" % kv for kv in xdp.items()))
        if not expect_start:
            p = subprocess.run(RIG.in_srv(list(argv_prefix) + [DNSD, "-c", s.config]),
                               capture_output=True, text=True, timeout=20)
            return p.returncode, p.stderr
        s.start(argv_prefix=argv_prefix)
        return s

    def test_wildcard_listen_takes_every_address(self):
        s = self.run_server({"interface": RIG.srv_if, "mode": "generic"},
                            listen='["0.0.0.0:53", "[::]:53"]')
        for addr in (SRV4, xdprig.SRV4_OTHER, SRV6):
            with self.subTest(addr=addr):
                before = s.xdp_total("tx")
                self.assertIsNotNone(harness.udp_exchange(XDP_PORT, query(ORIGIN, "SOA"),
                                                          2.0, addr))
                self.assertEqual(s.xdp_total("tx"), before + 1)
        check_clean_exit(*s.stop())

    def test_missing_interface_is_a_clear_error(self):
        rc, err = self.run_server({"interface": "nosuch0"}, expect_start=False)
        self.assertEqual(rc, 1, err)
        self.assertIn("xdp nosuch0: interface: No such device", err)

    def test_unsupported_mode_is_a_clear_error(self):
        # lo has no driver-mode XDP; veth has no zero copy.
        for xdp, want in (({"interface": "lo", "mode": "native"},
                           "xdp lo: attaching in native mode: Operation not supported (the "
                           "driver lacks this XDP mode: try mode: generic or auto)"),
                          ({"interface": RIG.srv_if, "mode": "native", "zero_copy": "on"},
                           "xdp %s: AF_XDP socket on queue 0: Operation not supported (the "
                           "driver lacks zero copy: try zero_copy: auto or off)" % RIG.srv_if)):
            with self.subTest(xdp=xdp):
                rc, err = self.run_server(xdp, expect_start=False)
                self.assertEqual(rc, 1, err)
                self.assertIn(want, err)

    def test_missing_privileges_are_a_clear_error(self):
        # Root without capabilities; ports above 1024 so the sockets bind.
        rc, err = self.run_server({"interface": RIG.srv_if, "port": 5353},
                                  argv_prefix=["setpriv", "--bounding-set=-all",
                                               "--inh-caps=-all", "--"],
                                  expect_start=False, listen_port=5301)
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"xdp %s: .*Operation not permitted \(needs root, or "
                              r"CAP_NET_ADMIN, CAP_BPF and CAP_NET_RAW\)" % RIG.srv_if)

    def test_fallback_serves_on_the_socket_path(self):
        s = self.run_server({"interface": "nosuch0", "fallback": "true"})
        raw = harness.udp_exchange(XDP_PORT, query(ORIGIN, "SOA"), 2.0, SRV4)
        self.assertIsNotNone(raw)
        self.assertNotIn("xdp", s.status())
        rc, log = s.stop()
        check_clean_exit(rc, log)
        self.assertIn("xdp.fallback: answering UDP on the socket path alone", log)


# --------------------------------------------------------------------------
# The packaged unit's capabilities with the AF_XDP drop-in
# --------------------------------------------------------------------------

DIST = os.path.join(harness.SOURCE_DIR, "dist")
DROP_IN = os.path.join(DIST, "systemd", "dnsd.service.d", "xdp.conf")


def unit_caps(*paths):
    """The union of the CapabilityBoundingSet= lines of unit files, as
    setpriv names them (systemd merges repeated lines)."""
    caps = set()
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.startswith("CapabilityBoundingSet="):
                    caps |= {c[len("CAP_"):].lower() for c in line.split("=", 1)[1].split()}
    return caps


def setpriv_caps(caps):
    return ",".join(["-all"] + ["+" + c for c in sorted(caps)])


class XdpServiceCapsTest(unittest.TestCase):
    """dnsd as the packaged unit with dist/systemd/dnsd.service.d/xdp.conf
    starts it: root whose capabilities are the union of the unit's and the
    drop-in's bounding sets (setpriv stands in for systemd), dropping to
    `user:` after the set-up; and as a user that is not root with just the
    drop-in's capabilities (plus binding port 53) as ambient ones, the way a
    unit with User= and AmbientCapabilities= would run it. Short of one, the
    start fails with an error naming what failed, or with xdp.fallback the
    socket path answers alone."""

    def setUp(self):
        rig()
        try:
            import pwd
            self.nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        if not shutil.which("setpriv"):
            self.skipTest("needs setpriv (util-linux)")
        self.caps = unit_caps(os.path.join(DIST, "dnsd.service"), DROP_IN)

    def server(self, prefix, extra="", fallback=False):
        s = XdpServer(mode="generic", rig_extra=extra)
        if fallback:
            with open(s.config) as f:
                text = f.read()
            with open(s.config, "w") as f:
                f.write(text.replace("  mode: generic\n", "  mode: generic\n  fallback: true\n"))
        self.addCleanup(s.tmp.cleanup)
        self.addCleanup(s.kill)
        return s, list(prefix)

    def as_unit(self, caps):
        return ["setpriv", "--bounding-set=" + setpriv_caps(caps), "--inh-caps=-all",
                "--no-new-privs", "--"]

    def check_xdp_answers(self, s):
        before = s.xdp_total("tx")
        for addr in (SRV4, SRV6):
            reply = harness.udp_exchange(XDP_PORT, query(ORIGIN, "SOA"), 2.0, addr)
            self.assertIsNotNone(reply, addr)
        self.assertEqual(s.xdp_total("tx"), before + 2)

    def test_unit_with_the_drop_in_serves_xdp_and_drops_root(self):
        self.assertTrue({"bpf", "net_admin", "net_raw", "ipc_lock"} <= self.caps, self.caps)
        s, prefix = self.server(self.as_unit(self.caps), "user: nobody\ngroup: nogroup\n")
        s.start(argv_prefix=prefix)
        self.check_xdp_answers(s)
        # The set-up ran before the drop; afterwards nothing is left.
        st = status_fields(s.proc.pid)
        self.assertEqual(st["Uid"], [str(self.nobody.pw_uid)] * 4)
        self.assertEqual(int(st["CapEff"][0], 16), 0)
        self.assertEqual(int(st["CapPrm"][0], 16), 0)
        check_clean_exit(*s.stop())

    def test_service_user_with_the_drop_ins_capabilities_serves_xdp(self):
        caps = unit_caps(DROP_IN) | {"net_bind_service"}
        c = setpriv_caps(caps)
        s, prefix = self.server(["setpriv", "--reuid=nobody", "--regid=nogroup",
                                 "--clear-groups", "--inh-caps=" + c, "--ambient-caps=" + c,
                                 "--bounding-set=" + c, "--"])
        os.chown(s.dir, self.nobody.pw_uid, -1)  # its control socket goes there
        s.start(argv_prefix=prefix)
        self.assertEqual(status_fields(s.proc.pid)["Uid"][0], str(self.nobody.pw_uid))
        self.check_xdp_answers(s)
        check_clean_exit(*s.stop())

    def test_without_a_capability_start_up_fails_clearly_or_falls_back(self):
        hint = r"Operation not permitted \(needs root, or CAP_NET_ADMIN, CAP_BPF and CAP_NET_RAW\)"
        for missing, want in (("bpf", r"loading the XDP program: " + hint),
                              ("net_admin", r"loading the XDP program: " + hint),
                              ("net_raw", r"creating the UMEM: " + hint),
                              ("ipc_lock", r"creating the UMEM: No buffer space available "
                                           r"\(the UMEM is locked memory, 16 MiB per queue: "
                                           r"needs CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK\)")):
            if missing == "ipc_lock" and umem_fits_memlock():
                continue  # no RLIMIT_MEMLOCK stands in the way here
            with self.subTest(missing=missing):
                s, prefix = self.server(self.as_unit(self.caps - {missing}),
                                        "user: nobody\ngroup: nogroup\n")
                p = subprocess.run(RIG.in_srv(prefix + [DNSD, "-c", s.config]),
                                   capture_output=True, text=True, timeout=20)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertRegex(p.stderr, r"err: xdp %s: %s" % (RIG.srv_if, want))
            if missing not in ("bpf", "net_admin"):
                continue
            with self.subTest(missing=missing, fallback=True):
                s, prefix = self.server(self.as_unit(self.caps - {missing}),
                                        "user: nobody\ngroup: nogroup\n", fallback=True)
                s.start(argv_prefix=prefix)
                self.assertIsNotNone(harness.udp_exchange(XDP_PORT, query(ORIGIN, "SOA"),
                                                          2.0, SRV4))
                self.assertNotIn("xdp", s.status())
                rc, log = s.stop()
                check_clean_exit(rc, log)
                self.assertIn("xdp.fallback: answering UDP on the socket path alone", log)


def umem_fits_memlock():
    """Whether both UMEMs (16 MiB a queue) fit this process's RLIMIT_MEMLOCK,
    which dnsd inherits: then a start without CAP_IPC_LOCK succeeds."""
    soft = resource.getrlimit(resource.RLIMIT_MEMLOCK)[0]
    return soft == resource.RLIM_INFINITY or soft >= 2 * 16 << 20


class XdpConfigTest(DnsdTestCase):
    """Without namespaces: the key is checked the same on every build."""

    def test_bad_keys_are_config_errors(self):
        for xdp, why in (("{port: 53}", "xdp.interface: required key is missing"),
                         ("{interface: a/b}", "is not an interface name"),
                         ("{interface: eth0, mode: turbo}",
                          'expected one of auto, native, generic, got "turbo"'),
                         ("{interface: eth0, mode: generic, zero_copy: on}",
                          "zero copy needs mode native"),
                         ("{interface: eth0, port: 0}", "xdp.port")):
            with self.subTest(xdp=xdp):
                path = self.server.write("bad.yaml", "zones: [{origin: x.org, master: %s}]\n"
                                         "xdp: %s\n" % (self.server.path(ORIGIN + ".zone"), xdp))
                p = subprocess.run([DNSD, "-c", path, "--check"], capture_output=True,
                                   text=True, timeout=20)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertIn(why, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
