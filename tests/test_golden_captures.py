#!/usr/bin/env python3
"""Golden captures: each tests/captures/NAME.cap.gz (recorded by tests/captures/record.py in
a throwaway VM) is replayed with the rules in NAME.rules; the alerts must equal NAME.alerts
(what saker printed live when it recorded the capture) byte for byte. Needs no root.

    python3 tests/test_golden_captures.py SAKER SRC_DIR [--update]

--update rewrites NAME.alerts from the replay (after an intended change to the rules)."""

import glob
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    saker, src = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv[3:]
    stable = os.environ.get("SAKER_FALCO_RULES") or os.path.normpath(
        os.path.join(src, "..", "shared", "corpus", "falco-rules", "falco_rules.yaml"))
    caps = sorted(glob.glob(os.path.join(src, "tests", "captures", "*.cap.gz")))
    n = failed = 0
    for cap in caps:
        base = cap[:-len(".cap.gz")]
        name = os.path.basename(base)
        rules = open(base + ".rules").read().strip()
        if rules == "stable":
            rules = stable
        for what in ("alerts", "config", "dump"):
            n += 1
            if not os.path.exists(rules) and rules != "@default":
                print("ok %d - %s %s # SKIP no ruleset at %s" % (n, name, what, rules))
                continue
            if what == "alerts":
                args = ["-r", rules, "-o", "json_output=true", "-e", cap]
            elif what == "config":  # the spec's form of -e
                args = ["-r", rules, "-o", "json_output=true", "-o", "engine.kind=replay",
                        "-o", "engine.replay.capture_file=" + cap]
            else:
                args = ["-o", "rules_files=", "--dump=json", "-e", cap]
            p = subprocess.run([saker] + args, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=120, env=dict(os.environ, SAKER_HOSTNAME="",
                                                     FALCO_HOSTNAME=""))
            problems = []
            if p.returncode != 0:
                problems.append("exit status %d:\n%s" % (p.returncode, p.stderr.decode()[-2000:]))
            if what in ("alerts", "config"):
                want = open(base + ".alerts", "rb").read()
                if update and what == "alerts" and p.returncode == 0:
                    open(base + ".alerts", "wb").write(p.stdout)
                    want = p.stdout
                if p.stdout != want:
                    a, b = want.splitlines(), p.stdout.splitlines()
                    first = next((i for i in range(max(len(a), len(b)))
                                  if (a[i:i + 1] or [None]) != (b[i:i + 1] or [None])), None)
                    problems.append("alerts differ from %s.alerts (%d vs %d lines); first "
                                    "difference at line %s:\n want: %r\n got:  %r" % (
                                        name, len(a), len(b), first,
                                        a[first][:300] if first is not None and first < len(a) else None,
                                        b[first][:300] if first is not None and first < len(b) else None))
                elif not want:
                    problems.append("%s.alerts is empty: the golden capture tests nothing" % name)
            elif p.stdout.count(b"\n") < 50:
                problems.append("the dump has %d events" % p.stdout.count(b"\n"))
            for line in problems:
                for ln in line.splitlines():
                    print("# " + ln)
            failed += bool(problems)
            print("%sok %d - %s %s" % ("not " if problems else "", n, name, what))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
