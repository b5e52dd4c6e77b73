"""The state directory against the real dnsd: what is served after pushes,
SIGHUP and restarts, and what a crash or a careless hand leaves there.

- An acknowledged push, a forced rollback to an older serial too, stays what
  is served across SIGHUP, `dnsdctl reload` and a restart, although the zone's
  `snapshot:` file has a newer serial: that file only seeds a node without
  pushed state. Pushing it, or removing the state file and restarting, returns
  to it.
- Temporary files of a state write interrupted by kill -9 are removed at the
  next start, logged and counted; nothing else in state_dir is touched.
- A corrupt state file (garbage, truncated, empty, a directory) does not stop
  the daemon: it serves the configured snapshot, logs at error level which
  file was refused, why (line and column) and what it serves instead, counts
  it in dnsd_state_load_errors_total, and renames the file aside so that the
  next push is stored."""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

from harness import DNSD, ORIGIN, check_clean_exit, free_port, http, parse_metrics
from test_control import (DNSDCTL, answer_addrs, control_server, dnsdctl, served_serial,
                          servers_for, snapshot_for, write_snapshot)

STATE_NAME = ORIGIN + ".snapshot.json"
FILE_SERIAL = 3000  # the zone's snapshot: file, newer than the forced rollback


def state_server(file_serial=FILE_SERIAL, state=True, state_files=None):
    """dnsd with control.unix, metrics, optionally a state_dir holding
    `state_files` {name: text, or None for a directory}, and ORIGIN's
    `snapshot:` file at `file_serial`."""
    srv = control_server(tcp=False, state=state)
    srv.metrics_port = free_port(False)
    snap = write_snapshot(srv, file_serial)
    with open(srv.config) as f:
        text = f.read()
    # The first zone is ORIGIN: its snapshot: line goes right after its master.
    text = re.sub(r"(  - origin: %s\n    master: [^\n]*\n)" % re.escape(ORIGIN),
                  lambda m: m.group(1) + "    snapshot: %s\n" % snap, text, count=1)
    text += 'metrics: "127.0.0.1:%d"\n' % srv.metrics_port
    with open(srv.config, "w") as f:
        f.write(text)
    for name, content in (state_files or {}).items():
        path = srv.path(os.path.join("state", name))
        if content is None:
            os.mkdir(path)
            with open(os.path.join(path, "inside"), "w") as f:
                f.write("kept\n")
        else:
            with open(path, "w") as f:
                f.write(content)
    return srv


