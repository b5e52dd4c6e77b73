"""Signed NTS SRV answers against the real dnsd: with DNSSEC keys, SRV at
_ntske._tcp names comes from pre-drawn, pre-signed sets (dnssec/pool_sign.c)
with the records the unsigned path writes; unbound with the zone's DNSKEY as
trust anchor validates them (AD set), and the NODATA proof of other types at
those names; delv fully validates; the client of tests/tools/nts-srv-client.py
accepts them without --insecure and completes NTS-KE with chronyd; a signed
zone does not warn about unsigned SRV."""

import unittest

import dns.flags
import dns.message
import dns.rdatatype

from harness import ORIGIN, DnsdTestCase
from pooltest import DE_SRC, Client, snapshot_text
from dnssectest import SignedServer, Unbound, class_keys, delv, do_query, have_validators
from test_nts import DE_EPS, EUROPE_EPS, SERIAL, expected_weights, nts_servers, srv_records

NTS_NAME = "_ntske._tcp." + ORIGIN


class NtsSignedServer(SignedServer):
    """The signed test daemon serving test_nts's snapshot, srv_answers 4."""

    def write_config(self):
        self.snapshot = snapshot_text(SERIAL, nts_servers())
        self.options["srv_answers"] = 4
        return super().write_config()


@unittest.skipUnless(have_validators(), "unbound, delv, ldns-keygen or dig missing")
class SignedSrvTest(DnsdTestCase):

    @classmethod
    def make_server(cls):
        return NtsSignedServer([class_keys(cls)])

    def ask_do(self, name, rdtype="SRV", src=DE_SRC):
        with Client(self.port, src) as c:
            return dns.message.from_wire(c.exchange(do_query(name, rdtype).to_wire()))

    def test_signed_sets_hold_the_unsigned_records(self):
        for _ in range(20):
            msg = self.ask_do("_ntske._tcp.de." + ORIGIN)
            recs = srv_records(msg)
            self.assertEqual({(t, p): w for t, p, w, _, _ in recs}, expected_weights(DE_EPS))
            sigs = [rrs for rrs in msg.answer if rrs.rdtype == dns.rdatatype.RRSIG]
            self.assertEqual(len(sigs), 1)
            self.assertEqual(sigs[0][0].type_covered, dns.rdatatype.SRV)
        # By place: a French client gets fr's endpoints first, signed.
        msg = self.ask_do(NTS_NAME, src="127.0.3.10")
        eps = [(t, p) for t, p, _, _, _ in srv_records(msg)]
        self.assertTrue(set(eps) <= EUROPE_EPS and len(eps) == 4, eps)
        self.assertTrue(any(rrs.rdtype == dns.rdatatype.RRSIG for rrs in msg.answer))
        # Without DO: the unsigned path, no RRSIG.
        q = dns.message.make_query("_ntske._tcp.de." + ORIGIN, "SRV")
        with Client(self.port, DE_SRC) as c:
            msg = dns.message.from_wire(c.exchange(q.to_wire()))
        self.assertEqual(len(srv_records(msg)), 4)
        self.assertFalse(any(rrs.rdtype == dns.rdatatype.RRSIG for rrs in msg.answer))

    def test_unbound_validates_srv_and_nodata(self):
        with Unbound(self.port, self.anchor) as ub:
            for name in (NTS_NAME, "_ntske._tcp.de." + ORIGIN, "_ntske._tcp.gb." + ORIGIN):
                status, flags, out = ub.query(name, "SRV")
                self.assertEqual(status, "NOERROR", out)
                self.assertIn("ad", flags, "%s not validated:\n%s\n%s" % (
                    name, out, ub.text()[-3000:]))
                self.assertIn("\tSRV\t0 ", out)
            # unbound asks from 127.0.0.1, which the test DB puts in DE.
            _, _, out = ub.query(NTS_NAME, "SRV")
            got = {l.split()[-1].rstrip(".") for l in out.splitlines()
                   if "\tSRV\t" in l and not l.startswith(";")}
            self.assertEqual(got, {t for t, _ in DE_EPS})
            for name, rdtype in ((NTS_NAME, "A"), ("_ntske._tcp.de." + ORIGIN, "TXT"),
                                 ("_tcp." + ORIGIN, "SRV")):
                status, flags, out = ub.query(name, rdtype)
                self.assertEqual(status, "NOERROR", out)
                self.assertIn("ad", flags, "%s %s:\n%s" % (name, rdtype, out))
                self.assertNotIn("\tSRV\t0 ", out)

    def test_delv_validates(self):
        out = delv(self.port, self.delv_anchor, "_ntske._tcp.de." + ORIGIN, "SRV")
        self.assertIn("; fully validated", out)
        out = delv(self.port, self.delv_anchor, NTS_NAME, "AAAA")
        self.assertIn("negative response, fully validated", out)

    def test_no_unsigned_warning(self):
        self.assertNotIn("unsigned", self.server.log())


if __name__ == "__main__":
    unittest.main()
