#!/usr/bin/env python3
"""bench/run-all --quick: the benchmark scripts still run and print well-formed numbers.
No timing is asserted: only that every item produced its figures, that they parse, and
that the storm's counters add up. As root (the benchmarks load the sensor).

    python3 tests/e2e/test_bench_smoke.py SOURCE_DIR BUILD_DIR
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Tap, skip_all  # noqa: E402

NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

# results.txt keys each item must produce, and whether the value is a number
EXPECTED = {
    "overhead": [
        "overhead.rules.getppid.saker_empty",
        "overhead.rules.openat_close.saker_base",
        "overhead.rules.fork_exec.saker_base",
        "overhead.rules.openat_close.daemon_ns_per_event",
        "overhead.norules.openat_close.saker_base",
        "overhead.norules.openat_close.daemon_ns_per_event",
    ],
    "storm": [
        "storm.max_rate_no_drops",
        "storm.forced.made",
        "storm.forced.received",
        "storm.forced.lost",
        "storm.forced.drops_reported",
    ],
    "memory": [
        "memory.idle_default_rules_kib",
        "memory.after_processes_kib",
        "memory.growth_kib",
        "memory.idle_no_rules_kib",
    ],
    "latency": ["latency.n", "latency.p50_us", "latency.p99_us"],
    "startup": ["startup.first_alert_ms_median", "binary.bytes", "binary.stripped_bytes"],
}


def main():
    if len(sys.argv) != 3:
        sys.stdout.write("Bail out! usage: test_bench_smoke.py SOURCE_DIR BUILD_DIR\n")
        return 2
    src, build = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        skip_all("bench/run-all needs root (it loads the sensor)")
        return 0
    tap = Tap()
    out = tempfile.mkdtemp(prefix="saker-bench-smoke.")
    env = dict(os.environ, SAKER_BUILD_DIR=build)
    proc = subprocess.run(
        [os.path.join(src, "bench", "run-all"), "--quick", "--no-build", "--out", out],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    text = proc.stdout.decode("utf-8", "replace")
    tap.report("run-all --quick exits 0",
               [] if proc.returncode == 0 else ["exit %d" % proc.returncode],
               notes=[] if proc.returncode == 0 else text.splitlines()[-30:])
    results = {}
    try:
        with open(os.path.join(out, "results.txt"), encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    results[parts[0]] = parts[1]
    except OSError as e:
        tap.report("results.txt", [str(e)])
    for item, keys in EXPECTED.items():
        problems = []
        for k in keys:
            v = results.get(k)
            if v is None:
                problems.append("%s: missing" % k)
            elif not NUMBER.match(v):
                problems.append("%s: not a number: %r" % (k, v))
        tap.report("%s: figures present and numeric" % item, problems)
    problems = []
    try:
        made = int(results["storm.forced.made"])
        recv = int(results["storm.forced.received"])
        lost = int(results["storm.forced.lost"])
        drops = int(results["storm.forced.drops_reported"])
        if made <= 0:
            problems.append("the storm made no syscalls")
        if lost != made - recv:
            problems.append("lost %d != made %d - received %d" % (lost, made, recv))
        if lost < 0 or drops < lost:
            # drops also count other processes' events, so they may exceed what the storm
            # lost, never fall short of it
            problems.append("drops reported %d < events lost %d" % (drops, lost))
    except (KeyError, ValueError) as e:
        problems.append("storm figures unreadable: %s" % e)
    tap.report("storm: the drop counters cover the events lost", problems)
    try:
        with open(os.path.join(out, "summary.md"), encoding="utf-8") as f:
            rows = [line for line in f if line.startswith("| ")]
        tap.report("summary.md has the table", [] if len(rows) > 10 else
                   ["%d table rows" % len(rows)])
    except OSError as e:
        tap.report("summary.md has the table", [str(e)])
    tap.finish()
    if tap.failed:
        tap.diag("results and logs kept in %s" % out)
        return 1
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
