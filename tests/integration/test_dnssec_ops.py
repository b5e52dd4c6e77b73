"""DNSSEC operations against the real dnsd: signatures with a validity of
minutes are renewed before they expire while queries keep coming, none lost;
a pre-publish key rollover by SIGHUP (publish the new key, switch, remove the
old one) validates at every step with the trust anchor a parent would hold;
a reload with a broken key file changes nothing; dnsdctl status and /metrics
show keys, expiry and signature counts."""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

import dns.message
import dns.rdatatype

from harness import BINARY_DIR, ORIGIN, DnsdTestCase, http, parse_metrics
from dnssectest import (Keys, SignedServer, class_keys, delv, dnssec_option, do_query,
                        have_validators)

DNSDCTL = os.path.join(BINARY_DIR, "bin", "dnsdctl")


def rrsig_times(port, name, rdtype="A"):
    """(inception, expiration) of the RRSIGs answering name/rdtype."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(do_query(name, rdtype).to_wire(), ("127.0.0.1", port))
        msg = dns.message.from_wire(s.recv(65535))
    return [(rd.inception, rd.expiration) for rrs in msg.answer
            if rrs.rdtype == dns.rdatatype.RRSIG for rd in rrs]


class Ops(DnsdTestCase):

    def ctl(self, *args):
        p = subprocess.run([DNSDCTL, "-s", self.server.sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip().startswith("{") else p.stdout

    def dnssec_status(self):
        return self.ctl("status")["zones"][0]["dnssec"]

    # Re-signing and reloads take seconds under a loaded machine.
    wait_timeout, wait_step = 20.0, 0.1


@unittest.skipUnless(have_validators(), "unbound, delv, ldns-keygen or dig missing")
class RefreshCase(Ops):
    """Validity 5 minutes, refresh 295 s: the static data is re-signed every
    few seconds, the pool sets every minute."""

    @classmethod
    def make_server(cls):
        class_keys(cls)
        opt = dnssec_option([cls.key], validity="5m", refresh="295s", offset="0")
        return SignedServer([cls.key], options={"dnssec": opt})

    def test_refresh_under_load(self):
        stop = threading.Event()
        counts = {"sent": 0, "answered": 0, "expired": 0}

        def load():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(2)
                names = [ORIGIN, "www." + ORIGIN, "de." + ORIGIN, "nope." + ORIGIN]
                i = 0
                while not stop.is_set():
                    q = do_query(names[i % len(names)])
                    i += 1
                    counts["sent"] += 1
                    s.sendto(q.to_wire(), ("127.0.0.1", self.port))
                    try:
                        msg = dns.message.from_wire(s.recv(65535))
                    except socket.timeout:
                        continue
                    if msg.id == q.id:
                        counts["answered"] += 1
                    now = time.time()
                    for rrs in msg.answer + msg.authority:
                        if rrs.rdtype == dns.rdatatype.RRSIG:
                            for rd in rrs:
                                if not rd.inception <= now <= rd.expiration:
                                    counts["expired"] += 1

        first = rrsig_times(self.port, "www." + ORIGIN)
        t = threading.Thread(target=load)
        t.start()
        try:
            # Re-signed at least twice: the expiration moves on.
            self.wait_for(lambda: rrsig_times(self.port, "www." + ORIGIN)[0][1]
                          >= first[0][1] + 5)
            second = rrsig_times(self.port, "www." + ORIGIN)
            self.wait_for(lambda: rrsig_times(self.port, "www." + ORIGIN)[0][1]
                          > second[0][1])
            _, _, body = http(self.server.metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n")
            metrics = parse_metrics(body.decode())
        finally:
            stop.set()
            t.join()
        self.assertGreater(counts["sent"], 100)
        self.assertEqual(counts["answered"], counts["sent"], counts)
        self.assertEqual(counts["expired"], 0, counts)
        self.assertIn("fully validated", delv(self.port, self.delv_anchor, ORIGIN, "A"))
        # The gauge: the earliest expiry is in the future, within the validity.
        exp = metrics['dnsd_dnssec_signature_expiry_seconds{zone="%s"}' % ORIGIN]
        self.assertTrue(0 < exp <= 300, exp)
        self.assertGreater(metrics["dnsd_dnssec_signatures_total"], 1000)


@unittest.skipUnless(have_validators(), "unbound, delv, ldns-keygen or dig missing")
class RolloverCase(Ops):
    """Pre-publish rollover of a CSK, each step a SIGHUP (docs/dnssec.md)."""

    @classmethod
    def make_server(cls):
        cls.old = class_keys(cls)
        cls.new = cls.keys.make()
        return SignedServer([cls.old])

    def reload(self, value):
        before = self.ctl("status")["last_reload"]["time"]
        self.server.set_dnssec(value)
        time.sleep(1.1)  # the reload time has a resolution of one second
        self.server.proc.send_signal(signal.SIGHUP)
        self.wait_for(lambda: self.ctl("status")["last_reload"]["time"] != before)
        return self.ctl("status")["last_reload"]["result"]

    def validates(self, keys, name=ORIGIN, rdtype="A"):
        _, anchor = self.keys.anchor_file(keys, name="a%d" % len(keys))
        return "fully validated" in delv(self.port, anchor, name, rdtype)

    def tags(self):
        return {(k["tag"], k["role"]) for k in self.dnssec_status()["keys"]}

    def test_rollover(self):
        old_tag = int(Keys.public(self.old).split("+")[-1][:-4])
        new_tag = int(Keys.public(self.new).split("+")[-1][:-4])
        self.assertEqual(self.tags(), {(old_tag, "csk")})
        st = self.dnssec_status()
        self.assertEqual([k["algorithm"] for k in st["keys"]], [13])
        self.assertTrue(13 * 86400 < st["expires_in_s"] <= 14 * 86400, st)
        self.assertRegex(st["earliest_expiry"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertGreater(st["answer_sets"], 0)
        self.assertTrue(self.validates([self.old]))
        # 1. Pre-publish the new key: in the DNSKEY RRset, signing nothing.
        self.assertEqual(self.reload(dnssec_option([self.old], [Keys.public(self.new)])), "ok")
        self.assertEqual(self.tags(), {(old_tag, "csk"), (new_tag, "published")})
        self.assertTrue(self.validates([self.old]))
        self.assertTrue(self.validates([self.old], ORIGIN, "DNSKEY"))
        sigs = rrsig_times(self.port, "www." + ORIGIN)
        self.assertEqual(len(sigs), 1)
        # 2. Switch: the new key signs; the parent holds both DS (anchors).
        self.assertEqual(self.reload(dnssec_option([self.new], [Keys.public(self.old)])), "ok")
        self.assertEqual(self.tags(), {(new_tag, "csk"), (old_tag, "published")})
        self.assertTrue(self.validates([self.old, self.new]))
        self.assertFalse(self.validates([self.old]))  # the DS must change first
        # 3. Remove the old key.
        self.assertEqual(self.reload(dnssec_option([self.new])), "ok")
        self.assertEqual(self.tags(), {(new_tag, "csk")})
        self.assertTrue(self.validates([self.new]))
        self.assertIn("negative response, fully validated",
                      delv(self.port, self.keys.anchor_file([self.new], "n")[1],
                           "nope." + ORIGIN))

    def test_broken_key_reload_changes_nothing(self):
        before = self.tags()
        result = self.reload(dnssec_option([os.path.join(self.keys.dir, "Kgone.private")]))
        self.assertIn("Kgone.private", result)
        self.assertEqual(self.tags(), before)
        self.server.set_dnssec(dnssec_option([self.old]))


if __name__ == "__main__":
    unittest.main()
