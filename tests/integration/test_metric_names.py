"""The operator kit against the real daemon: every metric that the alerting
rules (dist/prometheus/dnsd.rules.yml) and the Grafana dashboard
(dist/grafana/dnsd.json) query is on a scrape of a running dnsd, with the
labels they select and group by. A renamed or misspelt metric would leave an
alert that never fires or a panel that stays empty without any error.

Metrics of features still to come are skipped by name (UPCOMING), and the
test fails once dnsd exports one of them, so the list stays exact."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from harness import SOURCE_DIR, DnsdTestCase, MetricsControl, http, query, udp_exchange
from pooltest import PoolServer, pool_snapshot
from dnssectest import Keys, dnssec_option

RULES = os.path.join(SOURCE_DIR, "dist", "prometheus", "dnsd.rules.yml")
DASHBOARD = os.path.join(SOURCE_DIR, "dist", "grafana", "dnsd.json")

# Metrics that demand-aware balancing is to export; the rules' "dnsd-upcoming"
# group and the dashboard's spill panels use them already. Remove a name here
# when dnsd exports it.
UPCOMING = set()
# Series Prometheus makes itself: up{job="dnsd"} of the scrape job.
PROMETHEUS_SERIES_RE = re.compile(r'(?<![\w:])up\{job="dnsd"\}')
# Labels Prometheus adds to every scraped sample.
TARGET_LABELS = {"instance", "job"}

NAME_RE = re.compile(r"(?<![\w:])(dnsd_[a-zA-Z0-9_]+)")
SELECTOR_RE = re.compile(r"(?<![\w:])(dnsd_[a-zA-Z0-9_]+)\s*\{([^}]*)\}")
MATCHER_RE = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
GROUPING_RE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$')
OCCURRENCE_RE = re.compile(r"(?<![\w:])(dnsd_[a-zA-Z0-9_]+)(?:\s*\{([^}]*)\})?")
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def rule_exprs():
    """(where, expr) of every rule in the rules file."""
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    return [("rules %s/%s" % (g["name"], r.get("alert") or r.get("record")), r["expr"])
            for g in doc["groups"] for r in g["rules"]]


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def dashboard_exprs():
    return [("panel %r" % p.get("title"), t["expr"])
            for p in all_panels(dashboard()["panels"]) for t in p.get("targets", [])]


def parse_scrape(text):
    """{metric name: [labels dict of each sample]}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        out.setdefault(m.group(1), []).append(dict(LABEL_RE.findall(m.group(2) or "")))
    return out


def problems(where, expr, scrape):
    """What in one expression the scrape does not have, as strings."""
    out = []
    names = set(NAME_RE.findall(expr))
    if not names and not PROMETHEUS_SERIES_RE.search(expr):
        out.append("%s: queries no dnsd metric: %s" % (where, expr))
    for name in sorted(names - UPCOMING):
        if name not in scrape:
            out.append("%s: %s is not on the scrape" % (where, name))
    for name, body in SELECTOR_RE.findall(expr):
        if name in UPCOMING or name not in scrape:
            continue
        for label, op, value in MATCHER_RE.findall(body):
            if label in TARGET_LABELS:
                continue
            values = {s[label] for s in scrape[name] if label in s}
            if not values:
                out.append("%s: %s has no label %s" % (where, name, label))
            elif op == "=" and value not in values:
                out.append("%s: %s{%s=%r}: values are %s" % (where, name, label, value,
                                                             sorted(values)))
    have = set(TARGET_LABELS)
    for name in names:
        for sample in scrape.get(name, []):
            have.update(sample)
    for group in GROUPING_RE.findall(expr):
        for label in filter(None, (x.strip() for x in group.split(","))):
            if label not in have and not names & UPCOMING:
                out.append("%s: groups by %s, which none of its metrics has" % (where, label))
    return out


class KitServer(MetricsControl, PoolServer):
    """A pool node with a snapshot, metrics, a control socket, a state_dir and
    DNSSEC keys: every metric family dnsd has today carries samples on its
    scrape."""

    def __init__(self):
        self.keys = Keys()
        key = self.keys.make()
        super().__init__(snapshot=pool_snapshot(), state={},
                         options={"dnssec": dnssec_option([key]),
                                  "balance": "{mode: local}"})


