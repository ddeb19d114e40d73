#!/usr/bin/env python3
"""The embedded HTTP listener of the real binary, as root: /healthz, /metrics parsed line by
line against the Prometheus text format, counters that rise with the test's own syscalls,
the alert count of a rule with a hostile name, 404/405, a slow client that never finishes
its head, a port already taken, and the config errors for bad webserver keys.

    python3 tests/e2e/test_webserver.py build/src/saker
"""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Tap, run_saker, sensor_from_argv  # noqa: E402

# A rule name with a double quote, a backslash and a newline: each must be escaped in the
# label value.
RULE_NAME = 'Web "test" rule \\ with\nnewline'
RULES = """- rule: "Web \\"test\\" rule \\\\ with\\nnewline"
  desc: webserver e2e test rule
  condition: evt.type in (open, openat) and fd.name startswith %(prefix)s
  output: "opened %%fd.name"
  priority: WARNING
"""

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)"
SAMPLE_RE = re.compile(r"^(%s)(\{(?:%s(?:,%s)*,?)?\})? (%s)(?: -?[0-9]+)?$" %
                       (NAME, LABEL, LABEL, VALUE))
HELP_RE = re.compile(r"^# HELP (%s) (?:[^\\\n]|\\[\\n])*$" % NAME)
TYPE_RE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)
LABEL_PAIR_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], v)


def parse_exposition(text):
    """(samples, problems): samples maps (name, frozenset of label pairs) to a float."""
    samples, problems, types = {}, [], {}
    if not text.endswith("\n"):
        problems.append("the exposition does not end with a newline")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            if not HELP_RE.match(line):
                problems.append("line %d: bad HELP: %r" % (n, line))
            continue
        if line.startswith("# TYPE "):
            m = TYPE_RE.match(line)
            if not m:
                problems.append("line %d: bad TYPE: %r" % (n, line))
            elif m.group(1) in types:
                problems.append("line %d: a second TYPE for %s" % (n, m.group(1)))
            else:
                types[m.group(1)] = m.group(2)
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            problems.append("line %d: not a sample line: %r" % (n, line))
            continue
        name = m.group(1)
        if name not in types:
            problems.append("line %d: %s has no TYPE before it" % (n, name))
        elif types[name] == "counter" and not name.endswith("_total"):
            problems.append("line %d: counter %s does not end in _total" % (n, name))
        labels = frozenset((k, unescape(v)) for k, v in LABEL_PAIR_RE.findall(m.group(2) or ""))
        key = (name, labels)
        if key in samples:
            problems.append("line %d: duplicate sample %r" % (n, line))
        samples[key] = float(m.group(3))
    return samples, problems


