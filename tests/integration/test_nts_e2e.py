"""End to end, as an NTS pool client uses dnsd's SRV answers (srv-pool.md):
a real NTS-KE server (chronyd from Debian, with ntsserverkey/ntsservercert
for a throwaway CA made here), dnsd serving its endpoint under
_ntske._tcp.<origin>, unbound resolving for the client, and
tests/tools/nts-srv-client.py doing what the spec prescribes: SRV lookup
through the resolver, RFC 2782 weighted ordering, TLS 1.3 to the target with
the target as the verified name, an NTS-KE request (ALPN "ntske/1": NTS
Next Protocol, AEAD algorithm, End of Message) and the new cookies of the
reply. The target names resolve nowhere, so the client connects to
127.0.0.1 while TLS verifies the SRV target's name.

Unsigned answers (a zone without DNSSEC keys) are rejected by the client, as
the spec says they must be; the exchange itself is checked with the client's
test-only --insecure switch."""

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (SOURCE_DIR, DnsdTestCase, _die_with_parent, free_port)
from pooltest import DE_SRC, PoolServer, server, snapshot_text
from dnssectest import Keys, SignedServer, Unbound

CLIENT = os.path.join(SOURCE_DIR, "tests", "tools", "nts-srv-client.py")
ORIGIN = "pool.ntp.org"
GOOD = "nts-a.de.example"      # the name in chronyd's certificate
DEAD = "nts-dead.de.example"   # a port nothing listens on
WRONG = "nts-wrong.fr.example"  # chronyd's port, but not the certificate's name
TOOLS = ("chronyd", "unbound", "openssl")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, **kw)


