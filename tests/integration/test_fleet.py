"""dnsdctl's fleet mode against five real daemons on loopback: three controlled
over their unix sockets, two over TCP
with their own keys. With one daemon stopped, a fleet push reports exactly
that node as failed and exits non-zero while the four others serve the new
serial; once it is back with its old serial, a fleet status marks it, and only
it, as lagging."""

import re
import unittest

from harness import ORIGIN, POOL_ZONE, check_clean_exit
from test_control import control_server, dnsdctl, served_serial, snapshot_for

N_NODES = 5
DOWN = 2  # the node stopped during the second push: a unix-socket node


class FleetTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.nodes = []
        for i in range(N_NODES):
            srv = control_server(workers=1, tcp=i >= 3, zones=[(ORIGIN, POOL_ZONE)])
            srv.name = "node-%d" % (i + 1)
            cls.addClassCleanup(srv.kill)
            cls.nodes.append(srv.start())
        lines = ["timeout: 5", "nodes:"]
        for srv in cls.nodes:
            if hasattr(srv, "ctl_port"):
                lines.append('  - {name: %s, tcp: "127.0.0.1:%d", key_file: %s}'
                             % (srv.name, srv.ctl_port, srv.path("ctl.key")))
            else:
                lines.append("  - {name: %s, unix: %s}" % (srv.name, srv.sock))
        cls.nodes_file = cls.nodes[0].write("nodes.yaml", "\n".join(lines) + "\n")

    @classmethod
    def tearDownClass(cls):
        for srv in cls.nodes:
            check_clean_exit(*srv.stop())

    def fleet(self, *args):
        return dnsdctl("--nodes", self.nodes_file, *args, timeout=60)

    def table(self, out):
        """{node name: row text} from a fleet table."""
        rows = {}
        for line in out.splitlines():
            m = re.match(r"^(node-\d)\s+(.*)$", line)
            if m:
                rows[m.group(1)] = m.group(2)
        self.assertEqual(sorted(rows), ["node-%d" % (i + 1) for i in range(N_NODES)], out)
        return rows

    def push_file(self, serial):
        return self.nodes[0].write("fleet-%d.json" % serial, snapshot_for(serial))

    def test_push_with_one_node_down_then_status_marks_it_lagging(self):
        s0, s1 = 5_000_001, 5_000_002
        p = self.fleet("push", self.push_file(s0))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for name, row in self.table(p.stdout).items():
            self.assertRegex(row, r"^-\s+%d\s+[\d.]+\s+ok$" % s0, name)

        down = self.nodes[DOWN]
        down.proc.terminate()
        down.proc.wait(timeout=10)
        p = self.fleet("push", self.push_file(s1))
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        rows = self.table(p.stdout)
        for i, srv in enumerate(self.nodes):
            if i == DOWN:
                self.assertNotRegex(rows[srv.name], r"\sok$")
                self.assertRegex(rows[srv.name], r"connect|refused")
            else:
                self.assertRegex(rows[srv.name], r"^%d\s+%d\s+[\d.]+\s+ok$" % (s0, s1))
                self.assertEqual(served_serial(srv.port), s1, srv.name)

        # Back with the serial of its state file: the only one lagging.
        down.stderr.close()
        down.start()
        self.assertEqual(served_serial(down.port), s0)
        p = self.fleet("status")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        rows = self.table(p.stdout)
        for i, srv in enumerate(self.nodes):
            if i == DOWN:
                self.assertIn("lagging: %s %d < %d" % (ORIGIN, s0, s1), rows[srv.name])
            else:
                self.assertRegex(rows[srv.name], r"^%d\s+[\d.]+\s+ok$" % s1)

        # A second push brings it level: every node ok, status clean.
        p = self.fleet("push", self.push_file(s1 + 1))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.fleet("status").returncode, 0)
        for srv in self.nodes:
            self.assertEqual(served_serial(srv.port), s1 + 1)


if __name__ == "__main__":
    unittest.main()
