#!/usr/bin/env python3
"""The alert outputs end to end: the real binary as root, a rule that fires on opens of files
this test makes (hostile names included), and every channel on at once.

    python3 tests/e2e/test_outputs.py build/src/saker

1. All channels together: stdout, file (kept open; SIGUSR1 reopens it), syslog (a datagram
   receiver of this test on a temporary socket: syslog_output.socket), program (a shell
   script appending each line to a file) and http (a Python http.server on 127.0.0.1). Each
   must receive the very same alert line, which must be a JSON object with the file name
   exactly as created (newline, quotes, backslash, invalid UTF-8 as U+FFFD).
2. syslog into a real rsyslogd (from apt; skipped, loudly, if it is not installed).
3. A stalled HTTP receiver (accepts, never reads): stdout alerts still arrive within 1 s of
   their trigger, the http output's drops and failures show in the exit counters, and the
   exit is bounded by the drain deadline.
4. stdout a pipe nobody reads: the file output still receives every alert, and SIGTERM
   still ends saker on time, with what stdout could not take counted.

Standard library only; prints TAP."""

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Sensor, Tap, sensor_from_argv  # noqa: E402

WAIT = 5.0

RULE = """- rule: Output test open
  desc: a file of the outputs test was opened
  condition: evt.type in (open, openat) and fd.name startswith %(prefix)s
  output: "output test: %%proc.name opened %%fd.name (pid=%%proc.pid)"
  priority: WARNING
  tags: [test, outputs]
"""

def output_counters(stderr_text, when="exit"):
    """{'http': {'sent': 3, ...}, ...} from the '<when>: output NAME: k=v ...' lines."""
    out = {}
    for line in stderr_text.splitlines():
        m = re.match(r"saker: info: %s: output (\w+): (.*)$" % when, line)
        if m:
            out[m.group(1)] = {k: int(v) for k, v in
                               (kv.split("=", 1) for kv in m.group(2).split())}
    return out


def read_lines(path):
    try:
        with open(path, "rb") as f:
            return [ln for ln in f.read().split(b"\n") if ln]
    except FileNotFoundError:
        return []


def trigger(path_bytes):
    """Opens (and so creates) the file: the rule fires on the open."""
    fd = os.open(path_bytes, os.O_RDONLY | os.O_CREAT, 0o600)
    os.close(fd)


def expected_name(path_bytes):
    """fd.name as a JSON alert carries it: invalid UTF-8 bytes become U+FFFD each."""
    return path_bytes.decode("utf-8", "replace")


# ------------------------------------------------------------------------ receivers