def make_certs(d):
    """A throwaway CA and a leaf for GOOD (P-256), as chronyd wants them."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509"] + ec + ["-keyout", d + "/ca.key", "-out", d + "/ca.crt",
        "-days", "2", "-subj", "/CN=dnsd test CA"], check=True)
    run(["openssl", "req"] + ec + ["-keyout", d + "/server.key", "-out", d + "/server.csr",
        "-subj", "/CN=" + GOOD], check=True)
    with open(d + "/ext.cnf", "w") as f:
        f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n" % GOOD)
    run(["openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.crt",
         "-CAkey", d + "/ca.key", "-CAcreateserial", "-out", d + "/server.crt", "-days", "2",
         "-extfile", d + "/ext.cnf"], check=True)


def wait_tcp(port, proc, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited %d" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d within %.0f s" % (what, port, timeout))


def start(argv, log):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            preexec_fn=_die_with_parent)


def stop(proc):
    """SIGTERM to our own child by PID, SIGKILL after 5 s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class EndToEnd:
    """chronyd, dnsd and a resolver; the tests every variant passes. A
    variant makes the daemon (make_dnsd) and the resolver (start_resolver)
    and says what the client does with the SRV records' signatures."""

    @classmethod
    def make_server(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="dnsd-nts-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.ke_port, cls.ntp_port, cls.dead_port = (free_port(False) for _ in range(3))
        servers = [
            dict(server("10.49.0.1", ["de", "europe"]), nts={"host": GOOD, "port": cls.ke_port}),
            dict(server("10.49.0.2", ["de", "europe"]), nts={"host": DEAD, "port": cls.dead_port}),
            dict(server("10.33.0.1", ["fr", "europe"]), nts={"host": WRONG, "port": cls.ke_port}),
        ]
        cls.start_chronyd(cls.tmp.name)
        return cls.make_dnsd(snapshot_text(1, servers))

    @classmethod
    def make_dnsd(cls, snapshot):
        return PoolServer(snapshot, options={"srv_answers": 4})

    @classmethod
    def start_chronyd(cls, d):
        make_certs(d)
        user = pwd.getpwuid(os.geteuid()).pw_name
        with open(d + "/chrony.conf", "w") as f:
            f.write("ntsserverkey %s/server.key\nntsservercert %s/server.crt\n"
                    "ntsport %d\nport %d\nbindaddress 127.0.0.1\nallow 127.0.0.1\n"
                    "cmdport 0\nntsdumpdir %s\npidfile %s/chronyd.pid\n"
                    % (d, d, cls.ke_port, cls.ntp_port, d, d))
        cls.chrony_log = open(d + "/chronyd.log", "w+")
        # -x: never touch the clock; -d: foreground, log to stderr.
        cls.chronyd = start(["chronyd", "-x", "-d", "-u", user, "-f", d + "/chrony.conf"],
                            cls.chrony_log)
        cls.addClassCleanup(stop, cls.chronyd)
        wait_tcp(cls.ke_port, cls.chronyd, "chronyd")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.resolver_port = cls.start_resolver()

    @classmethod
    def start_resolver(cls):
        """unbound, iterating only (the zone is unsigned); returns its port."""
        d, port = cls.tmp.name, free_port(False)
        with open(d + "/unbound.conf", "w") as f:
            f.write('server:\n  interface: 127.0.0.1\n  port: %d\n  do-not-query-localhost: no\n'
                    '  username: ""\n  chroot: ""\n  directory: "%s"\n  pidfile: "%s/ub.pid"\n'
                    '  use-syslog: no\n  num-threads: 1\n  so-reuseport: no\n'
                    '  access-control: 127.0.0.0/8 allow\n  module-config: "iterator"\n'
                    '  domain-insecure: "%s"\n'
                    'stub-zone:\n  name: "%s"\n  stub-addr: 127.0.0.1@%d\n'
                    % (port, d, d, ORIGIN, ORIGIN, cls.server.port))
        cls.unbound_log = open(d + "/unbound.log", "w+")
        cls.unbound = start(["unbound", "-d", "-c", d + "/unbound.conf"], cls.unbound_log)
        cls.addClassCleanup(stop, cls.unbound)
        wait_tcp(port, cls.unbound, "unbound")
        return port

    def client(self, name, *args):
        p = run([sys.executable, CLIENT, name, "--resolver", "127.0.0.1",
                 "--resolver-port", str(self.resolver_port), "--cafile",
                 self.tmp.name + "/ca.crt", "--connect", "127.0.0.1"] + list(args))
        self.assertNotIn("Traceback", p.stderr)
        return p.returncode, json.loads(p.stdout)

    def test_nts_ke_through_the_srv_answer(self):
        # de's two endpoints, then fr's from europe (srv_answers 4), all of the
        # same weight: 65535 each.
        eps = {(GOOD, self.ke_port), (DEAD, self.dead_port), (WRONG, self.ke_port)}
        for seed in range(6):
            rc, out = self.client("_ntske._tcp.de." + ORIGIN, "--insecure", "--seed", str(seed))
            self.assertEqual(rc, 0, out)
            self.assertEqual({(t, p) for _, _, p, t in out["srv"]}, eps)
            self.assertTrue(all(prio == 0 and w == 65535 for prio, w, _, _ in out["srv"]))
            # Whatever RFC 2782 put before the good one failed; the good one
            # completes: TLS 1.3, NTPv4, AES-SIV-CMAC-256, cookies.
            order = [t for _, _, _, t in out["order"]]
            self.assertEqual({f[0] for f in out.get("failed", [])},
                             set(order[:order.index(GOOD)]))
            self.assertEqual((out["target"], out["port"]), (GOOD, self.ke_port))
            self.assertEqual(out["tls_version"], "TLSv1.3")
            self.assertEqual((out["next_protocol"], out["aead"]), (0, 15))
            self.assertGreaterEqual(len(out["cookies"]), 1)
            self.assertEqual(out["errors"], [])
            self.assertEqual(out.get("ntp_port"), self.ntp_port)

    def test_the_srv_target_is_the_name_tls_verifies(self):
        # fr's endpoint reaches chronyd, whose certificate names GOOD, not
        # WRONG: the client refuses it and goes on down RFC 2782's order
        # (srv-pool.md: the SRV target replaces the pool's name for TLS). The
        # client sorts before its seeded draws, so these seeds always give the
        # same orders: the loop is deterministic.
        tried_wrong = 0
        for seed in range(10):
            rc, out = self.client("_ntske._tcp.fr." + ORIGIN, "--insecure", "--seed", str(seed))
            self.assertEqual(rc, 0, out)
            self.assertIn(WRONG, [t for _, _, _, t in out["srv"]])
            self.assertEqual(out["target"], GOOD)
            before = [t for _, _, _, t in out["order"]]
            before = before[:before.index(GOOD)]
            failed = {f[0]: f[2] for f in out.get("failed", [])}
            self.assertEqual(set(failed), set(before))
            if WRONG in failed:
                tried_wrong += 1
                self.assertRegex(failed[WRONG], "certificate verify failed|[Hh]ostname mismatch")
        self.assertGreater(tried_wrong, 0)


@unittest.skipUnless(all(shutil.which(t) for t in TOOLS),
                     "needs %s (scripts/setup --tests installs them)" % ", ".join(TOOLS))
class UnsignedEndToEndTest(EndToEnd, DnsdTestCase):
    """A zone without DNSSEC keys: the client refuses its SRV records unless
    told --insecure (which the shared tests use)."""

    def test_unsigned_srv_records_are_rejected(self):
        rc, out = self.client("_ntske._tcp." + ORIGIN)
        self.assertEqual(rc, 2, out)
        self.assertFalse(out["signed"])
        self.assertIn("rejected", out["error"])
        self.assertNotIn("cookies", out)


@unittest.skipUnless(all(shutil.which(t) for t in TOOLS + ("ldns-keygen", "dig")),
                     "needs %s, ldns-keygen and dig" % ", ".join(TOOLS))
class SignedEndToEndTest(EndToEnd, DnsdTestCase):
    """The zone signed, unbound validating with its DNSKEY as trust anchor:
    the client takes the SRV records as srv-pool.md requires, without
    --insecure (AD set), and completes NTS-KE."""

    @classmethod
    def make_dnsd(cls, snapshot):
        cls.keys = Keys()
        cls.addClassCleanup(cls.keys.cleanup)
        key = cls.keys.make()
        cls.anchor, _ = cls.keys.anchor_file([key])
        srv = SignedServer([key], options={"srv_answers": 4})
        srv.snapshot = snapshot
        srv.config = srv.write_config()
        return srv

    @classmethod
    def start_resolver(cls):
        ub = Unbound(cls.server.port, cls.anchor)
        cls.addClassCleanup(ub.stop)
        return ub.port

    def test_signed_srv_records_are_accepted(self):
        for seed in range(4):
            rc, out = self.client("_ntske._tcp.de." + ORIGIN, "--seed", str(seed))
            self.assertEqual(rc, 0, out)
            self.assertTrue(out["signed"])
            self.assertEqual((out["target"], out["port"]), (GOOD, self.ke_port))
            self.assertGreaterEqual(len(out["cookies"]), 1)


if __name__ == "__main__":
    unittest.main()
