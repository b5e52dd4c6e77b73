"""Balancing of signed answers against the real daemon (docs/balancing.md,
README "DNSSEC"): the pre-drawn signed sets follow the keep fractions.

The pool of pooltest.py, signed, with a pushed demand table that puts all
demand in lu (two servers): unsigned answers to lu clients then hold servers
from outside europe (spill to "@"). DO answers must do the same, in the same
proportion, once the signer redrew its sets (within 5 s of the publish), each
with an RRSIG that verifies against the zone's key, and numbered names stay
disjoint.
"""

import shutil
import time
import unittest

import dns.edns
import dns.message
import dns.rdatatype

from harness import ORIGIN, check_clean_exit
from pooltest import LU4, Client, addrs
from dnssectest import case_keys, dnssec_option, do_query, verify_rrsig
from test_balance import LU_TABLE, LU_ECS, OUTSIDE_EUROPE, BalanceServer, zone_row

# Ten slots of 8 sets each (apex, 0-3, lu, 0-3.lu): 80 independent signed
# draws. With the unsigned share p about 0.6 the signed share's standard
# error is about 0.055, so 0.2 is over 3.5 sigma; without balanced sets the
# signed share is 0 (lu's servers, then europe's: never outside europe).
NAMES = [ORIGIN] + ["%d.%s" % (q, ORIGIN) for q in range(4)] + [
    "lu." + ORIGIN] + ["%d.lu.%s" % (q, ORIGIN) for q in range(4)]
PER_NAME = 40
TOLERANCE = 0.2
# The signer's bound after a materially new keep table (signer.c
# SRV_SIGNER_STALE_S), plus a tick and the solve interval.
REDRAW_S = 5 + 2


def ask(c, name, do):
    q = do_query(name, "A", do, options=[dns.edns.ECSOption(*LU_ECS)])
    return dns.message.from_wire(c.exchange(q.to_wire()))


@unittest.skipUnless(shutil.which("ldns-keygen"), "ldns-keygen missing")
class SignedSpillTest(unittest.TestCase):

    def setUp(self):
        key = case_keys(self)
        self.srv = BalanceServer(balance={"mode": "pushed", "interval": 1},
                                 options={"dnssec": dnssec_option([key])})
        self.addCleanup(self.srv.kill)
        self.srv.start(timeout=20)

    def tearDown(self):
        if self.srv.proc:
            check_clean_exit(*self.srv.stop())

    def shares(self, do):
        """Share of answers holding a server from outside europe, and the
        servers seen per numbered name; DO answers are verified."""
        spilled, total, seen = 0, 0, {}
        with Client(self.srv.port) as c:
            for name in NAMES:
                for _ in range(PER_NAME):
                    msg = ask(c, name, do)
                    a = addrs(msg)
                    self.assertEqual(len(a), 4, msg)
                    if do:
                        verify_rrsig(self, msg, name, dns.rdatatype.A, self.dnskey)
                    spilled += bool(set(a) & OUTSIDE_EUROPE)
                    total += 1
                    seen.setdefault(name, set()).update(a)
        return spilled / total, seen

    def test_signed_answers_spill_as_unsigned_ones(self):
        before, _ = self.shares(True)
        self.assertEqual(before, 0)  # nothing pushed: nothing spills
        p = self.srv.ctl("demand", "push", self.srv.write("table.json", LU_TABLE % 5))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLess(zone_row(self.srv.balance_json(), "lu")["keep"], 0.2)
        time.sleep(REDRAW_S)
        unsigned, _ = self.shares(False)
        signed, seen = self.shares(True)
        self.assertGreater(unsigned, 0.3)
        self.assertLess(abs(signed - unsigned), TOLERANCE, (signed, unsigned))
        # Numbered names: disjoint in every split zone of the walk, as unsigned.
        for x in range(4):
            for y in range(x + 1, 4):
                for fmt in ("%d.%s", "%d.lu.%s"):
                    a, b = seen[fmt % (x, ORIGIN)], seen[fmt % (y, ORIGIN)]
                    self.assertEqual(a & b - set(LU4), set(), (fmt, x, y))
        m = self.srv.metrics()
        self.assertGreater(m['dnsd_balance_spilled_total{zone="lu"}'], 0)


if __name__ == "__main__":
    unittest.main()
