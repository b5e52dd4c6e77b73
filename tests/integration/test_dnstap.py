"""dnstap query log against the real dnsd: a run of N
queries yields N AUTH_QUERY and N AUTH_RESPONSE messages that dnstap-ldns
decodes with the right names and transports, written to a file or to a
Frame Streams unix socket reader (written here from the Frame Streams
protocol); with no reader on the socket the daemon answers as before; a
reader that stalls (never answers the handshake, or stops reading under load)
costs counted drops, and SIGTERM still ends dnsd within STOP_BOUND seconds."""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import dns.message

from harness import ORIGIN, Server, built_with, check_clean_exit, free_port, http, \
    not_built, parse_metrics, query, tcp_connect, tcp_recv, tcp_send, udp_exchange

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
ACCEPT, START, STOP, READY, FINISH = 1, 2, 3, 4, 5
DNSTAP_LDNS = shutil.which("dnstap-ldns")
# dnsd's stated bound: the dnstap writer gets 1 s to drain at SIGTERM, and the
# rest of the stop takes milliseconds when no TCP client is connected.
STOP_BOUND = 3.0


def control_frame(ctype, content_type=CONTENT_TYPE):
    body = struct.pack("!I", ctype)
    if content_type:
        body += struct.pack("!II", 1, len(content_type)) + content_type
    return struct.pack("!II", 0, len(body)) + body


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("stream ended")
        data += chunk
    return data