def get(port, path, method="GET", body=None, timeout=5.0):
    """(status, headers dict lowercased, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def wait_log(path, pattern, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, open(path, encoding="utf-8", errors="replace").read())
        if m:
            return m
        time.sleep(0.05)
    return None


def scrape(port):
    status, hdrs, body = get(port, "/metrics")
    samples, problems = parse_exposition(body.decode("utf-8"))
    return status, hdrs, samples, problems


def main():
    exe = sensor_from_argv()
    tap = Tap()
    d = tempfile.mkdtemp(prefix="saker-web-")
    prefix = os.path.join(d, "tok")
    rules = os.path.join(d, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES % {"prefix": prefix})

    # config errors first: no sensor needed
    for kv, want in (("webserver.listen_address=localhost", "not a host name"),
                     ("webserver.listen_address=1.2.3", "IPv4 or IPv6"),
                     ("webserver.listen_port=70000", "out of range"),
                     ("webserver.k8s_healthz_endpoint=healthz", "starting with '/'"),
                     ("webserver.enabled=maybe", "expected true or false")):
        rc, _, err, _ = run_saker(exe, ["-o", kv, "--print-config"])
        key = kv.split("=")[0]
        tap.report("config error: %s" % kv,
                   [] if rc == 2 and key in err and want in err else
                   ["expected exit 2 naming %s and %r; got %r: %s" % (key, want, rc, err)])

    out, err = os.path.join(d, "out"), os.path.join(d, "err")
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen([exe, "-r", rules, "-U", "-M", "120", "-o", "json_output=true",
                              "-o", "webserver.listen_port=0"], stdout=o, stderr=e)
    slow = []
    try:
        m = wait_log(err, r"webserver: listening on 127\.0\.0\.1:(\d+) \(/healthz, /metrics\)")
        ready = wait_log(err, r"ready: ")
        if not m or not ready:
            tap.report("sensor ready with its webserver", ["no listening/ready line:\n" +
                                                           open(err).read()[-2000:]])
            return tap.finish()
        port = int(m.group(1))
        tap.report("sensor ready with its webserver", [])

        # /healthz: 200 once events flow
        deadline, st = time.monotonic() + 5, None
        while time.monotonic() < deadline:
            st, hdrs, body = get(port, "/healthz")
            if st == 200:
                break
            time.sleep(0.1)
        tap.report("/healthz is 200 {\"status\":\"ok\"}",
                   [] if st == 200 and body == b'{"status":"ok"}\n' and
                   hdrs.get("content-type") == "application/json" else
                   ["got %r %r %r" % (st, hdrs, body)])
        st, hdrs, body = get(port, "/healthz", method="HEAD")
        tap.report("HEAD /healthz: 200, no body",
                   [] if st == 200 and body == b"" and hdrs.get("content-length") == "16"
                   else ["got %r %r %r" % (st, hdrs, body)])

        st, hdrs, body = get(port, "/versions")
        problems = []
        try:
            v = json.loads(body)
            want = subprocess.run([exe, "--version", "-o", "json_output=true"],
                                  capture_output=True, timeout=30).stdout
            if v != json.loads(want):
                problems.append("/versions %r, --version says %r" % (v, want))
            if not isinstance(v.get("version"), str) or not isinstance(v.get("event_abi"), int):
                problems.append("/versions %r lacks version or event_abi" % v)
        except ValueError as e:
            problems.append("not JSON: %r (%s)" % (body, e))
        if st != 200 or hdrs.get("content-type") != "application/json":
            problems.append("status %r, type %r" % (st, hdrs.get("content-type")))
        tap.report("/versions: the --version JSON", problems)

        # /metrics: every line in the grammar, the families present
        st, hdrs, s1, problems = scrape(port)
        if st != 200:
            problems.append("status %r" % st)
        if hdrs.get("content-type") != "text/plain; version=0.0.4; charset=utf-8":
            problems.append("content type %r" % hdrs.get("content-type"))
        for name, labels in (("saker_kernel_events_total", {}),
                             ("saker_kernel_drops_total", {"reason": "ringbuf_full"}),
                             ("saker_kernel_drops_total", {"reason": "too_large"}),
                             ("saker_kernel_drops_total", {"reason": "read_fail"}),
                             ("saker_decode_errors_total", {"reason": "short"}),
                             ("saker_ringbuf_fill_ratio", {}),
                             ("saker_processes", {}), ("saker_threads", {}), ("saker_fds", {}),
                             ("saker_proc_evictions_total", {}),
                             ("saker_rule_eval_seconds_total", {}),
                             ("saker_build_info", {"version": re.search(
                                 r"version: '([^']+)'",
                                 open(os.path.join(os.path.dirname(__file__),
                                                   "../../meson.build")).read()).group(1)})):
            v = metric(s1, name, **labels)
            if v is None:
                problems.append("no sample %s%r" % (name, labels))
        fill = metric(s1, "saker_ringbuf_fill_ratio")
        if fill is not None and not 0 <= fill <= 1:
            problems.append("fill ratio %r out of [0, 1]" % fill)
        if (metric(s1, "saker_processes") or 0) < 10:
            problems.append("saker_processes %r: expected the host's processes" %
                            metric(s1, "saker_processes"))
        tap.report("/metrics: every line is in the exposition format (%d samples)" % len(s1),
                   problems)

        # counters rise with the test's syscalls; the rule's alerts are counted by name
        before = metric(s1, "saker_events_total", type="openat") or 0
        kernel_before = metric(s1, "saker_kernel_events_total") or 0
        for i in range(3):
            with open(prefix + str(i), "w"):
                pass
        for i in range(200):
            with open("/etc/hostname"):
                pass
        problems, s2 = [], {}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            _, _, s2, problems = scrape(port)
            # /metrics is read between drains: what the last millisecond brought may
            # not be in yet
            if (metric(s2, "saker_alerts_total", rule=RULE_NAME, priority="Warning") == 3
                    and (metric(s2, "saker_events_total", type="openat") or 0) >= before + 203
                    and (metric(s2, "saker_output_sent_total", channel="stdout") or 0) >= 3):
                break
            time.sleep(0.1)
        after = metric(s2, "saker_events_total", type="openat") or 0
        if after < before + 200:
            problems.append("saker_events_total{type=openat}: %r then %r (expected +203)" %
                            (before, after))
        if (metric(s2, "saker_kernel_events_total") or 0) < kernel_before + 200:
            problems.append("saker_kernel_events_total did not rise by 200")
        tap.report("counters rise with the test's opens", problems)
        got = metric(s2, "saker_alerts_total", rule=RULE_NAME, priority="Warning")
        tap.report("saker_alerts_total for a rule named with a quote, a backslash and a "
                   "newline", [] if got == 3 else
                   ["expected 3, got %r; alert samples: %r" %
                    (got, [k for k in s2 if k[0] == "saker_alerts_total"])])
        sent = metric(s2, "saker_output_sent_total", channel="stdout")
        tap.report("saker_output_sent_total{channel=stdout} counts the alerts",
                   [] if sent is not None and sent >= 3 else ["got %r" % sent])
        if (metric(s2, "saker_rule_eval_events_total") or 0) >= 64:
            tap.report("saker_rule_eval_seconds_total is measured",
                       [] if (metric(s2, "saker_rule_eval_seconds_total") or 0) > 0 else
                       ["0 after %r evaluated events" %
                        metric(s2, "saker_rule_eval_events_total")])

        # other paths and methods
        problems = []
        for method, path, body, want in (("GET", "/nope", None, 404),
                                         ("GET", "/metrics/", None, 404),
                                         ("POST", "/metrics", b"x" * 100000, 405),
                                         ("PUT", "/healthz", b"{}", 405),
                                         ("GET", "/healthz?verbose=1", None, 200)):
            try:
                st, hdrs, _ = get(port, path, method=method, body=body)
            except OSError as ex:
                st, hdrs = "error %s" % ex, {}
            if st != want:
                problems.append("%s %s: expected %d, got %r" % (method, path, want, st))
            if want == 405 and hdrs.get("allow") != "GET, HEAD":
                problems.append("%s %s: Allow header %r" % (method, path, hdrs.get("allow")))
        tap.report("404 for other paths, 405 for other methods", problems)

        # slow clients that never finish their head do not block /healthz
        for _ in range(24):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
        time.sleep(0.2)
        t0 = time.monotonic()
        try:
            st, _, _ = get(port, "/healthz", timeout=3)
        except OSError as ex:
            st = "error %s" % ex
        took = time.monotonic() - t0
        tap.report("24 slowloris clients: /healthz still answers at once (%.0f ms)" %
                   (took * 1000), [] if st == 200 and took < 1.0 else
                   ["got %r after %.2f s" % (st, took)])
        # and the sensor closes them at the head deadline (5 s)
        closed = 0
        for s in slow:
            s.settimeout(8)
            try:
                while s.recv(4096):
                    pass
                closed += 1
            except ConnectionResetError:
                closed += 1
            except OSError:
                pass
        tap.report("slow clients are closed at the head deadline",
                   [] if closed == len(slow) else
                   ["%d of %d still open after 8 s" % (len(slow) - closed, len(slow))])

        # a second sensor on the same port: logs why and runs without its webserver
        rc2 = run_second(exe, port, d)
        tap.report("port taken: logged, the sensor runs on without /healthz", rc2)

        st, _, s3, problems = scrape(port)
        if (metric(s3, "saker_http_timeouts_total") or 0) < 1:
            problems.append("saker_http_timeouts_total did not count the slow clients")
        tap.report("the webserver's own counters", problems)
    finally:
        for s in slow:
            s.close()
        p.send_signal(2)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "hung"
    tap.report("clean exit", [] if rc == 0 else ["exit status %r" % rc])
    return tap.finish()


def run_second(exe, port, d):
    err = os.path.join(d, "err2")
    with open(err, "wb") as e:
        q = subprocess.Popen([exe, "-M", "30", "-o", "rules_files=", "-o",
                              "webserver.listen_port=%d" % port], stdout=subprocess.DEVNULL,
                             stderr=e)
    try:
        ready = wait_log(err, r"ready: ")
        text = open(err, encoding="utf-8", errors="replace").read()
        want = "webserver: cannot listen on 127.0.0.1:%d: Address already in use; running " \
               "without /healthz and /metrics" % port
        if not ready or want not in text:
            return ["expected the ready line and %r:\n%s" % (want, text[-2000:])]
        return []
    finally:
        q.send_signal(2)
        try:
            q.wait(20)
        except subprocess.TimeoutExpired:
            q.kill()


if __name__ == "__main__":
    sys.exit(main())