class StateCase(unittest.TestCase):

    def start(self, srv):
        self.addCleanup(srv.kill)
        srv.start()
        self.wait_log(srv, "ready: ")
        return srv

    def wait_log(self, srv, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while text not in srv.log():
            if time.monotonic() > deadline:
                self.fail("no %r in the log:\n%s" % (text, srv.log()))
            time.sleep(0.05)

    def restart(self, srv):
        """SIGTERM (must exit 0), then the same config again."""
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(srv.proc.wait(timeout=10), 0, srv.log())
        srv.stderr.close()
        srv.start()
        self.wait_log(srv, "ready: ")

    def status(self, srv):
        p = dnsdctl("-s", srv.sock, "status")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def assertServes(self, srv, serial, why):
        """status, _country TXT and the answers all say `serial`."""
        self.assertEqual(self.status(srv)["zones"][0]["serial"], serial, why)
        self.assertEqual(served_serial(srv.port), serial, why)
        self.assertTrue(answer_addrs(srv.port) <= set(servers_for(serial)), why)

    def push(self, srv, serial, *flags):
        p = dnsdctl("-s", srv.sock, "push", write_snapshot(srv, serial), *flags)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def sighup(self, srv):
        """SIGHUP, and wait until the daemon logs the reload it caused."""
        done = srv.log().count("SIGHUP: reloaded")
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while srv.log().count("SIGHUP: reloaded") == done:
            if time.monotonic() > deadline:
                self.fail("SIGHUP not reloaded:\n%s" % srv.log())
            time.sleep(0.05)
        self.assertEqual(self.status(srv)["last_reload"]["result"], "ok")

    def metrics(self, srv):
        status, _, body = http(srv.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 200)
        return parse_metrics(body.decode())

    def state_path(self, srv, name=STATE_NAME):
        return srv.path(os.path.join("state", name))


# --------------------------------------------------------------------------
# The configured snapshot file and pushed state
# --------------------------------------------------------------------------

class ForcedRollbackTest(StateCase):

    def test_forced_rollback_survives_sighup_reload_and_restart(self):
        srv = self.start(state_server())
        self.assertServes(srv, FILE_SERIAL, "the snapshot: file seeds a node without state")
        self.push(srv, 4000)
        self.assertServes(srv, 4000, "pushed")
        p = self.push(srv, 2000, "--force")  # older than the snapshot: file too
        self.assertIn("2000", p.stdout)
        self.assertServes(srv, 2000, "forced rollback")
        self.sighup(srv)
        self.assertServes(srv, 2000, "SIGHUP must not undo an acknowledged push")
        p = dnsdctl("-s", srv.sock, "reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["zones"][0]["serial"], 2000)
        self.assertServes(srv, 2000, "dnsdctl reload must not undo it either")
        self.restart(srv)
        self.assertServes(srv, 2000, "a restart serves the last acknowledged push")
        self.assertRegex(srv.log(), r"serial 2000 from \S*%s" % re.escape(STATE_NAME))
        check_clean_exit(*srv.stop())

    def test_way_back_to_the_configured_file_push_it_or_remove_the_state(self):
        srv = self.start(state_server())
        self.push(srv, 2000, "--force")
        # Pushing the configured file (--force: it is older than the last
        # push here) makes it the pushed state.
        p = dnsdctl("-s", srv.sock, "push", srv.path("snap-%d.json" % FILE_SERIAL), "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertServes(srv, FILE_SERIAL, "configured file pushed")
        self.push(srv, 2000, "--force")
        # Removing the state file: a reload keeps the running push (it was
        # acknowledged) ...
        os.unlink(self.state_path(srv))
        self.sighup(srv)
        self.assertServes(srv, 2000, "a reload keeps the running push")
        # ... and a restart, with no pushed state left, seeds from the file.
        self.restart(srv)
        self.assertServes(srv, FILE_SERIAL, "no state: the snapshot: file again")
        check_clean_exit(*srv.stop())

    def test_push_without_state_dir_survives_sighup(self):
        srv = self.start(state_server(state=False))
        p = self.push(srv, 2000, "--force")
        self.assertIn("not stored", p.stdout + p.stderr + srv.log())
        self.sighup(srv)
        self.assertServes(srv, 2000, "SIGHUP must keep a push that could not be stored")
        check_clean_exit(*srv.stop())


# --------------------------------------------------------------------------
# Temporary files of an interrupted write
# --------------------------------------------------------------------------

class StaleTempTest(StateCase):

    def test_stale_temp_files_removed_at_start_nothing_else(self):
        big = '{"serial": 1, "servers": [' + " " * (4 << 20)  # half a write, 4 MiB
        # pids past any pid_max: their writers are surely gone.
        ours = {STATE_NAME + ".tmp.99999991": big, STATE_NAME + ".tmp.99999992": "{",
                "example.net.snapshot.json.tmp.99999993": "",
                "pool.ntp.org.demand.json.tmp.99999994": '{"serial": 7, "dem'}
        live = STATE_NAME + ".tmp.%d" % os.getpid()  # a live writer: not ours to remove
        others = {"notes.txt": "mine\n", STATE_NAME + ".tmp.12x": "x",
                  STATE_NAME + ".tmp.": "x", STATE_NAME + ".corrupt-20260101T000000Z": "x",
                  ".tmp.55": "x", "pool.ntp.org.demand.json.tmp.": "x",
                  STATE_NAME: snapshot_for(5000), live: "{"}
        srv = state_server(state_files=dict(ours, **others))
        os.mkdir(self.state_path(srv, "dir.snapshot.json.tmp.8"))
        outside = srv.write("outside.json", "outside\n")
        os.symlink(outside, self.state_path(srv, "link.snapshot.json.tmp.9"))
        self.start(srv)
        left = set(os.listdir(srv.path("state")))
        self.assertFalse(left & set(ours), "stale temporary files left: %s" % (left & set(ours)))
        self.assertTrue(set(others) | {"dir.snapshot.json.tmp.8", "link.snapshot.json.tmp.9"}
                        <= left, "an unrelated file was removed: %s" % left)
        with open(outside) as f:
            self.assertEqual(f.read(), "outside\n")
        log = srv.log()
        self.assertRegex(log, r"warn: state_dir: removed 4 stale temporary files \(\d+ bytes\)")
        for name in ours:
            self.assertIn(name, log)
        self.assertIn("kept 1 temporary file of another live process", log)
        self.assertIn(live, log)
        self.assertEqual(self.metrics(srv)["dnsd_state_temp_files_removed_total"], 4)
        self.assertServes(srv, 5000, "the state file is served")
        self.push(srv, 5001)  # and the next write works
        check_clean_exit(*srv.stop())

    def test_kill9_during_a_state_write_leaves_nothing_after_restart(self):
        if not shutil.which("strace"):
            self.skipTest("strace is needed to hold the daemon inside its write")
        srv = self.start(state_server())
        # strace delays the daemon's rename of its written temporary file by
        # 30 s: the kill lands deterministically between write and rename.
        tracer = subprocess.Popen(
            ["strace", "-f", "-qq", "-o", os.devnull, "-p", str(srv.proc.pid),
             "-e", "trace=rename,renameat,renameat2",
             "-e", "inject=rename,renameat,renameat2:delay_enter=30000000"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: tracer.poll() is None and (tracer.kill(), tracer.wait()))
        time.sleep(1.0)  # attached to every thread
        if tracer.poll() is not None:
            self.skipTest("strace cannot attach to the daemon here (ptrace refused)")
        pusher = subprocess.Popen([DNSDCTL, "-s", srv.sock, "push", write_snapshot(srv, 4000)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL)
        self.addCleanup(lambda: pusher.poll() is None and (pusher.kill(), pusher.wait()))
        pattern = self.state_path(srv, STATE_NAME + ".tmp.%d" % srv.proc.pid)
        deadline = time.monotonic() + 15
        while not os.path.exists(pattern) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertTrue(os.path.exists(pattern), "no temporary file appeared")
        time.sleep(0.5)  # written and fsync'd: the rename is being held
        srv.kill()
        tracer.kill()
        tracer.wait()
        pusher.wait(timeout=10)
        self.assertTrue(os.path.exists(pattern), "the kill did not leave the temporary file")
        self.assertFalse(os.path.exists(self.state_path(srv)), "renamed despite the kill")
        srv.stderr.close()
        srv.start()
        self.wait_log(srv, "ready: ")
        self.assertFalse(os.path.exists(pattern), "left after the restart")
        self.assertIn("removed 1 stale temporary file", srv.log())
        self.assertEqual(self.metrics(srv)["dnsd_state_temp_files_removed_total"], 1)
        self.assertServes(srv, FILE_SERIAL, "the unacknowledged push is not served")
        check_clean_exit(*srv.stop())


# --------------------------------------------------------------------------
# Corrupt state files
# --------------------------------------------------------------------------

CORRUPT = {
    "garbage": ("{\"serial\": 7, \"servers\": [}\n", r":1:\d+: "),
    "truncated": (snapshot_for(5000)[:150], r":\d+:\d+: "),
    "empty": ("", r":1:1: "),
    "directory": (None, r": is a directory"),
}


class CorruptStateTest(StateCase):

    def check_refused(self, kind):
        text, why = CORRUPT[kind]
        srv = self.start(state_server(state_files={STATE_NAME: text}))
        state = self.state_path(srv)
        # It starts, and serves the configured snapshot.
        self.assertServes(srv, FILE_SERIAL, kind)
        log = srv.log()
        # Loud, naming the file, why, and what is served instead.
        m = re.search(r"^dnsd\[\d+\]: err: %s: state file refused: %s%s.*$"
                      % (re.escape(ORIGIN), re.escape(state), why), log, re.M)
        self.assertIsNotNone(m, "no error line for the %s state file:\n%s" % (kind, log))
        line = m.group(0)
        self.assertRegex(line, r"serving instead: serial %d from \S*snap-%d\.json"
                         % (FILE_SERIAL, FILE_SERIAL))
        self.assertNotIn("Cannot allocate memory", log)
        # Counted.
        self.assertEqual(self.metrics(srv)['dnsd_state_load_errors_total{zone="%s"}' % ORIGIN],
                         1)
        # Set aside with its content, so the evidence stays ...
        aside = glob.glob(state + ".corrupt-*")
        self.assertEqual(len(aside), 1, os.listdir(srv.path("state")))
        self.assertIn("moved aside to %s" % aside[0], line)
        if text is None:
            self.assertTrue(os.path.isfile(os.path.join(aside[0], "inside")))
        else:
            with open(aside[0]) as f:
                self.assertEqual(f.read(), text)
        # ... and the next push is stored and served after a restart.
        self.push(srv, 4000)
        self.assertTrue(os.path.isfile(state))
        self.restart(srv)
        self.assertServes(srv, 4000, "the push after the refusal was stored")
        self.assertNotIn("err:", srv.log())
        check_clean_exit(*srv.stop())

    def test_garbage_state_file(self):
        self.check_refused("garbage")

    def test_truncated_state_file(self):
        self.check_refused("truncated")

    def test_empty_state_file(self):
        self.check_refused("empty")

    def test_directory_in_place_of_the_state_file(self):
        self.check_refused("directory")

    def test_check_reports_but_changes_nothing(self):
        tmp = STATE_NAME + ".tmp.99999994"
        srv = state_server(state_files={STATE_NAME: "garbage\n", tmp: "{"})
        self.addCleanup(srv.tmp.cleanup)
        p = subprocess.run([DNSD, "-c", srv.config, "--check"], capture_output=True,
                           text=True, timeout=30, cwd=srv.dir, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("err: %s: state file refused: %s" % (ORIGIN, self.state_path(srv)),
                      p.stderr)
        self.assertEqual(sorted(os.listdir(srv.path("state"))), sorted([STATE_NAME, tmp]))

    def test_corrupted_while_running_reload_keeps_the_push(self):
        srv = self.start(state_server())
        self.push(srv, 2000, "--force")
        with open(self.state_path(srv), "w") as f:
            f.write("{\"serial\": 2000, \"servers\": [\n  {\"ip\": ]}\n")
        self.sighup(srv)
        self.assertServes(srv, 2000, "the running push is kept")
        self.assertRegex(srv.log(), r"err: %s: state file refused: %s:2:\d+: .*serving "
                         r"instead: serial 2000 kept from the running data"
                         % (re.escape(ORIGIN), re.escape(self.state_path(srv))))
        self.assertEqual(self.metrics(srv)['dnsd_state_load_errors_total{zone="%s"}' % ORIGIN],
                         1)
        self.sighup(srv)  # moved aside: not refused (nor counted) twice
        self.assertEqual(self.metrics(srv)['dnsd_state_load_errors_total{zone="%s"}' % ORIGIN],
                         1)
        self.assertServes(srv, 2000, "still the running push")
        check_clean_exit(*srv.stop())


if __name__ == "__main__":
    unittest.main()
