"""DNSSEC against the real dnsd, checked by real validators: unbound with the
zone's DNSKEY as trust anchor resolves static names, pool names (geo,
numbered, country, AAAA) and names that do not exist with AD set, and
SERVFAILs when the signatures are corrupted or the anchor is another key;
delv validates the same names; answers with and without DO are decoded by
dnspython and ldns (compact denial: NOERROR with an NXNAME NSEC for DO,
NXDOMAIN without); bad key files stop start-up with a clear error."""

import os
import subprocess
import time
import unittest

import dns.flags
import dns.message
import dns.rdatatype

from harness import (DNSD, ORIGIN, DnsdTestCase, http, kdig, ldns_decode, parse_metrics,
                     query)
from pooltest import DE4, DE6, DE_SRC, ALL6, Client
from dnssectest import (Keys, SignedServer, Unbound, class_keys, delv, dnssec_option,
                        do_query, have_validators)

DO = 0x8000

# Names every validator must accept, with the type asked.
VALID = [
    (ORIGIN, "SOA"), (ORIGIN, "TXT"), (ORIGIN, "DNSKEY"), ("www." + ORIGIN, "A"),
    ("www." + ORIGIN, "AAAA"), (ORIGIN, "A"), ("1." + ORIGIN, "A"),
    ("de." + ORIGIN, "A"), ("2.de." + ORIGIN, "A"), ("2." + ORIGIN, "AAAA"),
    ("debian." + ORIGIN, "A"), ("europe." + ORIGIN, "A"),
]
# (name, type): answered by a signed negative answer.
NEGATIVE = [("nonexistent." + ORIGIN, "A"), ("www." + ORIGIN, "TXT"),
            ("0." + ORIGIN, "AAAA"), ("a.b.deeper.nope." + ORIGIN, "AAAA")]


