"""systemd integration against the real dnsd:
with $NOTIFY_SOCKET set (as systemd sets it for Type=notify) the daemon sends
READY=1 once it answers, RELOADING=1 then READY=1 around a SIGHUP reload and
STOPPING=1 at SIGTERM; with $JOURNAL_STREAM naming its stderr every log line
carries its syslog priority ("<6>info: ...") instead of the name and PID;
with log.target syslog the lines go to /dev/log (a socket of the test's,
mounted there in a private mount namespace) with facility daemon, and none
to stderr."""

import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from harness import DNSD, ORIGIN, Server, _die_with_parent, built_with, check_clean_exit, \
    environ, not_built, query, udp_exchange

# A private /dev holding only what dnsd opens, plus the test's /dev/log.
PRIVATE_DEV = r"""set -e
old=$1 sock=$2; shift 2
mkdir -p "$old"; mount --bind /dev "$old"; mount -t tmpfs tmpfs /dev
for n in null zero random urandom; do touch /dev/$n; mount --bind "$old/$n" /dev/$n; done
touch /dev/log; mount --bind "$sock" /dev/log
exec "$@"
"""


def can_unshare():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs tmpfs /mnt"], capture_output=True, timeout=10)
    return p.returncode == 0


class NotifyTest(unittest.TestCase):

    def start_with_env(self, srv, env):
        with environ(env):
            srv.start()

    def recv_states(self, sock, want, timeout=10.0):
        """Datagrams until one holds `want`; returns every state line seen."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                msg = sock.recv(4096).decode()
            except socket.timeout:
                break
            seen += msg.split("\n")
            if want in seen:
                return seen
        raise AssertionError("no %s from dnsd; got %r" % (want, seen))

    @unittest.skipUnless(built_with("systemd"), not_built("systemd"))
    def test_ready_reloading_stopping(self):
        srv = Server()
        self.addCleanup(srv.kill)
        path = srv.path("notify.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(path)
            self.start_with_env(srv, {"NOTIFY_SOCKET": path})
            seen = self.recv_states(sock, "READY=1")
            self.assertTrue(any(s.startswith("STATUS=serving 2 zones with 2 workers")
                                for s in seen), seen)
            srv.proc.send_signal(signal.SIGHUP)
            seen = self.recv_states(sock, "RELOADING=1")
            if "READY=1" not in seen:
                seen = self.recv_states(sock, "READY=1")
            self.assertIn("STATUS=serving; reloaded", seen)
            self.assertIsNotNone(udp_exchange(srv.port, query(ORIGIN, "SOA"), timeout=2.0))
            srv.proc.send_signal(signal.SIGTERM)
            self.recv_states(sock, "STOPPING=1")
            srv.proc.wait(timeout=15)
        check_clean_exit(*srv.stop())

    @unittest.skipIf(built_with("systemd"),
                     "built with systemd: test_ready_reloading_stopping covers sd_notify")
    def test_without_systemd_nothing_is_sent_and_the_log_says_why(self):
        srv = Server()
        self.addCleanup(srv.kill)
        path = srv.path("notify.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(path)
            self.start_with_env(srv, {"NOTIFY_SOCKET": path})
            srv.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            rc, text = srv.stop()
            sock.setblocking(False)
            with self.assertRaises(BlockingIOError):
                sock.recv(4096)
        check_clean_exit(rc, text)
        self.assertEqual(text.count("sd_notify: "), 1, text)
        self.assertIn("warn: sd_notify: $NOTIFY_SOCKET is set but this dnsd was built "
                      "without systemd support (-DDNSD_SYSTEMD=OFF)", text)
        self.assertIn("use Type=exec, not Type=notify", text)

    def test_journal_lines_carry_priorities(self):
        srv = Server()
        self.addCleanup(srv.kill)
        log = srv.path("stderr.log")
        open(log, "w").close()  # the harness reopens it: same inode
        st = os.stat(log)
        self.start_with_env(srv, {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
        rc, text = srv.stop()
        check_clean_exit(rc, text)
        lines = text.splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3467]>(err|warn|info|debug): ")
        self.assertTrue(any(line.startswith("<4>warn: running as root") for line in lines)
                        or os.geteuid() != 0)
        self.assertTrue(any(line.startswith("<6>info: ready: ") for line in lines))

    def test_reload_names_operations_keys_that_need_a_restart(self):
        srv = Server()
        self.addCleanup(srv.kill)
        srv.start()
        with open(srv.config, "a") as f:
            f.write("log: {level: debug}\nquery_log: {dnstap: %s}\n" % srv.path("q.tap"))
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "restart needed" not in srv.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("SIGHUP: query_log/log changed: restart needed", srv.log())
        self.assertFalse(os.path.exists(srv.path("q.tap")))
        check_clean_exit(*srv.stop())


@unittest.skipUnless(can_unshare(), "needs root and a private mount namespace (unshare -m)")
class SyslogTest(unittest.TestCase):

    def test_lines_go_to_syslog_with_facility_daemon(self):
        srv = Server(extra="log: {target: syslog, level: info}\n")
        self.addCleanup(srv.kill)
        sock_path = srv.path("log.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(sock_path)
            sock.settimeout(10)
            err = open(srv.path("stderr.log"), "w+")
            srv.stderr = err
            srv.proc = subprocess.Popen(
                ["unshare", "-m", "--propagation", "private", "sh", "-c", PRIVATE_DEV, "sh",
                 srv.path("olddev"), sock_path, DNSD, "-c", srv.config],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, cwd=srv.dir,
                preexec_fn=_die_with_parent)
            lines = []
            while not any("info: ready: " in line for line in lines):
                lines.append(sock.recv(4096).decode())
            self.assertIsNotNone(udp_exchange(srv.port, query(ORIGIN, "SOA"), timeout=2.0))
            srv.proc.send_signal(signal.SIGTERM)
            srv.proc.wait(timeout=15)
            sock.settimeout(0.5)
            try:
                while True:
                    lines.append(sock.recv(4096).decode())
            except socket.timeout:
                pass
        # <30> = facility daemon (3) * 8 + severity info (6); <28> warning.
        self.assertRegex(lines[0], r"^<(28|30)>.* dnsd\[%d\]: " % srv.proc.pid)
        self.assertTrue(any(line.startswith("<30>") and "info: ready: " in line
                            for line in lines), lines)
        self.assertTrue(any("info: stopped: " in line for line in lines), lines)
        rc, log = srv.stop()
        check_clean_exit(rc, log)
        self.assertEqual(log, "")


if __name__ == "__main__":
    unittest.main()
