#!/usr/bin/env python3
"""saker's own alerts and logs, end to end: the real binary as root, real drops.

    python3 tests/e2e/test_internal.py build/src/saker

Drops are made for real: a 1 MiB ring drained once a second, and a storm of opens from this
test (hundreds of thousands a second) that the ring cannot hold.

1. syscall_event_drops with actions [log, alert]: an internal alert (source internal, rule
   'saker internal: syscall event drop', priority Debug, string counters) goes through the
   outputs, a warning is logged, and the counters agree with the kernel's exit counters.
2. The text form of the same alert.
3. rate/max_burst: a storm over several seconds with one token and a rate of one per 1000 s
   raises exactly one alert.
4. actions [exit]: saker stops by itself, with status 1 and the reason logged.
5. actions [ignore]: no alert, no warning; the drops are still counted at exit.
6. Bad syscall_event_drops settings are refused at start with the key named.
7. log_syslog: log lines reach a syslog socket (/dev/log in a private mount namespace,
   pointing at this test's receiver); log_stderr false keeps stderr empty of them.
8. -P FILE: the pid written at start, removed at exit; an unwritable path is an error.

Standard library only; prints TAP."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import SkipCase, Tap, parse_counters, sensor_from_argv  # noqa: E402

RULE = "saker internal: syscall event drop"
STORM_ARGS = ["-o", "engine.ringbuf_size_mb=1", "-o", "engine.drain_interval_ms=1000",
              "-o", "rules_files=", "--dump=none"]


def storm(seconds):
    """Opens and closes a file as fast as Python can, for that long."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        for _ in range(500):
            fd = os.open("/etc/hostname", os.O_RDONLY)
            os.close(fd)
        n += 500
    return n


