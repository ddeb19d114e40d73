"""packaging/systemd/saker.service: its keys, `systemd-analyze verify`, and the capability
set it grants, proven on this kernel without systemd running (CI has no systemd as PID 1):

- saker started as root with exactly the unit's CapabilityBoundingSet (setpriv, with
  no_new_privs as NoNewPrivileges= sets it) loads, attaches and resolves the fd, exe, cwd
  and environment of a process of another user that was running before it started; the
  same in a mount namespace with / read-only and a private /tmp (ProtectSystem=strict,
  PrivateTmp=yes), the holder's file being in the host's /tmp;
- without any one of those capabilities it either refuses to start or loses some of these
  fields, so the set is minimal;
- the system calls and socket families of a traced run are allowed by the unit's
  SystemCallFilter= and RestrictAddressFamilies=.

Usage: test_systemd_unit.py PATH/TO/saker (as root; skipped otherwise)."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from saker_harness import SkipCase, Tap, sensor_from_argv  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(TOP, "packaging", "systemd", "saker.service")


def parse_unit(path):
    """{section: [(key, value), ...]} of a systemd unit file; continuation lines joined."""
    sections = {}
    cur = None
    pending = ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if pending:
                line = pending + line.lstrip()
                pending = ""
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            s = line.strip()
            if not s or s[0] in "#;":
                continue
            m = re.fullmatch(r"\[([A-Za-z]+)\]", s)
            if m:
                cur = sections.setdefault(m.group(1), [])
                continue
            if cur is None or "=" not in s:
                raise ValueError("%s: not a key=value line in a section: %r" % (path, s))
            k, _, v = s.partition("=")
            cur.append((k.strip(), v.strip()))
    return sections


def last(sections, section, key):
    vals = [v for k, v in sections.get(section, []) if k == key]
    return vals[-1] if vals else None


def unit_caps(sections):
    caps = last(sections, "Service", "CapabilityBoundingSet") or ""
    return sorted(c.lower() for c in caps.split())


class Holder:
    """A process of user nobody with a file open, started before the sensor; SIGUSR1 makes
    it pread() the file, so a rule on that pread shows what the sensor knows of it."""

    SCRIPT = (
        "import os, signal, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
        "signal.signal(signal.SIGUSR1, lambda *a: os.pread(fd, 1, 0))\n"
        "os.write(1, b'ready\\n')\n"
        "while True:\n"
        "    signal.pause()\n")

    def __init__(self, workdir):
        self.dir = workdir
        self.held = os.path.join(workdir, "held-by-nobody.txt")
        with open(self.held, "w") as f:
            f.write("x\n")
        os.chmod(workdir, 0o755)
        os.chmod(self.held, 0o644)
        env = {"PATH": "/usr/bin:/bin", "SAKER_CAPTEST": "visible"}
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             sys.executable, "-c", self.SCRIPT, self.held],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=workdir)
        if self.proc.stdout.readline() != b"ready\n":
            raise RuntimeError("the holder process did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def run_with_caps(exe, caps, holder, workdir, sandbox=None):
    """saker as root with only `caps` in its bounding set (no_new_privs set); the holder's
    pread is triggered once it is ready. sandbox: a directory outside /tmp; saker then runs
    in a mount namespace of its own with / read-only and an empty /tmp, as
    ProtectSystem=strict and PrivateTmp=yes would have it, from a copy of the binary there.
    Returns (rc, stdout, stderr)."""
    wrap = []
    if sandbox:
        shutil.copy(exe, os.path.join(sandbox, "saker"))
        exe = os.path.join(sandbox, "saker")
        wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount -o remount,bind,ro / && mount -t tmpfs -o mode=1777 tmpfs /tmp && '
                'exec "$@"', "sandbox"]
    rules = os.path.join(sandbox or workdir, "captest.yaml")
    with open(rules, "w") as f:
        f.write("- rule: captest\n  desc: the holder's pread\n"
                "  condition: evt.type = pread and proc.pid = %d\n"
                "  output: \"fd=%%fd.name exe=%%proc.exepath cwd=%%proc.cwd "
                "env=%%proc.env\"\n  priority: Warning\n" % holder.proc.pid)
    bset = ",".join(["-all"] + ["+" + c[len("cap_"):] for c in caps])
    out_path = os.path.join(workdir, "out.txt")
    err_path = os.path.join(workdir, "err.txt")
    cmd = wrap + ["setpriv", "--bounding-set", bset, "--inh-caps", "-all", "--no-new-privs",
                  exe, "-c", "/dev/null", "-r", rules, "-U", "-M", "20",
                  "-o", "webserver.enabled=false"]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and p.poll() is None:
        with open(err_path, "rb") as f:
            if b"saker: info: ready: " in f.read():
                break
        time.sleep(0.05)
    if p.poll() is None:
        os.kill(holder.proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(out_path, "rb") as f:
                if b"fd=" in f.read():
                    break
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    with open(out_path, "rb") as f:
        out = f.read().decode("utf-8", "replace")
    with open(err_path, "rb") as f:
        err = f.read().decode("utf-8", "replace")
    return rc, out, err


def alert_fields(out):
    """The fields of the captest alert line: {'fd': ..., 'exe': ..., 'cwd': ..., 'env': ...}."""
    for line in out.splitlines():
        if "fd=" in line:
            m = re.search(r"fd=(\S*) exe=(\S*) cwd=(\S*) env=(.*)$", line)
            if m:
                return {"fd": m.group(1), "exe": m.group(2), "cwd": m.group(3),
                        "env": m.group(4)}
    return None


def complete(fields, holder):
    """The fields the sensor could only know with every capability of the set; {} when all
    are right, else {field: value seen}."""
    bad = {}
    if fields is None:
        return {"alert": None}
    if fields["fd"] != holder.held:
        bad["fd"] = fields["fd"]
    if not fields["exe"].startswith("/"):
        bad["exe"] = fields["exe"]
    if fields["cwd"].rstrip("/") != holder.dir.rstrip("/"):
        bad["cwd"] = fields["cwd"]
    if "SAKER_CAPTEST=visible" not in fields["env"]:
        bad["env"] = fields["env"]
    return bad


def main():
    exe = sensor_from_argv()
    tap = Tap()
    sections = parse_unit(UNIT)
    caps = unit_caps(sections)

    def keys(c):
        c.eq("sections", sorted(sections), ["Install", "Service", "Unit"])
        want = {
            ("Service", "Type"): "simple",
            ("Service", "Restart"): "on-failure",
            ("Service", "RestartPreventExitStatus"): "2",
            ("Service", "User"): "root",
            ("Service", "NoNewPrivileges"): "yes",
            ("Service", "ProtectSystem"): "strict",
            ("Service", "LogsDirectory"): "saker",
            ("Service", "LimitMEMLOCK"): "infinity",
            ("Service", "KillSignal"): "SIGTERM",
            ("Install", "WantedBy"): "multi-user.target",
        }
        for (sec, key), val in want.items():
            c.eq("%s.%s" % (sec, key), last(sections, sec, key), val)
        start = (last(sections, "Service", "ExecStart") or "").split()
        c.ok(start[:1] == ["/usr/local/bin/saker"], "ExecStart runs %r" % start[:1])
        c.ok("-c" in start, "ExecStart names the configuration file: %r" % start)
        c.ok("$MAINPID" in (last(sections, "Service", "ExecReload") or "")
             and "HUP" in last(sections, "Service", "ExecReload"),
             "ExecReload sends SIGHUP to the main process")
        for key in ("ProtectProc", "ProcSubset", "PrivateNetwork", "PrivateDevices"):
            c.ok(last(sections, "Service", key) is None,
                 "%s must not be set (it would hide processes, the listener or /dev/log)" % key)
        ambient = last(sections, "Service", "AmbientCapabilities")
        c.ok(not ambient, "no ambient capabilities for root: %r" % ambient)
        c.note("CapabilityBoundingSet: " + " ".join(caps))

    tap.case("unit keys", keys)

    def verify(c):
        if not shutil.which("systemd-analyze"):
            raise SkipCase("systemd-analyze is not installed")
        d = tempfile.mkdtemp(prefix="saker-pkg-test-unit-")
        try:
            with open(UNIT, encoding="utf-8") as f:
                text = f.read().replace("/usr/local/bin/saker", exe)
            path = os.path.join(d, "saker.service")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                               text=True, timeout=60)
            c.eq("systemd-analyze verify exit status", p.returncode, 0)
            noise = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
            c.ok(not noise, "systemd-analyze verify complained:\n" + "\n".join(noise))
            p = subprocess.run(["systemd-analyze", "security", "--offline=true", path],
                               capture_output=True, text=True, timeout=60)
            tail = [l for l in p.stdout.splitlines() if "exposure level" in l]
            c.note(tail[-1].strip() if tail else "systemd-analyze security: no summary")
        finally:
            shutil.rmtree(d, ignore_errors=True)

    tap.case("systemd-analyze verify", verify)

    work = tempfile.mkdtemp(prefix="saker-pkg-test-caps-")
    holder = None
    try:
        holder = Holder(work)

        def enough(c):
            rc, out, err = run_with_caps(exe, caps, holder, work)
            c.eq("exit status", rc, 0)
            bad = complete(alert_fields(out), holder)
            c.ok(not bad, "with %s, fields the sensor could not resolve: %r\nstderr:\n%s"
                 % (" ".join(caps), bad, err[-2000:]))

        tap.case("the unit's capabilities are enough", enough)

        def sandboxed(c):
            if not shutil.which("unshare"):
                raise SkipCase("unshare is not installed")
            box = tempfile.mkdtemp(prefix="saker-pkg-test-box-", dir="/dev/shm")
            try:
                rc, out, err = run_with_caps(exe, caps, holder, work, sandbox=box)
            finally:
                shutil.rmtree(box, ignore_errors=True)
            if "cannot change root filesystem propagation" in err:
                raise SkipCase("no private mount namespace here (/ is not a mount point: a "
                               "chroot?): " + err.strip()[-200:])
            c.eq("exit status", rc, 0)
            bad = complete(alert_fields(out), holder)
            c.ok(not bad, "in the sandbox, fields the sensor could not resolve (the holder's "
                 "file is in the host's /tmp): %r\nstderr:\n%s" % (bad, err[-2000:]))

        tap.case("read-only / and a private /tmp change nothing", sandboxed)

        for cap in caps:
            def needed(c, cap=cap):
                fewer = [x for x in caps if x != cap]
                rc, out, err = run_with_caps(exe, fewer, holder, work)
                bad = complete(alert_fields(out), holder)
                c.ok(rc != 0 or bad,
                     "without %s the sensor still did everything: is it needed?" % cap)
                c.note("without %s: exit %s, %s" % (cap, rc, "refused to start" if rc
                                                     else "unresolved %r" % bad))

            tap.case("%s is needed" % cap, needed)
    finally:
        if holder:
            holder.stop()

    def syscalls(c):
        if not shutil.which("strace") or not shutil.which("systemd-analyze"):
            raise SkipCase("strace or systemd-analyze is not installed")
        trace = os.path.join(work, "strace.txt")
        p = subprocess.run(["strace", "-f", "-qq", "-o", trace, exe, "-c", "/dev/null",
                            "-M", "2", "-o", "webserver.listen_port=0"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=60)
        c.eq("traced run's exit status", p.returncode, 0)
        used = set()
        families = set()
        with open(trace, errors="replace") as f:
            for line in f:
                m = re.match(r"\d+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]", line)
                if m:
                    used.add(m.group(1))
                families.update(re.findall(r"socket\((AF_[A-Z0-9]+)", line))
        c.ok("bpf" in used and "epoll_wait" in used, "the trace looks wrong: %r" % sorted(used))
        filt = last(sections, "Service", "SystemCallFilter") or ""
        c.ok(filt.startswith("~"), "SystemCallFilter is a deny list: %r" % filt)
        for group in filt.lstrip("~").split():
            q = subprocess.run(["systemd-analyze", "syscall-filter", group],
                               capture_output=True, text=True, timeout=30)
            names = {l.strip() for l in q.stdout.splitlines()[1:]
                     if l.strip() and not l.strip().startswith("#")}
            c.ok(q.returncode == 0 and names, "cannot list %s" % group)
            hit = used & names
            c.ok(not hit, "saker calls %s, which SystemCallFilter denies (%s)"
                 % (sorted(hit), group))
        allowed = set((last(sections, "Service", "RestrictAddressFamilies") or "").split())
        c.ok(families <= allowed, "socket families used %r, allowed %r"
             % (sorted(families), sorted(allowed)))
        c.note("%d distinct system calls in a traced run; socket families %s"
               % (len(used), ", ".join(sorted(families)) or "none"))

    try:
        tap.case("system calls allowed by the filter", syscalls)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
