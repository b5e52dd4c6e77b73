"""harness.py - start the real dnsd on a loopback port and talk to it.

Every integration test runs the daemon built in DNSD_BINARY_DIR (set by ctest)
as a child process with a config and master files written to a temporary
directory, queries it with raw packets (built here byte by byte, so malformed
ones are possible), with kdig and dig, and decodes the answers with two
independent decoders: dnspython and ldns (bin/ldns-decode). On teardown the
daemon gets SIGTERM and must exit 0 without any sanitizer report.
"""

import contextlib
import ctypes
import os
import random
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rcode
import dns.rrset

SOURCE_DIR = os.environ.get("DNSD_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY_DIR = os.environ.get("DNSD_BINARY_DIR") or os.path.join(SOURCE_DIR, "build")
DNSD = os.path.join(BINARY_DIR, "bin", "dnsd")
LDNS_DECODE = os.path.join(BINARY_DIR, "bin", "ldns-decode")

ORIGIN = "pool.ntp.org"
IDENTITY = "test-node-1"
SOA_TTL, SOA_MINIMUM = 3600, 300  # negative TTL = min() = 300 (RFC 2308 section 3)
NEG_TTL = min(SOA_TTL, SOA_MINIMUM)
OTHER_ORIGIN = "example.net"
OTHER_NEG_TTL = 60  # its SOA TTL 60 is below its MINIMUM 600

# TXT RRsets sized around the UDP limits: "mid" (~370 bytes) fits 512, "k1"
# (~1060 bytes) fits 1232 but not 1000 or 512, "big" (~4300 bytes) needs TCP.
MID_TXT = ["m%d" % i + "m" * 148 for i in range(2)]
K1_TXT = ["k%d" % i + "k" * 238 for i in range(4)]
BIG_TXT = ["%02d" % i + "x" * 198 for i in range(20)]


def _txt_lines(owner, strings):
    return "".join('%s IN TXT "%s"\n' % (owner, s) for s in strings)


POOL_ZONE = (
    "$ORIGIN pool.ntp.org.\n"
    "$TTL 3600\n"
    "@ IN SOA ns1.pool.ntp.org. hostmaster.pool.ntp.org. 2026112401 7200 1800 1209600 300\n"
    "@ IN NS ns1\n"
    "@ IN NS ns2.example.net.\n"
    '@ IN TXT "dnsd integration test zone"\n'
    "@ IN MX 10 mail\n"
    "ns1 IN A 192.0.2.53\n"
    "www 600 IN A 192.0.2.80\n"
    "www 600 IN AAAA 2001:db8::80\n"
    'a.b IN TXT "below an empty non-terminal"\n'
    + _txt_lines("mid", MID_TXT) + _txt_lines("k1", K1_TXT) + _txt_lines("big", BIG_TXT))

OTHER_ZONE = (
    "$ORIGIN example.net.\n"
    "$TTL 60\n"
    "@ IN SOA ns.example.net. admin.example.net. 7 3600 600 86400 600\n"
    "@ IN NS ns\n"
    "ns IN A 192.0.2.1\n")

SANITIZER_RE = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|UndefinedBehaviorSanitizer|"
    r"ThreadSanitizer")


