"""Demand-aware balancing of NTS SRV answers against the real daemon
(docs/balancing.md): NTS-KE endpoints are a third family ("nts") with demand
of their own. test_nts.py's snapshot: de has four endpoints (7 of 10.25
units of endpoint weight), so an answer of four to a German client holds
exactly de's four; with all NTS demand pushed into de its endpoints carry
1/0.68 = 1.46 x their share of weight, over max_load_ratio 1.2, so de keeps
less than 1 and answers reach endpoints outside de. Bad "nts" demand is refused with its place.
"""

import json
import shutil
import time
import unittest

import dns.message
import dns.rdatatype

from harness import ORIGIN, MetricsControl, check_clean_exit, http, parse_metrics
from pooltest import DE_SRC, Client, PoolServer, snapshot_text
from dnssectest import case_keys, dnssec_option, do_query, verify_rrsig
from test_control import dnsdctl
from test_nts import DE_EPS, NTS_NAME, SERIAL, nts_servers, srv_records

N = 200
NTS_TABLE = '{"serial": %d, "demand": {"de": {"nts": 1000}, "us": {"4": 1}}}\n'
BAD_TABLE = '{"serial": 9,\n "demand": {"de": {"nts": -1},\n  "fr": {"NTS": 2}}}\n'


class NtsBalanceServer(MetricsControl, PoolServer):
    def __init__(self, **options):
        options.update({"srv_answers": 4,
                        "balance": "{mode: pushed, interval: 1, max_load_ratio: 1.2}"})
        super().__init__(snapshot_text(SERIAL, nts_servers()), state={}, options=options)


class NtsBalanceTest(unittest.TestCase):

    def setUp(self):
        self.srv = NtsBalanceServer()
        self.addCleanup(self.srv.kill)
        self.srv.start()

    def tearDown(self):
        if self.srv.proc:
            check_clean_exit(*self.srv.stop())

    def ctl(self, *args):
        return dnsdctl("-s", self.srv.sock, *args)

    def push(self, text):
        return self.ctl("demand", "push", self.srv.write("table.json", text))

    def outside_de(self):
        """Share of German clients' SRV answers with an endpoint outside de."""
        n = 0
        with Client(self.srv.port, DE_SRC) as c:
            for _ in range(N):
                _, msg = c.ask(NTS_NAME, "SRV")
                eps = {(t, p) for t, p, _, _, _ in srv_records(msg)}
                self.assertEqual(len(eps), 4)
                n += bool(eps - DE_EPS)
        return n / N

    def test_pushed_nts_demand_moves_srv_answers_out_of_de(self):
        self.assertEqual(self.outside_de(), 0)
        p = self.push(NTS_TABLE % 3)
        self.assertEqual(p.returncode, 0, p.stderr)
        bal = json.loads(self.ctl("balance", "--json").stdout)
        nts = {z["zone"]: z for z in bal["families"]["nts"]["zones"]}
        self.assertLess(nts["de"]["keep"], 1, bal["families"]["nts"])
        self.assertGreater(nts["de"]["ratio_without"], 1.4)
        self.assertLessEqual(bal["families"]["nts"]["worst_with"], 1.2)
        # The IPv4 family is solved apart, from its own demand (in us): NTS
        # demand does not make de's IPv4 servers spill.
        four = {z["zone"]: z for z in bal["families"]["4"]["zones"]}
        self.assertEqual(four["de"]["keep"], 1)
        self.assertGreater(self.outside_de(), 0.1)
        text = self.ctl("balance").stdout
        self.assertIn("NTS: worst load ratio", text)
        _, _, body = http(self.srv.metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n")
        m = parse_metrics(body.decode())
        key = ('dnsd_balance_keep_fraction{origin="%s",zone="de",family="nts"}' % ORIGIN)
        self.assertAlmostEqual(m[key], nts["de"]["keep"], places=4)

    def test_bad_nts_demand_refused_and_changes_nothing(self):
        self.assertEqual(self.push(NTS_TABLE % 3).returncode, 0)
        p = self.push(BAD_TABLE)
        self.assertEqual(p.returncode, 1)
        self.assertIn("table.json:2:27: demand.de.nts: negative", p.stderr)
        self.assertIn("table.json:3:10: demand.fr.NTS: unknown family", p.stderr)
        bal = json.loads(self.ctl("balance", "--json").stdout)
        self.assertEqual(bal["pushed_serial"], 3)


# The signer redraws every set within 5 s of a materially new keep table
# (signer.c SRV_SIGNER_STALE_S), plus a tick and the solve interval.
REDRAW_S = 5 + 2
# Two slots of 8 signed sets (the apex for a German client, and _ntske._tcp.de);
# unsigned answers spill about 0.9 of the time: the share over 16 sets has a
# standard error near 0.075, so 0.3 is 4 sigma; unbalanced sets give 0.
SIGNED_NAMES = [NTS_NAME, "_ntske._tcp.de." + ORIGIN]
TOLERANCE = 0.3


@unittest.skipUnless(shutil.which("ldns-keygen"), "ldns-keygen missing")
class SignedNtsBalanceTest(unittest.TestCase):
    """Signed SRV sets spill by the nts keep fractions as unsigned answers do."""

    def setUp(self):
        key = case_keys(self)
        self.srv = NtsBalanceServer(dnssec=dnssec_option([key]))
        self.addCleanup(self.srv.kill)
        self.srv.start(timeout=20)

    def tearDown(self):
        if self.srv.proc:
            check_clean_exit(*self.srv.stop())

    def share(self, do):
        n = total = 0
        with Client(self.srv.port, DE_SRC) as c:
            for name in SIGNED_NAMES:
                for _ in range(N // 2):
                    msg = dns.message.from_wire(c.exchange(do_query(name, "SRV",
                                                                    do).to_wire()))
                    eps = {(t, p) for t, p, _, _, _ in srv_records(msg)}
                    self.assertEqual(len(eps), 4, msg)
                    if do:
                        verify_rrsig(self, msg, name, dns.rdatatype.SRV, self.dnskey)
                    n += bool(eps - DE_EPS)
                    total += 1
        return n / total

    def test_signed_srv_answers_spill_as_unsigned_ones(self):
        self.assertEqual(self.share(True), 0)
        p = dnsdctl("-s", self.srv.sock, "demand", "push",
                    self.srv.write("table.json", NTS_TABLE % 3))
        self.assertEqual(p.returncode, 0, p.stderr)
        time.sleep(REDRAW_S)
        unsigned, signed = self.share(False), self.share(True)
        self.assertGreater(unsigned, 0.5)
        self.assertLess(abs(signed - unsigned), TOLERANCE, (signed, unsigned))


if __name__ == "__main__":
    unittest.main()