class MetricNamesTest(DnsdTestCase):

    @classmethod
    def make_server(cls):
        srv = KitServer()
        cls.addClassCleanup(srv.keys.cleanup)
        return srv

    def scrape(self):
        # Some traffic first, as a node in service has.
        for rdtype in ("SOA", "A", "AAAA"):
            self.assertIsNotNone(udp_exchange(self.port, query("0.pool.ntp.org", rdtype)))
        status, _, body = http(self.server.metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n")
        self.assertEqual(status, 200)
        return parse_scrape(body.decode())

    def test_rules_query_exported_metrics(self):
        scrape = self.scrape()
        exprs = rule_exprs()
        self.assertGreaterEqual(len(exprs), 10)
        found = [p for where, e in exprs for p in problems(where, e, scrape)]
        self.assertEqual(found, [])

    def test_dashboard_queries_exported_metrics(self):
        scrape = self.scrape()
        exprs = dashboard_exprs()
        self.assertGreaterEqual(len(exprs), 20)
        found = [p for where, e in exprs for p in problems(where, e, scrape)]
        self.assertEqual(found, [])

    def test_upcoming_names_are_not_exported_yet(self):
        used = {n for _, e in rule_exprs() + dashboard_exprs() for n in NAME_RE.findall(e)}
        self.assertEqual(UPCOMING - used, set(), "unused names in UPCOMING")
        exported = UPCOMING & set(self.scrape())
        self.assertEqual(exported, set(), "dnsd exports these now: drop them from UPCOMING")

    def test_checker_sees_wrong_names_and_labels(self):
        """The check can fail: a misspelt metric, label or label value is reported."""
        scrape = self.scrape()
        self.assertEqual(problems("x", 'rate(dnsd_queries_total{transport="udp"}[5m])', scrape), [])
        for bad in ('rate(dnsd_querys_total[5m])',
                    'dnsd_responses_total{rcode="SERVFAILED"}',
                    'dnsd_responses_total{code="SERVFAIL"}',
                    'sum by (zone) (dnsd_responses_total)',
                    'up == 0', 'up{job="node"} == 0'):
            self.assertNotEqual(problems("x", bad, scrape), [], bad)


class DashboardModelTest(unittest.TestCase):
    """dist/grafana/dnsd.json is a dashboard Grafana imports as it is: a data
    source variable that every query uses, a node variable, the panels an
    operator of a pool node looks for."""

    def setUp(self):
        self.dash = dashboard()

    def test_variables(self):
        variables = {v["name"]: v for v in self.dash["templating"]["list"]}
        ds = variables["datasource"]
        self.assertEqual((ds["type"], ds["query"]), ("datasource", "prometheus"))
        node = variables["node"]
        self.assertEqual(node["type"], "query")
        self.assertIn("label_values(dnsd_build_info, instance)", json.dumps(node["query"]))
        self.assertTrue(node["multi"] and node["includeAll"])

    def test_panels(self):
        panels = [p for p in all_panels(self.dash["panels"]) if p["type"] != "row"]
        ids = [p["id"] for p in all_panels(self.dash["panels"])]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for p in panels:
            self.assertEqual(p["datasource"], {"type": "prometheus", "uid": "${datasource}"},
                             p["title"])
            self.assertTrue(p["targets"], p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"]["uid"], "${datasource}", p["title"])
            for k in ("x", "y", "w", "h"):
                self.assertIsInstance(p["gridPos"][k], int)
        titles = " | ".join(p["title"].lower() for p in panels)
        for want in ("queries by zone", "queries by qtype", "responses by rcode",
                     "pool answers by zone and backfill", "spill", "push latency",
                     "snapshot age", "serial per node", "drops by reason"):
            self.assertIn(want, titles)

    @unittest.skipUnless(shutil.which("promtool"), "promtool: scripts/setup --tests")
    def test_queries_parse(self):
        """promtool parses every panel's query (Grafana's variables filled in)."""
        rules = {"groups": [{"name": "panels", "rules": [
            {"record": "dnsd:panel_%d" % i,
             "expr": e.replace("$__rate_interval", "5m").replace("$node", ".*")}
            for i, (_, e) in enumerate(dashboard_exprs())]}]}
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            json.dump(rules, f)
            f.flush()
            p = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True,
                               text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_node_variable_is_applied(self):
        """Every metric a panel queries is selected with $node, except the
        fleet's newest serial, which the propagation panel compares against."""
        for where, expr in dashboard_exprs():
            unselected = [m.group(1) for m in OCCURRENCE_RE.finditer(expr)
                          if 'instance=~"$node"' not in (m.group(2) or "")]
            fleet_wide = ["dnsd_zone_serial"] if "max by (zone) (dnsd_zone_serial)" in expr else []
            self.assertEqual(unselected, fleet_wide, where)


if __name__ == "__main__":
    unittest.main()
