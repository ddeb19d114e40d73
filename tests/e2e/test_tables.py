#!/usr/bin/env python3
"""The state tables stay bounded: 10,000 short-lived processes (with files, pipes and
sockets open as they go) leave the process, thread and fd tables at the size they started
at. Runs the real sensor as root and reads its periodic counters.

    python3 tests/e2e/test_tables.py build/src/saker
"""

import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Tap, parse_counters, skip_all  # noqa: E402

STATS = re.compile(r"saker: info: stats: daemon: (.*)$")


def daemon_stats(path):
    """Every 'stats: daemon' line so far, as dicts."""
    out = []
    with open(path, "rb") as f:
        for raw in f.read().decode("utf-8", "replace").splitlines():
            m = STATS.match(raw)
            if m:
                out.append({k: int(v) for k, _, v in
                            (kv.partition("=") for kv in m.group(1).split())
                            if v.isdigit()})
    return out


def wait_stats(path, after, timeout=10.0):
    """The first stats line past the first `after` lines."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = daemon_stats(path)
        if len(s) > after:
            return s[after], len(s)
        time.sleep(0.1)
    return None, after


def host_counts():
    """Processes, threads and open fds on the host now, from /proc: what the tables should
    follow while other programs on the machine come and go."""
    procs = threads = fds = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            t = len(os.listdir("/proc/%s/task" % pid))
            f = len(os.listdir("/proc/%s/fd" % pid))
        except OSError:
            continue
        procs += 1
        threads += t
        fds += f
    return {"processes": procs, "threads": threads, "fds": fds}


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: test_tables.py SAKER\n")
        return 2
    exe = sys.argv[1]
    if os.geteuid() != 0:
        skip_all("needs root to load the sensor")
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="saker-tables-")
    err_path = os.path.join(tmp, "stderr.txt")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([exe, "--dump=none", "-M", "240", "-o", "stats_interval_s=1",
                                 "-o", "rules_files="], stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "ready:" not in open(err_path).read():
            time.sleep(0.05)
        # let the host settle, then take the baseline from a fresh stats line
        time.sleep(1.5)
        n0 = len(daemon_stats(err_path))
        base, n = wait_stats(err_path, n0)
        host0 = host_counts()
        if base is None:
            tap.report("baseline counters", ["no stats line from the sensor"])
            return tap.finish()

        # 10,000 processes: every fourth holds a file, a pipe or a socket open, some
        # start a thread-like child of their own
        script = (
            "i=0; while [ $i -lt 2500 ]; do "
            "/bin/true; "
            "cat /etc/hostname >/dev/null; "
            "sh -c 'exec 3</etc/hostname 4>/dev/null; : | /bin/true'; "
            "i=$((i+1)); done")
        t0 = time.monotonic()
        r = subprocess.run(["sh", "-c", script], stdout=subprocess.DEVNULL, timeout=200)
        secs = time.monotonic() - t0
        tap.report("10,000 short-lived processes ran", [] if r.returncode == 0 else
                   ["workload exit status %d" % r.returncode],
                   notes=["%.1f s" % secs])
        # a python process with sockets and threads, too
        subprocess.run([sys.executable, "-c",
                        "import socket, threading\n"
                        "for _ in range(50):\n"
                        "    s = socket.socket(); s.close()\n"
                        "    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                        "    u.sendto(b'x', ('127.0.0.1', 9)); u.close()\n"
                        "    t = threading.Thread(target=lambda: None); t.start(); t.join()\n"],
                       timeout=60)
        time.sleep(2.5)
        after, _ = wait_stats(err_path, len(daemon_stats(err_path)))
        host1 = host_counts()
        problems = []
        notes = ["before: %s" % base, "after:  %s" % after,
                 "host before: %s, after: %s" % (host0, host1)]
        if after is None:
            problems.append("no stats line after the workload")
        else:
            # the tables move as the host moved (other programs start and stop on a
            # shared machine), give or take the slack
            for key, slack in (("processes", 15), ("threads", 20), ("fds", 60)):
                grew = after.get(key, -1) - base.get(key, -1)
                host_grew = host1[key] - host0[key]
                if abs(grew - host_grew) > slack:
                    problems.append("%s: %d before, %d after, while the host went from %d "
                                    "to %d (more than %d apart)" % (
                                        key, base.get(key, -1), after.get(key, -1),
                                        host0[key], host1[key], slack))
            if after.get("evicted", 0) != base.get("evicted", 0):
                problems.append("processes were evicted: the table filled up")
            if after.get("records", 0) - base.get("records", 0) < 30000:
                problems.append("only %d records for 10,000+ processes" % (
                    after.get("records", 0) - base.get("records", 0)))
        tap.report("tables back to their starting size", problems, notes=notes)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    counters = parse_counters(open(err_path).read())
    k = counters.get("kernel", {})
    drops = k.get("drop_full", 0) + k.get("drop_too_large", 0) + k.get("drop_read_fail", 0)
    tap.report("no kernel drops during the run (else the tables could not be exact)",
               [] if drops == 0 else ["%d drops: %s" % (drops, k)])
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
