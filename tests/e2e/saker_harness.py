"""Helpers for saker's privileged end-to-end tests: TAP output, checks that explain their
failures, and a running sensor whose JSON output can be waited on.

Python standard library only. The sensor writes its stdout and stderr to files (not pipes),
so a slow reader here can never stall the sensor and cause kernel-side drops."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

DEFAULT_TIMEOUT = 5.0


# ---------------------------------------------------------------------------- TAP


class Tap:
    """Prints one TAP line per case as it completes and the plan at the end."""

    def __init__(self, out=sys.stdout):
        self.out = out
        self.n = 0
        self.failed = []

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            self.out.write("# " + line + "\n")
        self.out.flush()

    def report(self, name, problems=(), skip=None, notes=()):
        """problems: list of strings; empty means pass. notes: diagnostics shown either way."""
        self.n += 1
        for note in notes:
            self.diag(note)
        if skip:
            self.out.write("ok %d - %s # SKIP %s\n" % (self.n, name, skip))
        elif problems:
            for p in problems:
                self.diag(p)
            self.out.write("not ok %d - %s\n" % (self.n, name))
            self.failed.append(name)
        else:
            self.out.write("ok %d - %s\n" % (self.n, name))
        self.out.flush()
        return not problems

    def case(self, name, fn, *args, todo=None, **kwargs):
        """Runs fn(check, *args) and reports it; an exception fails the case, with its
        traceback. todo: the known bug the case exposes; a failure is then "not ok # TODO"
        (an expected failure) and a pass says the bug seems gone. Returns fn's return
        value (None if it raised)."""
        c = Check()
        ret = None
        try:
            ret = fn(c, *args, **kwargs)
        except SkipCase as e:
            self.report(name, skip=str(e), notes=c.notes)
            return None
        except Exception:  # noqa: BLE001 - any error is the case's failure
            c.fail("exception:\n" + traceback.format_exc().rstrip())
        if todo is None:
            self.report(name, c.problems, notes=c.notes)
            return ret
        self.n += 1
        for note in c.notes:
            self.diag(note)
        if c.problems:
            for p in c.problems:
                self.diag(p)
            self.out.write("not ok %d - %s # TODO %s\n" % (self.n, name, todo))
        else:
            self.diag("known bug no longer seen (remove it from the known bugs?): " + todo)
            self.out.write("ok %d - %s\n" % (self.n, name))
        self.out.flush()
        return ret

    def finish(self):
        self.out.write("1..%d\n" % self.n)
        if self.failed:
            self.diag("%d of %d failed: %s" % (len(self.failed), self.n, ", ".join(self.failed)))
        self.out.flush()
        return 1 if self.failed else 0


def sensor_from_argv(why_root="the sensor needs CAP_BPF and CAP_PERFMON"):
    """The saker binary named by argv[1], checked: "Bail out!" (exit 2) on bad usage; the
    whole suite skipped, loudly, when not root."""
    if len(sys.argv) != 2:
        sys.stdout.write("Bail out! usage: %s PATH/TO/saker\n" % sys.argv[0])
        sys.exit(2)
    exe = os.path.abspath(sys.argv[1])
    if not os.access(exe, os.X_OK):
        sys.stdout.write("Bail out! %s is not an executable\n" % exe)
        sys.exit(2)
    if os.geteuid() != 0:
        skip_all("not running as root (euid %d): %s" % (os.geteuid(), why_root))
    return exe


def skip_all(reason):
    """The whole suite cannot run here: say so loudly, in TAP and on stderr."""
    sys.stderr.write("e2e: SKIPPED: %s\n" % reason)
    sys.stdout.write("1..0 # SKIP %s\n" % reason)
    sys.stdout.flush()
    sys.exit(0)


class SkipCase(Exception):
    pass


class Check:
    """Collects the problems of one case; each says what was expected and what was seen."""

    def __init__(self):
        self.problems = []
        self.notes = []

    def fail(self, msg):
        self.problems.append(msg)
        return False

    def note(self, msg):
        self.notes.append(msg)

    def ok(self, cond, msg):
        if not cond:
            self.fail(msg)
        return bool(cond)

    def eq(self, what, got, want):
        if got != want:
            return self.fail("%s: expected %r, got %r" % (what, want, got))
        return True

    def event(self, ev, what, expect, near=None):
        """Compares an event with expected field values; keys may be dotted ("args.path").
        A missing event is one failure; near (a list of events) shows what was seen
        instead."""
        if ev is None:
            msg = "%s: no matching event seen" % what
            if near is not None:
                msg += "; the closest candidates (%d):" % len(near)
                for e in near[:5]:
                    msg += "\n  " + json.dumps(e, ensure_ascii=False)
            return self.fail(msg)
        ok = True
        for key, want in expect.items():
            got = dig(ev, key)
            if callable(want):
                good = want(got)
                if not good:
                    ok = self.fail("%s: %s = %r does not satisfy %s" % (
                        what, key, got, getattr(want, "__doc__", None) or "the check"))
            elif got != want:
                ok = self.fail("%s: %s: expected %r, got %r" % (what, key, want, got))
        if not ok:
            self.fail("%s: the event was: %s" % (what, json.dumps(ev, ensure_ascii=False)))
        return ok


class _Missing:
    def __repr__(self):
        return "<absent>"


_MISSING = _Missing()


def dig(ev, key):
    """ev["a"]["b"] for key "a.b"; _MISSING if any part is absent."""
    cur = ev
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def nonneg(v):
    """a number >= 0"""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


def positive(v):
    """a number > 0"""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def absent(v):
    """absent"""
    return v is _MISSING


# ---------------------------------------------------------------------------- the sensor


COUNTER_RE = re.compile(r"saker: info: (?P<when>\w+): (?P<part>kernel|daemon): (?P<kv>.*)$")


def parse_counters(stderr_text, when="exit"):
    """{'kernel': {...}, 'daemon': {...}} from the last counter lines of that kind."""
    out = {}
    for line in stderr_text.splitlines():
        m = COUNTER_RE.match(line)
        if not m or m.group("when") != when:
            continue
        vals = {}
        for kv in m.group("kv").split():
            k, _, v = kv.partition("=")
            try:
                vals[k] = int(v)
            except ValueError:
                vals[k] = v
        out[m.group("part")] = vals
    return out


class Sensor:
    """A running saker --dump=json -U. Its output goes to files that are read incrementally;
    events are parsed as they are read and indexed by pid."""

    def __init__(self, exe, extra_args=(), name="sensor", max_seconds=120):
        self.exe = exe
        # -M: should this script die without stopping it, the sensor still ends on its own.
        # No rules: these runs check the event dump and the capture set alone.
        # No listener: another saker on this machine may hold the port (the webserver has
        # tests of its own).
        self.args = [exe, "--dump=json", "-U", "-M", str(max_seconds), "-o",
                     "rules_files=", "-o", "webserver.enabled=false"] + list(extra_args)
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="saker-e2e-out-")
        self.out_path = os.path.join(self.dir, "stdout.jsonl")
        self.err_path = os.path.join(self.dir, "stderr.txt")
        self.proc = None
        self.rc = None
        self.events = []
        self.by_pid = {}
        self.bad_lines = []  # (line number, raw bytes, error)
        self.nlines = 0
        self._partial = b""
        self._out = None
        self.stop_seconds = None

    # -- lifecycle

    def start(self):
        out = open(self.out_path, "wb")
        err = open(self.err_path, "wb")
        try:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, close_fds=True)
        finally:
            out.close()
            err.close()
        self._out = open(self.out_path, "rb")
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self, timeout=15.0):
        """True once the ready line is on stderr; False if the sensor exited or timed out
        (then self.rc is its status, or None if still running)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "saker: info: ready: " in self.stderr():
                return True
            rc = self.proc.poll()
            if rc is not None:
                self.rc = rc
                return "saker: info: ready: " in self.stderr()
            time.sleep(0.02)
        return False

    def stop(self, sig=signal.SIGINT, timeout=20.0):
        """Signals the sensor, waits for it, reads the rest of its output. Returns rc."""
        if self.proc.poll() is None:
            t0 = time.monotonic()
            self.proc.send_signal(sig)
            try:
                self.rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.rc = "hung: killed after %.0fs" % timeout
            self.stop_seconds = time.monotonic() - t0
        else:
            self.rc = self.proc.returncode
        self.poll()
        if self._partial:
            self._add_line(self._partial)
            self._partial = b""
        self._out.close()
        return self.rc

    def cleanup(self):
        """Removes the output files (after the checks are done with them)."""
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # -- reading events

    def _add_line(self, raw):
        self.nlines += 1
        try:
            ev = json.loads(raw.decode("utf-8"))
            if not isinstance(ev, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as e:
            self.bad_lines.append((self.nlines, raw, str(e)))
            return
        self.events.append(ev)
        self.by_pid.setdefault(ev.get("pid"), []).append(ev)

    def poll(self):
        """Reads whatever the sensor wrote since the last call."""
        data = self._out.read()
        if not data:
            return
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for raw in lines:
            self._add_line(raw)

    def find(self, pred, pid=None):
        pool = self.events if pid is None else self.by_pid.get(pid, [])
        for ev in pool:
            if pred(ev):
                return ev
        return None

    def find_all(self, pred, pid=None):
        pool = self.events if pid is None else self.by_pid.get(pid, [])
        return [ev for ev in pool if pred(ev)]

    def wait_for(self, pred, pid=None, timeout=DEFAULT_TIMEOUT):
        """The first event (of pid, if given) matching pred, polling the output until it
        appears; None after timeout or once the sensor has exited with nothing new."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            ev = self.find(pred, pid)
            if ev is not None:
                return ev
            if time.monotonic() >= deadline:
                return None
            if self.proc.poll() is not None:
                self.poll()
                return self.find(pred, pid)
            time.sleep(0.01)


def run_saker(exe, args, timeout=30, **popen_kw):
    """Runs saker to completion: (returncode, stdout bytes, stderr text, seconds)."""
    t0 = time.monotonic()
    p = subprocess.run([exe] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, **popen_kw)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), time.monotonic() - t0


def ev_is(name, **fields):
    """A predicate: event named name whose (dotted) fields equal the given values."""
    def pred(ev):
        if ev.get("event") != name:
            return False
        for k, v in fields.items():
            if dig(ev, k.replace("__", ".")) != v:
                return False
        return True
    return pred
