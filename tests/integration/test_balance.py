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
from test_control import RawCtl, dnsdctl, push_payload

DEMAND_PUSH = 6
ERR = 0x81

# All of the demand in lu, whose two servers hold 2 of 42.25 units of weight.
LU_TABLE = '{"serial": %d, "demand": {"lu": {"4": 1000}, "de": {"4": 10}}}\n'
# Every kind of error, one per line: the daemon must name each (line:col).
BAD_TABLE = ('{"serial": 9,\n'
             ' "demand": {"xx": {"4": 1},\n'
             '  "de": {"4": -3},\n'
             '  "fr": {"5": 2},\n'
             '  "uk": {"4": 1e999},\n'
             '  "us": {"4": "many"}},\n'
             ' "extra": 1}\n')
BAD_ERRORS = ["demand:2:13: demand.xx: unknown zone",
              "demand:3:15: demand.de.4: negative",
              "demand:4:10: demand.fr.5: unknown family",
              "demand:5:15: demand.uk.4: not finite",
              "demand:6:15: demand.us.4: wrong type",
              "demand:7:2: extra: unknown key"]

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

    def start(self, timeout=10.0):
        super().start(timeout)
        return self

    def wait_solved(self, timeout=10):
        """The balance reply once the first solve after a start is in."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bal = self.balance_json()
            if bal["families"]:
                return bal
            time.sleep(0.2)
        raise AssertionError("no solve within %d s: %s" % (timeout, bal))

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
        lu = 'dnsd_balance_load_ratio{origin="%s",zone="lu",family="ipv4",spill="%s"}'
        self.assertLessEqual(m[lu % (ORIGIN, "with")], bal["target_ratio"] + 1e-6)
        self.assertGreater(m[lu % (ORIGIN, "without")], 2)
        worst = max(v for k, v in m.items()
                    if k.startswith("dnsd_balance_load_ratio{") and 'spill="with"' in k
                    and 'family="ipv4"' in k)
        self.assertAlmostEqual(worst, fam["worst_with"], places=3)
        self.assertLess(
            m['dnsd_balance_keep_fraction{origin="%s",zone="lu",family="ipv4"}' % ORIGIN], 0.2)
        self.assertGreater(m['dnsd_balance_spilled_total{zone="lu"}'], 100)
        self.assertEqual(m['dnsd_balance_spilled_total{zone="de"}'], 0)  # watched, no spill
        # dnsdctl STATS shows the same spill counters (no query in between).
        p = self.srv.ctl("stats")
        self.assertEqual(p.returncode, 0, p.stderr)
        shown = json.loads(p.stdout)["balance_spilled"]
        self.assertEqual({'dnsd_balance_spilled_total{zone="%s"}' % z: v
                          for z, v in shown.items()},
                         {k: v for k, v in m.items()
                          if k.startswith("dnsd_balance_spilled_total{")})

    def test_spilled_numbered_names_stay_disjoint_and_aaaa_rule_holds(self):
        """With lu spilling (this class's other test makes it), 0-3 still give
        disjoint servers from every split zone of the walk (europe, "@"); only
        lu's own two (a zone under 8 is not split) are in all four. IPv6 stays
        on 2.* only."""
        ask_many(self.srv.port, 300)
        self.wait_keep("lu", 0.2)
        seen = {q: set() for q in range(4)}
        for q in range(4):
            for a in ask_many(self.srv.port, 150, name="%d.%s" % (q, ORIGIN)):
                seen[q] |= set(a)
        self.assertTrue(any(seen[q] & OUTSIDE_EUROPE for q in range(4)), seen)
        for x in range(4):
            for y in range(x + 1, 4):
                self.assertEqual(seen[x] & seen[y] - set(LU4), set(), (x, y))
        with Client(self.srv.port) as c:
            _, msg = c.ask("0." + ORIGIN, "AAAA", ecs=LU_ECS)
            self.assertEqual(addrs(msg, "AAAA"), [])
            _, msg = c.ask("2." + ORIGIN, "AAAA", ecs=LU_ECS)
            self.assertGreater(len(addrs(msg, "AAAA")), 0)

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


def spilled_share(port, n=200):
    """Share of LU answers holding a server from outside europe (only spill
    to "@" gives one)."""
    answers = ask_many(port, n)
    return sum(1 for a in answers if set(a) & OUTSIDE_EUROPE) / n


class PushedModeTest(unittest.TestCase):
    """A pushed table is validated like a snapshot, stored in state_dir and
    served again after kill -9 and a restart."""

    def setUp(self):
        self.srv = BalanceServer(balance={"mode": "pushed", "interval": 1})
        self.addCleanup(self.srv.kill)
        self.srv.start()

    def tearDown(self):
        if self.srv.proc:
            check_clean_exit(*self.srv.stop())

    def push(self, text, *args):
        return self.srv.ctl("demand", "push", self.srv.write("table.json", text), *args)

    def test_pushed_table_survives_kill_9_and_restart(self):
        self.assertLess(spilled_share(self.srv.port, 100), 0.01)  # nothing pushed yet
        p = self.push(LU_TABLE % 5)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("demand table", p.stdout)
        bal = self.srv.balance_json()
        keep = zone_row(bal, "lu")["keep"]
        self.assertEqual(bal["pushed_serial"], 5)
        self.assertLess(keep, 0.2)
        self.assertGreater(spilled_share(self.srv.port), 0.3)
        state = self.srv.path("state/%s.demand.json" % ORIGIN)
        with open(state) as f:
            self.assertEqual(f.read(), LU_TABLE % 5)
        self.srv.proc.send_signal(signal.SIGKILL)
        self.srv.proc.wait()
        self.srv.start()
        bal = self.srv.wait_solved()
        self.assertEqual(bal["pushed_serial"], 5)
        self.assertAlmostEqual(zone_row(bal, "lu")["keep"], keep, places=6)
        self.assertGreater(spilled_share(self.srv.port), 0.3)
        # An older serial is refused without --force, and accepted with it.
        p = self.push(LU_TABLE % 4)
        self.assertEqual(p.returncode, 1)
        self.assertIn("old serial", p.stderr)
        self.assertEqual(self.srv.balance_json()["pushed_serial"], 5)
        p = self.push(LU_TABLE % 4, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.srv.balance_json()["pushed_serial"], 4)

    def test_bad_tables_are_refused_with_every_error_and_change_nothing(self):
        self.assertEqual(self.push(LU_TABLE % 5).returncode, 0)
        before = self.srv.balance_json()
        state = self.srv.path("state/%s.demand.json" % ORIGIN)
        with open(state, "rb") as f:
            stored = f.read()
        # dnsdctl checks locally: every error, nothing sent.
        p = self.push(BAD_TABLE)
        self.assertEqual(p.returncode, 1)
        for want in BAD_ERRORS:
            self.assertIn(want.replace("demand:", "table.json:", 1).split(": ", 1)[0],
                          p.stderr)
        self.assertIn("nothing sent", p.stderr)
        # Sent anyway (a raw frame): the daemon names every error itself.
        with RawCtl(self.srv.sock) as c:
            ftype, reply = c.request(DEMAND_PUSH, push_payload(BAD_TABLE))
            self.assertEqual(ftype, ERR)
            self.assertEqual(reply["error"], "invalid demand table")
            self.assertEqual(len(reply["details"]), len(BAD_ERRORS), reply)
            for got, want in zip(reply["details"], BAD_ERRORS):
                self.assertTrue(got.startswith(want), (got, want))
            for text, error in (("{\"serial\": 6, \"demand\": [[[[", "invalid demand table"),
                                (LU_TABLE % 3, "old serial")):
                ftype, reply = c.request(DEMAND_PUSH, push_payload(text))
                self.assertEqual((ftype, reply["error"]), (ERR, error))
            ftype, reply = c.request(DEMAND_PUSH, push_payload(LU_TABLE % 7, origin="nope.org"))
            self.assertEqual((ftype, reply["error"]), (ERR, "unknown origin"))
        after = self.srv.balance_json()
        self.assertEqual(after["pushed_serial"], 5)
        self.assertEqual(zone_row(after, "lu")["keep"], zone_row(before, "lu")["keep"])
        with open(state, "rb") as f:
            self.assertEqual(f.read(), stored)
        m = self.srv.metrics()
        self.assertEqual(m['dnsd_balance_demand_pushes_total{result="invalid"}'], 2)
        self.assertEqual(m['dnsd_balance_demand_pushes_total{result="old_serial"}'], 1)
        self.assertEqual(m['dnsd_balance_demand_pushes_total{result="unknown_origin"}'], 1)
        self.assertEqual(m['dnsd_balance_demand_pushes_total{result="ok"}'], 1)


class FleetTest(unittest.TestCase):
    """dnsdctl --nodes balance across 5 daemons, one down: the sum of the
    four others' local demand reaches all four, the table names the down one."""

    def test_fleet_balance_with_one_node_down(self):
        nodes = []
        for i in range(5):
            srv = BalanceServer(balance={"mode": "pushed", "interval": 1}, workers=1)
            srv.name = "node-%d" % (i + 1)
            self.addCleanup(srv.kill)
            nodes.append(srv.start())
        nodes_file = nodes[0].write("nodes.yaml", "timeout: 5\nnodes:\n" + "".join(
            "  - {name: %s, unix: %s}\n" % (n.name, n.sock) for n in nodes))
        # Demand is local to two nodes: lu clients on node-1 and node-2 only.
        ask_many(nodes[0].port, 150)
        ask_many(nodes[1].port, 150)
        down = nodes[3]
        check_clean_exit(*down.stop())
        time.sleep(1.5)  # a tick folds the counters into the local demand
        p = dnsdctl("--nodes", nodes_file, "demand", timeout=60)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        rows = {l.split()[0]: l for l in p.stdout.splitlines() if l.startswith("node-")}
        self.assertEqual(sorted(rows), ["node-%d" % i for i in range(1, 6)])
        self.assertRegex(rows["node-4"], r"connection (refused|failed)")
        self.assertTrue(all(rows[n].rstrip().endswith("ok") for n in rows if n != "node-4"))
        lu = [l for l in p.stdout.splitlines() if l.startswith("lu ")]
        self.assertEqual(len(lu), 1, p.stdout)
        self.assertGreaterEqual(float(lu[0].split()[1]), 299)  # both nodes' lu demand

        p = dnsdctl("--nodes", nodes_file, "balance", timeout=60)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        rows = {l.split()[0]: l for l in p.stdout.splitlines() if l.startswith("node-")}
        self.assertEqual(sorted(rows), ["node-%d" % i for i in range(1, 6)])
        self.assertRegex(rows["node-4"], r"connection (refused|failed)")
        for name in rows:
            if name != "node-4":
                self.assertTrue(rows[name].rstrip().endswith("ok"), rows[name])
        self.assertIn("sum of 4 of 5 nodes", p.stdout)
        serials = set()
        for srv in nodes:
            if srv is down:
                continue
            bal = srv.balance_json()
            serials.add(bal["pushed_serial"])
            self.assertLess(zone_row(bal, "lu")["keep"], 0.2, srv.name)
            # node-5 saw no lu client itself, yet acts on the fleet's demand.
            self.assertGreater(spilled_share(srv.port, 100), 0.3, srv.name)
        self.assertEqual(len(serials), 1)
        # Answers per server, summed over the four nodes that answer.
        p = dnsdctl("--nodes", nodes_file, "servers", "--zone", "lu", timeout=60)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        rows = {l.split()[0]: l.split() for l in p.stdout.splitlines()
                if l.startswith("10.35.0.")}
        self.assertEqual(sorted(rows), sorted(LU4))
        per_node = [srv.ctl("servers", "--json") for srv in nodes if srv is not down]
        for ip, row in rows.items():
            want = sum(s["answers"] for rep in per_node
                       for s in json.loads(rep.stdout)["servers"] if s["ip"] == ip)
            self.assertEqual(float(row[2]), want, ip)
        for srv in nodes:
            if srv is not down:
                check_clean_exit(*srv.stop())


class ExplicitTest(unittest.TestCase):
    """Explicit zone names spill too by default; explicit: false keeps them."""

    def test_explicit_names_spill_unless_exempt(self):
        for explicit, spills in (("true", True), ("false", False)):
            with self.subTest(explicit=explicit):
                srv = BalanceServer(balance={"mode": "local", "interval": 1,
                                             "min_queries": 100, "explicit": explicit})
                self.addCleanup(srv.kill)
                srv.start()
                ask_many(srv.port, 300, ecs=None, name="lu." + ORIGIN)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    row = zone_row(srv.balance_json(), "lu")
                    if row and row["demand_share"] > 0 and srv.balance_json()[
                            "families"]["4"]["active"]:
                        break
                    time.sleep(0.5)
                answers = ask_many(srv.port, 200, ecs=None, name="lu." + ORIGIN)
                beyond = sum(1 for a in answers if set(a) & OUTSIDE_EUROPE)
                if spills:
                    self.assertLess(zone_row(srv.balance_json(), "lu")["keep"], 0.2)
                    self.assertGreater(beyond, 50)
                else:
                    # Pinned: lu.pool.ntp.org answers lu, then europe's backfill.
                    self.assertEqual(beyond, 0, answers[:3])
                    self.assertTrue(all(set(LU4) <= set(a) for a in answers))
                check_clean_exit(*srv.stop())


class ReloadTest(unittest.TestCase):
    """balance: is read again on reload: off -> local starts balancing, and
    local -> off stops it, without a restart."""

    def test_reload_turns_balancing_on_and_off(self):
        srv = BalanceServer(balance={"mode": "off"})
        self.addCleanup(srv.kill)
        srv.start()
        ask_many(srv.port, 200)
        self.assertEqual(spilled_share(srv.port, 100), 0)
        for mode, spills in (("local", True), ("off", False)):
            srv.balance = {"mode": mode, "interval": 1, "min_queries": 100}
            srv.options["balance"] = "{%s}" % ", ".join("%s: %s" % kv
                                                        for kv in srv.balance.items())
            srv.write_config()
            p = srv.ctl("reload")
            self.assertEqual(p.returncode, 0, p.stderr)
            if spills:
                ask_many(srv.port, 300)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and spilled_share(srv.port, 50) < 0.3:
                    time.sleep(0.5)
                self.assertGreater(spilled_share(srv.port), 0.3)
            else:
                self.assertEqual(spilled_share(srv.port), 0)
                self.assertFalse([t for t in country_txt(srv.port) if t.startswith("spill")])
        check_clean_exit(*srv.stop())


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
