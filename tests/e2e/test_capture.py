#!/usr/bin/env python3
"""Capture and replay end to end: captures recorded live (-w) while this test runs real
commands, replayed (-e) through the same rules; the alerts from replay must equal the
alerts seen live, byte for byte.

    python3 tests/e2e/test_capture.py build/src/saker

Needs root (the live half); without it prints "1..0 # SKIP <reason>". Standard library only.
The stable Falco ruleset comes from ../shared/corpus ($SAKER_FALCO_RULES overrides it).
Every trigger carries a random token that finds its alert among the host's other activity."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Sensor, Tap, SkipCase, run_saker, sensor_from_argv, skip_all  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STABLE_RULES = os.environ.get("SAKER_FALCO_RULES") or os.path.normpath(
    os.path.join(SRC, "..", "shared", "corpus", "falco-rules", "falco_rules.yaml"))


class LiveSensor(Sensor):
    """saker with the given arguments (no --dump unless asked); stdout to a file."""

    def __init__(self, exe, args, name="live"):
        Sensor.__init__(self, exe, name=name)
        self.args = [exe, "-U", "-M", "120", "-o", "engine.ringbuf_size_mb=64",
                     "-o", "webserver.enabled=false"] + list(args)

    def stdout_bytes(self):
        with open(self.out_path, "rb") as f:
            return f.read()


def start(s):
    s.start()
    if s.wait_ready(timeout=30):
        return True
    err = s.stderr()
    s.cleanup()
    if s.rc == 1 and "missing capability" in err:
        skip_all("the sensor cannot load here: " + err.strip().splitlines()[-1])
    raise RuntimeError("the sensor did not start (rc %r): %s\n%s" % (s.rc, " ".join(s.args), err))


def triggers(token, workdir):
    """Real commands that the stable ruleset alerts on, each carrying the token."""
    marker = os.path.join(workdir, "marker-" + token)
    # the token in cat's own command line, so the alert's output shows it
    subprocess.run(["/bin/sh", "-c", "cat /etc/shadow %s/none-%s > /dev/null 2>&1; true" % (
        workdir, token)], check=False)
    subprocess.run(["/usr/bin/env", "TOKEN=" + token, "/bin/cat", "/etc/shadow",
                    os.path.join(workdir, "none-" + token)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    with open(marker, "w") as f:
        f.write(token)
    subprocess.run(["/bin/ls", "-la", workdir], stdout=subprocess.DEVNULL, check=False)
    subprocess.run(["/bin/rm", "-f", marker], check=False)
    time.sleep(0.3)


def record(exe, args, token, workdir, name):
    """Runs a live sensor with args, the triggers, and stops it: (sensor, stdout bytes)."""
    s = LiveSensor(exe, args, name=name)
    start(s)
    time.sleep(0.2)
    triggers(token, workdir)
    rc = s.stop(timeout=120)  # a sanitizer build dumping a busy host drains slowly
    if rc != 0:
        raise RuntimeError("live sensor exited %r:\n%s" % (rc, s.stderr()))
    return s, s.stdout_bytes()


def lines_with(data, token):
    return [ln for ln in data.decode("utf-8", "replace").splitlines() if token in ln]


def case_alerts_equal(c, exe, workdir, ext):
    token = uuid.uuid4().hex[:12]
    cap = os.path.join(workdir, "live" + ext)
    s, live = record(exe, ["-r", STABLE_RULES, "-o", "json_output=true", "-w", cap], token,
                     workdir, "live" + ext)
    try:
        c.note("live: %d alert lines, capture %d bytes" % (live.count(b"\n"), os.path.getsize(cap)))
        c.ok("-w " in s.stderr() and "events written" in s.stderr(),
             "the live sensor did not report the capture:\n" + s.stderr()[-2000:])
        mine = lines_with(live, token)
        c.ok(any('"Read sensitive file untrusted"' in ln for ln in mine),
             "the trigger raised no 'Read sensitive file untrusted' alert live: %r" % mine[:3])
        rc, out, err, secs = run_saker(exe, ["-r", STABLE_RULES, "-o", "json_output=true",
                                             "-e", cap], timeout=120)
        c.eq("replay exit status", rc, 0)
        c.ok(out == live, "replayed alerts differ from live ones (%d vs %d lines); first "
             "difference:\n%s" % (out.count(b"\n"), live.count(b"\n"), first_diff(live, out)))
        c.note("replay took %.2fs" % secs)
        for ln in out.splitlines()[:50]:
            a = json.loads(ln)
            c.ok(a.get("hostname") == json.loads(live.splitlines()[0]).get("hostname"),
                 "hostname differs in replay: %r" % a.get("hostname"))
            break
        return cap
    finally:
        s.cleanup()


def first_diff(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else b"<none>"
        y = lb[i] if i < len(lb) else b"<none>"
        if x != y:
            return "line %d:\n live:   %s\n replay: %s" % (i + 1, x[:400], y[:400])
    return "(none)"


def case_text_replays_identical(c, exe, workdir):
    """Text alerts, gzip capture: live, replay and a second replay are byte-identical."""
    token = uuid.uuid4().hex[:12]
    cap = os.path.join(workdir, "text.cap.gz")
    s, live = record(exe, ["-r", STABLE_RULES, "-w", cap], token, workdir, "text")
    try:
        with open(cap, "rb") as f:
            c.eq("gzip magic", f.read(2), b"\x1f\x8b")
        outs = []
        for _ in range(2):
            rc, out, err, _s = run_saker(exe, ["-r", STABLE_RULES, "-e", cap], timeout=120)
            c.eq("replay exit status", rc, 0)
            outs.append(out)
        c.ok(outs[0] == outs[1], "two replays differ:\n" + first_diff(outs[0], outs[1]))
        c.ok(outs[0] == live, "replay differs from live:\n" + first_diff(live, outs[0]))
        c.ok(lines_with(live, token), "no alert carries the token")
    finally:
        s.cleanup()


def case_dump_equal(c, exe, workdir):
    """The event dump (every decoded syscall) from replay equals the live one."""
    token = uuid.uuid4().hex[:12]
    cap = os.path.join(workdir, "dump.cap")
    s, live = record(exe, ["--dump=json", "-o", "rules_files=", "-w", cap], token, workdir,
                     "dump")
    try:
        rc, out, err, _s = run_saker(exe, ["-o", "rules_files=", "--dump=json", "-e", cap],
                                     timeout=120)
        c.eq("replay exit status", rc, 0)
        c.ok(out == live, "replayed dump differs from live (%d vs %d lines):\n%s" % (
            out.count(b"\n"), live.count(b"\n"), first_diff(live, out)))
        c.ok(any("/etc/shadow" in ln for ln in lines_with(out, token) + out.decode(
            "utf-8", "replace").splitlines()), "the dump lacks the trigger's open of /etc/shadow")
    finally:
        s.cleanup()


def case_filter(c, exe, workdir):
    """--capture-filter: replay evaluates and dumps only the matching events; the alerts it
    gives are the live alerts about them."""
    token = uuid.uuid4().hex[:12]
    cap = os.path.join(workdir, "filtered.cap")
    cond = "proc.cmdline contains %s or proc.pcmdline contains %s" % (token, token)
    s, live = record(exe, ["-r", STABLE_RULES, "-o", "json_output=true", "-w", cap,
                           "--capture-filter", cond], token, workdir, "filter")
    try:
        err = s.stderr()
        c.ok("state-only" in err and "filtered out" in err, "no filter counts:\n" + err[-1500:])
        rc, out, rerr, _s = run_saker(exe, ["-r", STABLE_RULES, "-o", "json_output=true",
                                            "-e", cap], timeout=120)
        c.eq("replay exit status", rc, 0)
        got = out.decode().splitlines()
        want = lines_with(live, token)
        c.ok(want, "no live alert carries the token")
        c.ok(all(token in ln for ln in got),
             "replay of a filtered capture alerted on other events: %r" %
             [ln for ln in got if token not in ln][:2])
        c.ok(got == want, "replayed alerts %d, live alerts about the filter's events %d:\n%s" % (
            len(got), len(want), first_diff("\n".join(want).encode(), "\n".join(got).encode())))
        rc, dump, _e, _s = run_saker(exe, ["-o", "rules_files=", "--dump", "-e", cap],
                                     timeout=120)
        c.eq("dump exit status", rc, 0)
        lines = dump.decode("utf-8", "replace").splitlines()
        c.ok(lines, "the filtered capture dumps nothing")
        c.note("%d dumped events from the filtered capture" % len(lines))
    finally:
        s.cleanup()


def case_truncated(c, exe, workdir, cap):
    """A capture cut short: every complete event before the cut is processed, then exit 1
    with an error naming the offset."""
    data = open(cap, "rb").read()
    cut = os.path.join(workdir, "cut.cap")
    with open(cut, "wb") as f:
        f.write(data[:len(data) * 2 // 3 + 5])
    rc_full, full, _e, _s = run_saker(exe, ["-r", STABLE_RULES, "-o", "json_output=true",
                                            "-e", cap], timeout=120)
    rc, out, err, _s = run_saker(exe, ["-r", STABLE_RULES, "-o", "json_output=true",
                                       "-e", cut], timeout=120)
    c.eq("exit status of a cut capture", rc, 1)
    c.ok("offset " in err and "truncated frame" in err, "no offset in the error:\n" + err[-800:])
    c.ok(full.startswith(out), "the alerts before the cut are not a prefix of the full replay")
    c.note("%d of %d alerts before the cut" % (out.count(b"\n"), full.count(b"\n")))
    _rc, full_dump, _e, _s = run_saker(exe, ["-o", "rules_files=", "--dump", "-e", cap],
                                       timeout=120)
    rc, dump, _e, _s = run_saker(exe, ["-o", "rules_files=", "--dump", "-e", cut], timeout=120)
    c.eq("exit status of a cut capture, --dump", rc, 1)
    c.ok(dump and full_dump.startswith(dump),
         "the events dumped before the cut are not a non-empty prefix of the full dump")
    c.note("%d of %d events before the cut" % (dump.count(b"\n"), full_dump.count(b"\n")))
    with open(cut, "wb") as f:
        f.write(b"SAKERCAP" + os.urandom(3000))
    rc, out, err, _s = run_saker(exe, ["-e", cut, "--dump"], timeout=60)
    c.eq("exit status on garbage", rc, 1)
    c.ok("offset" in err, "no offset in the error on garbage:\n" + err[-500:])


def case_no_host_reads(c, exe, workdir, cap):
    """Replay in a mount namespace with empty /proc and /etc gives the same alerts: nothing
    comes from the host."""
    if not shutil.which("unshare"):
        raise SkipCase("no unshare")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        raise SkipCase("no private mount namespace here (/ is not a mount point: a chroot?): "
                       + probe.stderr.decode("utf-8", "replace").strip()[-200:])
    with open(exe, "rb") as f:
        if b"__asan_init" in f.read():
            raise SkipCase("a sanitizer build: its runtime reads /proc itself")
    args = ["-r", STABLE_RULES, "-o", "json_output=true", "-e", cap]
    rc, want, _e, _s = run_saker(exe, args, timeout=120)
    p = subprocess.run(["unshare", "-m", "sh", "-c",
                        'mount -t tmpfs none /proc && mount -t tmpfs none /etc && exec "$@"',
                        "sh", exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120,
                       # a sanitizer build's leak checker needs /proc itself
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    if p.returncode != 0 and b"mount" in p.stderr and b"saker" not in p.stderr:
        raise SkipCase("cannot mount in a private namespace: %s" % p.stderr.decode()[-200:])
    c.eq("exit status without /proc and /etc", p.returncode, 0)
    c.ok(p.stdout == want, "alerts differ without the host's /proc and /etc:\n" +
         first_diff(want, p.stdout))


def case_copy_identical(c, exe, workdir, cap):
    """Replaying a capture while writing one (-e IN -w OUT, same rules, no filter) gives the
    same file byte for byte: the snapshot reloaded and written again, every journal answer
    used at the same event, every record kept as it was."""
    copy = os.path.join(workdir, "copy.cap")
    rc, _out, err, _s = run_saker(exe, ["-r", STABLE_RULES, "-o", "stdout_output.enabled=false",
                                        "-e", cap, "-w", copy], timeout=120)
    c.eq("exit status", rc, 0)
    a, b = open(cap, "rb").read(), open(copy, "rb").read()
    c.ok(a == b, "the copy differs (%d vs %d bytes, first at byte %s)" % (
        len(a), len(b), next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), "end")))


def case_hostname_override(c, exe, workdir, cap):
    rc, out, _e, _s = run_saker(exe, ["-r", STABLE_RULES, "-o", "json_output=true", "-e", cap],
                                timeout=120, env=dict(os.environ, SAKER_HOSTNAME="replay-host"))
    c.eq("exit status", rc, 0)
    names = {json.loads(ln).get("hostname") for ln in out.splitlines()}
    c.eq("hostnames with SAKER_HOSTNAME", names, {"replay-host"})


def case_write_errors(c, exe, workdir):
    """-w to a full device: the capture stops with one error, the sensor goes on and exits
    0; -w into a missing directory: exit 1 at start, naming the file."""
    token = uuid.uuid4().hex[:12]
    s, live = record(exe, ["-r", STABLE_RULES, "-o", "json_output=true", "-w", "/dev/full"],
                     token, workdir, "full")
    try:
        err = s.stderr()
        # one error, whenever the first write reaches the device: during the run (the
        # 256 KiB buffer filled) or at exit (a quiet machine never filled it)
        c.eq("capture write errors", err.count("write failed") +
             err.count("the capture is incomplete"), 1)
        c.ok(lines_with(live, token), "the sensor stopped alerting after the capture failed")
    finally:
        s.cleanup()
    rc, _out, err, _s = run_saker(exe, ["-o", "rules_files=", "-w", "/nonexistent-dir/x.cap",
                                        "-M", "1"], timeout=60)
    c.eq("exit status for an unwritable -w", rc, 1)
    c.ok("/nonexistent-dir/x.cap" in err, "the error does not name the file:\n" + err[-500:])


def main():
    exe = sensor_from_argv()
    if not os.path.exists(STABLE_RULES):
        skip_all("the stable ruleset is not at %s" % STABLE_RULES)
    tap = Tap()
    workdir = tempfile.mkdtemp(prefix="saker-e2e-capture-")
    try:
        cap = tap.case("stable ruleset: replayed alerts equal live alerts (plain file)",
                       case_alerts_equal, exe, workdir, ".cap")
        tap.case("gzip capture, text alerts: live and two replays byte-identical",
                 case_text_replays_identical, exe, workdir)
        tap.case("--dump=json of a replay equals the live dump", case_dump_equal, exe, workdir)
        tap.case("--capture-filter keeps the matching events and the state",
                 case_filter, exe, workdir)
        tap.case("write errors: the capture stops, the sensor goes on",
                 case_write_errors, exe, workdir)
        if cap:
            tap.case("a cut capture: events before the cut processed, error with the offset",
                     case_truncated, exe, workdir, cap)
            tap.case("replay reads nothing from the host (empty /proc and /etc)",
                     case_no_host_reads, exe, workdir, cap)
            tap.case("-e IN -w OUT: the copy is byte-identical to IN",
                     case_copy_identical, exe, workdir, cap)
            tap.case("SAKER_HOSTNAME overrides the capture's host name in replay",
                     case_hostname_override, exe, workdir, cap)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