@unittest.skipUnless(have_validators(), "unbound, delv, ldns-keygen or dig missing")
class SignedCase(DnsdTestCase):

    @classmethod
    def make_server(cls):
        return SignedServer([class_keys(cls)])

    def ask_do(self, name, rdtype, do=True, src="127.0.0.1"):
        with Client(self.port, src) as c:
            raw = c.exchange(do_query(name, rdtype, do).to_wire())
        return raw, dns.message.from_wire(raw)

    def test_unbound_validates(self):
        with Unbound(self.port, self.anchor) as ub:
            for name, rdtype in VALID + NEGATIVE:
                status, flags, out = ub.query(name, rdtype)
                self.assertIn("ad", flags, "%s %s not validated:\n%s\n%s" % (
                    name, rdtype, out, ub.text()[-3000:]))
                # Compact denial: NOERROR even for names that do not exist
                # (unbound 1.17 does not turn NXNAME back into NXDOMAIN).
                self.assertIn(status, ("NOERROR", "NXDOMAIN"), out)
            # Geo through the resolver: unbound asks from 127.0.0.1, which the
            # test DB puts in DE, so the apex serves DE servers.
            status, _, out = ub.query("0." + ORIGIN, "A")
            got = [l.split()[-1] for l in out.splitlines()
                   if "\tA\t" in l and not l.startswith(";")]
            self.assertTrue(got and set(got) <= set(DE4), out)
            status, _, out = ub.query("2." + ORIGIN, "AAAA")
            got = [l.split()[-1] for l in out.splitlines()
                   if "\tAAAA\t" in l and not l.startswith(";")]
            self.assertTrue(got and set(got) <= set(DE6), out)

    def test_unbound_refuses_another_anchor(self):
        other = self.keys.make()
        anchor, _ = self.keys.anchor_file([other], name="other")
        with Unbound(self.port, anchor) as ub:
            status, flags, out = ub.query("www." + ORIGIN, "A")
            self.assertEqual(status, "SERVFAIL", out)
            self.assertNotIn("ad", flags)

    def test_delv_validates(self):
        for name, rdtype in VALID:
            out = delv(self.port, self.delv_anchor, name, rdtype)
            self.assertIn("; fully validated", out, "%s %s: %s" % (name, rdtype, out))
        for name, rdtype in NEGATIVE:
            out = delv(self.port, self.delv_anchor, name, rdtype)
            self.assertIn("negative response, fully validated", out,
                          "%s %s: %s" % (name, rdtype, out))

    def test_do_bit(self):
        """RRSIGs only with DO; compact denial only with DO (RFC 9824)."""
        raw, msg = self.ask_do("www." + ORIGIN, "A", do=False)
        self.assertEqual([r.rdtype for r in msg.answer], [dns.rdatatype.A])
        raw, msg = self.ask_do("www." + ORIGIN, "A")
        self.assertEqual(sorted(r.rdtype for r in msg.answer),
                         [dns.rdatatype.A, dns.rdatatype.RRSIG])
        text = ldns_decode(raw)
        self.assertIn("RRSIG\tA 13 4 600", text)
        # A name that does not exist: NXDOMAIN without DO ...
        _, msg = self.ask_do("nope." + ORIGIN, "A", do=False)
        self.assertEqual(msg.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(len(msg.authority), 1)
        # ... NOERROR with DO, its own NSEC "\000.nope NXNAME RRSIG NSEC".
        raw, msg = self.ask_do("nope." + ORIGIN, "A")
        self.assertEqual(msg.rcode(), dns.rcode.NOERROR)
        text = ldns_decode(raw)
        self.assertIn("nope.%s.\t300\tIN\tNSEC\t\\000.nope.%s. RRSIG NSEC TYPE128" % (
            ORIGIN, ORIGIN), text)
        self.assertIn("RRSIG\tNSEC 13 4 300", text)
        self.assertIn("RRSIG\tSOA 13 3 3600", text)

    def pool_by_de(self):
        _, _, body = http(self.server.metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n")
        return parse_metrics(body.decode()).get(
            'dnsd_pool_answers_total{zone="de",backfill="false"}', 0)

    def test_pool_answers_signed(self):
        """A DO query gets 4 distinct servers and one RRSIG; without DO the
        live draw; both from the client's zone, and both counted by zone."""
        before = self.pool_by_de()
        with Client(self.port, DE_SRC) as c:
            for do in (True, False):
                seen = set()
                for _ in range(20):
                    msg = dns.message.from_wire(c.exchange(do_query(ORIGIN, "A",
                                                                    do).to_wire()))
                    a = [rd.address for rrs in msg.answer
                         if rrs.rdtype == dns.rdatatype.A for rd in rrs]
                    sigs = [rrs for rrs in msg.answer if rrs.rdtype == dns.rdatatype.RRSIG]
                    self.assertEqual(len(a), 4)
                    self.assertEqual(len(set(a)), 4)
                    self.assertTrue(set(a) <= set(DE4), a)
                    self.assertEqual(len(sigs), 1 if do else 0)
                    seen.update(a)
                self.assertGreater(len(seen), 4, "answers do not vary")
        self.assertEqual(self.pool_by_de() - before, 40)

    def test_apex_types(self):
        """DNSKEY, CDS, CDNSKEY at the apex; DS there is NODATA (we are the
        child); NSEC and RRSIG queries."""
        _, msg = self.ask_do(ORIGIN, "DNSKEY")
        self.assertEqual(len(msg.find_rrset(msg.answer, dns.name.from_text(ORIGIN),
                                            dns.rdataclass.IN, dns.rdatatype.DNSKEY)), 1)
        for t in ("CDS", "CDNSKEY"):
            _, msg = self.ask_do(ORIGIN, t)
            self.assertTrue(any(r.rdtype == dns.rdatatype.from_text(t) for r in msg.answer))
        raw, msg = self.ask_do(ORIGIN, "DS")
        self.assertEqual(msg.answer, [])
        nsec = [r for r in msg.authority if r.rdtype == dns.rdatatype.NSEC][0]
        types = nsec[0].to_text()
        for t in ("A", "NS", "SOA", "MX", "TXT", "RRSIG", "NSEC", "DNSKEY",
                  "CDS", "CDNSKEY"):
            self.assertIn(" " + t, " " + types.split(" ", 1)[1])
        self.assertNotIn(" DS ", " " + types + " ")
        _, msg = self.ask_do("www." + ORIGIN, "NSEC")
        self.assertEqual(msg.answer[0].rdtype, dns.rdatatype.NSEC)
        _, msg = self.ask_do("www." + ORIGIN, "RRSIG")
        self.assertEqual({r.rdtype for r in msg.answer}, {dns.rdatatype.RRSIG})

    def test_kdig_and_sizes(self):
        """kdig +dnssec: signed answers; an answer too big for 512 bytes
        with its signature is truncated, and complete over TCP."""
        out = kdig(self.port, "de." + ORIGIN, "A", "+dnssec")
        self.assertIn("RRSIG", out)
        self.assertIn("NOERROR", out)
        q = query("k1." + ORIGIN, "TXT", opt=None)
        raw, msg = self.ask_do("k1." + ORIGIN, "TXT")
        self.assertFalse(msg.flags & dns.flags.TC)
        q = dns.message.make_query("k1." + ORIGIN, "TXT", use_edns=0, payload=1100,
                                   want_dnssec=True)
        with Client(self.port) as c:
            small = dns.message.from_wire(c.exchange(q.to_wire()))
        self.assertTrue(small.flags & dns.flags.TC)
        raw, msg = self.exchange(q.to_wire(), "tcp")
        self.assertTrue(any(r.rdtype == dns.rdatatype.RRSIG for r in msg.answer))

    def test_ecs_and_dnssec(self):
        """ECS and DO together: the ECS client's zone, a signed answer, scope."""
        q = dns.message.make_query(ORIGIN, "A", use_edns=0, payload=1232, want_dnssec=True,
                                   options=[dns.edns.ECSOption("127.0.2.0", 24)])
        with Client(self.port, "127.0.5.10") as c:
            msg = dns.message.from_wire(c.exchange(q.to_wire()))
        a = [rd.address for rrs in msg.answer if rrs.rdtype == dns.rdatatype.A for rd in rrs]
        self.assertTrue(a and set(a) <= set(DE4), a)
        self.assertTrue(any(r.rdtype == dns.rdatatype.RRSIG for r in msg.answer))
        self.assertEqual([o.scopelen for o in msg.options if o.otype == 8], [24])


@unittest.skipUnless(have_validators(), "unbound, delv, ldns-keygen or dig missing")
class CorruptCase(DnsdTestCase):
    """The test-only switch that spoils every signature: unbound must fail."""

    @classmethod
    def make_server(cls):
        return SignedServer([class_keys(cls, alg="ED25519")],
                            env={"DNSD_TEST_CORRUPT_SIGNATURES": "1"})

    def test_servfail(self):
        with Unbound(self.port, self.anchor) as ub:
            for name, rdtype in [("www." + ORIGIN, "A"), (ORIGIN, "A"),
                                 ("nope." + ORIGIN, "A")]:
                status, flags, out = ub.query(name, rdtype)
                self.assertEqual(status, "SERVFAIL", out)
        self.assertNotIn("fully validated", delv(self.port, self.delv_anchor,
                                                  "www." + ORIGIN, "A"))


@unittest.skipUnless(have_validators(), "unbound, delv, ldns-keygen or dig missing")
class KeyFileCase(unittest.TestCase):
    """Bad key files stop start-up (and --check) with a message naming them."""

    def setUp(self):
        self.keys = Keys()
        self.addCleanup(self.keys.cleanup)

    def check(self, keys, publish=()):
        srv = SignedServer(keys, options={"dnssec": dnssec_option(keys, publish)})
        self.addCleanup(srv.tmp.cleanup)
        p = subprocess.run([DNSD, "-c", srv.config, "--check"], capture_output=True,
                           text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    def test_bind_and_ldns_keys(self):
        for tool in ("ldns", "bind"):
            for alg in ("ECDSAP256SHA256", "ED25519"):
                rc, out = self.check([self.keys.make(alg, tool=tool)])
                self.assertEqual(rc, 0, out)

    def test_errors(self):
        key = self.keys.make()
        os.chmod(key, 0o644)
        rc, out = self.check([key])
        self.assertNotEqual(rc, 0)
        self.assertIn("readable by others", out)
        os.chmod(key, 0o600)
        rc, out = self.check([os.path.join(self.keys.dir, "Kmissing.private")])
        self.assertNotEqual(rc, 0)
        self.assertIn("No such file", out)
        other = self.keys.make()
        os.replace(Keys.public(other), Keys.public(key))
        rc, out = self.check([key])
        self.assertNotEqual(rc, 0)
        self.assertIn("does not match", out)


if __name__ == "__main__":
    unittest.main()
