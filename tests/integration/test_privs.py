"""Privilege drop against the real dnsd:
started as root with user nobody and group nogroup, the running process has
their uid and gid in all three slots, no supplementary group but nogroup and
no capability at all, and still answers on the port it bound as root; an
unknown user or a group without a user stops it before anything is bound;
running as root without a user is warned about."""

import grp
import os
import pwd
import shutil
import subprocess
import unittest

import dns.message

from harness import BINARY_DIR, DNSD, ORIGIN, Server, built_with, check_clean_exit, \
    not_built, port_is_free, query, udp_exchange
from pooltest import snapshot_text, server

try:
    NOBODY = pwd.getpwnam("nobody")
    NOGROUP = grp.getgrnam("nogroup")
except KeyError:
    NOBODY = NOGROUP = None


def status_fields(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


@unittest.skipUnless(os.geteuid() == 0, "the privilege drop needs a start as root")
@unittest.skipUnless(NOBODY and NOGROUP, "no user nobody / group nogroup on this system")
class PrivsTest(unittest.TestCase):

    def start(self, extra):
        srv = Server(extra=extra)
        # The config directory must be readable after the drop only for a
        # reload; the files are read as root at start.
        self.addCleanup(srv.kill)
        return srv

    def test_runs_as_nobody_without_capabilities_and_answers(self):
        srv = self.start("user: nobody\ngroup: nogroup\n")
        srv.start()
        st = status_fields(srv.proc.pid)
        uid, gid = str(NOBODY.pw_uid), str(NOGROUP.gr_gid)
        self.assertEqual(st["Uid"], [uid] * 4)  # real, effective, saved, filesystem
        self.assertEqual(st["Gid"], [gid] * 4)
        self.assertEqual(st["Groups"], [gid])
        for cap in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
            self.assertEqual(int(st[cap][0], 16), 0, cap)
        # Every thread, not only the main one (setuid applies process-wide).
        for tid in os.listdir("/proc/%d/task" % srv.proc.pid):
            with open("/proc/%d/task/%s/status" % (srv.proc.pid, tid)) as f:
                text = f.read()
            self.assertIn("Uid:\t%s\t%s\t%s\t%s" % ((uid,) * 4), text)
            self.assertIn("CapEff:\t0000000000000000", text)
        for name, rdtype in ((ORIGIN, "SOA"), ("www." + ORIGIN, "A")):
            raw = udp_exchange(srv.port, query(name, rdtype), timeout=2.0)
            self.assertIsNotNone(raw)
            self.assertEqual(dns.message.from_wire(raw).rcode(), 0)
        rc, log = srv.stop()
        check_clean_exit(rc, log)
        self.assertIn("running as nobody:nogroup", log)
        self.assertNotIn("running as root", log)

    @unittest.skipUnless(built_with("dnstap"), not_built("dnstap"))
    def test_files_written_after_the_drop_are_handed_over(self):
        """Pushes persist into state_dir and the dnstap file is written, both
        as nobody; the control socket is nobody's."""
        srv = self.start("")
        os.chmod(srv.dir, 0o755)  # nobody must reach the files below
        os.mkdir(srv.path("state"))
        sock, tap = srv.path("ctl.sock"), srv.path("q.dnstap")
        srv.extra = ("user: nobody\ngroup: nogroup\nstate_dir: state\n"
                     "control: {unix: ctl.sock}\nquery_log: {dnstap: {file: q.dnstap}}\n")
        srv.config = srv.write_config()
        srv.start()
        nobody = (NOBODY.pw_uid, NOGROUP.gr_gid)
        for path in (sock, tap, srv.path("state")):
            st = os.stat(path)
            self.assertEqual((st.st_uid, st.st_gid), nobody, path)
        snap = srv.write("snap.json", snapshot_text(7, [server("10.7.0.1", ["de"])]))
        p = subprocess.run([os.path.join(BINARY_DIR, "bin", "dnsdctl"), "-s", sock, "push",
                            snap], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        state = srv.path(os.path.join("state", ORIGIN + ".snapshot.json"))
        self.assertEqual(os.stat(state).st_uid, NOBODY.pw_uid)
        srv.proc.terminate()
        srv.proc.wait(timeout=15)
        if shutil.which("dnstap-ldns"):
            out = subprocess.run(["dnstap-ldns", "-q", "-r", tap], capture_output=True,
                                 text=True, timeout=30).stdout
            self.assertIn('AQ 127.0.0.1 UDP', out)
            self.assertIn('"%s." IN SOA' % ORIGIN, out)
        else:
            self.assertGreater(os.path.getsize(tap), 0)
        check_clean_exit(*srv.stop())

    def test_root_without_user_is_warned_about(self):
        srv = self.start("")
        srv.start()
        rc, log = srv.stop()
        check_clean_exit(rc, log)
        self.assertIn("warn: running as root: set user and group", log)

    def run_check(self, extra):
        srv = self.start(extra)
        p = subprocess.run([DNSD, "-c", srv.config], capture_output=True, text=True,
                           timeout=30)
        self.assertTrue(port_is_free(srv.port), "bound before the error")
        srv.tmp.cleanup()
        return p

    def test_unknown_user_or_group_alone_fail_before_binding(self):
        p = self.run_check("user: no-such-user-dnsd\n")
        self.assertEqual(p.returncode, 1)
        self.assertIn('user: no such user "no-such-user-dnsd"', p.stderr)
        p = self.run_check("user: nobody\ngroup: no-such-group-dnsd\n")
        self.assertEqual(p.returncode, 1)
        self.assertIn('group: no such group "no-such-group-dnsd"', p.stderr)
        p = self.run_check("group: nogroup\n")
        self.assertEqual(p.returncode, 1)
        self.assertIn("group: needs user as well", p.stderr)


if __name__ == "__main__":
    unittest.main()