class Run:
    """saker started with args, its stdout and stderr in files."""

    def __init__(self, exe, args, prefix=()):
        self.dir = tempfile.mkdtemp(prefix="saker-internal-")
        self.out = os.path.join(self.dir, "out")
        self.err = os.path.join(self.dir, "err")
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.proc = subprocess.Popen(list(prefix) + [exe, "-U"] + list(args),
                                         stdin=subprocess.DEVNULL, stdout=o, stderr=e)

    def stderr(self):
        with open(self.err, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def lines(self):
        with open(self.out, "rb") as f:
            return [ln for ln in f.read().decode("utf-8", "replace").split("\n") if ln]

    def wait_ready(self, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if "ready: " in self.stderr():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(2)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def storm_run(exe, extra, seconds=2.5, after=2.5):
    r = Run(exe, STORM_ARGS + extra)
    if not r.wait_ready():
        return r, None
    storm(seconds)
    time.sleep(after)  # the next once-a-second check sees the storm's last drops
    return r, r.stop()


def internal_alerts(lines):
    out = []
    for ln in lines:
        try:
            obj = json.loads(ln)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("source") == "internal":
            out.append(obj)
    return out


def case_alert(exe):
    problems = []
    r, rc = storm_run(exe, ["-o", "json_output=true", "-o", "syscall_event_drops.rate=100",
                            "-o", "syscall_event_drops.max_burst=10"])
    try:
        if rc is None:
            return ["saker did not start: " + r.stderr()[-500:]]
        if rc != 0:
            problems.append("exit status %r" % rc)
        alerts = internal_alerts(r.lines())
        if not alerts:
            return problems + ["no internal alert; stderr: " + r.stderr()[-800:]]
        total = 0
        for a in alerts:
            keys = list(a.keys())
            if keys != sorted(keys):
                problems.append("keys not sorted: %r" % keys)
            want = {"hostname", "output", "output_fields", "priority", "rule", "source", "time"}
            if set(keys) != want:
                problems.append("keys %r, want %r" % (sorted(keys), sorted(want)))
            if a.get("rule") != RULE or a.get("priority") != "Debug":
                problems.append("rule/priority: %r %r" % (a.get("rule"), a.get("priority")))
            f = a.get("output_fields", {})
            for k in ("n_evts", "n_drops", "n_drops_buffer_total", "n_drops_too_large",
                      "n_drops_read_fail", "ebpf_enabled"):
                if not isinstance(f.get(k), str) or not f[k].isdigit():
                    problems.append("output_fields.%s = %r, want a string of digits" %
                                    (k, f.get(k)))
            if problems:
                break
            nd, ne = int(f["n_drops"]), int(f["n_evts"])
            if not 0 < nd <= ne:
                problems.append("n_drops %d, n_evts %d" % (nd, ne))
            if nd != int(f["n_drops_buffer_total"]) + int(f["n_drops_too_large"]) + \
                    int(f["n_drops_read_fail"]):
                problems.append("n_drops is not the sum of its reasons: %r" % f)
            if ("%d system calls dropped" % nd) not in a.get("output", ""):
                problems.append("output does not say the count: %r" % a.get("output"))
            if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", a.get("time", "")):
                problems.append("time %r" % a.get("time"))
            total += nd
        k = parse_counters(r.stderr()).get("kernel", {})
        lost = k.get("drop_full", 0) + k.get("drop_too_large", 0) + k.get("drop_read_fail", 0)
        if not 0 < total <= lost:
            problems.append("alerts report %d drops, the kernel counted %d" % (total, lost))
        if "warning: syscall event drops: " not in r.stderr():
            problems.append("no warning logged for the drops")
    finally:
        r.cleanup()
    return problems


def case_text(exe):
    problems = []
    r, rc = storm_run(exe, [])
    try:
        if rc is None:
            return ["saker did not start: " + r.stderr()[-500:]]
        hits = [ln for ln in r.lines() if "Debug " + RULE + "." in ln]
        if not hits:
            return ["no text internal alert in %r" % r.lines()[:5]]
        m = re.match(r'^\d\d:\d\d:\d\d\.\d{9}: Debug saker internal: syscall event drop\. '
                     r'(\d+) system calls dropped in the last [\d.]+ s\. \(ebpf_enabled='
                     r'\\"1\\" n_drops=\\"(\d+)\\" ', hits[0])
        if not m or m.group(1) != m.group(2):
            problems.append("text alert %r" % hits[0])
    finally:
        r.cleanup()
    return problems


def case_rate(exe):
    problems = []
    r, rc = storm_run(exe, ["-o", "json_output=true", "-o", "syscall_event_drops.rate=0.001",
                            "-o", "syscall_event_drops.max_burst=1"], seconds=4.5)
    try:
        if rc is None:
            return ["saker did not start: " + r.stderr()[-500:]]
        alerts = internal_alerts(r.lines())
        warns = r.stderr().count("warning: syscall event drops: ")
        if len(alerts) != 1 or warns != 1:
            problems.append("%d alerts and %d warnings, want 1 of each (one token)" %
                            (len(alerts), warns))
    finally:
        r.cleanup()
    return problems


def case_exit(exe):
    problems = []
    r = Run(exe, STORM_ARGS + ["-M", "60", "-o", "syscall_event_drops.actions=[exit]"])
    try:
        if not r.wait_ready():
            return ["saker did not start: " + r.stderr()[-500:]]
        t0 = time.monotonic()
        while r.proc.poll() is None and time.monotonic() - t0 < 15:
            storm(0.5)
        rc = r.proc.poll()
        if rc is None:
            return ["still running 15 s into the storm"]
        if rc != 1:
            problems.append("exit status %r, want 1" % rc)
        if "stopping (syscall_event_drops.actions has 'exit')" not in r.stderr():
            problems.append("no reason logged: " + r.stderr()[-500:])
        if "exit: kernel:" not in r.stderr():
            problems.append("no exit counters")
    finally:
        r.cleanup()
    return problems


def case_ignore(exe):
    problems = []
    r, rc = storm_run(exe, ["-o", "json_output=true",
                            "-o", "syscall_event_drops.actions=[ignore]"])
    try:
        if rc is None:
            return ["saker did not start: " + r.stderr()[-500:]]
        if internal_alerts(r.lines()):
            problems.append("an internal alert with actions [ignore]")
        if "syscall event drops: " in r.stderr():
            problems.append("a drop warning with actions [ignore]")
        k = parse_counters(r.stderr()).get("kernel", {})
        if not k.get("drop_full"):
            problems.append("the storm made no drops (counters %r): the case proves nothing" % k)
    finally:
        r.cleanup()
    return problems


def case_bad_config(exe):
    problems = []
    cases = [
        (["syscall_event_drops.actions=[ignore, log]"],
         "key 'syscall_event_drops.actions': 'ignore' cannot be combined with 'log' or 'alert'"),
        (["syscall_event_drops.actions=[log, page]"],
         "key 'syscall_event_drops.actions': 'page' is not one of: log, alert, exit, ignore"),
        (["syscall_event_drops.threshold=1.5"],
         "key 'syscall_event_drops.threshold': 1.5 is out of range (0 to 1)"),
        (["syscall_event_drops.rate=fast"],
         "key 'syscall_event_drops.rate': expected a number, got 'fast'"),
        (["syscall_event_drops.max_burst=0"],
         "key 'syscall_event_drops.max_burst': 0 is out of range"),
    ]
    for overrides, want in cases:
        args = [exe, "--dry-run"]
        for o in overrides:
            args += ["-o", o]
        p = subprocess.run(args, capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode != 2 or want not in err:
            problems.append("%s: status %d, stderr %r; want 2 and %r" %
                            (overrides, p.returncode, err[-300:], want))
    # the same from a config file names file and line
    d = tempfile.mkdtemp(prefix="saker-internal-cfg-")
    try:
        path = os.path.join(d, "saker.yaml")
        with open(path, "w") as f:
            f.write("log_level: info\nsyscall_event_drops:\n  threshold: 2\n")
        p = subprocess.run([exe, "-c", path, "--dry-run"], capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        want = "%s:3: key 'syscall_event_drops.threshold': 2 is out of range" % path
        if p.returncode != 2 or want not in err:
            problems.append("config file: status %d, stderr %r; want %r" %
                            (p.returncode, err[-300:], want))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return problems


def case_log_syslog(exe):
    if not shutil.which("unshare"):
        return ["unshare is missing"]
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                           capture_output=True, timeout=10)
    if probe.returncode != 0:
        raise SkipCase("no private mount namespace here (/ is not a mount point: a chroot?): "
                       + probe.stderr.decode("utf-8", "replace").strip()[-200:])
    d = tempfile.mkdtemp(prefix="saker-internal-log-")
    sock_path = os.path.join(d, "log.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(0.2)
    msgs = []
    stop = threading.Event()

    def recv():
        while not stop.is_set():
            try:
                msgs.append(s.recv(65536).decode("utf-8", "replace"))
            except socket.timeout:
                continue
            except OSError:
                return

    t = threading.Thread(target=recv, daemon=True)
    t.start()
    # /dev/log inside a private mount namespace: a tmpfs over /dev holding one symlink
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
              'mount -t tmpfs saker-test /dev && ln -s "$0" /dev/log && exec "$@"', sock_path]
    r = Run(exe, ["-M", "2", "-o", "rules_files=", "--dump=none", "-o", "log_syslog=true",
                  "-o", "log_stderr=false"], prefix=prefix)
    problems = []
    try:
        rc = r.proc.wait(30)
        time.sleep(0.3)
        if rc != 0:
            problems.append("exit status %r: %s" % (rc, r.stderr()[-300:]))
        ready = [m for m in msgs if "saker[" in m and "info: ready: capturing" in m]
        if not ready:
            problems.append("no ready line on syslog; got %r" % msgs[:3])
        elif not re.match(r"^<30>", ready[0]):  # daemon facility (3) * 8 + info (6)
            problems.append("priority of %r, want <30> (daemon.info)" % ready[0][:40])
        if "saker: " in r.stderr():
            problems.append("log_stderr=false, yet stderr has %r" % r.stderr()[:200])
    finally:
        stop.set()
        t.join()
        s.close()
        r.cleanup()
        shutil.rmtree(d, ignore_errors=True)
    return problems


def problems_of(fn):
    """A case of Tap from a function returning its problems."""
    def run(check, exe):
        for p in fn(exe):
            check.fail(p)
    return run


def case_pidfile(exe):
    d = tempfile.mkdtemp(prefix="saker-internal-pid-")
    path = os.path.join(d, "saker.pid")
    r = Run(exe, ["-M", "30", "-o", "rules_files=", "--dump=none", "-P", path,
                  "-o", "webserver.enabled=false"])
    problems = []
    try:
        if not r.wait_ready():
            return ["saker did not start: " + r.stderr()[-300:]]
        try:
            text = open(path).read()
        except OSError as e:
            return ["no pidfile: %s" % e]
        if text != "%d\n" % r.proc.pid:
            problems.append("pidfile holds %r, want %d" % (text, r.proc.pid))
        if r.stop() != 0:
            problems.append("exit status not 0")
        if os.path.exists(path):
            problems.append("pidfile left behind at exit")
        p = subprocess.run([exe, "-M", "1", "-o", "rules_files=", "-P",
                            os.path.join(d, "no", "such", "dir", "x.pid")],
                           capture_output=True, timeout=30)
        if p.returncode != 1 or b"pidfile '" not in p.stderr:
            problems.append("an unwritable pidfile: status %d, %r" % (p.returncode,
                                                                     p.stderr[-200:]))
    finally:
        r.cleanup()
        shutil.rmtree(d, ignore_errors=True)
    return problems


def main():
    exe = sensor_from_argv()
    tap = Tap()
    tap.case("drops: internal alert in JSON, counters agree", problems_of(case_alert), exe)
    tap.case("drops: internal alert as a text line", problems_of(case_text), exe)
    tap.case("drops: rate and max_burst limit the alerts", problems_of(case_rate), exe)
    tap.case("drops: actions [exit] stops saker with status 1", problems_of(case_exit), exe)
    tap.case("drops: actions [ignore] is silent, drops still counted", problems_of(case_ignore), exe)
    tap.case("drops: bad settings are refused with the key named", problems_of(case_bad_config), exe)
    tap.case("log_syslog: log lines reach syslog, not stderr", problems_of(case_log_syslog), exe)
    tap.case("-P writes the pid, removes it at exit", problems_of(case_pidfile), exe)
    tap.finish()


if __name__ == "__main__":
    main()
