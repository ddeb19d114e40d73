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
import tempfile
import time

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


def touch(path):
    with open(path, "w"):
        pass
    with open(path):
        pass


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

    def config(rules_file):
        with open(cfg, "w") as f:
            f.write("rules_files: [%s]\njson_output: true\n" % rules_file)

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
    finally:
        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "hung"
    tap.report("clean exit after the reloads", [] if rc == 0 else ["exit status %r" % rc])
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
