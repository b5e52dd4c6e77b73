"""The control channel against the real dnsd, with
dnsdctl as the client and, for what dnsdctl will not send (replays, truncated
and oversize frames, unsigned frames over TCP, invalid snapshots past its
local check), a protocol client written here from docs/control-protocol.md.

Pushes change the answers; refused pushes (invalid, older serial, bad state
dir) change nothing; a kill -9 after an acknowledged push restarts with that
serial; reloads by dnsdctl and SIGHUP apply a changed master file or keep the
running data when it is broken; every protocol refusal is answered, counted,
and leaves the daemon answering and accepting good pushes."""

import hashlib
import hmac
import json
import os
import signal
import socket
import stat
import struct
import subprocess
import time
import unittest

from harness import (free_port, BINARY_DIR, DNSD, ORIGIN, DnsdTestCase, Server, _die_with_parent,
                     check_clean_exit, query, udp_exchange)
from pooltest import server, snapshot_text

import dns.message
import dns.rdatatype

DNSDCTL = os.path.join(BINARY_DIR, "bin", "dnsdctl")

HELLO, PUSH, STATUS, RELOAD, STATS, OK, ERR = 1, 2, 3, 4, 5, 0x80, 0x81


# --------------------------------------------------------------------------
# Snapshots, answers, dnsdctl (also used by test_fleet and test_reload_loss)
# --------------------------------------------------------------------------

def servers_for(serial, n=6):
    """n eligible servers in de/europe whose addresses name the serial."""
    return ["10.%d.%d.%d" % ((serial >> 8) & 255, serial & 255, i) for i in range(1, n + 1)]


def snapshot_for(serial, n=6):
    return snapshot_text(serial, [server(ip, ["de", "europe"]) for ip in servers_for(serial, n)])


def write_snapshot(srv, serial, text=None):
    return srv.write("snap-%d.json" % serial, text if text is not None else snapshot_for(serial))


def answer_addrs(port, name="de." + ORIGIN, rdtype="A"):
    raw = udp_exchange(port, query(name, rdtype), timeout=2.0)
    if raw is None:
        raise AssertionError("no answer for %s %s" % (name, rdtype))
    msg = dns.message.from_wire(raw)
    return {rd.to_text() for rrs in msg.answer for rd in rrs}


def served_serial(port, origin=ORIGIN):
    """The serial in _country.<origin> TXT ("serial N" or "serial none")."""
    raw = udp_exchange(port, query("_country." + origin, "TXT"), timeout=2.0)
    if raw is None:
        raise AssertionError("no answer for _country")
    msg = dns.message.from_wire(raw)
    for rrs in msg.answer:
        for rd in rrs:
            for s in rd.strings:
                if s.startswith(b"serial "):
                    v = s[7:].decode()
                    return None if v == "none" else int(v)
    raise AssertionError("no serial in %s" % msg)


