"""dnsdctl STATS and /metrics against the same real daemon: both are rendered
from one family table (dnsd/control/metrics.h), so with no traffic between
the reads every series of the page is in STATS with the same value, and
every STATS value is a series of the page, or one of the few older STATS
keys derived from one (LEGACY, each checked against what it derives from).

The node has what makes every family carry samples: a snapshot, a pushed
one and a refused push, a reload, DNSSEC keys, local demand-aware balancing
that spills, an invalid demand table, TCP and malformed queries.

How this fails when a family is rendered by hand beside the table: a family
printed on /metrics alone leaves series that no STATS key holds ("only on
/metrics"); a key printed into STATS alone is a value that no series claims
("only in STATS"). A family moved into STATS under another name fails the
same way. test_checker_sees_one_sided_families shows both on the real
reads."""

import json
import re
import socket
import time
import unittest

from harness import ORIGIN, MetricsControl, check_clean_exit, http, query, tcp_connect, \
    tcp_recv, tcp_send, udp_exchange
from pooltest import Client, PoolServer, pool_snapshot
from dnssectest import Keys, dnssec_option
from test_control import RawCtl, dnsdctl, push_payload

DEMAND_PUSH, ERR = 6, 0x81  # control frame types (ctl/ctl.h)
LU_ECS = ("127.0.4.0", 24)  # pooltest's lu clients: two servers, all the demand

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

# STATS homes older than the table; every other family is at its name
# without "dnsd_", its rows nested by label value in label order.
HOMES = {
    "dnsd_queries_total": ("queries",),
    "dnsd_responses_total": ("rcodes",),
    "dnsd_packets_dropped_total": ("dropped",),
    "dnsd_responses_truncated_total": ("truncated",),
    "dnsd_queries_ecs_total": ("ecs",),
    "dnsd_pool_answers_empty_total": ("pool_empty",),
    "dnsd_nts_srv_answers_total": ("nts_answers",),
    "dnsd_nts_srv_answers_empty_total": ("nts_empty",),
    "dnsd_tcp_connections_total": ("tcp",),
    "dnsd_queries_by_qtype_total": ("by_qtype",),
    "dnsd_dnstap_dropped_total": ("dnstap_dropped",),
    "dnsd_rrl_dropped_total": ("rrl", "dropped"),
    "dnsd_rrl_slipped_total": ("rrl", "slipped"),
    "dnsd_cookies_total": ("cookies",),
    "dnsd_tcp_limit_closed_total": ("tcp_limits",),
    "dnsd_queries_by_zone_total": ("by_zone",),
    "dnsd_balance_spilled_total": ("balance_spilled",),
    "dnsd_control_connections_total": ("control", "connections"),
    "dnsd_control_limits_total": ("control", "limits"),
    "dnsd_control_requests_total": ("control", "requests"),
    "dnsd_control_frames_refused_total": ("control", "refused"),
}
# STATS's older names of the RCODEs dnsd never sends (shown when not 0).
RCODE_KEYS = {"YXDOMAIN": "RCODE6", "YXRRSET": "RCODE7", "NXRRSET": "RCODE8",
              "NOTAUTH": "RCODE9", "NOTZONE": "RCODE10", "DSOTYPENI": "RCODE11"}
# STATS keys that are no series of their own (METRICS_STATS_ONLY rows).
LEGACY = {("pool_answers",), ("pool_backfill",), ("control", "connections", "idle_closed"),
          ("control", "push_ok"), ("control", "push_refused"), ("control", "reload_ok"),
          ("control", "reload_failed")} | {
    ("control", "last_push_ms", s) for s in ("parse", "build", "store", "publish")}

# What the reads themselves move, (STATS - first scrape, second scrape -
# first scrape): each scrape counts itself before it renders; each STATS
# request and its connection are counted before STATS renders.
MOVERS = {
    'dnsd_metrics_requests_total{code="200"}': (0, 1),
    'dnsd_metrics_connections_total{event="accepted"}': (0, 1),
    'dnsd_control_requests_total{type="stats"}': (1, 1),
    'dnsd_control_connections_total{socket="unix"}': (1, 1),
}
# Gauges read off the clock at each render: within a second or two.
CLOCK = ("dnsd_start_time_seconds", "dnsd_dnssec_signature_expiry_seconds")


def parse_page(text):
    """({series: (name, [(label, value)], float)}, {family: type})."""
    series, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        key = m.group(1) + ("{%s}" % m.group(2) if m.group(2) is not None else "")
        series[key] = (m.group(1), LABEL_RE.findall(m.group(2) or ""), float(m.group(3)))
    return series, types