def built_with(feature, default=True):
    """Whether the dnsd under test has an optional feature: "dnstap" or
    "systemd", the CMake options DNSD_DNSTAP and DNSD_SYSTEMD (ON unless the
    build directory's CMakeCache.txt says OFF), or "sanitize" with
    default=False (DNSD_SANITIZE)."""
    key = "DNSD_%s:BOOL=" % feature.upper()
    try:
        with open(os.path.join(BINARY_DIR, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(key):
                    return line[len(key):].strip().upper() not in ("OFF", "0", "NO", "FALSE")
    except OSError:
        pass
    return default


def not_built(feature):
    """The reason to skip a test that needs an optional feature."""
    return "dnsd in %s was built with -DDNSD_%s=OFF: no %s support to test" % (
        BINARY_DIR, feature.upper(), feature)


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


# Independent of the `random` module, which tests may seed.
_PORT_RNG = random.SystemRandom()


def free_port(ipv6=True):
    """A port free for UDP and TCP on 127.0.0.1 (and ::1), chosen at random
    below the kernel's ephemeral range: a port from that range could be handed
    to a client socket of ours while dnsd is still starting (the client then
    talks to itself, or dnsd cannot bind), and random picks keep test
    processes running side by side off each other's ports."""
    lo, _ = _ephemeral_range()
    first = 10000 if lo > 12000 else 1024
    for _ in range(200):
        port = _PORT_RNG.randint(first, max(first, lo - 1))
        try:
            probes = [(socket.AF_INET, k, "127.0.0.1")
                      for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM)]
            if ipv6:
                probes += [(socket.AF_INET6, k, "::1")
                           for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM)]
            for fam, kind, addr in probes:
                with socket.socket(fam, kind) as s:
                    s.bind((addr, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free loopback port")


def port_is_free(port):
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False


def _die_with_parent():
    # The daemon must not outlive a test runner killed by ctest's timeout.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def environ(env):
    """os.environ with `env` added for the block (a daemon started in it
    inherits them), as it was afterwards."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --------------------------------------------------------------------------
# Raw packets
# --------------------------------------------------------------------------

def wire_name(name):
    """Uncompressed wire form, case kept: 'pOoL.NtP.oRg' -> b'\\x04pOoL...'."""
    out = b""
    for label in name.rstrip(".").split(".") if name not in ("", ".") else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def opt_rr(payload=1232, ext_rcode=0, version=0, do=False, options=(), rdlen=None):
    """An OPT pseudo-RR (RFC 6891 section 6.1.2); rdlen overrides RDLENGTH."""
    rdata = b"".join(struct.pack("!HH", code, len(data)) + data for code, data in options)
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return b"\x00" + struct.pack("!HHIH", 41, payload, ttl,
                                 len(rdata) if rdlen is None else rdlen) + rdata


def header(qid, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def query(name, rdtype="SOA", rdclass="IN", qid=None, rd=True, opcode=0, opt=None,
          qr=False):
    """A well-formed query; opt is bytes from opt_rr() or None."""
    qid = int.from_bytes(os.urandom(2), "big") if qid is None else qid
    flags = (0x8000 if qr else 0) | (opcode << 11) | (0x0100 if rd else 0)
    t = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
    c = dns.rdataclass.from_text(rdclass) if isinstance(rdclass, str) else rdclass
    return (header(qid, flags, ar=1 if opt else 0) + wire_name(name) +
            struct.pack("!HH", t, c) + (opt or b""))


def question_len(pkt):
    """Length of the (first) question section of a well-formed packet."""
    i = 12
    while pkt[i]:
        i += pkt[i] + 1
    return i + 1 + 4 - 12


def qid_of(pkt):
    return struct.unpack("!H", pkt[:2])[0]


# --------------------------------------------------------------------------
# The daemon
# --------------------------------------------------------------------------

class Server:
    """One dnsd process with its own config in a temporary directory."""

    def __init__(self, workers=2, identity=IDENTITY, tcp=None, zones=None, extra=""):
        self.ipv6 = have_ipv6()
        self.port = free_port(self.ipv6)
        self.tmp = tempfile.TemporaryDirectory(prefix="dnsd-it-")
        self.dir = self.tmp.name
        self.workers, self.identity, self.tcp, self.extra = workers, identity, tcp, extra
        self.zones = zones if zones is not None else [(ORIGIN, POOL_ZONE),
                                                       (OTHER_ORIGIN, OTHER_ZONE)]
        self.proc = None
        self.config = self.write_config()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def write_config(self):
        listen = ['"127.0.0.1:%d"' % self.port]
        if self.ipv6:
            listen.append('"[::1]:%d"' % self.port)
        lines = ["listen: [%s]" % ", ".join(listen), "workers: %d" % self.workers,
                 "identity: %s" % self.identity, "zones:"]
        for origin, text in self.zones:
            lines += ["  - origin: %s" % origin,
                      "    master: %s" % self.write(origin + ".zone", text)]
        if self.tcp:
            lines.append("tcp: {%s}" % ", ".join("%s: %s" % kv for kv in self.tcp.items()))
        return self.write("dnsd.yaml", "\n".join(lines) + "\n" + self.extra)

    def start(self, timeout=10.0):
        self.stderr = open(self.path("stderr.log"), "w+")
        self.proc = subprocess.Popen([DNSD, "-c", self.config], stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr, cwd=self.dir,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        probe = query(ORIGIN, "SOA")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsd exited with %d before answering:\n%s"
                                   % (self.proc.returncode, self.log()))
            reply = udp_exchange(self.port, probe, timeout=0.2)
            if reply is not None and len(reply) > 2 and reply[2] & 0x80:  # QR: an answer
                return self
        self.kill()
        raise RuntimeError("dnsd did not answer within %.0f s:\n%s" % (timeout, self.log()))

    def log(self):
        self.stderr.flush()
        with open(self.stderr.name, errors="replace") as f:
            return f.read()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """SIGTERM to our PID; returns (exit code, log). Kills after 10 s."""
        if self.proc is None:
            return None, ""
        if terminate(self.proc):
            return "killed after 10 s", self.log()
        rc, log = self.proc.returncode, self.log()
        self.stderr.close()
        self.tmp.cleanup()
        self.proc = None
        return rc, log


def terminate(proc, timeout=10):
    """Stops a process this test started, by its PID (the Popen): SIGTERM, then
    SIGKILL after `timeout` s. True when it had to be killed."""
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
        return False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return True


class MetricsControl:
    """Mixin for a Server class (named first in the bases): its config also
    serves /metrics on a free 127.0.0.1 port (self.metrics_port) and the
    control protocol on the unix socket self.sock. The port stays the same
    when the config is written again."""

    def write_config(self):
        if not hasattr(self, "metrics_port"):
            self.metrics_port = free_port(False)
        path = super().write_config()
        self.sock = self.path("ctl.sock")
        with open(path, "a") as f:
            f.write('metrics: "127.0.0.1:%d"\ncontrol: {unix: %s}\n'
                    % (self.metrics_port, self.sock))
        return path


def check_clean_exit(rc, log):
    """Raises AssertionError unless the daemon exited 0 without sanitizer report."""
    if rc != 0 or SANITIZER_RE.search(log):
        raise AssertionError("dnsd exit %r; its log:\n%s" % (rc, log))


class DnsdTestCase(unittest.TestCase):
    """Starts one dnsd per test class (server_args), stops it after the class."""

    server_args = {}

    @classmethod
    def make_server(cls):
        """The daemon the class tests (not started); override for another kind."""
        return Server(**cls.server_args)

    @classmethod
    def setUpClass(cls):
        cls.server = cls.make_server()
        cls.addClassCleanup(cls.server.kill)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        check_clean_exit(*cls.server.stop())

    @property
    def port(self):
        return self.server.port

    # How long wait_for polls, and how often; a class may need longer.
    wait_timeout, wait_step = 5.0, 0.05

    def wait_for(self, cond, timeout=None):
        """Polls cond() until it is true; fails the test after the timeout."""
        timeout = timeout or self.wait_timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(self.wait_step)
        self.fail("condition not met within %.0f s" % timeout)

    # Raw exchanges -------------------------------------------------------

    def udp(self, pkt, timeout=2.0, addr="127.0.0.1"):
        return udp_exchange(self.port, pkt, timeout, addr)

    def tcp(self, pkt, timeout=3.0, addr="127.0.0.1"):
        with tcp_connect(self.port, addr) as s:
            tcp_send(s, pkt)
            return tcp_recv(s, timeout)

    def exchange(self, pkt, transport="udp"):
        """Sends pkt, returns (raw response, dnspython message); fails on silence."""
        raw = self.udp(pkt) if transport == "udp" else self.tcp(pkt)
        self.assertIsNotNone(raw, "no %s answer" % transport)
        self.assertEqual(qid_of(raw), qid_of(pkt), "ID not copied")
        return raw, dns.message.from_wire(raw)

    def ask(self, name, rdtype="SOA", transport="udp", **kw):
        return self.exchange(query(name, rdtype, **kw), transport)

    def assertSilent(self, pkt, timeout=1.0):
        self.assertIsNone(self.udp(pkt, timeout), "expected no answer")

    # Answer checks -------------------------------------------------------

    def assertRcode(self, msg, rcode, aa=True):
        self.assertEqual(dns.rcode.to_text(msg.rcode()), rcode)
        self.assertTrue(msg.flags & dns.flags.QR, "QR clear")
        self.assertEqual(bool(msg.flags & dns.flags.AA), aa, "AA")

    def assertNegative(self, msg, rcode, origin=ORIGIN, ttl=NEG_TTL):
        """NXDOMAIN or NODATA: no answer, exactly the origin's SOA in authority."""
        self.assertRcode(msg, rcode)
        self.assertEqual(msg.answer, [])
        self.assertEqual(len(msg.authority), 1)
        soa = msg.authority[0]
        self.assertEqual(soa.rdtype, dns.rdatatype.SOA)
        self.assertEqual(soa.name, dns.name.from_text(origin))
        self.assertEqual(len(soa), 1)
        self.assertEqual(soa.ttl, ttl)

    def rrset(self, msg, name, rdtype, section="answer"):
        want = dns.name.from_text(name)
        t = dns.rdatatype.from_text(rdtype)
        for rrs in getattr(msg, section):
            if rrs.name == want and rrs.rdtype == t:
                return rrs
        self.fail("no %s %s in %s of\n%s" % (name, rdtype, section, msg))

    def rdatas(self, msg, name, rdtype, section="answer"):
        return sorted(rd.to_text() for rd in self.rrset(msg, name, rdtype, section))


# --------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------

def udp_exchange(port, pkt, timeout=2.0, addr="127.0.0.1"):
    """Sends one datagram; the first reply with the same ID, or None on silence."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.connect((addr, port))
        s.send(pkt)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            s.settimeout(left)
            try:
                data = s.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                return None
            if len(pkt) < 2 or data[:2] == pkt[:2]:
                return data


def recv_until_eof(s):
    """Everything a stream socket delivers until the peer closes it."""
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def http(port, request, timeout=5.0):
    """Sends raw request bytes to 127.0.0.1:port; returns (status, headers text,
    body), or None on a connection closed without a response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = recv_until_eof(s)
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode(), body


METRICS_SAMPLE_RE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def parse_metrics(text):
    """{sample name with labels: value} of a Prometheus text page; any line
    that is neither a comment nor a sample fails the test."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRICS_SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def tcp_connect(port, addr="127.0.0.1", timeout=3.0):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def tcp_send(sock, pkt):
    sock.sendall(struct.pack("!H", len(pkt)) + pkt)


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_recv(sock, timeout=3.0):
    """One length-prefixed message, or None when the peer closed (or reset)."""
    sock.settimeout(timeout)
    try:
        head = _recv_exact(sock, 2)
        if head is None:
            return None
        return _recv_exact(sock, struct.unpack("!H", head)[0])
    except (ConnectionResetError, BrokenPipeError):
        return None


def wait_closed(sock, timeout):
    """Seconds until the peer closes sock, or None if it stays open."""
    start = time.monotonic()
    sock.settimeout(timeout)
    try:
        data = sock.recv(1)
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    return time.monotonic() - start if data == b"" else None


# --------------------------------------------------------------------------
# Independent decoders and real clients
# --------------------------------------------------------------------------

def ldns_decode(raw):
    """ldns's text rendering of raw (bin/ldns-decode); raises on failure."""
    p = subprocess.run([LDNS_DECODE], input=raw, capture_output=True, timeout=10)
    if p.returncode != 0:
        raise AssertionError("ldns-decode: %s" % p.stderr.decode(errors="replace"))
    return p.stdout.decode()


SECTION_RE = re.compile(r"^;; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:")


def parse_presentation(text):
    """Header and records from dig/kdig/ldns text output.

    Returns {"status", "id", "opcode", "flags" (set), "answer", "authority",
    "additional"}; each section a sorted list of (owner, ttl, class, type,
    rdata) with rdata normalised by dnspython.
    """
    out = {"answer": [], "authority": [], "additional": []}
    m = re.search(r"opcode: (\w+)[,;] (?:status|rcode): (\w+)[,;] id: (\d+)", text)
    if m:
        out["opcode"], out["status"], out["id"] = m.group(1), m.group(2), int(m.group(3))
    m = re.search(r"^;; [Ff]lags: ([a-z ]*);", text, re.M)
    out["flags"] = set(m.group(1).split()) if m else set()
    section = None
    for line in text.splitlines():
        m = SECTION_RE.match(line)
        if m:
            section = m.group(1).lower()
            continue
        if not line.strip() or line.startswith(";"):
            if not line.strip() and section not in (None, "question"):
                section = None
            continue
        if section in ("answer", "authority", "additional"):
            out[section].append(rr_tuple_from_text(line))
    for key in ("answer", "authority", "additional"):
        out[key].sort()
    return out


def rr_tuple_from_text(line):
    owner, ttl, cls, typ, rdata = (line.split(None, 4) + [""])[:5]
    rrs = dns.rrset.from_text(owner, int(ttl), cls, typ, rdata)
    return (owner.lower(), int(ttl), cls, typ, rrs[0].to_text())


def rr_tuples(msg, section):
    """The same tuples from a dnspython message section."""
    out = []
    for rrs in getattr(msg, section):
        if rrs.rdtype == dns.rdatatype.OPT:
            continue
        for rd in rrs:
            out.append((rrs.name.to_text().lower(), rrs.ttl,
                        dns.rdataclass.to_text(rrs.rdclass),
                        dns.rdatatype.to_text(rrs.rdtype), rd.to_text()))
    return sorted(out)


def run_client(argv, timeout=15):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (argv[0], p.returncode, p.stdout,
                                                      p.stderr))
    return p.stdout


def kdig(port, name, rdtype, *opts, addr="127.0.0.1"):
    return run_client(["kdig", "@" + addr, "-p", str(port), name, rdtype, "+norec",
                       "+timeout=2", "+retry=1"] + list(opts))


def dig(port, name, rdtype, *opts, addr="127.0.0.1"):
    return run_client(["dig", "@" + addr, "-p", str(port), name, rdtype, "+norec",
                       "+time=2", "+tries=2"] + list(opts))