def dnsdctl(*args, timeout=30):
    return subprocess.run([DNSDCTL] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def write_key(path, mode=0o600):
    with open(path, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    os.chmod(path, mode)
    return path


def control_server(workers=2, tcp=True, state=True, zones=None, options=None):
    """A Server with control.unix, optionally control.tcp (+ key), more control
    keys from options and a state_dir."""
    srv = Server(workers=workers, zones=zones)
    ctl = {"unix": srv.path("ctl.sock")}
    ctl.update(options or {})
    if tcp:
        srv.ctl_port = free_port(False)
        ctl["tcp"] = '"127.0.0.1:%d"' % srv.ctl_port
        ctl["key_file"] = write_key(srv.path("ctl.key"))
    extra = "control: {%s}\n" % ", ".join("%s: %s" % kv for kv in ctl.items())
    if state:
        os.mkdir(srv.path("state"))
        extra += "state_dir: state\n"
    srv.extra = extra
    srv.config = srv.write_config()
    srv.sock = srv.path("ctl.sock")
    return srv


# --------------------------------------------------------------------------
# A protocol client written from docs/control-protocol.md
# --------------------------------------------------------------------------

def header(ftype, length):
    return b"DC\x02" + bytes([ftype]) + struct.pack("!I", length)


def mac_of(key, direction, nonce, seq, hdr, payload):
    msg = b"dnsd-ctl-v2/frame" + direction + nonce + struct.pack("!Q", seq) + hdr + payload
    return hmac.new(key, msg, hashlib.sha256).digest()


def head_mac_of(key, direction, nonce, seq, hdr):
    msg = b"dnsd-ctl-v2/head" + direction + nonce + struct.pack("!Q", seq) + hdr
    return hmac.new(key, msg, hashlib.sha256).digest()


def vmrss_kib(pid):
    """The process's resident set size, KiB, from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def push_payload(snapshot, force=False, origin=""):
    o = origin.encode()
    return bytes([1 if force else 0, len(o)]) + o + snapshot.encode()


class RawCtl:
    """One control connection: takes HELLO, seals requests, verifies replies."""

    def __init__(self, address, key=None, timeout=10.0):
        fam = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.key = key
        self.seq_out = self.seq_in = 0
        ftype, payload, _ = self.read_frame(with_mac=False)
        assert ftype == HELLO, ftype
        self.nonce, self.flags = payload[:32], payload[32]
        self.identity = payload[33:].decode()
        self.mac = bool(self.flags & 1)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("closed after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return buf

    def read_frame(self, with_mac=None):
        hdr = self.recv_exact(8)
        assert hdr[:3] == b"DC\x02", hdr
        length = struct.unpack("!I", hdr[4:])[0]
        with_mac = self.mac if with_mac is None else with_mac
        head_mac = self.recv_exact(32) if with_mac else None
        payload = self.recv_exact(length)
        mac = self.recv_exact(32) if with_mac else None
        return hdr[3], payload, (hdr, head_mac, mac)

    def frame(self, ftype, payload=b"", key=None, seq=None):
        """A sealed request frame: header, its MAC, payload, the frame's MAC (the
        MACs with key or self.key when the server wants them)."""
        hdr = header(ftype, len(payload))
        if not self.mac:
            return hdr + payload
        k = key if key is not None else self.key
        seq = self.seq_out if seq is None else seq
        return (hdr + head_mac_of(k, b"C", self.nonce, seq, hdr) + payload
                + mac_of(k, b"C", self.nonce, seq, hdr, payload))

    def reply(self):
        """(type, JSON object) of the next reply; its MACs are checked with our key."""
        ftype, payload, (hdr, head_mac, mac) = self.read_frame()
        if self.mac and self.key is not None:
            want = head_mac_of(self.key, b"S", self.nonce, self.seq_in, hdr)
            assert hmac.compare_digest(want, head_mac), "reply header MAC does not verify"
            want = mac_of(self.key, b"S", self.nonce, self.seq_in, hdr, payload)
            assert hmac.compare_digest(want, mac), "reply MAC does not verify"
        self.seq_in += 1
        return ftype, json.loads(payload)

    def request(self, ftype, payload=b""):
        self.sock.sendall(self.frame(ftype, payload))
        self.seq_out += 1
        return self.reply()


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

class ControlTestCase(DnsdTestCase):
    """One daemon with control.unix, control.tcp and a state_dir per class."""

    @classmethod
    def make_server(cls):
        return control_server()

    def ctl(self, *args, **kw):
        return dnsdctl("-s", self.server.sock, *args, **kw)

    def status(self):
        p = self.ctl("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def serial(self):
        return self.status()["zones"][0]["serial"]

    def stats(self):
        p = self.ctl("stats")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def push(self, serial, *flags, text=None):
        return self.ctl("push", write_snapshot(self.server, serial, text), *flags)

    def push_ok(self, serial, *flags, text=None):
        p = self.push(serial, *flags, text=text)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def next_serial(self):
        return (self.serial() or 1000) + 1

    def state_file(self):
        return self.server.path(os.path.join("state", ORIGIN + ".snapshot.json"))


class PushTest(ControlTestCase):

    def test_push_changes_answers_to_the_new_servers(self):
        s1 = self.next_serial()
        p = self.push_ok(s1)
        self.assertIn("serial", p.stdout)
        self.assertIn("-> %d" % s1, p.stdout)
        self.assertEqual(served_serial(self.port), s1)
        got = answer_addrs(self.port)
        self.assertTrue(got and got <= set(servers_for(s1)), got)
        s2 = s1 + 1
        p = self.push_ok(s2)
        self.assertIn("%d -> %d" % (s1, s2), p.stdout)
        self.assertEqual(served_serial(self.port), s2)
        got = answer_addrs(self.port)
        self.assertTrue(got and got <= set(servers_for(s2)), got)
        self.assertEqual(self.serial(), s2)
        with open(self.state_file()) as f:
            self.assertEqual(json.load(f)["serial"], s2)
        self.assertEqual([n for n in os.listdir(self.server.path("state")) if ".tmp." in n], [])

    def test_invalid_snapshot_refused_with_every_error_old_serial_served(self):
        s0 = self.next_serial()
        self.push_ok(s0)
        with open(self.state_file(), "rb") as f:
            stored = f.read()
        bad = snapshot_text(s0 + 1, [
            server("10.9.9.1", ["de"]),
            server("10.9.9.300", ["de"]),                    # malformed address
            server("10.9.9.2", ["xx"]),                      # unknown zone
            server("10.9.9.3", ["de"], score=99.0),          # score out of range
            server("10.9.9.1", ["de"]),                      # duplicate address
        ])
        # dnsdctl checks locally first: every error printed, exit 1, nothing sent.
        p = self.push(s0 + 1, text=bad)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("10.9.9.300", p.stderr)
        self.assertIn("xx", p.stderr)
        # The daemon's own check, past dnsdctl's: ERR with every error listed.
        with RawCtl(self.server.sock) as c:
            ftype, rep = c.request(PUSH, push_payload(bad))
        self.assertEqual(ftype, ERR)
        self.assertEqual(rep["error"], "invalid snapshot")
        details = "\n".join(rep["details"])
        self.assertGreaterEqual(len(rep["details"]), 4, details)
        for line, what in ((4, "10.9.9.300"), (5, "xx"), (6, "score"), (7, "duplicate")):
            self.assertRegex(details, r"snapshot:%d:\d+: .*%s" % (line, what))
        self.assertEqual(self.serial(), s0)
        self.assertEqual(served_serial(self.port), s0)
        self.assertTrue(answer_addrs(self.port) <= set(servers_for(s0)))
        with open(self.state_file(), "rb") as f:
            self.assertEqual(f.read(), stored, "state file changed by a refused push")

    def test_older_or_equal_serial_refused_unless_forced(self):
        s = self.next_serial() + 5
        self.push_ok(s)
        for older in (s, s - 1):
            p = self.push(older)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("serial not newer", p.stderr)
            self.assertEqual(served_serial(self.port), s)
        p = self.push_ok(s - 1, "--force")
        self.assertIn("%d -> %d" % (s, s - 1), p.stdout)
        self.assertEqual(served_serial(self.port), s - 1)
        self.assertTrue(answer_addrs(self.port) <= set(servers_for(s - 1)))

    def test_unknown_origin_and_malformed_payload_refused_connection_kept(self):
        old = self.serial()
        s = (old or 1000) + 1
        with RawCtl(self.server.sock) as c:
            ftype, rep = c.request(PUSH, push_payload(snapshot_for(s), origin="nope.example"))
            self.assertEqual((ftype, rep["error"]), (ERR, "unknown origin"))
            ftype, rep = c.request(PUSH, b"\x80\x00{}")  # an unknown flag bit
            self.assertEqual((ftype, rep["error"]), (ERR, "malformed payload"))
            # The same connection still works, and the named origin does too.
            ftype, rep = c.request(PUSH, push_payload(snapshot_for(s), origin=ORIGIN))
            self.assertEqual(ftype, OK, rep)
        self.assertEqual(rep["origin"], ORIGIN)
        self.assertEqual(rep["new_serial"], s)
        self.assertEqual(rep["old_serial"], old)
        self.assertEqual(rep["servers"], 6)
        self.assertGreater(rep["build_ms"], 0)
        self.assertEqual(served_serial(self.port), s)

    def test_state_dir_write_failure_refused_data_untouched(self):
        s = self.next_serial()
        self.push_ok(s)
        state = self.server.path("state")
        os.rename(state, state + ".away")  # as root, modes would not stop the write
        try:
            p = self.push(s + 1)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("state_dir write failed", p.stderr)
            self.assertEqual(served_serial(self.port), s)
        finally:
            os.rename(state + ".away", state)
        self.push_ok(s + 1)
        self.assertEqual(served_serial(self.port), s + 1)

    def test_status_json_serial_counts_identity(self):
        s = self.next_serial()
        servers = [server(ip, ["de", "europe"]) for ip in servers_for(s, 5)]
        servers += [server("10.200.0.1", ["de"], score=5.0),            # below min_score
                    server("2001:db8:4::1", ["de"]),
                    server("2001:db8:4::2", ["fr"], netspeed=0)]       # netspeed 0
        self.push_ok(s, text=snapshot_text(s, servers))
        st = self.status()
        self.assertEqual(st["identity"], self.server.identity)
        self.assertRegex(st["version"], r"^\d+\.\d+\.\d+$")
        self.assertIsInstance(st["uptime_s"], int)
        z = {x["origin"]: x for x in st["zones"]}
        self.assertEqual(set(z), {ORIGIN, "example.net"})
        self.assertEqual(z[ORIGIN]["serial"], s)
        self.assertIsNone(z["example.net"]["serial"])
        counts = z[ORIGIN]["counts"]
        self.assertEqual(counts["de"], {"v4": [5, 6], "v6": [1, 1]})
        self.assertEqual(counts["fr"], {"v4": [0, 0], "v6": [0, 1]})
        self.assertEqual(counts["europe"], {"v4": [5, 5], "v6": [0, 0]})
        self.assertEqual(counts["@"], {"v4": [5, 6], "v6": [1, 2]})
        self.assertNotIn("us", counts)
        self.assertIn(st["last_reload"]["result"].split(";")[0], ("ok",))
        self.assertRegex(st["last_reload"]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_unix_socket_is_owner_only(self):
        mode = os.stat(self.server.sock).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)


class ReloadTest(ControlTestCase):

    def zone_path(self):
        return self.server.path(ORIGIN + ".zone")

    def txt(self, name):
        raw = udp_exchange(self.port, query(name, "TXT"), timeout=2.0)
        msg = dns.message.from_wire(raw)
        return msg.rcode(), sorted(rd.to_text() for rrs in msg.answer for rd in rrs)

    def append_zone(self, text):
        with open(self.zone_path(), "a") as f:
            f.write(text)

    def test_reload_and_sighup_apply_master_file_or_keep_data_on_error(self):
        with open(self.zone_path()) as f:
            original = f.read()
        s = self.next_serial()
        self.push_ok(s)
        try:
            # dnsdctl reload: a new TXT record appears; the pushed serial stays.
            self.assertEqual(self.txt("reload1." + ORIGIN)[0], 3)  # NXDOMAIN
            self.append_zone('reload1 IN TXT "one"\n')
            p = self.ctl("reload")
            self.assertEqual(p.returncode, 0, p.stderr)
            rep = json.loads(p.stdout)
            self.assertEqual(rep["result"], "ok")
            self.assertFalse(rep["restart_needed"])
            self.assertEqual(self.txt("reload1." + ORIGIN), (0, ['"one"']))
            self.assertEqual(served_serial(self.port), s)
            # SIGHUP: the same.
            self.append_zone('reload2 IN TXT "two"\n')
            self.server.proc.send_signal(signal.SIGHUP)
            self.wait_for(lambda: self.txt("reload2." + ORIGIN) == (0, ['"two"']))
            self.assertEqual(self.status()["last_reload"]["trigger"], "SIGHUP")
            self.assertEqual(served_serial(self.port), s)
            # A broken master file: refused, old data kept, the error reported.
            self.append_zone('reload3 IN TXT "three"\nbroken IN BOGUSTYPE x\n')
            p = self.ctl("reload")
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("reload failed", p.stderr)
            self.assertIn(".zone", p.stderr)
            self.assertEqual(self.txt("reload3." + ORIGIN)[0], 3)
            self.assertEqual(self.txt("reload2." + ORIGIN), (0, ['"two"']))
            lr = self.status()["last_reload"]
            self.assertEqual((lr["trigger"], lr["result"][:6]), ("RELOAD", "error:"))
            self.server.proc.send_signal(signal.SIGHUP)
            self.wait_for(lambda: self.status()["last_reload"]["trigger"] == "SIGHUP")
            self.assertTrue(self.status()["last_reload"]["result"].startswith("error: "))
            self.assertEqual(self.txt("reload3." + ORIGIN)[0], 3)
            self.assertEqual(served_serial(self.port), s)
            self.assertGreaterEqual(self.stats()["control"]["reload_failed"], 2)
        finally:
            with open(self.zone_path(), "w") as f:
                f.write(original)
            self.assertEqual(self.ctl("reload").returncode, 0)

    def test_abuse_limit_changes_apply_without_restart(self):
        # rrl, cookies and the TCP per-client limits are part of the served
        # data: a reload applies them and asks for no restart
        # (test_abuse.ReloadLimitsTest sees the new rate applied).
        with open(self.server.config) as f:
            original = f.read()
        try:
            with open(self.server.config, "w") as f:
                f.write(original + "\nrrl: {rate: 50}\n"
                        "cookies: {secret: 000102030405060708090a0b0c0d0e0f}\n")
            p = self.ctl("reload")
            self.assertEqual(p.returncode, 0, p.stderr)
            rep = json.loads(p.stdout)
            self.assertFalse(rep["restart_needed"])
        finally:
            with open(self.server.config, "w") as f:
                f.write(original)
        rep = json.loads(self.ctl("reload").stdout)
        self.assertFalse(rep["restart_needed"])

    def test_listen_change_needs_restart_and_says_so(self):
        with open(self.server.config) as f:
            original = f.read()
        try:
            with open(self.server.config, "w") as f:
                f.write(original.replace("workers: 2", "workers: 1"))
            p = self.ctl("reload")
            self.assertEqual(p.returncode, 0, p.stderr)
            rep = json.loads(p.stdout)
            self.assertTrue(rep["restart_needed"])
            self.assertEqual(rep["warning"], "workers changed: restart needed")
            self.assertIn("restart needed", self.server.log())
            self.assertEqual(self.status()["workers"], 2)
        finally:
            with open(self.server.config, "w") as f:
                f.write(original)
        rep = json.loads(self.ctl("reload").stdout)
        self.assertFalse(rep["restart_needed"])


class ProtocolRefusalTest(ControlTestCase):
    """Wrong key, no key, replays, truncated, oversize and garbage frames."""

    def tcp_addr(self):
        return ("127.0.0.1", self.server.ctl_port)

    def key(self):
        with open(self.server.path("ctl.key"), "rb") as f:
            return f.read().rstrip(b"\n")

    def assertRefused(self, conn, error):
        ftype, rep = conn.reply()
        self.assertEqual((ftype, rep["error"]), (ERR, error))
        conn.sock.settimeout(5)
        self.assertEqual(conn.sock.recv(1), b"", "connection left open")

    def assertStillServing(self):
        self.assertEqual(udp_exchange(self.port, query(ORIGIN, "SOA"), 2.0)[3] & 0xF, 0)
        s = self.next_serial()
        self.push_ok(s)
        self.assertEqual(served_serial(self.port), s)

    def test_tcp_with_the_right_key_works(self):
        s = self.next_serial()
        keyfile = self.server.path("ctl.key")
        addr = "127.0.0.1:%d" % self.server.ctl_port
        p = dnsdctl("-S", addr, "-k", keyfile, "push", write_snapshot(self.server, s))
        self.assertEqual(p.returncode, 0, p.stderr)
        p = dnsdctl("-S", addr, "-k", keyfile, "status")
        self.assertEqual(json.loads(p.stdout)["zones"][0]["serial"], s)
        # Our own client: replies carry MACs that verify with the key.
        with RawCtl(self.tcp_addr(), key=self.key()) as c:
            self.assertTrue(c.mac)
            self.assertEqual(c.identity, self.server.identity)
            for _ in range(3):
                ftype, rep = c.request(STATUS)
                self.assertEqual(ftype, OK)

    def test_wrong_key_refused(self):
        s = self.serial()
        wrong = write_key(self.server.path("wrong.key"))
        p = dnsdctl("-S", "127.0.0.1:%d" % self.server.ctl_port, "-k", wrong, "push",
                    write_snapshot(self.server, s + 1))
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("auth failed", p.stderr)
        self.assertEqual(self.serial(), s)
        before = self.stats()["control"]["refused"]["bad_mac"]
        with RawCtl(self.tcp_addr(), key=b"x" * 32) as c:
            c.sock.sendall(c.frame(PUSH, push_payload(snapshot_for(s + 1), force=True)))
            ftype, payload, _ = c.read_frame()
            self.assertEqual((ftype, json.loads(payload)["error"]), (ERR, "bad MAC"))
        self.assertEqual(self.stats()["control"]["refused"]["bad_mac"], before + 1)
        self.assertEqual(self.serial(), s)
        self.assertStillServing()

    def test_no_key_refused(self):
        s = self.serial()
        p = dnsdctl("-S", "127.0.0.1:%d" % self.server.ctl_port, "status")
        self.assertEqual(p.returncode, 2, "dnsdctl -S without -k must refuse")
        with RawCtl(self.tcp_addr()) as c:
            self.assertTrue(c.mac, "TCP HELLO must ask for a MAC")
            # Without the key a client can only send a MAC it made up.
            payload = push_payload(snapshot_for(s + 1), True)
            c.sock.sendall(header(PUSH, len(payload)) + payload + b"\0" * 32)
            ftype, payload, _ = c.read_frame()
            self.assertEqual((ftype, json.loads(payload)["error"]), (ERR, "bad MAC"))
        self.assertEqual(self.serial(), s)
        self.assertStillServing()

    def test_replayed_frame_refused_on_a_new_and_the_same_connection(self):
        s = self.next_serial()
        key = self.key()
        with RawCtl(self.tcp_addr(), key=key) as c1:
            recorded = c1.frame(PUSH, push_payload(snapshot_for(s), force=True))
            c1.sock.sendall(recorded)
            c1.seq_out += 1
            ftype, rep = c1.reply()
            self.assertEqual((ftype, rep["new_serial"]), (OK, s))
            self.push_ok(s + 1)
            # On the same connection: the sequence number has moved on.
            c1.sock.sendall(recorded)
            self.assertRefused(c1, "bad MAC")
        # On a new connection: another nonce.
        with RawCtl(self.tcp_addr(), key=key) as c2:
            c2.sock.sendall(recorded)
            self.assertRefused(c2, "bad MAC")
        self.assertEqual(self.serial(), s + 1, "a replayed forced push took effect")
        self.assertEqual(served_serial(self.port), s + 1)
        self.assertStillServing()

    def test_truncated_frame_at_eof_refused(self):
        s = self.serial()
        for address, key in ((self.tcp_addr(), self.key()), (self.server.sock, None)):
            with self.subTest(address=address):
                with RawCtl(address, key=key) as c:
                    frame = c.frame(PUSH, push_payload(snapshot_for(s + 1), force=True))
                    c.sock.sendall(frame[:len(frame) // 2])
                    c.sock.shutdown(socket.SHUT_WR)
                    self.assertRefused(c, "truncated frame")
        self.assertEqual(self.serial(), s)
        self.assertGreaterEqual(self.stats()["control"]["refused"]["truncated_frame"], 2)
        self.assertStillServing()

    def test_truncated_frame_by_idle_timeout_refused(self):
        s = self.serial()
        with RawCtl(self.server.sock, timeout=20) as c:
            frame = c.frame(PUSH, push_payload(snapshot_for(s + 1), force=True))
            start = time.monotonic()
            c.sock.sendall(frame[:20])
            self.assertRefused(c, "truncated frame")
            self.assertLess(time.monotonic() - start, 15)
        self.assertEqual(self.serial(), s)

    def test_oversize_length_refused_before_reading(self):
        s = self.serial()
        for address, key in ((self.tcp_addr(), self.key()), (self.server.sock, None)):
            with self.subTest(address=address):
                with RawCtl(address, key=key) as c:
                    c.sock.sendall(header(PUSH, 0xFFFFFFF0) + b"\x01\x00{")
                    self.assertRefused(c, "oversize frame")
        self.assertGreaterEqual(self.stats()["control"]["refused"]["oversize_frame"], 2)
        self.assertEqual(self.serial(), s)
        self.assertStillServing()

    def test_garbage_wrong_version_and_reply_types_refused(self):
        for data, error in ((b"GET / HTTP/1.1\r\n\r\n", "bad magic"),
                            (b"DC\x01\x03\0\0\0\0", "unsupported version"),
                            (b"DC\x02\x0a\0\0\0\0", "unknown type"),
                            (header(OK, 2) + b"{}", "unexpected frame")):
            with self.subTest(error=error):
                with RawCtl(self.server.sock) as c:
                    c.sock.sendall(data)
                    self.assertRefused(c, error)
        self.assertStillServing()

    def test_10mb_snapshot_accepted(self):
        s = self.next_serial()
        # 10 MB of snapshot: servers padded with whitespace the parser skips.
        servers = [server("10.%d.%d.%d" % (64 + i // 65536, (i // 256) % 256, i % 256),
                          ["de", "europe"]) for i in range(40000)]
        text = snapshot_text(s, servers)
        text = text[:-3] + " " * (10_000_000 - len(text)) + text[-3:]
        self.assertGreaterEqual(len(text), 10_000_000)
        p = self.ctl("push", write_snapshot(self.server, s, text), timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("40000 servers", p.stdout)
        self.assertEqual(served_serial(self.port), s)


class SlowRequestTest(unittest.TestCase):
    """A request that runs longer than control.idle_timeout: the time it takes
    is not idle time. The push is made slow as a loaded machine would: the
    daemon is stopped (SIGSTOP) for 1.5 s while it parses the snapshot."""

    def test_connection_survives_a_request_longer_than_the_idle_timeout(self):
        srv = control_server(tcp=False, options={"idle_timeout": 1})
        self.addCleanup(srv.kill)
        srv.start()
        servers = [server("10.%d.%d.%d" % (64 + i // 65536, (i // 256) % 256, i % 256),
                          ["de", "europe"]) for i in range(40000)]
        for attempt in range(3):
            serial = 8_000_001 + attempt
            with RawCtl(srv.sock, timeout=20) as c:
                c.sock.sendall(c.frame(PUSH, push_payload(snapshot_text(serial, servers))))
                c.seq_out += 1
                time.sleep(0.02)  # the frame is in: the daemon is parsing it
                srv.proc.send_signal(signal.SIGSTOP)
                time.sleep(1.5)
                srv.proc.send_signal(signal.SIGCONT)
                ftype, rep = c.reply()
                self.assertEqual(ftype, OK, rep)
                if rep["build_ms"] < 1200:
                    continue  # stopped before or after the request: try again
                # The same connection takes another request, and is closed
                # once it is really idle for the timeout.
                ftype, rep = c.request(STATUS)
                self.assertEqual((ftype, rep["zones"][0]["serial"]), (OK, serial))
                c.sock.settimeout(5)
                t0 = time.monotonic()
                self.assertEqual(c.sock.recv(1), b"")
                self.assertGreater(time.monotonic() - t0, 0.8)
                break
        else:
            self.fail("no push took longer than the idle timeout")
        p = dnsdctl("-s", srv.sock, "stats")
        self.assertGreaterEqual(json.loads(p.stdout)["control"]["limits"]["idle_closed"], 1)
        check_clean_exit(*srv.stop())


class RestartTest(unittest.TestCase):

    def test_kill9_after_acknowledged_push_restarts_with_that_serial(self):
        srv = control_server(tcp=False)
        self.addCleanup(srv.kill)
        srv.start()
        s = 7_000_001
        p = dnsdctl("-s", srv.sock, "push", write_snapshot(srv, s))
        self.assertEqual(p.returncode, 0, p.stderr)
        srv.kill()  # SIGKILL: no cleanup, the socket file stays behind
        self.assertTrue(os.path.exists(srv.sock))
        srv.stderr.close()
        srv.start()  # the stale socket is replaced
        self.assertEqual(served_serial(srv.port), s)
        self.assertTrue(answer_addrs(srv.port) <= set(servers_for(s)))
        p = dnsdctl("-s", srv.sock, "status")
        self.assertEqual(json.loads(p.stdout)["zones"][0]["serial"], s)
        check_clean_exit(*srv.stop())

    def test_sigterm_removes_the_socket(self):
        srv = control_server(tcp=False, state=False)
        self.addCleanup(srv.kill)
        srv.start()
        sock = srv.sock
        self.assertTrue(os.path.exists(sock))
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=10)
        self.assertFalse(os.path.exists(sock))
        check_clean_exit(*srv.stop())

    def start_fails(self, srv, want):
        p = subprocess.run([DNSD, "-c", srv.config], capture_output=True, text=True,
                           timeout=30, cwd=srv.dir, preexec_fn=_die_with_parent)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(want, p.stderr)
        self.assertIsNone(udp_exchange(srv.port, query(ORIGIN, "SOA"), 0.3))
        return p

    def test_world_readable_key_refuses_to_start(self):
        srv = control_server()
        self.addCleanup(srv.tmp.cleanup)
        os.chmod(srv.path("ctl.key"), 0o644)
        self.start_fails(srv, "readable or writable by others")
        self.assertFalse(os.path.exists(srv.sock), "bound before refusing")
        with open(srv.path("ctl.key"), "w") as f:
            f.write("short\n")
        os.chmod(srv.path("ctl.key"), 0o600)
        self.start_fails(srv, "must be 16..256")

    def test_live_socket_is_not_taken_over(self):
        srv = control_server(tcp=False)
        self.addCleanup(srv.tmp.cleanup)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
            other.bind(srv.sock)
            other.listen(1)
            self.start_fails(srv, "another process is listening")
            self.assertTrue(os.path.exists(srv.sock))


if __name__ == "__main__":
    unittest.main()