def leaves(obj, path=()):
    """{path tuple: value} of every number (or null) in a STATS reply."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(leaves(v, path + (k,)))
        return out
    return {path: obj}


def stats_path(name, labels, types):
    """Where STATS shows the series name{labels}."""
    family, part = name, ()
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            family, part = base, (suffix[1:],)
    if family == "dnsd_packets_dropped_total" and labels == [("reason", "udp_send_error")]:
        return ("udp_send_errors",)
    values = [v for k, v in labels if k != "le"]
    if family == "dnsd_responses_total":
        values = [RCODE_KEYS.get(v, v) for v in values]
    if part == ("bucket",):
        part = ("buckets", dict(labels)["le"])
    return HOMES.get(family, (family[len("dnsd_"):],)) + tuple(values) + part


def one_sided(page, types, stats):
    """(series not in STATS, STATS values no series claims), as strings."""
    flat = leaves(stats)
    claimed = set()
    only_page = []
    for key, (name, labels, _) in sorted(page.items()):
        path = stats_path(name, labels, types)
        if path in flat:
            claimed.add(path)
        else:
            only_page.append("only on /metrics: %s (STATS %s)" % (key, ".".join(path)))
    only_stats = ["only in STATS: %s" % ".".join(p)
                  for p in sorted(set(flat) - claimed - LEGACY)]
    return only_page, only_stats


def differences(s1, stats, s2, types):
    """Series whose STATS value is not the page's (allowing for MOVERS and
    CLOCK), and series that moved between the scrapes without reason."""
    flat = leaves(stats)
    wrong, moved = [], []
    for key, (name, labels, v1) in s1.items():
        v2 = s2[key][2] if key in s2 else None
        got = flat.get(stats_path(name, labels, types))
        if name in CLOCK:
            if got is None or abs(got - v1) > 2:
                wrong.append("%s: STATS %s, /metrics %s" % (key, got, v1))
            continue
        dj, d2 = MOVERS.get(key, (0, 0))
        if v2 is None or v2 - v1 != d2:
            moved.append(key)
        elif got is None or got != v1 + dj:
            wrong.append("%s: STATS %s, /metrics %s" % (key, got, v1 + dj))
    return wrong, moved


class TableServer(MetricsControl, PoolServer):
    """A node with a snapshot, a state_dir, DNSSEC keys, local balancing
    solved every second, a control socket and /metrics."""

    def __init__(self):
        self.keys = Keys()
        super().__init__(
            snapshot=pool_snapshot(), state={},
            options={"dnssec": dnssec_option([self.keys.make()]),
                     "balance": "{mode: local, interval: 1, min_queries: 200, "
                                "half_life: 3600}"})


    def ctl(self, *args):
        return dnsdctl("-s", self.path("ctl.sock"), *args)


class StatsMetricsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = TableServer()
        cls.addClassCleanup(cls.srv.keys.cleanup)
        cls.addClassCleanup(cls.srv.kill)
        cls.srv.start()
        cls.traffic()

    @classmethod
    def tearDownClass(cls):
        check_clean_exit(*cls.srv.stop())

    @classmethod
    def traffic(cls):
        """Something in every family, then quiet."""
        srv, port = cls.srv, cls.srv.port
        for name, qtype in ((ORIGIN, "SOA"), ("no-such." + ORIGIN, "A"), ("example.", "A"),
                            ("0." + ORIGIN, "AAAA"), ("2." + ORIGIN, "AAAA")):
            udp_exchange(port, query(name, qtype))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"\x00\x01", ("127.0.0.1", port))  # shorter than a header
        with tcp_connect(port) as s:
            tcp_send(s, query(ORIGIN, "NS"))
            assert tcp_recv(s) is not None
        # All the demand in lu: its keep fraction falls and answers spill.
        deadline = time.monotonic() + 20
        with Client(port) as c:
            while time.monotonic() < deadline:
                for _ in range(100):
                    c.ask(ORIGIN, "A", ecs=LU_ECS)
                if cls.spilled(srv):
                    break
        serial = json.loads(srv.ctl("status").stdout)["zones"][0]["serial"]
        assert srv.ctl("push", srv.write("next.json", pool_snapshot(serial + 1))).returncode == 0
        assert srv.ctl("push", srv.write("stale.json", pool_snapshot(serial))).returncode != 0
        with RawCtl(srv.path("ctl.sock")) as c:  # dnsdctl would not send it
            assert c.request(DEMAND_PUSH, push_payload('{"serial": 1, "x": 1}\n'))[0] == ERR
        assert srv.ctl("reload").returncode == 0

    @staticmethod
    def spilled(srv):
        _, _, body = http(srv.metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n")
        return re.search(rb'\ndnsd_balance_spilled_total\{zone="lu"\} [1-9]', body)

    def scrape(self):
        status, _, body = http(self.srv.metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n")
        self.assertEqual(status, 200)
        return parse_page(body.decode())

    def stats(self):
        p = self.srv.ctl("stats")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def quiet_reads(self):
        """A scrape, STATS and a scrape with nothing but the reads between:
        retried while a balancing solve or the signer moves a series."""
        for _ in range(100):
            (s1, types), st, (s2, _) = self.scrape(), self.stats(), self.scrape()
            if not differences(s1, st, s2, types)[1]:
                return s1, types, st, s2
            time.sleep(0.1)
        self.fail("no quiet moment: %s" % differences(s1, st, s2, types)[1])

    def test_every_series_is_in_stats_with_the_same_value(self):
        page, types, st, again = self.quiet_reads()
        self.assertEqual(one_sided(page, types, st), ([], []))
        self.assertEqual(differences(page, st, again, types), ([], []))
        # Every family on the page has samples here, so none is unchecked
        # (the AF_XDP ones are on the page only while a listener runs).
        names = {name for name, _, _ in page.values()}
        empty = [f for f, kind in types.items()
                 if not any(n == f or n.startswith(f + "_") for n in names)]
        self.assertEqual(empty, [])
        self.assertFalse(any(f.startswith("dnsd_xdp_") for f in types))
        # The traffic reached what it was for.
        for key in ('dnsd_balance_spilled_total{zone="lu"}',
                    'dnsd_control_pushes_total{result="serial_not_newer"}',
                    'dnsd_control_push_duration_seconds_count{result="accepted"}',
                    'dnsd_balance_demand_pushes_total{result="invalid"}',
                    'dnsd_reloads_total{result="ok"}', 'dnsd_queries_total{transport="tcp"}',
                    'dnsd_packets_dropped_total{reason="short"}', 'dnsd_dnssec_signatures_total'):
            self.assertGreater(page[key][2], 0, key)
        self.assertTrue(any(k.startswith("dnsd_balance_keep_fraction{") for k in page))

    def test_older_stats_keys_agree_with_their_families(self):
        page, _, st, _ = self.quiet_reads()
        v = {k: s[2] for k, s in page.items()}
        pool = [s for s in page.values() if s[0] == "dnsd_pool_answers_total"]
        self.assertEqual(st["pool_answers"], sum(s[2] for s in pool))
        self.assertGreaterEqual(st["pool_backfill"],
                                sum(s[2] for s in pool if ("backfill", "true") in s[1]))
        c = st["control"]
        self.assertEqual(c["connections"]["idle_closed"],
                         v['dnsd_control_limits_total{event="idle_closed"}'])
        self.assertEqual(c["push_ok"], v['dnsd_control_pushes_total{result="accepted"}'])
        self.assertEqual(c["push_refused"],
                         sum(x for k, x in v.items() if k.startswith("dnsd_control_pushes_total{")
                             and 'result="accepted"' not in k))
        self.assertEqual((c["reload_ok"], c["reload_failed"]),
                         (v['dnsd_reloads_total{result="ok"}'],
                          v['dnsd_reloads_total{result="failed"}']))
        self.assertEqual(sorted(c["last_push_ms"]), ["build", "parse", "publish", "store"])
        self.assertGreater(c["last_push_ms"]["build"], 0)

    def test_checker_sees_one_sided_families(self):
        """The check can fail: a family on one side only is reported."""
        page, types, st, again = self.quiet_reads()
        extra = dict(page)
        extra["dnsd_hand_rendered_total"] = ("dnsd_hand_rendered_total", [], 1.0)
        types = dict(types, dnsd_hand_rendered_total="counter")
        self.assertEqual(len(one_sided(extra, types, st)[0]), 1)
        self.assertEqual(len(one_sided(page, types, dict(st, hand_rendered=3))[1]), 1)
        moved = json.loads(json.dumps(st))
        moved["control"]["requests"]["push"] += 1
        wrong, _ = differences(page, moved, again, types)
        self.assertEqual([w.split(":")[0] for w in wrong],
                         ['dnsd_control_requests_total{type="push"}'])


if __name__ == "__main__":
    unittest.main()
