"""Demand-aware balancing against the real daemon (docs/balancing.md).

The pool of pooltest.py: lu has two eligible servers (2 of 42.25 weight units
of IPv4), europe many more, "@" all. Clients placed by ECS in lu (127.0.4.0/24)
ask the apex; without spill an answer holds lu's two servers and two of
europe's (backfill), never one of us or jp. With keep fractions below 1, some
records start at europe or "@", so us and jp servers appear: that is the
observable spill.
"""

import json
import os
import signal
import time
import unittest

from harness import ORIGIN, check_clean_exit, http, parse_metrics, free_port
from pooltest import (ALL4, EUROPE4, LU4, PoolServer, Client, addrs, pool_snapshot)
from test_control import dnsdctl

LU_ECS = ("127.0.4.0", 24)
OUTSIDE_EUROPE = ALL4 - EUROPE4


class BalanceServer(PoolServer):
    """A PoolServer with a control socket, a state_dir and a metrics port."""

    def __init__(self, balance=None, **kw):
        self.balance = balance
        self.metrics_port = free_port(False)
        options = dict(kw.pop("options", {}))
        if balance is not None:
            options["balance"] = "{%s}" % ", ".join("%s: %s" % kv for kv in balance.items())
        super().__init__(snapshot=pool_snapshot(), options=options, state={}, **kw)

    def write_config(self):
        path = super().write_config()
        with open(path, "a") as f:
            f.write('control: {unix: %s}\nmetrics: "127.0.0.1:%d"\n'
                    % (self.path("ctl.sock"), self.metrics_port))
        self.sock = self.path("ctl.sock")
        return path

    def ctl(self, *args, **kw):
        return dnsdctl("-s", self.sock, *args, **kw)

    def metrics(self):
        status, _, body = http(self.metrics_port,
                               b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        if status != 200:
            raise AssertionError("metrics: HTTP %d" % status)
        return parse_metrics(body.decode())

    def balance_json(self):
        p = self.ctl("balance", "--json")
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        return json.loads(p.stdout)


def zone_row(bal, zone, family="4"):
    fam = bal["families"].get(family)
    for z in (fam or {}).get("zones", []):
        if z["zone"] == zone:
            return z
    return None


def ask_many(port, n, ecs=LU_ECS, name=ORIGIN):
    out = []
    with Client(port) as c:
        for _ in range(n):
            _, msg = c.ask(name, "A", ecs=ecs)
            out.append(addrs(msg))
    return out


def country_txt(port, ecs=LU_ECS):
    with Client(port) as c:
        _, msg = c.ask("_country." + ORIGIN, "TXT", ecs=ecs)
    return [s.decode() for rrs in msg.answer for rd in rrs for s in rd.strings]


class LocalModeTest(unittest.TestCase):
    """ECS traffic shaped by a demand table moves keep fractions in local mode."""

    @classmethod
    def setUpClass(cls):
        cls.srv = BalanceServer(balance={"mode": "local", "interval": 1, "min_queries": 200,
                                         "half_life": 3600})
        cls.addClassCleanup(cls.srv.kill)
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        check_clean_exit(*cls.srv.stop())

    def wait_keep(self, zone, below, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = zone_row(self.srv.balance_json(), zone)
            if row and row["keep"] < below:
                return row
            time.sleep(0.5)
        self.fail("keep of %s did not fall below %g: %s" % (zone, below, self.srv.balance_json()))

    def test_lu_traffic_makes_lu_spill_and_answers_reach_beyond_europe(self):
        # Before: too little demand to act on (min_queries), nothing spills.
        before = ask_many(self.srv.port, 40)
        for a in before:
            self.assertEqual(len(a), 4)
            self.assertTrue(set(LU4) <= set(a), a)  # both of lu's servers, always
            self.assertFalse(set(a) & OUTSIDE_EUROPE, a)
        self.assertIn("spill no", country_txt(self.srv.port))
        # The demand table: all of it in lu, whose servers hold 2 of 42.25.
        ask_many(self.srv.port, 300)
        row = self.wait_keep("lu", 1.0)
        bal = self.srv.balance_json()
        fam = bal["families"]["4"]
        self.assertEqual(bal["mode"], "local")
        self.assertGreater(row["ratio_without"], 2.0)
        self.assertLessEqual(fam["worst_with"], bal["target_ratio"] + 1e-6)
        self.assertLess(row["keep"], 0.2)
        # The answers now spill: records from outside europe, lu's servers in
        # a minority of answers, and _country says so.
        after = ask_many(self.srv.port, 300)
        beyond = sum(1 for a in after if set(a) & OUTSIDE_EUROPE)
        with_lu = sum(1 for a in after if set(a) & set(LU4))
        self.assertGreater(beyond, 100, after[:5])
        self.assertLess(with_lu, 150)
        for a in after:
            self.assertEqual(len(a), len(set(a)), a)  # still distinct
        txts = [country_txt(self.srv.port) for _ in range(30)]
        self.assertTrue(any("spill yes" in t for t in txts), txts[:3])
        # The metrics say the same.
        m = self.srv.metrics()
        worst = m['dnsd_balance_load_ratio{origin="%s",family="4",spill="with"}' % ORIGIN]
        self.assertAlmostEqual(worst, fam["worst_with"], places=3)
        self.assertGreater(
            m['dnsd_balance_load_ratio{origin="%s",family="4",spill="without"}' % ORIGIN], 2)
        self.assertLess(
            m['dnsd_balance_keep_fraction{origin="%s",zone="lu",family="4"}' % ORIGIN], 0.2)
        self.assertGreater(m['dnsd_balance_spilled_answers_total{zone="lu"}'], 100)

    def test_dnsdctl_balance_and_servers_tables(self):
        ask_many(self.srv.port, 50)
        p = self.srv.ctl("balance")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("balance local", p.stdout)
        p = self.srv.ctl("servers", "--zone", "lu")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [l.split() for l in p.stdout.splitlines() if l.startswith("10.35.")]
        self.assertEqual(sorted(r[0] for r in rows), sorted(LU4))
        self.assertTrue(all(float(r[2]) > 0 for r in rows), p.stdout)


class OffTest(unittest.TestCase):
    """balance: off (and no balance key) answers as before: the _country TXT
    of before, backfill only, no demand counted, nothing to show."""

    def test_off_and_absent_answer_as_before(self):
        for balance in (None, {"mode": "off"}):
            with self.subTest(balance=balance):
                srv = BalanceServer(balance=balance)
                self.addCleanup(srv.kill)
                srv.start()
                answers = ask_many(srv.port, 400)
                for a in answers:
                    self.assertEqual(len(a), 4)
                    self.assertTrue(set(LU4) <= set(a), a)
                    self.assertFalse(set(a) & OUTSIDE_EUROPE, a)
                txt = country_txt(srv.port)
                self.assertEqual([s.split()[0] for s in txt],
                                 ["address", "country", "continent", "zone", "backfill",
                                  "serial"])
                time.sleep(1.5)
                bal = srv.balance_json()
                self.assertEqual(bal["mode"], "off")
                self.assertEqual(bal["families"], {})
                p = srv.ctl("demand", "--json")
                self.assertEqual(json.loads(p.stdout)["demand"], {})
                check_clean_exit(*srv.stop())


if __name__ == "__main__":
    unittest.main()
