#!/usr/bin/env python3
"""SIGHUP reloads the configuration and the rules with no gap in detection; a bad new
ruleset is refused with its errors logged and the running rules keep running. The real
binary as root, real opens.

    python3 tests/e2e/test_reload.py build/src/saker
"""

import json
import os
import signal
import subprocess
import sys
import socket
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Tap, sensor_from_argv  # noqa: E402

RULE = """- rule: %(name)s
  desc: reload test
  condition: evt.type in (open, openat) and fd.name startswith %(prefix)s
  output: "%(name)s opened %%fd.name"
  priority: WARNING
"""


def alerts(path):
    out = []
    with open(path, "rb") as f:
        for line in f.read().decode("utf-8", "replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def wait_alert(path, rule, name, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for a in alerts(path):
            if a.get("rule") == rule and a.get("output_fields", {}).get("fd.name") == name:
                return a
        time.sleep(0.05)
    return None


def wait_log(path, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in open(path, encoding="utf-8", errors="replace").read():
            return True
        time.sleep(0.05)
    return False


def wait_file(path, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


def log_count(path, text):
    return open(path, encoding="utf-8", errors="replace").read().count(text)


def wait_count(path, text, more_than, timeout=5.0):
    """Waits until text is in the log more than more_than times; whether it is."""
    deadline = time.monotonic() + timeout
    while log_count(path, text) <= more_than and time.monotonic() < deadline:
        time.sleep(0.05)
    return log_count(path, text) > more_than


def touch(path):
    with open(path, "w"):
        pass
    with open(path):
        pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def metric(port, name, labels):
    """One sample's value from /metrics, or None."""
    try:
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
    except OSError:
        return None
    want = "%s{%s} " % (name, labels)
    for line in body.decode().splitlines():
        if line.startswith(want):
            return float(line[len(want):])
    return None


def watch_cases(tap, exe):
    """watch_config_files: edits of the config or rules files reload without a signal, the
    way editors, configuration tools and Kubernetes ConfigMaps change them."""
    d = tempfile.mkdtemp(prefix="saker-watch-")
    # ConfigMap layout: <dir>/saker.yaml -> ..data/saker.yaml, ..data -> ..ts1
    cm = os.path.join(d, "cm")
    os.makedirs(os.path.join(cm, "..ts1"))

    def cm_write(ts, rule_name, prefix):
        os.makedirs(os.path.join(cm, ts), exist_ok=True)
        with open(os.path.join(cm, ts, "saker.yaml"), "w") as f:
            f.write("rules_files: [rules.yaml]\njson_output: true\n"
                    "webserver:\n  enabled: false\n")
        with open(os.path.join(cm, ts, "rules.yaml"), "w") as f:
            f.write(RULE % {"name": rule_name, "prefix": prefix})

    cm_write("..ts1", "rule W1", os.path.join(d, "w1"))
    os.symlink("..ts1", os.path.join(cm, "..data"))
    for n in ("saker.yaml", "rules.yaml"):
        os.symlink(os.path.join("..data", n), os.path.join(cm, n))
    cfg = os.path.join(cm, "saker.yaml")
    out, err = os.path.join(d, "out"), os.path.join(d, "err")
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen([exe, "-c", cfg, "-U", "-M", "60"], stdout=o, stderr=e)
    try:
        if not wait_log(err, "ready:", 20):
            tap.report("watch: sensor ready", ["no ready line"])
            return
        t1 = os.path.join(d, "w1a")
        touch(t1)
        tap.report("watch: the first rules run",
                   [] if wait_alert(out, "rule W1", t1) else ["no alert from rule W1"])

        # the ConfigMap's atomic swap: a new timestamped dir, ..data renamed over
        cm_write("..ts2", "rule W2", os.path.join(d, "w2"))
        os.symlink("..ts2", os.path.join(cm, "..data_tmp"))
        os.rename(os.path.join(cm, "..data_tmp"), os.path.join(cm, "..data"))
        problems = []
        if not wait_log(err, "config change: reloaded"):
            problems.append("no reload after the ..data swap")
        t2 = os.path.join(d, "w2a")
        touch(t2)
        if not wait_alert(out, "rule W2", t2):
            problems.append("the swapped-in rule W2 does not fire")
        tap.report("watch: a ConfigMap-style ..data swap reloads", problems)

        # an editor's save: a temporary file renamed over the rules file (here the real
        # file behind the symlinks)
        real = os.path.join(cm, "..ts2", "rules.yaml")
        n0 = log_count(err, "config change: reloaded")
        with open(real + ".tmp", "w") as f:
            f.write(RULE % {"name": "rule W3", "prefix": os.path.join(d, "w3")})
        os.rename(real + ".tmp", real)
        problems = []
        if not wait_count(err, "config change: reloaded", n0):
            problems.append("no reload after the rules file was replaced")
        t3 = os.path.join(d, "w3a")
        touch(t3)
        if not wait_alert(out, "rule W3", t3):
            problems.append("rule W3 does not fire")
        tap.report("watch: a rules file replaced by rename reloads", problems)

        # unrelated files beside them: no reload
        n0 = log_count(err, "watch_config_files: the configuration or rules changed")
        with open(os.path.join(cm, "..ts2", "notes.txt"), "w") as f:
            f.write("x")
        with open(os.path.join(cm, "README"), "w") as f:
            f.write("x")
        time.sleep(1.0)
        n1 = log_count(err, "watch_config_files: the configuration or rules changed")
        problems = [] if n1 == n0 else ["%d reloads for unrelated files" % (n1 - n0)]
        # the control: the watch still works
        os.utime(real)
        if not wait_count(err, "watch_config_files: the configuration or rules changed", n1):
            problems.append("a touch of the rules file did not reload (control)")
        tap.report("watch: other files in the same directories do not reload", problems)

        # a bad edit in place: refused, the running rules stay
        with open(real, "w") as f:
            f.write(RULE.replace("fd.name startswith", "fd.nmae startswith") %
                    {"name": "rule bad", "prefix": d})
        problems = []
        if not wait_log(err, "config change: the new configuration or rules were refused"):
            problems.append("the bad edit was not refused")
        t4 = os.path.join(d, "w3b")
        touch(t4)
        if not wait_alert(out, "rule W3", t4):
            problems.append("rule W3 stopped after the refused edit")
        tap.report("watch: a bad edit is refused, the running rules stay", problems)
    finally:
        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "hung"
        tap.report("watch: clean exit", [] if rc == 0 else ["exit status %r" % rc])


def stalled_stdout_reload(tap, exe):
    """stdout is a pipe nobody reads when a reload replaces the outputs: the old stdout
    channel stays blocked, and once the reader comes back the new channel's alerts reach
    the same stdout (fd 1 is not taken away from it)."""
    d = tempfile.mkdtemp(prefix="saker-reload-stdout-")
    rules = os.path.join(d, "r.yaml")
    with open(rules, "w") as f:
        f.write(RULE % {"name": "rule S", "prefix": os.path.join(d, "s")})
    cfg = os.path.join(d, "saker.yaml")

    def config(fname):
        with open(cfg, "w") as f:
            f.write("rules_files: [r.yaml]\njson_output: true\nwatch_config_files: false\n"
                    "webserver:\n  enabled: false\noutput_timeout: 500\n"
                    "file_output:\n  enabled: true\n  filename: %s\n" % fname)

    config(os.path.join(d, "a1.jsonl"))
    err = os.path.join(d, "err")
    with open(err, "wb") as e:
        p = subprocess.Popen([exe, "-c", cfg, "-U", "-M", "60"], stdout=subprocess.PIPE,
                             stderr=e)
    problems = []
    got = []
    try:
        if not wait_log(err, "ready:", 20):
            tap.report("stalled stdout through a reload", ["no ready line"])
            return
        for i in range(400):  # about 100 KB of alerts: more than the pipe holds
            touch(os.path.join(d, "s-fill-%d" % i))
        time.sleep(0.5)
        config(os.path.join(d, "a2.jsonl"))
        p.send_signal(signal.SIGHUP)
        if not wait_log(err, "SIGHUP: outputs replaced"):
            problems.append("no 'outputs replaced' line")
        if not wait_log(err, "the stdout output is still blocked after it was replaced"):
            problems.append("the old stdout channel was not reported as left blocked")

        def drain():
            for line in p.stdout:
                got.append(line)
        t = threading.Thread(target=drain, daemon=True)
        t.start()
        marks = [os.path.join(d, "s-after-%d" % i) for i in range(5)]
        for m in marks:
            touch(m)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all(any(m.encode() in ln for ln in list(got)) for m in marks):
                break
            time.sleep(0.1)
        missing = [m for m in marks if not any(m.encode() in ln for ln in list(got))]
        if missing:
            problems.append("%d of 5 alerts after the reload never reached stdout" %
                            len(missing))
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    tap.report("stalled stdout through a reload: later alerts still reach stdout", problems)


def main():
    exe = sensor_from_argv()
    tap = Tap()
    d = tempfile.mkdtemp(prefix="saker-reload-")
    for name in ("A", "B"):
        with open(os.path.join(d, name + ".yaml"), "w") as f:
            f.write(RULE % {"name": "rule " + name, "prefix": os.path.join(d, "tok" + name)})
    with open(os.path.join(d, "bad.yaml"), "w") as f:
        f.write(RULE.replace("fd.name startswith", "fd.nmae startswith") %
                {"name": "rule bad", "prefix": d})
    cfg = os.path.join(d, "saker.yaml")

    port = free_port()

    def config(rules_file, extra=""):
        with open(cfg, "w") as f:
            f.write("rules_files: [%s]\njson_output: true\nwatch_config_files: false\n"
                    "webserver:\n  listen_port: %d\n%s" % (rules_file, port, extra))

    config("A.yaml")
    out, err = os.path.join(d, "out"), os.path.join(d, "err")
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen([exe, "-c", cfg, "-U", "-M", "60"], stdout=o, stderr=e)
    try:
        tap.report("sensor ready", [] if wait_log(err, "ready:", 20) else ["no ready line"])
        a1 = os.path.join(d, "tokA1")
        touch(a1)
        tap.report("rule A fires before the reload",
                   [] if wait_alert(out, "rule A", a1) else ["no alert for " + a1])

        config("B.yaml")
        p.send_signal(signal.SIGHUP)
        ok = wait_log(err, "SIGHUP: reloaded")
        tap.report("SIGHUP with good rules: reloaded", [] if ok else ["no 'reloaded' line"])
        a2, b2 = os.path.join(d, "tokA2"), os.path.join(d, "tokB2")
        touch(a2)
        touch(b2)
        problems = []
        if not wait_alert(out, "rule B", b2):
            problems.append("no alert from the new rule B")
        time.sleep(0.3)
        if any(a.get("rule") == "rule A" and a["output_fields"].get("fd.name") == a2
               for a in alerts(out)):
            problems.append("the old rule A still fired after the reload")
        tap.report("the new rules run, the old ones do not", problems)

        config("bad.yaml")
        p.send_signal(signal.SIGHUP)
        ok = wait_log(err, "were refused")
        log = open(err, encoding="utf-8", errors="replace").read()
        tap.report("SIGHUP with a bad ruleset: refused, its error logged with file:line:col",
                   [] if ok and "bad.yaml:3:" in log and "fd.nmae" in log else
                   ["expected the refusal and the error position in the log:\n" + log[-1500:]])
        b3 = os.path.join(d, "tokB3")
        touch(b3)
        tap.report("the running rules keep running after a refused reload",
                   [] if wait_alert(out, "rule B", b3) else ["no alert from rule B after"])

        # outputs: a file output added, then moved, by SIGHUP; counters never go back
        f1, f2 = os.path.join(d, "alerts1.jsonl"), os.path.join(d, "alerts2.jsonl")
        sent_before = metric(port, "saker_output_sent_total", 'channel="stdout"')
        config("B.yaml", "file_output:\n  enabled: true\n  keep_alive: true\n"
               "  filename: %s\n" % f1)
        p.send_signal(signal.SIGHUP)
        problems = []
        if not wait_log(err, "SIGHUP: outputs replaced"):
            problems.append("no 'outputs replaced' line")
        b4 = os.path.join(d, "tokB4")
        touch(b4)
        if not (wait_file(f1) and wait_alert(f1, "rule B", b4)):
            problems.append("the new file output did not receive the alert")
        if not wait_alert(out, "rule B", b4):
            problems.append("stdout did not receive the alert after the outputs changed")
        if os.path.exists(f1) and oct(os.stat(f1).st_mode & 0o777) != "0o600":
            problems.append("file mode %o" % (os.stat(f1).st_mode & 0o777))
        tap.report("SIGHUP adds a file output", problems)

        config("B.yaml", "file_output:\n  enabled: true\n  filename: %s\n" % f2)
        p.send_signal(signal.SIGHUP)
        problems = []
        b5 = os.path.join(d, "tokB5")
        wait_count(err, "SIGHUP: outputs replaced", 1)
        touch(b5)
        if not (wait_file(f2) and wait_alert(f2, "rule B", b5)):
            problems.append("the moved file output did not receive the alert")
        time.sleep(0.3)
        if any(a["output_fields"].get("fd.name") == b5 for a in alerts(f1)):
            problems.append("the old file still received an alert after the move")
        if not wait_log(err, "reload: replaced: output file: sent=") or \
                "reload: replaced: output file: sent=0 " in open(err).read():
            problems.append("the replaced file output's counters (sent > 0) were not logged")
        sent_after = metric(port, "saker_output_sent_total", 'channel="stdout"')
        if sent_before is None or sent_after is None or sent_after < sent_before + 2:
            problems.append("stdout sent_total before %r, after %r: want at least 2 more" %
                            (sent_before, sent_after))
        tap.report("SIGHUP moves the file output; counters carry over", problems)

        config("B.yaml", "file_output:\n  enabled: true\n")
        p.send_signal(signal.SIGHUP)
        ok = wait_log(err, "key 'file_output.enabled' is true but 'file_output.filename' "
                      "is not set")
        b6 = os.path.join(d, "tokB6")
        touch(b6)
        tap.report("SIGHUP with a bad output config: refused, the outputs stay",
                   [] if ok and wait_alert(f2, "rule B", b6) else
                   ["no refusal logged, or the running file output stopped"])

        # the listener moves to another port
        old_port = port
        port = free_port()
        config("B.yaml", "file_output:\n  enabled: true\n  filename: %s\n" % f2)
        p.send_signal(signal.SIGHUP)
        problems = []
        if not wait_log(err, "webserver: listening on 127.0.0.1:%d" % port):
            problems.append("no listening line for the new port %d" % port)
        if metric(port, "saker_output_sent_total", 'channel="stdout"') is None:
            problems.append("/metrics does not answer on the new port")
        try:
            socket.create_connection(("127.0.0.1", old_port), timeout=2).close()
            problems.append("the old port %d still accepts connections" % old_port)
        except OSError:
            pass
        tap.report("SIGHUP moves the webserver to its new port", problems)

        # the rules: selection, applied on reload: rule B disabled by pattern
        config("B.yaml", "file_output:\n  enabled: true\n  filename: %s\n"
               "rules:\n  - disable: {rule: 'rule *'}\n  - disable: {tag: nosuchtag}\n" % f2)
        p.send_signal(signal.SIGHUP)
        problems = []
        if not wait_log(err, "rules: 1 of 1 disabled after the rules: selection"):
            problems.append("no selection line in the log")
        if not wait_log(err, "rules: disable {tag: 'nosuchtag'} matches no loaded rule"):
            problems.append("no warning for the entry that matches nothing")
        b7 = os.path.join(d, "tokB7")
        touch(b7)
        time.sleep(1.0)
        if any(a["output_fields"].get("fd.name") == b7 for a in alerts(out)):
            problems.append("rule B fired although the selection disabled it")
        # the control: enabled again, it fires (so the silence above was the selection)
        config("B.yaml", "file_output:\n  enabled: true\n  filename: %s\n" % f2)
        n0 = log_count(err, "SIGHUP: reloaded")
        p.send_signal(signal.SIGHUP)
        wait_count(err, "SIGHUP: reloaded", n0)
        b8 = os.path.join(d, "tokB8")
        touch(b8)
        if not wait_alert(out, "rule B", b8):
            problems.append("rule B did not fire once enabled again (control)")
        tap.report("SIGHUP applies the rules: selection", problems)
    finally:
        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "hung"
    tap.report("clean exit after the reloads", [] if rc == 0 else ["exit status %r" % rc])
    watch_cases(tap, exe)
    stalled_stdout_reload(tap, exe)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
