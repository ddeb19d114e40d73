#!/usr/bin/env python3
"""Counts test cases from meson's testlog.json files (one per build: the release build and
the sanitizer build): every TAP line of every test, so the count is of cases, not of
executables. A test that failed without a failing TAP line (a crash, a
timeout) counts as one failure. A "not ok ... # TODO" line is a known bug (TAP's expected
failure): it is listed by name and counted with the skipped, neither passed nor failed.
Prints "N passed, N failed, N skipped" last; exits 1 when anything failed."""
import json
import re
import sys

passed = failed = skipped = 0
todos = []
lines = [l for path in sys.argv[1:] for l in open(path, encoding="utf-8", errors="replace")]
for line in lines:
    t = json.loads(line)
    ok = notok = skip = 0
    plan_skip = None
    for out in (t.get("stdout") or "").splitlines():
        m = re.match(r"^(not )?ok\b.*?(#\s*(SKIP|TODO)\b.*)?$", out, re.I)
        if m:
            if m.group(3) and m.group(3).upper() == "SKIP":
                skip += 1
            elif m.group(3) and m.group(1):
                skip += 1
                todos.append(f"{t['name']}: {out}")
            elif m.group(1):
                notok += 1
            else:
                ok += 1
        elif re.match(r"^1\.\.0\s*#\s*SKIP", out, re.I):
            plan_skip = out
    if plan_skip:
        print(f"SKIPPED {t['name']}: {plan_skip}")
        skip = max(skip, 1)
    if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL") and notok == 0:
        notok = 1
        print(f"FAILED {t['name']}: {t['result']} without a failing test case line")
    passed += ok
    failed += notok
    skipped += skip
for todo in todos:
    print(f"TODO (known bug) {todo}")
if todos:
    print(f"{len(todos)} of the skipped are known bugs (TODO), listed above")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