class SyslogReceiver:
    """A datagram socket where syslog_output.socket points; keeps every message."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.msgs = []
        self.stop = False
        self.thr = threading.Thread(target=self._run, daemon=True)
        self.thr.start()

    def _run(self):
        while not self.stop:
            try:
                self.msgs.append(self.sock.recv(65536))
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.stop = True
        self.thr.join()
        self.sock.close()


class HttpReceiver:
    """http.server on 127.0.0.1, an ephemeral port: keeps each POST's body and headers."""

    def __init__(self):
        recv = self
        self.posts = []  # (path, headers dict, body bytes)
        self.conns = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def setup(self):
                super().setup()
                with recv.lock:
                    recv.conns += 1

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with recv.lock:
                    recv.posts.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.thr = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thr.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class StalledReceiver:
    """Accepts TCP connections and never reads from them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop = False
        self.thr = threading.Thread(target=self._run, daemon=True)
        self.thr.start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.held.append(c)
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.stop = True
        self.thr.join()
        for c in self.held:
            c.close()
        self.sock.close()


# ------------------------------------------------------------------------ the runs


def wait_until(pred, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(0.02)


def all_channels(tap, exe, work):
    d = os.path.join(work, "all")
    os.mkdir(d)
    token = uuid.uuid4().hex[:8]
    prefix = os.path.join(d, "trigger-" + token)
    rules = os.path.join(d, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULE % {"prefix": prefix})
    alerts_file = os.path.join(d, "alerts.log")
    prog_out = os.path.join(d, "program.out")
    script = os.path.join(d, "append.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nwhile IFS= read -r line; do printf '%%s\\n' \"$line\" >> %s; done\n"
                % prog_out)
    os.chmod(script, 0o755)
    syslog = SyslogReceiver(os.path.join(d, "log.sock"))
    web = HttpReceiver()
    s = Sensor(exe, name="outputs", extra_args=[
        "--dump=none", "-r", rules, "-o", "json_output=true",
        "-o", "stdout_output.enabled=true",
        "-o", "file_output.enabled=true", "-o", "file_output.keep_alive=true",
        "-o", "file_output.filename=" + alerts_file,
        "-o", "syslog_output.enabled=true", "-o", "syslog_output.socket=" + syslog.path,
        "-o", "program_output.enabled=true", "-o", "program_output.keep_alive=true",
        "-o", "program_output.program=" + script,
        "-o", "http_output.enabled=true",
        "-o", "http_output.url=http://127.0.0.1:%d/saker/alerts" % web.port,
        "-o", "http_output.headers=[X-Test: outputs e2e]",
    ])
    names = [
        (prefix + "-plain").encode(),
        (prefix + "-newline\nfake: alert").encode(),
        (prefix + "-quotes\"'`$(x)\\n").encode(),
        (prefix + "-bad-utf8-").encode() + b"\xff\xfe\xc3(",
        (prefix + "-unicode-\u00e9\u4e2d").encode(),
    ]
    try:
        s.start()
        if not s.wait_ready():
            tap.report("the sensor starts with every output on", [
                "not ready (rc %r); stderr:\n%s" % (s.rc, s.stderr()[-3000:])])
            return
        for n in names:
            trigger(n)

        # stdout: the reference every other channel is compared with
        def stdout_alerts():
            s.poll()
            found = {}
            for ev in s.events:
                name = ev.get("output_fields", {}).get("fd.name", "")
                if name.startswith(prefix):
                    found.setdefault(name, ev)
            return found if len(found) >= len(names) else None

        got = wait_until(stdout_alerts) or {}
        problems = []
        for n in names:
            if expected_name(n) not in got:
                problems.append("no stdout alert for %r" % n)
        for ev in got.values():
            if ev.get("rule") != "Output test open" or ev.get("priority") != "Warning":
                problems.append("unexpected alert: %r" % ev)
            if sorted(ev.get("tags", [])) != ["outputs", "test"]:
                problems.append("tags: %r" % ev.get("tags"))
        if s.bad_lines:
            problems.append("stdout lines that are not JSON: %r" % s.bad_lines[:3])
        tap.report("stdout: one JSON alert per trigger, hostile names intact", problems)

        with open(s.out_path, "rb") as f:
            ref = sorted(ln for ln in f.read().split(b"\n") if prefix.encode() in ln)

        def compare(what, lines):
            """Every reference line received, byte for byte, each a JSON object."""
            problems = []
            mine = sorted(ln for ln in lines if prefix.encode() in ln)
            if mine != ref:
                problems.append("%s received %d alerts, stdout %d; the first differing:\n%r\n%r"
                                % (what, len(mine), len(ref),
                                   next((a for a in mine if a not in ref), None),
                                   next((a for a in ref if a not in mine), None)))
            for ln in mine:
                try:
                    if not isinstance(json.loads(ln.decode("utf-8")), dict):
                        raise ValueError("not an object")
                except (ValueError, UnicodeDecodeError) as e:
                    problems.append("%s: not JSON (%s): %r" % (what, e, ln[:200]))
            return problems

        def wait_compare(what, get):
            wait_until(lambda: len([x for x in get() if prefix.encode() in x]) >= len(ref))
            return compare(what, get())

        problems = wait_compare("file", lambda: read_lines(alerts_file))
        st = os.stat(alerts_file)
        if st.st_mode & 0o777 != 0o600:
            problems.append("alerts file mode %o, expected 600" % (st.st_mode & 0o777))
        tap.report("file: the same alerts, one per line, mode 0600", problems)

        def syslog_msgs():
            out = []
            for m in list(syslog.msgs):
                mm = re.match(rb"<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d saker\[(\d+)\]: (.*)$",
                              m, re.S)
                out.append((int(mm.group(1)), int(mm.group(2)), mm.group(3)) if mm
                           else (None, None, m))
            return out

        problems = wait_compare("syslog", lambda: [x[2] for x in syslog_msgs()])
        for pri, pid, body in syslog_msgs():
            if prefix.encode() not in body:
                continue
            if pri != 1 * 8 + 4:
                problems.append("syslog: <PRI> %r, expected 12 (user.warning): %r" % (pri, body[:80]))
            if pid != s.pid:
                problems.append("syslog: tag pid %r, expected %d" % (pid, s.pid))
        tap.report("syslog: the same alerts as '<12>Mmm dd hh:mm:ss saker[PID]: ...'",
                   problems)

        tap.report("program: the same alerts on its stdin, one per line",
                   wait_compare("program", lambda: read_lines(prog_out)))

        def bodies():
            with web.lock:
                return [p[2] for p in web.posts]

        problems = wait_compare("http", bodies)
        with web.lock:
            for path, hdrs, body in web.posts:
                h = {k.lower(): v for k, v in hdrs.items()}
                if path != "/saker/alerts":
                    problems.append("http: path %r" % path)
                if h.get("content-type") != "application/json":
                    problems.append("http: Content-Type %r" % h.get("content-type"))
                if h.get("x-test") != "outputs e2e":
                    problems.append("http: X-Test %r" % h.get("x-test"))
                if not h.get("user-agent", "").startswith("saker/"):
                    problems.append("http: User-Agent %r" % h.get("user-agent"))
            if web.conns != 1:
                problems.append("http: %d connections for %d requests (keep-alive expected)"
                                % (web.conns, len(web.posts)))
        tap.report("http: the same alerts POSTed as application/json on one connection",
                   problems)

        # logrotate: move the file away, SIGUSR1, the next alert goes to a new file
        rotated = alerts_file + ".1"
        os.rename(alerts_file, rotated)
        os.kill(s.pid, signal.SIGUSR1)
        time.sleep(0.2)
        after = (prefix + "-after-rotate").encode()
        trigger(after)
        fresh = wait_until(lambda: [ln for ln in read_lines(alerts_file)
                                    if b"-after-rotate" in ln])
        problems = []
        if not fresh:
            problems.append("no alert in the new %s after SIGUSR1" % alerts_file)
        elif os.stat(alerts_file).st_mode & 0o777 != 0o600:
            problems.append("the new file's mode is not 0600")
        if any(b"-after-rotate" in ln for ln in read_lines(rotated)):
            problems.append("the alert after SIGUSR1 went to the rotated file")
        if len([ln for ln in read_lines(rotated) if prefix.encode() in ln]) != len(ref):
            problems.append("the rotated file lost alerts")
        tap.report("SIGUSR1 reopens the file output (log rotation)", problems)
    finally:
        rc = s.stop()
        syslog.close()
        web.close()
    err = s.stderr()
    cnt = output_counters(err)
    problems = []
    if rc != 0:
        problems.append("exit status %r" % rc)
    want = len(names) + 1
    for ch in ("stdout", "file", "syslog", "program", "http"):
        c = cnt.get(ch)
        if c is None:
            problems.append("no exit counters for the %s output" % ch)
            continue
        if c["sent"] != want or c["dropped"] or c["failed"] or c["dropped_exit"]:
            problems.append("%s: %r (expected sent=%d and nothing lost)" % (ch, c, want))
    if cnt.get("file", {}).get("reconnects") != 1:
        problems.append("file: reconnects %r, expected 1 (the SIGUSR1)"
                        % cnt.get("file", {}).get("reconnects"))
    tap.report("exit: every output sent every alert, nothing dropped or failed", problems,
               notes=["counters: %r" % cnt])
    s.cleanup()


RSYSLOG_CONF = """global(workDirectory="%(dir)s/work")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="%(dir)s/log.sock" CreatePath="on" RateLimit.Interval="0")
template(name="raw" type="string" string="%%syslogtag%%|%%syslogseverity%%|%%syslogfacility%%|%%msg%%\\n")
*.* action(type="omfile" file="%(dir)s/messages" template="raw")
"""


def rsyslog(tap, exe, work):
    rsyslogd = shutil.which("rsyslogd", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not rsyslogd:
        sys.stderr.write("test_outputs: rsyslogd not installed (scripts/setup-deps installs "
                         "it): the rsyslog case is skipped\n")
        tap.report("syslog into a real rsyslogd", skip="rsyslogd is not installed (apt "
                   "install rsyslog; scripts/setup-deps does)")
        return
    d = os.path.join(work, "rsyslog")
    os.makedirs(os.path.join(d, "work"))
    conf = os.path.join(d, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(RSYSLOG_CONF % {"dir": d})
    rs = subprocess.Popen([rsyslogd, "-n", "-f", conf, "-i", os.path.join(d, "pid")],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=open(os.path.join(d, "rsyslogd.err"), "wb"))
    token = uuid.uuid4().hex[:8]
    prefix = os.path.join(d, "trigger-" + token)
    rules = os.path.join(d, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULE % {"prefix": prefix})
    sock = os.path.join(d, "log.sock")
    s = Sensor(exe, name="rsyslog", extra_args=[
        "--dump=none", "-r", rules, "-o", "json_output=true",
        "-o", "syslog_output.enabled=true", "-o", "syslog_output.socket=" + sock,
        "-o", "syslog_output.facility=local3"])
    problems = []
    try:
        if not wait_until(lambda: os.path.exists(sock)):
            problems.append("rsyslogd did not create %s" % sock)
            return
        s.start()
        if not s.wait_ready():
            problems.append("the sensor is not ready: %s" % s.stderr()[-2000:])
            return
        name = (prefix + "-quote\"-nl\n-bad").encode() + b"\xff"
        trigger(name)
        ev = s.wait_for(lambda e: e.get("output_fields", {}).get("fd.name", "")
                        .startswith(prefix))
        if ev is None:
            problems.append("no stdout alert")
            return
        line = wait_until(lambda: [ln for ln in read_lines(os.path.join(d, "messages"))
                                   if prefix.encode() in ln], timeout=10)
        if not line:
            problems.append("rsyslogd wrote no line with the alert; its file: %r"
                            % read_lines(os.path.join(d, "messages"))[-5:])
            return
        tag, sev, fac, msg = line[0].split(b"|", 3)
        if not re.match(rb"saker\[\d+\]:$", tag):
            problems.append("syslog tag %r" % tag)
        if (sev, fac) != (b"4", b"19"):
            problems.append("severity/facility %r/%r, expected 4 (warning) / 19 (local3)"
                            % (sev, fac))
        try:
            got = json.loads(msg.strip().decode("utf-8"))
            if got != ev:
                problems.append("rsyslog's alert differs from stdout's:\n%r\n%r" % (got, ev))
        except (ValueError, UnicodeDecodeError) as e:
            problems.append("rsyslog's message is not JSON (%s): %r" % (e, msg[:200]))
    finally:
        s.stop()
        rs.terminate()
        try:
            rs.wait(10)
        except subprocess.TimeoutExpired:
            rs.kill()
        tap.report("syslog into a real rsyslogd: the alert JSON, severity and facility",
                   problems)
        s.cleanup()


def stalled_http(tap, exe, work):
    d = os.path.join(work, "stalled")
    os.mkdir(d)
    token = uuid.uuid4().hex[:8]
    prefix = os.path.join(d, "trigger-" + token)
    rules = os.path.join(d, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULE % {"prefix": prefix})
    stall = StalledReceiver()
    timeout_ms = 500
    s = Sensor(exe, name="stalled", extra_args=[
        "--dump=none", "-r", rules, "-o", "json_output=true",
        "-o", "http_output.enabled=true",
        "-o", "http_output.url=http://127.0.0.1:%d/" % stall.port,
        "-o", "outputs_queue.capacity=5", "-o", "output_timeout=%d" % timeout_ms])
    n = 40
    lat = []
    try:
        s.start()
        if not s.wait_ready():
            tap.report("stalled http receiver: the sensor starts", [s.stderr()[-2000:]])
            return
        for i in range(n):
            name = "%s-%03d" % (prefix, i)
            t0 = time.monotonic()
            trigger(name.encode())
            ev = s.wait_for(lambda e, name=name: e.get("output_fields", {}).get("fd.name")
                            == name, timeout=3.0)
            lat.append(time.monotonic() - t0 if ev else None)
            time.sleep(0.02)
    finally:
        rc = s.stop()
        stall.close()
    err = s.stderr()
    got = [x for x in lat if x is not None]
    problems = []
    if len(got) != n:
        problems.append("%d of %d stdout alerts missing" % (n - len(got), n))
    if got and max(got) > 1.0:
        problems.append("slowest stdout alert %.3f s after its trigger (> 1 s)" % max(got))
    got.sort()
    notes = ["stdout alert latency from the open: median %.1f ms, max %.1f ms (n=%d)"
             % (1000 * got[len(got) // 2], 1000 * got[-1], len(got))] if got else []
    tap.report("stalled http receiver: stdout alerts still within 1 s of their trigger",
               problems, notes=notes)

    cnt = output_counters(err).get("http")
    problems = []
    if rc != 0:
        problems.append("exit status %r" % rc)
    if not cnt:
        problems.append("no exit counters for the http output")
    else:
        if cnt["dropped"] < n // 2:
            problems.append("dropped=%d, expected most of %d (queue of 5)" % (cnt["dropped"], n))
        if cnt["sent"]:
            problems.append("sent=%d to a receiver that never answers" % cnt["sent"])
        total = cnt["sent"] + cnt["dropped"] + cnt["failed"] + cnt["dropped_exit"]
        if total != n:
            problems.append("sent+dropped+failed+dropped_exit = %d, expected %d: %r"
                            % (total, n, cnt))
    if "alerts dropped on the http output" not in err:
        problems.append("no log line about the http drops")
    stdout_cnt = output_counters(err).get("stdout", {})
    if stdout_cnt.get("sent") != n:
        problems.append("stdout sent %r, expected %d" % (stdout_cnt.get("sent"), n))
    if s.stop_seconds is not None and s.stop_seconds > timeout_ms / 1000.0 + 3:
        problems.append("the exit took %.1f s (drain deadline %d ms)"
                        % (s.stop_seconds, timeout_ms))
    tap.report("stalled http receiver: its drops and failures in the exit counters; "
               "bounded exit", problems,
               notes=["http counters: %r; exit took %.2f s" % (cnt, s.stop_seconds or 0)])
    s.cleanup()


def stalled_stdout(tap, exe, work):
    """stdout is a pipe nobody reads: the file output still gets every alert, and SIGTERM
    still ends saker on time, with stdout's undelivered alerts counted."""
    d = os.path.join(work, "stdout")
    os.mkdir(d)
    prefix = os.path.join(d, "trigger-" + uuid.uuid4().hex[:8])
    rules = os.path.join(d, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULE % {"prefix": prefix})
    alerts_file = os.path.join(d, "alerts.log")
    err_path = os.path.join(d, "stderr.txt")
    rd, wr = os.pipe()  # saker's stdout; this test never reads rd
    n = 400
    with open(err_path, "wb") as err:
        p = subprocess.Popen([exe, "-M", "60", "-r", rules, "-o", "json_output=true",
                              "-o", "file_output.enabled=true",
                              "-o", "file_output.filename=" + alerts_file,
                              "-o", "output_timeout=500"],
                             stdin=subprocess.DEVNULL, stdout=wr, stderr=err)
    os.close(wr)
    problems = []
    try:
        if not wait_until(lambda: "saker: info: ready: " in open(err_path).read(), 15):
            problems.append("not ready: " + open(err_path).read()[-2000:])
            return
        for i in range(n):  # about 150 KB of alerts: more than a pipe holds
            trigger(("%s-%03d" % (prefix, i)).encode())
        got = wait_until(lambda: len(read_lines(alerts_file)) >= n, timeout=10)
        if not got:
            problems.append("the file output got %d of %d alerts while stdout was blocked"
                            % (len(read_lines(alerts_file)), n))
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = "hung"
        took = time.monotonic() - t0
        if rc != 0:
            problems.append("exit status %r" % rc)
        if took > 3.0:
            problems.append("the exit took %.1f s with stdout blocked (deadline 0.5 s)" % took)
        err = open(err_path, encoding="utf-8", errors="replace").read()
        c = output_counters(err).get("stdout")
        if not c:
            problems.append("no stdout exit counters")
        else:
            total = c["sent"] + c["dropped"] + c["failed"] + c["dropped_exit"]
            if total != n or c["dropped_exit"] == 0:
                problems.append("stdout counters %r: expected undelivered alerts in "
                                "dropped_exit and a total of %d" % (c, n))
        if "stdout output has been blocked for more than 500 ms" not in err:
            problems.append("no log line about the blocked stdout")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(rd)
        tap.report("stdout nobody reads: the file output still gets every alert; SIGTERM "
                   "exits on time, stdout's losses counted", problems)