class FstrmReader(threading.Thread):
    """A bidirectional Frame Streams reader on a unix socket: READY -> ACCEPT,
    START, data frames, STOP -> FINISH. Keeps the data frames."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.frames, self.error, self.stopped = [], None, False

    def run(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(30)
                while True:
                    (length,) = struct.unpack("!I", recv_exact(conn, 4))
                    if length:
                        self.frames.append(recv_exact(conn, length))
                        continue
                    (clen,) = struct.unpack("!I", recv_exact(conn, 4))
                    body = recv_exact(conn, clen)
                    (ctype,) = struct.unpack("!I", body[:4])
                    if ctype == READY:
                        if CONTENT_TYPE not in body:
                            raise AssertionError("READY without our content type")
                        conn.sendall(control_frame(ACCEPT))
                    elif ctype == STOP:
                        conn.sendall(control_frame(FINISH, None))
                        self.stopped = True
                        return
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.sock.close()

    def write_file(self, path):
        """The frames as a Frame Streams file, for dnstap-ldns -r."""
        with open(path, "wb") as f:
            f.write(control_frame(START))
            for fr in self.frames:
                f.write(struct.pack("!I", len(fr)) + fr)
            f.write(control_frame(STOP, None))


def dnstap_ldns(mode, path):
    """The text `dnstap-ldns MODE -r PATH` prints; fails the test if it fails."""
    p = subprocess.run([DNSTAP_LDNS, mode, "-r", path], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        raise AssertionError("dnstap-ldns failed: %s" % p.stderr)
    return p.stdout


def decode(path):
    """dnstap-ldns -q lines: [(kind, address, transport, name, type)]."""
    out = []
    for line in dnstap_ldns("-q", path).splitlines():
        # 2026-11-24 15:46:49.379814 AQ 127.0.0.1 UDP 30b "pool.ntp.org." IN SOA
        f = line.split()
        out.append((f[2], f[3], f[4], f[6].strip('"'), f[8]))
    return out


def decode_endpoints(path):
    """dnstap-ldns -y (YAML): per message, its address and port fields."""
    out = []
    for doc in dnstap_ldns("-y", path).split("\n---"):
        fields = dict(re.findall(r"^\s+(query_address|query_port|response_address|"
                                 r"response_port): (\S+)$", doc, re.M))
        if fields or "message:" in doc:
            out.append({k: v.strip('"') for k, v in fields.items()})
    return out


@unittest.skipUnless(built_with("dnstap"), not_built("dnstap"))
@unittest.skipUnless(DNSTAP_LDNS, "dnstap-ldns is not installed (Debian package dnstap-ldns)")
class DnstapTest(unittest.TestCase):

    N_UDP, N_TCP = 20, 5

    def workload(self, srv):
        """N_UDP + N_TCP queries for names seen nowhere else; {name: transport}."""
        names = {}
        for i in range(self.N_UDP):
            name = "udp-probe-%d.%s." % (i, ORIGIN)
            raw = udp_exchange(srv.port, query(name, "TXT"), timeout=2.0)
            self.assertIsNotNone(raw)
            names[name] = "UDP"
        for i in range(self.N_TCP):
            name = "tcp-probe-%d.%s." % (i, ORIGIN)
            with tcp_connect(srv.port) as s:
                tcp_send(s, query(name, "A"))
                self.assertIsNotNone(tcp_recv(s))
            names[name] = "TCP"
        return names

    def check_log(self, records, names):
        probes = [r for r in records if "-probe-" in r[3]]
        for kind in ("AQ", "AR"):
            got = sorted((r[3], r[2]) for r in probes if r[0] == kind)
            self.assertEqual(got, sorted(names.items()), kind)
        for r in probes:
            self.assertEqual(r[1], "127.0.0.1")
            self.assertEqual(r[4], "TXT" if r[2] == "UDP" else "A")
        # The start-up probes are logged too, each as a query and a response.
        kinds = [r[0] for r in records]
        self.assertEqual(kinds.count("AQ"), kinds.count("AR"))
        self.assertEqual(set(kinds), {"AQ", "AR"})

    def test_file_holds_every_query_and_response(self):
        srv = Server()
        path = srv.path("queries.dnstap")
        srv.extra = "query_log: {dnstap: %s}\n" % path
        srv.config = srv.write_config()
        self.addCleanup(srv.kill)
        srv.start()
        names = self.workload(srv)
        # Stop first: the I/O thread writes out its queues and closes the file
        # at shutdown. Server.stop() removes the directory, so read before it.
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=15)
        records = decode(path)
        ends = decode_endpoints(path)
        check_clean_exit(*srv.stop())
        self.check_log(records, names)
        # Both ends of every exchange: the client's address and port, and the
        # address and port the query was sent to (dnsd's listener).
        self.assertEqual(len(ends), len(records))
        for e in ends:
            self.assertEqual(e.get("query_address"), "127.0.0.1", e)
            self.assertTrue(0 < int(e.get("query_port", "0")) < 65536, e)
            self.assertEqual(e.get("response_address"), "127.0.0.1", e)
            self.assertEqual(e.get("response_port"), str(srv.port), e)

    def test_wildcard_listener_answers_and_logs_from_the_address_asked(self):
        """On 0.0.0.0 dnsd learns each datagram's destination (IP_PKTINFO): the
        reply must leave from it (a connected client socket accepts nothing
        else) and the log names it. Only loopback addresses are queried."""
        srv = Server()
        path = srv.path("queries.dnstap")
        srv.extra = "query_log: {dnstap: %s}\n" % path
        srv.config = srv.write_config()
        with open(srv.config) as f:
            text = f.read()
        srv.config = srv.write("dnsd.yaml", re.sub(r"^listen: .*$", 'listen: ["0.0.0.0:%d"]'
                                                   % srv.port, text, count=1, flags=re.M))
        self.addCleanup(srv.kill)
        srv.start()
        for dst in ("127.0.0.2", "127.0.0.3"):
            raw = udp_exchange(srv.port, query("wild-%s.%s." % (dst, ORIGIN), "A"),
                               timeout=2.0, addr=dst)
            self.assertIsNotNone(raw, "no reply from %s" % dst)
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=15)
        records, ends = decode(path), decode_endpoints(path)
        check_clean_exit(*srv.stop())
        got = {(r[3], r[0], e.get("response_address"), e.get("response_port"))
               for r, e in zip(records, ends) if r[3].startswith("wild-")}
        want = {("wild-%s.%s." % (d, ORIGIN), k, d, str(srv.port))
                for d in ("127.0.0.2", "127.0.0.3") for k in ("AQ", "AR")}
        self.assertEqual(got, want)

    def test_unix_socket_reader_gets_every_query_and_response(self):
        srv = Server()
        sock_path = srv.path("tap.sock")
        reader = FstrmReader(sock_path)
        reader.start()
        srv.extra = "query_log: {dnstap: {unix: %s}}\n" % sock_path
        srv.config = srv.write_config()
        self.addCleanup(srv.kill)
        srv.start()
        names = self.workload(srv)
        rc, log = srv.stop()  # fstrm sends STOP and waits for FINISH on the way out
        check_clean_exit(rc, log)
        reader.join(timeout=30)
        self.assertIsNone(reader.error)
        self.assertTrue(reader.stopped, "no STOP frame from dnsd")
        with tempfile.TemporaryDirectory(prefix="dnsd-tap-") as d:
            reader.write_file(os.path.join(d, "from-socket.dnstap"))
            self.check_log(decode(os.path.join(d, "from-socket.dnstap")), names)

    def test_no_reader_on_the_socket_never_blocks_answers(self):
        srv = Server()
        srv.extra = "query_log: {dnstap: {unix: %s}}\n" % srv.path("nobody-listens.sock")
        srv.config = srv.write_config()
        self.addCleanup(srv.kill)
        srv.start()
        for i in range(2000):  # more than a worker's queue holds
            raw = udp_exchange(srv.port, query(ORIGIN, "SOA"), timeout=2.0)
            self.assertIsNotNone(raw, "query %d not answered" % i)
        self.assertEqual(dns.message.from_wire(raw).rcode(), 0)
        check_clean_exit(*srv.stop())


class StalledReader(threading.Thread):
    """A unix socket Frame Streams "reader" that accepts every connection and
    then, with handshake=False, never reads nor answers; with handshake=True,
    completes READY -> ACCEPT, START and then never reads again."""

    def __init__(self, path, handshake):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.handshake, self.conns, self.started = handshake, [], threading.Event()
        self.error = None

    def run(self):
        try:
            while True:
                conn, _ = self.sock.accept()
                self.conns.append(conn)  # held open, never read (again)
                if self.handshake:
                    conn.settimeout(10)
                    for want in (READY, START):
                        recv_exact(conn, 4)
                        (clen,) = struct.unpack("!I", recv_exact(conn, 4))
                        (ctype,) = struct.unpack("!I", recv_exact(conn, clen)[:4])
                        if ctype != want:
                            raise AssertionError("control frame %d, not %d" % (ctype, want))
                        if want == READY:
                            conn.sendall(control_frame(ACCEPT))
                self.started.set()
        except OSError:
            pass  # close() below ends accept()
        except Exception as e:  # reported by the test
            self.error = e

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@unittest.skipUnless(built_with("dnstap"), not_built("dnstap"))
class DnstapStallTest(unittest.TestCase):
    """SIGTERM with a stalled reader: exit 0 within STOP_BOUND, drops counted."""

    def stalled(self, handshake, queries):
        srv = Server()
        reader = StalledReader(srv.path("tap.sock"), handshake)
        reader.start()
        self.addCleanup(reader.close)
        metrics_port = free_port(False)
        srv.extra = 'query_log: {dnstap: {unix: %s}}\nmetrics: "127.0.0.1:%d"\n' % (
            srv.path("tap.sock"), metrics_port)
        srv.config = srv.write_config()
        self.addCleanup(srv.kill)
        srv.start()
        self.assertTrue(reader.started.wait(10), "dnsd never connected to the reader")
        for i in range(queries):  # far more than the socket buffer and the queues hold
            self.assertIsNotNone(udp_exchange(srv.port, query(ORIGIN, "SOA"), timeout=2.0),
                                 "query %d not answered" % i)
        r = http(metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertGreater(parse_metrics(r[2].decode())["dnsd_dnstap_dropped_total"], 0)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            srv.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            self.fail("dnsd still running 10 s after SIGTERM:\n" + srv.log())
        elapsed = time.monotonic() - t0
        rc, log = srv.stop()
        check_clean_exit(rc, log)
        self.assertLess(elapsed, STOP_BOUND, "stopped %.2f s after SIGTERM\n%s" % (elapsed, log))
        self.assertIsNone(reader.error)
        m = re.search(r"query log: stopped; (\d+) dnstap messages not written", log)
        self.assertIsNotNone(m, log)
        self.assertGreater(int(m.group(1)), 0)

    def test_reader_that_never_answers_the_handshake(self):
        self.stalled(handshake=False, queries=2000)

    def test_reader_that_stops_reading_under_load(self):
        self.stalled(handshake=True, queries=3000)


if __name__ == "__main__":
    unittest.main()