def config_errors(tap, exe, work):
    cases = [
        (["-o", "file_output.enabled=true"],
         "key 'file_output.enabled' is true but 'file_output.filename' is not set"),
        (["-o", "http_output.enabled=true", "-o", "http_output.url=ftp://x.example/"],
         "is not an http:// or https:// URL"),
        (["-o", "http_output.enabled=true", "-o", "http_output.url=https://x.example/",
          "-o", "http_output.ca_cert=/nonexistent/ca.pem"],
         "http_output: CA certificate '/nonexistent/ca.pem'"),
        (["-o", "http_output.enabled=true", "-o", "http_output.url=https://x.example/",
          "-o", "http_output.mtls=true"],
         "key 'http_output.mtls' is true but 'http_output.client_cert'"),
        (["-o", "program_output.enabled=true"],
         "'program_output.program' is not set"),
        (["-o", "http_output.headers=[Bad Header]"], "key 'http_output.headers'"),
    ]
    problems = []
    for args, want in cases:
        p = subprocess.run([exe, "-M", "1"] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode != 2 or want not in err:
            problems.append("%s: exit %d, expected 2 and %r; stderr:\n%s"
                            % (" ".join(args), p.returncode, want, err[-500:]))
    tap.report("output configuration errors name the key and exit 2", problems)


def main():
    exe = sensor_from_argv()
    tap = Tap()
    work = tempfile.mkdtemp(prefix="saker-e2e-outputs-")
    try:
        all_channels(tap, exe, work)
        rsyslog(tap, exe, work)
        stalled_http(tap, exe, work)
        stalled_stdout(tap, exe, work)
        config_errors(tap, exe, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
