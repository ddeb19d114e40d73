#!/usr/bin/env python3
"""saker's rules end to end: the real sensor, real rules, real (harmless) attacks.

    python3 tests/e2e/test_rules_live.py build/src/saker

Needs root; without it prints "1..0 # SKIP <reason>" and says so on stderr. Standard library
only. Three parts, one TAP line per case:

1. The community stable ruleset (falco_rules.yaml, from ../shared/corpus; $SAKER_FALCO_RULES
   overrides the path): every rule that can fire on a host without containers is made to
   fire, and its alert (rule, priority, output fields) is checked against what this test
   knows. The container-only rules are listed as SKIP with the reason.
2. saker's default ruleset (@default): the same for each host-safe rule of docs/rules.md.
   Rules that write below /etc, /var/log or the udev rules directory run in a private mount
   namespace where those directories are overlays (or tmpfs) over a scratch directory, and
   core_pattern is a bind-mounted scratch file: the real files are never touched. A few
   rules get ground-truth fields appended to their output (pid, ppid, sid, tid, uid, gid,
   cwd, exepath), compared with what /proc says about the live process.
3. A benign workload (gcc, sed -i, dpkg -l, apt-cache, shell scripts, ps, git, tar) under
   both rulesets with rule_matching=all: any alert whose process descends from the workload
   is a false positive. Alerts from other host processes are shown, not failed.

Every trigger carries a random token (in argv or a path) that finds its alert. A case that
fails because of a known saker bug is reported as "not ok ... # TODO <the bug>"."""

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Sensor, Tap, SkipCase, sensor_from_argv, skip_all  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STABLE_RULES = os.environ.get("SAKER_FALCO_RULES") or os.path.normpath(
    os.path.join(SRC, "..", "shared", "corpus", "falco-rules", "falco_rules.yaml"))

WAIT = 4.0          # seconds to wait for an alert that should come at once
BENIGN_SECONDS = 20

MISSING = object()
TEST_PID = os.getpid()

# Known saker bugs: case name -> the bug. Such a case is reported "# TODO" when it fails.
# (Empty: proc.cwd's trailing '/' and exec through /proc/self/fd/N are fixed.)
KNOWN_BUGS = {}


def which(name):
    # Not resolved: a symlink's name is the process name (/usr/bin/sh runs as sh, not dash).
    return shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


TOOLS = {n: which(n) for n in (
    "cat", "head", "dd", "touch", "sh", "bash", "ln", "chmod", "setcap", "unshare", "find",
    "grep", "shred", "true", "sleep", "rm", "mv", "setpriv", "pkill", "ssh", "perl", "cp",
    "gcc", "git", "tar", "gzip", "sed", "dpkg", "apt-cache", "ps", "mkdir", "curl")}


def tool(name):
    p = TOOLS.get(name)
    if not p:
        raise SkipCase("%s is not installed" % name)
    return p


# ---------------------------------------------------------------------------- TAP with TODO


class RTap(Tap):
    """Tap whose cases may be known saker bugs (KNOWN_BUGS): a failing one is TODO."""

    def case(self, name, fn, *args, **kwargs):
        return Tap.case(self, name, fn, *args, todo=KNOWN_BUGS.get(name), **kwargs)


# ---------------------------------------------------------------------------- the sensors


class AlertSensor(Sensor):
    """saker evaluating rules: -o json_output=true -U, the given -r files, no event dump.
    Its stdout holds one JSON alert per line (self.events)."""

    def __init__(self, exe, rules, extra=(), name="rules", max_seconds=240):
        Sensor.__init__(self, exe, name=name, max_seconds=max_seconds)
        args = [exe, "-U", "-M", str(max_seconds), "-o", "json_output=true",
                "-o", "engine.ringbuf_size_mb=64"]
        for r in rules:
            args += ["-r", r]
        self.args = args + list(extra)


def start_sensor(tap, s):
    s.start()
    if s.wait_ready(timeout=30):
        return True
    err = s.stderr()
    s.cleanup()
    if s.rc == 1 and "missing capability" in err:
        skip_all("the sensor cannot load here for lack of privileges: " +
                 err.strip().splitlines()[-1])
    sys.stdout.write("Bail out! the %s sensor did not start (rc %r): %s\n" % (
        s.name, s.rc, " ".join(s.args)))
    tap.diag(err)
    return False


def short(alert):
    of = alert.get("output_fields") or {}
    return "%s [%s] %s" % (alert.get("rule"), alert.get("priority"), json.dumps(of, sort_keys=True))


# ---------------------------------------------------------------------------- the context


class Ctx:
    def __init__(self, exe):
        self.exe = exe
        self.pid = os.getpid()
        with open("/proc/self/comm") as f:
            self.comm = f.read().rstrip("\n")
        with open("/proc/self/cmdline", "rb") as f:
            argv = f.read().rstrip(b"\0").split(b"\0")
        self.cmdline = " ".join([self.comm] + [a.decode("utf-8", "replace") for a in argv[1:]])
        self.loginuid = read_loginuid("self")
        # starts with a letter: a token like "-0c..." would read as a benign "-0" signal
        # argument to the kill rule's exceptions
        self.run = "r" + uuid.uuid4().hex[:7]
        self._n = 0
        # Scratch in /tmp; programs the rules look for by name outside the temporary
        # directories (else "Program executed from temporary directory" would match first).
        self.work = tempfile.mkdtemp(prefix="saker-rl-")
        os.chmod(self.work, 0o755)
        self.bin = tempfile.mkdtemp(prefix="saker-rl-bin-", dir="/root")
        self.py = sys.executable
        self.helper = os.path.join(self.work, "sk_helper.py")
        self.sandbox = os.path.join(self.work, "sandbox.sh")
        self.sleepers = []

    def token(self, what):
        self._n += 1
        return "saker-%s-%s%d" % (what, self.run, self._n)

    def tokdir(self, tok):
        d = os.path.join(self.work, tok)
        os.mkdir(d)
        return d

    def sleeper(self, secs=30):
        p = subprocess.Popen([tool("sleep"), str(secs)], stdin=subprocess.DEVNULL)
        self.sleepers.append(p)
        return p

    def cleanup(self):
        for p in self.sleepers:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.bin, ignore_errors=True)


def read_loginuid(pid):
    try:
        with open("/proc/%s/loginuid" % pid) as f:
            v = int(f.read().strip())
        return -1 if v == 0xFFFFFFFF else v
    except (OSError, ValueError):
        return None


def proc_truth(pid):
    """What /proc says about a live process: the facts the alert fields should show."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    rest = st[st.rindex(")") + 2:].split()
    with open("/proc/%d/comm" % pid) as f:
        comm = f.read().rstrip("\n")
    with open("/proc/%d/status" % pid) as f:
        status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    return {"comm": comm, "ppid": int(rest[1]), "pgid": int(rest[2]), "sid": int(rest[3]),
            "tty": int(rest[4]), "cwd": os.readlink("/proc/%d/cwd" % pid),
            "exe": os.readlink("/proc/%d/exe" % pid),
            "uid": int(status["Uid"].split()[0]), "gid": int(status["Gid"].split()[0]),
            "loginuid": read_loginuid(pid)}


HELPER = r'''"""saker test helper: one harmless syscall trick per mode; the last argument is
the case's token."""
import ctypes, errno, os, socket, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
mode = sys.argv[1]
def finit():                             # finit_module(-1, "", 0): prints the errno name
    ctypes.set_errno(0)
    libc.syscall(313, -1, b"", 0)
    print(errno.errorcode.get(ctypes.get_errno(), "SUCCESS"), flush=True)
if mode == "finit":
    finit()
elif mode == "fork-finit":               # the same from a forked child, which prints its pid
    pid = os.fork()
    if pid == 0:
        print(os.getpid(), flush=True)
        finit()
        os._exit(0)
    os.waitpid(pid, 0)
elif mode == "setuid":                   # root to root
    os.setuid(0)
elif mode == "thread-setuid":            # raw setuid(0) in a second thread, which prints its tid
    def body():
        print(threading.get_native_id(), flush=True)
        libc.syscall(105, 0)
    t = threading.Thread(target=body)
    t.start()
    t.join()
elif mode == "traceme":
    libc.ptrace(0, 0, 0, 0)
elif mode == "ptrace":                   # attach to a sleeper, POKEDATA at 0 (EIO), detach
    p = int(sys.argv[2])
    libc.ptrace(16, p, 0, 0)
    os.waitpid(p, 0)
    libc.ptrace(5, p, 0, 0)
    libc.ptrace(17, p, 0, 0)
elif mode == "dup2":                     # a TCP socket duplicated onto stdout
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    c = socket.create_connection(s.getsockname())
    l, r = c.getsockname(), c.getpeername()
    sys.stderr.write("%s:%d->%s:%d\n" % (l[0], l[1], r[0], r[1]))
    sys.stderr.flush()
    os.dup2(c.fileno(), 1)
    os._exit(0)
elif mode == "connect":                  # refused TCP connect to 127.0.0.1:PORT
    socket.socket().connect_ex(("127.0.0.1", int(sys.argv[2])))
elif mode in ("memfd-execveat", "memfd-procfd"):   # run sleep from a memfd named TOKEN
    tok = sys.argv[-1]
    fd = os.memfd_create(tok, 0)
    with open(sys.argv[2], "rb") as f:
        os.write(fd, f.read())
    argv = [tok, sys.argv[3]]
    if mode == "memfd-execveat":
        os.execve(fd, argv, dict(os.environ))
    os.execv("/proc/self/fd/%d" % fd, argv)
else:
    sys.exit("unknown mode " + mode)
'''

# Runs "$@" in a private mount namespace where /etc and /var/log are overlays whose upper
# layers are in the scratch directory $1, the udev rules directory is an empty tmpfs and
# core_pattern is a scratch file: what the command writes there never reaches the host.
SANDBOX = r'''#!/bin/sh
set -e
s=$1; shift
mkdir -p "$s/etc.u" "$s/etc.w" "$s/log.u" "$s/log.w"
mount -t overlay saker-rl -o "lowerdir=/etc,upperdir=$s/etc.u,workdir=$s/etc.w" /etc
mount -t overlay saker-rl -o "lowerdir=/var/log,upperdir=$s/log.u,workdir=$s/log.w" /var/log
if [ -d /usr/lib/udev/rules.d ]; then mount -t tmpfs saker-rl /usr/lib/udev/rules.d; fi
: > "$s/core_pattern"
mount --bind "$s/core_pattern" /proc/sys/kernel/core_pattern
exec "$@"
'''


_sandbox_ok = None


def sandbox_possible(ctx):
    """Whether a private mount namespace can be made (not in a chroot whose root is no mount
    point, where unshare cannot make the root's propagation private)."""
    global _sandbox_ok
    if _sandbox_ok is None:
        r = subprocess.run([tool("unshare"), "--mount", "--propagation", "private", "true"],
                           capture_output=True, timeout=10)
        _sandbox_ok = r.returncode == 0
    return _sandbox_ok


def userns_possible(ctx, tok):
    """A case's setup: skip where no user namespace can be made (a chroot)."""
    r = subprocess.run([tool("unshare"), "--user", "true"], capture_output=True, timeout=10)
    if r.returncode != 0:
        raise SkipCase("cannot create a user namespace here (a chroot?): %s" %
                       r.stderr.decode("utf-8", "replace").strip())


def run(ctx, argv, sandbox=False, timeout=30, **kw):
    """Runs argv to completion (optionally in the sandbox); (pid, rc, stdout, stderr)."""
    if sandbox:
        if not sandbox_possible(ctx):
            raise SkipCase("no private mount namespace here (the root is not a mount point: "
                           "a chroot?): the trigger would write the real /etc and /var/log")
        scratch = tempfile.mkdtemp(prefix="sbx-", dir=ctx.work)
        argv = [tool("unshare"), "--mount", "--propagation", "private", tool("sh"),
                ctx.sandbox, scratch] + list(argv)
    kw.setdefault("cwd", ctx.work)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return p.pid, p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


# ---------------------------------------------------------------------------- checks


def check_fields(c, what, fields, expect):
    ok = True
    for k, want in expect.items():
        optional = k.startswith("?")
        k = k.lstrip("?")
        got = fields.get(k, MISSING)
        if got is MISSING:
            if not optional:
                ok = c.fail("%s: output field %s is missing" % (what, k))
        elif callable(want):
            if not want(got):
                ok = c.fail("%s: %s = %r does not satisfy %s" % (
                    what, k, got, getattr(want, "__doc__", None) or "the check"))
        elif got != want:
            ok = c.fail("%s: %s: expected %r, got %r" % (what, k, want, got))
    return ok


def expect_alert(c, s, rule, match, priority=None, fields=None, timeout=WAIT):
    """Waits for an alert of rule whose text contains match (a string) or that satisfies
    match (a predicate); checks its priority and output fields. Returns it (or None).
    Alerts about this test process itself (it makes the trigger files) never match."""
    if isinstance(match, str):
        tok = match
        pm0 = lambda a: tok in a.get("output", "")  # noqa: E731
    else:
        pm0 = match

    def pm(a):
        return (a.get("output_fields") or {}).get("proc.pid") != TEST_PID and pm0(a)
    a = s.wait_for(lambda a: a.get("rule") == rule and pm(a), timeout=timeout)
    if a is None:
        near = s.find_all(pm)
        msg = "no '%s' alert seen" % rule
        if near:
            msg += "; alerts for this trigger instead (%d):" % len(near)
            for n in near[:6]:
                msg += "\n  " + short(n)
        else:
            msg += " (and no other alert for this trigger)"
        c.fail(msg)
        return None
    ok = True
    if priority is not None:
        ok = c.eq("priority", a.get("priority"), priority) and ok
    ok = check_fields(c, rule, a.get("output_fields") or {}, fields or {}) and ok
    if not ok:
        c.note("the alert: " + json.dumps(a, ensure_ascii=False))
    return a


def contains(sub):
    def f(v):
        return isinstance(v, str) and sub in v
    f.__doc__ = "contains %r" % sub
    return f


def startswith(sub):
    def f(v):
        return isinstance(v, str) and v.startswith(sub)
    f.__doc__ = "starts with %r" % sub
    return f


def one_of(*vals):
    def f(v):
        return v in vals
    f.__doc__ = "one of %r" % (vals,)
    return f


def flag(name):
    def f(v):
        return isinstance(v, str) and name in v.split("|")
    f.__doc__ = "has flag %s" % name
    return f


def is_error(v):
    """an errno name (E...)"""
    return isinstance(v, str) and v.startswith("E")


def cmd(*argv):
    """proc.cmdline as the rules see it: the process name, then the arguments."""
    return " ".join([os.path.basename(argv[0])[:15]] + list(argv[1:]))


ROOT = {"user.name": "root", "?user.uid": 0}


def cwd_is(path):
    """The cwd; the reference engine's proc.cwd ends with '/': both forms are accepted here,
    the trailing slash has a case of its own."""
    want = path.rstrip("/") + "/"

    def f(v):
        return isinstance(v, str) and (v == want or v + "/" == want)
    f.__doc__ = "is %s (with or without the trailing /)" % want
    return f


# ============================================================================ 1. stable rules


STABLE_CONTAINER_ONLY = {
    "Terminal shell in container": "needs a container (container.id != host) with a tty",
    "Contact K8S API Server From Container":
        "needs a container and the Kubernetes API server address",
    "Netcat Remote Code Execution in Container": "needs a container",
    "Packet socket created in container": "needs a container",
    "Redirect STDOUT/STDIN to Network Connection in Container": "needs a container",
    "Linux Kernel Module Injection Detected":
        "its condition requires a container (macro container: container.id != host)",
    "Debugfs Launched in Privileged Container": "needs a privileged container",
    "Detect release_agent File Container Escapes": "needs a container",
    "Drop and execute new binary in container":
        "needs a container with an overlayfs root (proc.is_exe_upper_layer)",
}


def st_dir_traversal(c, s, ctx):
    tok = ctx.token("trav")
    # A failed open through ../ (open_file_failed) ...
    bad = "/etc/../etc/../etc/" + tok
    run(ctx, [tool("cat"), bad])
    expect_alert(c, s, "Directory traversal monitored file read", tok, "Warning", dict(ROOT, **{
        "fd.name": "/etc/" + tok, "fd.nameraw": bad, "proc.name": "cat",
        "proc.cmdline": cmd("cat", bad), "proc.pname": ctx.comm, "evt.type": "openat",
        "proc.exepath": tool("cat")}))
    # ... and a successful one, relative to the cwd.
    tok2 = ctx.token("trav")
    d = ctx.tokdir(tok2)
    rel = "../../../../../../etc/hostname"
    run(ctx, [tool("cat"), rel, "./" + tok2], cwd=d)
    expect_alert(c, s, "Directory traversal monitored file read", tok2, "Warning", {
        "fd.name": "/etc/hostname", "fd.nameraw": rel, "proc.name": "cat",
        "proc.cmdline": cmd("cat", rel, "./" + tok2)})


def st_trusted_start(ctx):
    """Starts the slow trigger of "Read sensitive file trusted after startup": a process
    named nginx that reads /etc/pam.d/other 5.5 s after it started."""
    tok = ctx.token("trusted")
    p = subprocess.Popen([os.path.join(ctx.bin, "nginx"), "-c",
                          "sleep 5.5; read -r x < /etc/pam.d/other; true", tok],
                         stdin=subprocess.DEVNULL, cwd=ctx.work)
    return tok, p


def st_trusted(c, s, ctx, started):
    tok, p = started
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
    expect_alert(c, s, "Read sensitive file trusted after startup", tok, "Warning",
                 dict(ROOT, **{"fd.name": "/etc/pam.d/other", "proc.name": "nginx",
                               "proc.exepath": os.path.join(ctx.bin, "nginx"),
                               "proc.pname": ctx.comm, "proc.pcmdline": ctx.cmdline}),
                 timeout=10)


def st_sensitive_untrusted(c, s, ctx):
    tok = ctx.token("untrusted")
    d = ctx.tokdir(tok)
    for target in ("/etc/shadow", "/etc/pam.d/other"):
        pid, rc, _, err = run(ctx, [tool("cat"), target, d])  # cat of a dir: an error, harmless
        expect_alert(c, s, "Read sensitive file untrusted",
                     lambda a, t=target: tok in a["output"] and
                     a["output_fields"].get("fd.name") == t, "Warning", dict(ROOT, **{
                         "fd.name": target, "proc.name": "cat", "proc.exepath": tool("cat"),
                         "proc.cmdline": cmd("cat", target, d), "proc.pname": ctx.comm,
                         "evt.type": "openat", "user.loginuid": ctx.loginuid,
                         "proc.aname[2]": lambda v: isinstance(v, str) and v != ""}))


def st_run_shell(c, s, ctx):
    tok = ctx.token("rsu")
    run(ctx, [os.path.join(ctx.bin, "nginx"), "-c", "sh -c true %s; true" % tok])
    expect_alert(c, s, "Run shell untrusted", tok, "Notice", dict(ROOT, **{
        "proc.name": "sh", "proc.pname": "nginx", "proc.cmdline": "sh -c true " + tok,
        "proc.pexe": os.path.join(ctx.bin, "nginx"),
        "proc.pcmdline": "nginx -c sh -c true %s; true" % tok,
        "proc.aname[2]": ctx.comm, "evt.type": "execve"}))


def st_system_user(c, s, ctx):
    tok = ctx.token("sysuser")
    setpriv = tool("setpriv")
    run(ctx, [os.path.join(ctx.bin, "sshd"), "-c",
              "%s --reuid=daemon --regid=daemon --clear-groups %s %s; true" % (
                  setpriv, tool("true"), tok)], cwd="/")
    expect_alert(c, s, "System user interactive", tok, "Informational", {
        "user.name": "daemon", "user.uid": 1, "proc.name": "true", "proc.pname": "sshd",
        "proc.cmdline": "true " + tok, "proc.exepath": tool("true"), "evt.type": "execve"})


def st_search_keys(c, s, ctx):
    tok = ctx.token("keys")
    d = ctx.tokdir(tok)
    argv = [tool("grep"), "-r", "BEGIN OPENSSH PRIVATE KEY", d]
    run(ctx, argv)
    expect_alert(c, s, "Search Private Keys or Passwords", tok, "Warning", dict(ROOT, **{
        "proc.name": "grep", "proc.cmdline": cmd(*argv), "proc.exepath": tool("grep"),
        "proc.pname": ctx.comm, "evt.type": "execve"}))
    tok2 = ctx.token("keys")
    argv = [tool("find"), ctx.tokdir(tok2), "-name", "id_ed25519"]
    run(ctx, argv)
    expect_alert(c, s, "Search Private Keys or Passwords", tok2, "Warning", {
        "proc.name": "find", "proc.cmdline": cmd(*argv)})


def st_clear_log(c, s, ctx):
    tok = ctx.token("clearlog")
    d = ctx.tokdir(tok)
    f = os.path.join(d, "syslog")  # fd.filename in log_files: no need to touch /var/log
    argv = [tool("sh"), "-c", ': > "$1"', "sh", f]
    run(ctx, argv)
    expect_alert(c, s, "Clear Log Activities", tok, "Warning", dict(ROOT, **{
        "fd.name": f, "proc.name": "sh", "proc.cmdline": cmd(*argv), "evt.type": "openat"}))


def st_remove_bulk(c, s, ctx):
    tok = ctx.token("shred")
    f = os.path.join(ctx.tokdir(tok), "victim")
    with open(f, "w") as fh:
        fh.write("x" * 100)
    argv = [tool("shred"), "-n", "1", "-u", f]
    run(ctx, argv)
    expect_alert(c, s, "Remove Bulk Data from Disk", tok, "Warning", dict(ROOT, **{
        "proc.name": "shred", "proc.cmdline": cmd(*argv), "proc.exepath": tool("shred"),
        "evt.type": "execve"}))
    c.ok(not os.path.exists(f), "shred -u left %s" % f)


def st_symlink(c, s, ctx):
    tok = ctx.token("symlink")
    d = ctx.tokdir(tok)
    for target in ("/etc/shadow", "/root"):
        link = os.path.join(d, "l" + target.replace("/", "-"))
        argv = [tool("ln"), "-s", target, link]
        run(ctx, argv)
        expect_alert(c, s, "Create Symlink Over Sensitive Files",
                     lambda a, lk=link: lk in a["output"], "Warning", dict(ROOT, **{
                         "evt.arg.target": target, "evt.arg.linkpath": link,
                         "proc.name": "ln", "proc.cmdline": cmd(*argv),
                         "evt.type": "symlinkat"}))


def st_hardlink(c, s, ctx):
    tok = ctx.token("hardlink")
    newpath = "/nonexistent-%s/h" % tok   # the link fails (ENOENT): nothing is created
    argv = [tool("ln"), "/etc/shadow", newpath]
    run(ctx, argv)
    expect_alert(c, s, "Create Hardlink Over Sensitive Files", tok, "Warning", dict(ROOT, **{
        "evt.arg.oldpath": "/etc/shadow", "evt.arg.newpath": newpath, "proc.name": "ln",
        "proc.cmdline": cmd(*argv), "evt.type": "linkat"}))


def st_ptrace(c, s, ctx):
    tok = ctx.token("ptrace")
    sl = ctx.sleeper()
    argv = [ctx.py, ctx.helper, "ptrace", str(sl.pid), tok]
    run(ctx, argv)
    expect_alert(c, s, "PTRACE attached to process", tok, "Warning", dict(ROOT, **{
        "proc.name": "python3", "proc.cmdline": cmd(*argv), "evt.type": "ptrace",
        "proc.pname": ctx.comm, "proc.pcmdline": ctx.cmdline}))


def st_traceme(c, s, ctx):
    tok = ctx.token("traceme")
    argv = [ctx.py, ctx.helper, "traceme", tok]
    run(ctx, argv)
    expect_alert(c, s, "PTRACE anti-debug attempt", tok, "Notice", dict(ROOT, **{
        "proc.name": "python3", "proc.cmdline": cmd(*argv), "evt.type": "ptrace"}))


def st_aws(c, s, ctx):
    tok = ctx.token("aws")
    d = ctx.tokdir(tok)
    argv = [tool("grep"), "-ri", "aws_secret_access_key", d]
    run(ctx, argv, cwd=d)
    expect_alert(c, s, "Find AWS Credentials", tok, "Warning", dict(ROOT, **{
        "proc.name": "grep", "proc.cmdline": cmd(*argv), "proc.cwd": cwd_is(d),
        "group.gid": 0, "group.name": "root", "evt.type": "execve"}))
    tok2 = ctx.token("aws")
    argv = [tool("find"), os.path.join(ctx.tokdir(tok2), ".aws/credentials")]
    run(ctx, argv)
    expect_alert(c, s, "Find AWS Credentials", tok2, "Warning", {
        "proc.name": "find", "proc.cmdline": cmd(*argv)})


def st_dev_shm(c, s, ctx):
    tok = ctx.token("shm")
    path = "/dev/shm/" + tok
    shutil.copy(tool("true"), path)
    try:
        run(ctx, [path])
    finally:
        os.unlink(path)
    expect_alert(c, s, "Execution from /dev/shm", tok, "Warning", dict(ROOT, **{
        "proc.name": tok[:15], "proc.exepath": path, "proc.cmdline": tok[:15],
        "proc.cwd": cwd_is(ctx.work), "evt.type": "execve", "evt.res": "SUCCESS"}))


def st_dev_shm_cwd(c, s, ctx):
    """./prog run with the cwd /dev/shm itself: only the rule's
    (proc.cwd startswith "/dev/shm/" and proc.exe startswith "./") branch matches."""
    tok = ctx.token("shmcwd")
    path = "/dev/shm/" + tok
    shutil.copy(tool("true"), path)
    try:
        run(ctx, ["./" + tok], cwd="/dev/shm")
    finally:
        os.unlink(path)
    expect_alert(c, s, "Execution from /dev/shm", tok, "Warning", dict(ROOT, **{
        "proc.name": tok[:15], "proc.exepath": path, "proc.cwd": cwd_is("/dev/shm")}))


def st_cwd_slash(c, s, ctx):
    """proc.cwd as the reference engine has it: the directory with a trailing '/'
    (libsinsp's set_cwd appends one), which rules written for it rely on."""
    tok = ctx.token("cwd")
    d = ctx.tokdir(tok)
    run(ctx, [tool("grep"), "-r", "aws_access_key_id", "."], cwd=d)
    a = expect_alert(c, s, "Find AWS Credentials", lambda a: (
        a["output_fields"].get("proc.cwd") or "").rstrip("/") == d, "Warning")
    if a:
        c.eq("proc.cwd", a["output_fields"].get("proc.cwd"), d + "/")


def st_ssh_start(ctx):
    """Starts ssh to port 443 of a documentation address (TEST-NET-3), which the
    non-standard-port rule watches; it gives up after a second."""
    tok = ctx.token("ssh")
    ssh = TOOLS.get("ssh")
    if not ssh:
        return tok, "ssh is not installed"
    probe = socket.socket()
    probe.setblocking(False)
    r = probe.connect_ex(("203.0.113.7", 443))
    probe.close()
    if r not in (0, errno.EINPROGRESS):
        return tok, "no route to 203.0.113.7 here (%s): the rule needs a connect in progress" % (
            errno.errorcode.get(r, r))
    argv = [ssh, "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=1",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no",
            "-p", "443", "%s@203.0.113.7" % tok, "true"]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, cwd=ctx.work)
    return tok, p


def st_ssh(c, s, ctx, started):
    tok, p = started
    if isinstance(p, str):
        raise SkipCase(p)
    expect_alert(c, s, "Disallowed SSH Connection Non Standard Port", tok, "Notice",
                     dict(ROOT, **{"proc.name": "ssh", "evt.type": "connect",
                                   "fd.rport": 443, "fd.l4proto": "tcp", "fd.type": "ipv4",
                                   "fd.name": lambda v: isinstance(v, str) and
                                   v.endswith("->203.0.113.7:443")}), timeout=8)
    if p.poll() is None:
        p.kill()
    p.wait()


def st_memfd(c, s, ctx):
    tok = ctx.token("memfd")
    argv = [ctx.py, ctx.helper, "memfd-execveat", tool("sleep"), "1.5", tok]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, cwd=ctx.work)
    truth = None
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and p.poll() is None:
        try:
            t = proc_truth(p.pid)
            if t["exe"].startswith("/memfd:"):
                truth = t
                break
        except OSError:
            pass
        time.sleep(0.02)
    p.wait(10)
    c.ok(truth is not None, "could not read /proc of the memfd process")
    # A successful execveat is reported as execve (docs/bpf.md: x86 rewrites the syscall
    # number of a 64-bit exec); the reference engine would say execveat.
    exp = dict(ROOT, **{"proc.cmdline": "%s 1.5" % truth["comm"] if truth else contains(tok),
                        "evt.type": one_of("execveat", "execve"), "proc.pname": ctx.comm,
                        "proc.exepath": "memfd:" + tok, "proc.cwd": cwd_is(ctx.work)})
    if truth:
        exp["proc.name"] = truth["comm"]
    expect_alert(c, s, "Fileless execution via memfd_create", tok, "Critical", exp)


# ============================================================================ 2. default rules


DEFAULT_CONTAINER_ONLY = {
    "Cloud metadata service contacted from container": "container",
    "Service account token read by shell tool in container": "container",
    "Kernel module load attempted from container": "container",
    "Cluster or container client run in container": "container",
    "Package manager run in container": "container",
    "Interactive shell in container": "container with a tty",
    "Write below /etc in container": "container",
    "Write to root directory in container": "container",
    "Executable file created in container": "container",
    "Program not in image executed in container": "container with an overlayfs root",
    "Filesystem mounted from container": "privileged container",
    "Host block device mounted or opened by tool in container": "container",
    "Namespace joined from container": "privileged container",
    "Nsenter run in container": "privileged container",
    "Chroot called in container": "privileged container",
    "Container runtime socket used from container": "container and a runtime socket",
    "eBPF program loaded from container": "container",
}

# Output fields appended to a few default rules (ground truth for part 4).
GT_OUTPUT = (" gt(ppid=%proc.ppid sid=%proc.sid vpid=%proc.vpid tid=%thread.tid gid=%group.gid"
             " tty=%proc.tty cwd=%proc.cwd exepath=%proc.exepath exe=%proc.exe"
             " aname2=%proc.aname[2] pexepath=%proc.pexepath)")
GT_RULES = ["Program executed from temporary directory", "Shadow password file read by "
            "unexpected program", "Kernel module loaded by unexpected program",
            "Process switched to root user ID"]


def simple(rule, prio, argv_fn, fields_fn, sandbox=False, setup=None):
    """A case: run argv (built from the token), expect rule's alert with those fields."""
    def fn(c, s, ctx):
        tok = ctx.token("d")
        extra = setup(ctx, tok) if setup else None
        argv = argv_fn(ctx, tok, extra)
        pid, rc, out, err = run(ctx, argv, sandbox=sandbox)
        f = dict(fields_fn(ctx, tok, extra, argv, pid))
        a = expect_alert(c, s, rule, tok, prio, f)
        if a is None:
            c.note("trigger %r: rc %r, stderr %r" % (argv, rc, err[-400:]))
    return fn


def mk_tokdir(ctx, tok):
    return ctx.tokdir(tok)


def mk_file(rel):
    def setup(ctx, tok):
        d = ctx.tokdir(tok)
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("saker test file\n")
        return p
    return setup


def mk_path(rel):
    """A path in a token directory, its parent made, the file not (the trigger makes it)."""
    def setup(ctx, tok):
        p = os.path.join(ctx.tokdir(tok), rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p
    return setup


def direct(ctx, argv, pid, name=None):
    """Fields of a process this test started directly."""
    return dict(ROOT, **{"proc.pid": pid, "proc.name": name or os.path.basename(argv[0])[:15],
                         "proc.pname": ctx.comm, "proc.cmdline": cmd(*argv)})


def sandboxed(ctx, argv, pid, name=None):
    """The same for a command run through the sandbox (unshare and sh exec it: same pid)."""
    return direct(ctx, argv, pid, name)


def d_sudoers(c, s, ctx):
    tok = ctx.token("d")
    f = "/etc/sudoers.d/" + tok
    script = 'mkdir -p /etc/sudoers.d && : > "$1" && cat "$1" > /dev/null'
    argv = [tool("sh"), "-c", script, "sh", f]
    pid, rc, out, err = run(ctx, argv, sandbox=True)
    c.eq("trigger exit status (stderr %r)" % err, rc, 0)
    expect_alert(c, s, "Sudo policy modified", tok, "Error", dict(
        sandboxed(ctx, argv, pid), **{"fd.name": f}))
    expect_alert(c, s, "Sudo policy read by unexpected program", tok, "Notice", dict(ROOT, **{
        "fd.name": f, "proc.name": "cat", "proc.pname": "sh", "proc.cmdline": "cat " + f,
        "proc.exepath": tool("cat")}))
    c.ok(not os.path.exists(f), "%s exists on the host after the sandboxed trigger" % f)


def d_systemd_rename(c, s, ctx):
    tok = ctx.token("d")
    staged = "/etc/.%s.tmp" % tok
    final = "/etc/systemd/system/%s.service" % tok
    argv = [tool("sh"), "-c", ': > "$1" && exec mv "$1" "$2"', "sh", staged, final]
    pid, rc, out, err = run(ctx, argv, sandbox=True)
    c.eq("trigger exit status (stderr %r)" % err, rc, 0)
    expect_alert(c, s, "Systemd unit or generator written",
                 lambda a: a["output_fields"].get("fs.path.target") == final, "Warning",
                 dict(ROOT, **{"proc.name": "mv", "proc.pid": pid, "proc.pname": ctx.comm,
                               "fs.path.target": final, "proc.exepath": tool("mv"),
                               "proc.cmdline": "mv %s %s" % (staged, final)}))
    c.ok(not os.path.exists(final), "%s exists on the host" % final)


def d_finit(c, s, ctx):
    tok = ctx.token("d")
    argv = [ctx.py, ctx.helper, "finit", tok]
    pid, rc, out, err = run(ctx, argv)
    res = out.strip()   # EBADF, or ENOSYS on a kernel without module support
    c.note("finit_module(-1) returned " + res)
    expect_alert(c, s, "Kernel module loaded by unexpected program", tok, "Warning", dict(
        direct(ctx, argv, pid, "python3"), **{"evt.type": "finit_module", "evt.res": res,
                                              "proc.exepath": ctx.py}))


def d_ptrace(c, s, ctx):
    tok = ctx.token("d")
    sl = ctx.sleeper()
    argv = [ctx.py, ctx.helper, "ptrace", str(sl.pid), tok]
    pid, rc, out, err = run(ctx, argv)
    base = direct(ctx, argv, pid, "python3")
    expect_alert(c, s, "Ptrace attach to another process", tok, "Warning", dict(base, **{
        "evt.arg.request": "PTRACE_ATTACH", "evt.arg.pid": str(sl.pid), "evt.res": "SUCCESS",
        "proc.exepath": ctx.py}))
    expect_alert(c, s, "Ptrace write into another process", tok, "Error", dict(base, **{
        "evt.arg.request": "PTRACE_POKEDATA", "evt.arg.pid": str(sl.pid), "evt.res": is_error}))


def d_dup2(c, s, ctx):
    tok = ctx.token("d")
    argv = [ctx.py, ctx.helper, "dup2", tok]
    pid, rc, out, err = run(ctx, argv)
    conn = err.strip().splitlines()[0] if err.strip() else None
    expect_alert(c, s, "Standard stream redirected to network socket", tok, "Critical",
                 dict(direct(ctx, argv, pid, "python3"), **{
                     "evt.type": "dup2", "evt.rawres": 1, "fd.name": conn}))


def d_memfd(c, s, ctx):
    tok = ctx.token("d")
    argv = [ctx.py, ctx.helper, "memfd-procfd", tool("sleep"), "1.5", tok]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, cwd=ctx.work)
    truth = None
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and p.poll() is None:
        try:
            t = proc_truth(p.pid)
            if t["exe"].startswith("/memfd:"):
                truth = t
                break
        except OSError:
            pass
        time.sleep(0.02)
    p.wait(10)
    exp = dict(ROOT, **{"proc.pid": p.pid, "proc.exe": tok, "proc.pname": ctx.comm,
                        "proc.pcmdline": ctx.cmdline})
    if truth:
        exp["proc.name"] = truth["comm"]
        exp["proc.cmdline"] = "%s 1.5" % truth["comm"]
    MEMFD_BOX["alert"] = expect_alert(
        c, s, "Fileless program executed from memory",
        lambda a: a["output_fields"].get("proc.pid") == p.pid, "Critical", exp)
    MEMFD_BOX["tok"] = tok


MEMFD_BOX = {}


def d_memfd_exepath(c, s, ctx):
    """exec of /proc/self/fd/N of a memfd (how runc re-executes itself): the exepath is
    memfd:NAME, as for execveat and /dev/fd/N (docs/state.md), and as the reference
    engine's runc exemption (proc.exepath = "memfd:runc_cloned:/proc/self/exe") needs."""
    a = MEMFD_BOX.get("alert")
    if a is None:
        raise SkipCase("no alert from the memfd case")
    c.eq("proc.exepath", a["output_fields"].get("proc.exepath"), "memfd:" + MEMFD_BOX["tok"])


def d_kthread(c, s, ctx):
    tok = ctx.token("d")
    argv0 = "[%s]" % tok
    p = subprocess.Popen([argv0, "0"], executable=tool("sleep"), stdin=subprocess.DEVNULL,
                         cwd=ctx.work)
    p.wait(10)
    expect_alert(c, s, "Process disguised as kernel thread", tok, "Warning", dict(ROOT, **{
        "proc.exe": argv0, "proc.exepath": tool("sleep"), "proc.name": "sleep",
        "proc.pid": p.pid, "proc.cmdline": "sleep 0", "proc.pname": ctx.comm}))


def d_rmself(c, s, ctx):
    tok = ctx.token("d")
    d = os.path.join(ctx.bin, tok)
    os.mkdir(d)
    path = os.path.join(d, "rmself")
    shutil.copy(tool("rm"), path)
    pid, rc, out, err = run(ctx, [path, path])
    c.ok(not os.path.exists(path), "rmself did not remove itself: %r" % err)
    expect_alert(c, s, "Program deleted its own executable", tok, "Warning", dict(ROOT, **{
        "fs.path.name": path, "proc.name": "rmself", "proc.pid": pid,
        "proc.cmdline": "rmself " + path}))


def d_preload(c, s, ctx):
    tok = ctx.token("d")
    lib = "/nonexistent/lib%s.so" % tok
    env = dict(os.environ, LD_PRELOAD=lib)
    argv = [tool("sleep"), "1"]
    pid, rc, out, err = run(ctx, argv, env=env)
    expect_alert(c, s, "Program started with unusual LD_PRELOAD", tok, "Notice", dict(
        direct(ctx, argv, pid), **{"proc.env[LD_PRELOAD]": lib, "proc.exepath": tool("sleep")}))


def d_preload_short(c, s, ctx):
    """The same with processes that end at once: the environment must come from the exec
    record itself (the kernel copies it when a rule reads proc.env), not from a /proc read
    that a finished process cannot answer."""
    libs = []
    for i in range(20):
        tok = ctx.token("d")
        lib = "/nonexistent/lib%s.so" % tok
        env = dict(os.environ, LD_PRELOAD=lib)
        pid, rc, out, err = run(ctx, [tool("true")], env=env)
        libs.append((tok, lib, pid))
    for tok, lib, pid in libs:
        expect_alert(c, s, "Program started with unusual LD_PRELOAD", tok, "Notice", {
            "proc.env[LD_PRELOAD]": lib, "proc.pid": pid, "proc.exepath": tool("true")})


def d_server_shell(c, s, ctx):
    tok = ctx.token("d")
    nginx = os.path.join(ctx.bin, "nginx")
    pid, rc, out, err = run(ctx, [nginx, "-c", "sh -c true %s; true" % tok])
    expect_alert(c, s, "Shell started by server process", tok, "Warning", dict(ROOT, **{
        "proc.name": "sh", "proc.cmdline": "sh -c true " + tok, "proc.pname": "nginx",
        "proc.pcmdline": "nginx -c sh -c true %s; true" % tok, "proc.aname[2]": ctx.comm}))


def d_server_oneliner(c, s, ctx):
    tool("perl")
    tok = ctx.token("d")
    nginx = os.path.join(ctx.bin, "nginx")
    pid, rc, out, err = run(ctx, [nginx, "-c", "perl -e 1 %s; true" % tok])
    expect_alert(c, s, "Interpreter one-liner started by server process", tok, "Warning", dict(
        ROOT, **{"proc.cmdline": "perl -e 1 " + tok, "proc.pname": "nginx",
                 "proc.aname[2]": ctx.comm}))


def d_shell_connect(c, s, ctx):
    tok = ctx.token("d")
    argv = [tool("bash"), "-c", "exec 3<>/dev/tcp/127.0.0.1/9", tok]
    pid, rc, out, err = run(ctx, argv)
    expect_alert(c, s, "Shell opened network connection", tok, "Critical", dict(
        direct(ctx, argv, pid), **{"evt.res": "ECONNREFUSED",
                                   "fd.name": lambda v: isinstance(v, str) and
                                   v.endswith("->127.0.0.1:9")}))


def d_pool_port(c, s, ctx):
    tok = ctx.token("d")
    argv = [ctx.py, ctx.helper, "connect", "3333", tok]
    pid, rc, out, err = run(ctx, argv)
    expect_alert(c, s, "Connection to mining pool port", tok, "Warning", dict(
        direct(ctx, argv, pid, "python3"), **{"fd.sport": 3333, "evt.res": "ECONNREFUSED",
                                              "proc.exepath": ctx.py}))


def d_curl_sh(c, s, ctx):
    tok = ctx.token("d")
    pipeline = "curl -s file:///dev/null | sh"
    argv = [tool("sh"), "-c", pipeline, tok]
    pid, rc, out, err = run(ctx, argv)
    expect_alert(c, s, "Downloaded script piped into shell", tok, "Warning", dict(ROOT, **{
        "proc.name": "sh", "proc.cmdline": "sh", "proc.pcmdline": cmd(*argv),
        "proc.aname[2]": ctx.comm}))


def default_cases(ctx):
    B = lambda n: os.path.join(ctx.bin, n)  # noqa: E731
    T = tool
    cases = []

    def add(rule, fn, label=None, also=()):
        cases.append((rule, label, fn))
        for r in also:
            cases.append((r, None, None))

    # -- credential access
    add("Shadow password file read by unexpected program", simple(
        "Shadow password file read by unexpected program", "Warning",
        lambda ctx, tok, d: [T("cat"), "/etc/shadow", d], lambda ctx, tok, d, argv, pid: dict(
            direct(ctx, argv, pid), **{"fd.name": "/etc/shadow", "proc.exepath": T("cat"),
                                       "user.loginuid": ctx.loginuid, "proc.aname[2]":
                                       lambda v: isinstance(v, str)}),
        setup=mk_tokdir))
    add("Group shadow file read by unexpected program", simple(
        "Group shadow file read by unexpected program", "Warning",
        lambda ctx, tok, d: [T("head"), "-c1", "/etc/gshadow", d],
        lambda ctx, tok, d, argv, pid: dict(direct(ctx, argv, pid), **{
            "fd.name": "/etc/gshadow"}), setup=mk_tokdir))
    add("Sudo policy read by unexpected program", d_sudoers,
        "Sudo policy modified + Sudo policy read by unexpected program (sandboxed /etc)",
        also=["Sudo policy modified"])
    add("SSH private key read by non-SSH program", simple(
        "SSH private key read by non-SSH program", "Warning",
        lambda ctx, tok, p: [T("cat"), p], lambda ctx, tok, p, argv, pid: dict(
            direct(ctx, argv, pid), **{"fd.name": p}), setup=mk_file(".ssh/id_ed25519")))
    add("Cloud credentials read by unexpected program", simple(
        "Cloud credentials read by unexpected program", "Warning",
        lambda ctx, tok, p: [T("cat"), p], lambda ctx, tok, p, argv, pid: dict(
            direct(ctx, argv, pid), **{"fd.name": p}), setup=mk_file(".aws/credentials")))

    def procfs(rule, prio, what, argv_fn, extra):
        def fn(c, s, ctx):
            sl = ctx.sleeper()
            f = "/proc/%d/%s" % (sl.pid, what)
            argv = argv_fn(f)
            pid, rc, out, err = run(ctx, argv)
            expect_alert(c, s, rule, lambda a: a["output_fields"].get("proc.pid") == pid, prio,
                         dict(direct(ctx, argv, pid), **dict({"fd.name": f}, **extra)))
        return fn
    add("Process memory opened through procfs", procfs(
        "Process memory opened through procfs", "Warning", "mem",
        lambda f: [T("dd"), "if=" + f, "of=/dev/null", "bs=1", "count=0", "status=none"],
        {"evt.arg.flags": flag("O_RDONLY")}))
    add("Process environment read through procfs", procfs(
        "Process environment read through procfs", "Notice", "environ",
        lambda f: [T("cat"), f], {}))

    # -- persistence (sandboxed: /etc is an overlay)
    def touch_in(rule, prio, path_fn, label=None):
        add(rule, simple(rule, prio, lambda ctx, tok, d: [T("touch"), path_fn(tok)],
                         lambda ctx, tok, d, argv, pid: dict(sandboxed(ctx, argv, pid), **{
                             "fd.name": path_fn(tok), "?proc.exepath": T("touch")}),
                         sandbox=True), label)
    touch_in("Cron or at job created or changed", "Notice", lambda t: "/etc/cron.d/" + t)
    add("Systemd unit or generator written", d_systemd_rename,
        "Systemd unit or generator written (rename into /etc/systemd/system, sandboxed)")
    touch_in("Init script or rc.local written", "Warning", lambda t: "/etc/init.d/" + t)
    touch_in("Shell start-up file modified", "Notice", lambda t: "/etc/profile.d/%s.sh" % t)
    add("Shell start-up file modified", simple(
        "Shell start-up file modified", "Notice",
        lambda ctx, tok, p: [T("sh"), "-c", 'echo "# saker" >> "$1"', "sh", p],
        lambda ctx, tok, p, argv, pid: dict(direct(ctx, argv, pid), **{"fd.name": p}),
        setup=mk_path(".bashrc")), "Shell start-up file modified (a user's .bashrc)")
    add("SSH authorized keys modified", simple(
        "SSH authorized keys modified", "Warning",
        lambda ctx, tok, p: [T("sh"), "-c", ': >> "$1"', "sh", p],
        lambda ctx, tok, p, argv, pid: dict(direct(ctx, argv, pid), **{"fd.name": p}),
        setup=mk_path(".ssh/authorized_keys")))
    add("Dynamic linker preload file written", simple(
        "Dynamic linker preload file written", "Critical",
        lambda ctx, tok, d: [T("sh"), "-c", ": >> /etc/ld.so.preload", tok],
        lambda ctx, tok, d, argv, pid: dict(sandboxed(ctx, argv, pid), **{
            "fd.name": "/etc/ld.so.preload"}), sandbox=True))
    touch_in("Dynamic linker search path changed", "Warning",
             lambda t: "/etc/ld.so.conf.d/%s.conf" % t)
    add("Kernel module loaded by unexpected program", d_finit)
    touch_in("PAM configuration or module changed", "Warning", lambda t: "/etc/pam.d/" + t)
    add("SSH server configuration changed", simple(
        "SSH server configuration changed", "Notice",
        lambda ctx, tok, p: [T("sh"), "-c", ': > "$1"', "sh", p],
        lambda ctx, tok, p, argv, pid: dict(direct(ctx, argv, pid), **{"fd.name": p}),
        setup=mk_path(".ssh/rc")))
    udev = ("/usr/lib/udev/rules.d" if os.path.isdir("/usr/lib/udev/rules.d")
            else "/etc/udev/rules.d")
    if udev.startswith("/etc"):
        add("Udev rule written", simple(
            "Udev rule written", "Warning",
            lambda ctx, tok, d: [T("sh"), "-c", 'mkdir -p "${1%/*}" && : > "$1"', "sh",
                                 "%s/99-%s.rules" % (udev, tok)],
            lambda ctx, tok, d, argv, pid: dict(sandboxed(ctx, argv, pid), **{
                "fd.name": "%s/99-%s.rules" % (udev, tok)}), sandbox=True))
    else:
        touch_in("Udev rule written", "Warning", lambda t: "%s/99-%s.rules" % (udev, t))
    touch_in("Package manager hook configuration written", "Notice",
             lambda t: "/etc/apt/apt.conf.d/99" + t)

    # -- privilege escalation
    add("Setuid or setgid bit set on a file", simple(
        "Setuid or setgid bit set on a file", "Notice",
        lambda ctx, tok, p: [T("chmod"), "u+s", p],
        lambda ctx, tok, p, argv, pid: dict(direct(ctx, argv, pid), **{
            "fs.path.name": p, "evt.arg.mode": flag("S_ISUID"), "evt.type": "fchmodat"}),
        setup=mk_file("file")))
    add("Process switched to root user ID", simple(
        "Process switched to root user ID", "Warning",
        lambda ctx, tok, d: [ctx.py, ctx.helper, "setuid", tok],
        lambda ctx, tok, d, argv, pid: dict(direct(ctx, argv, pid, "python3"), **{
            "evt.type": "setuid", "proc.exepath": ctx.py})))
    add("Account database modified outside account tools", simple(
        "Account database modified outside account tools", "Error",
        lambda ctx, tok, d: [T("sh"), "-c", ": >> /etc/passwd", tok],
        lambda ctx, tok, d, argv, pid: dict(sandboxed(ctx, argv, pid), **{
            "fd.name": "/etc/passwd"}), sandbox=True))
    add("User namespace created by unexpected program", simple(
        "User namespace created by unexpected program", "Notice",
        lambda ctx, tok, d: [T("unshare"), "--user", T("true"), tok], setup=userns_possible,
        fields_fn=lambda ctx, tok, d, argv, pid: dict(direct(ctx, argv, pid), **{
            "evt.type": "unshare", "evt.arg.flags": flag("CLONE_NEWUSER")})))
    add("Ptrace attach to another process", d_ptrace,
        "Ptrace attach to another process + Ptrace write into another process",
        also=["Ptrace write into another process"])
    add("Dangerous file capability granted", simple(
        "Dangerous file capability granted", "Warning",
        lambda ctx, tok, p: [T("setcap"), "cap_setuid+ep", p],
        lambda ctx, tok, p, argv, pid: dict(ROOT, **{
            "proc.cmdline": cmd(*argv), "proc.pname": ctx.comm,
            "proc.pcmdline": ctx.cmdline}), setup=mk_file("file")))

    # -- defence evasion
    add("Self-debugging anti-analysis attempt", simple(
        "Self-debugging anti-analysis attempt", "Notice",
        lambda ctx, tok, d: [ctx.py, ctx.helper, "traceme", tok],
        lambda ctx, tok, d, argv, pid: dict(direct(ctx, argv, pid, "python3"), **{
            "evt.res": "SUCCESS"})))
    add("Log file truncated", simple(
        "Log file truncated", "Warning",
        lambda ctx, tok, d: [T("sh"), "-c", ': > "$1"', tok, "/var/log/%s.log" % tok],
        lambda ctx, tok, d, argv, pid: dict(sandboxed(ctx, argv, pid), **{
            "fd.name": "/var/log/%s.log" % tok, "evt.arg.flags": flag("O_TRUNC"),
            "evt.type": "openat"}), sandbox=True))
    add("Log file deleted", simple(
        "Log file deleted", "Warning",
        lambda ctx, tok, d: [T("sh"), "-c", ': >> "$1" && exec rm "$1"', tok,
                             "/var/log/%s.log" % tok],
        lambda ctx, tok, d, argv, pid: dict(ROOT, **{
            "fs.path.name": "/var/log/%s.log" % tok, "proc.name": "rm", "proc.pid": pid,
            "proc.cmdline": "rm /var/log/%s.log" % tok, "proc.exepath": T("rm")}),
        sandbox=True))
    add("Shell history erased", simple(
        "Shell history erased", "Warning",
        lambda ctx, tok, p: [T("sh"), "-c", ': > "$1"', "sh", p],
        lambda ctx, tok, p, argv, pid: dict(direct(ctx, argv, pid), **{
            "fd.name": p, "evt.type": "openat"}), setup=mk_path(".bash_history")))
    add("Symbolic link to sensitive file created", simple(
        "Symbolic link to sensitive file created", "Warning",
        lambda ctx, tok, d: [T("ln"), "-s", "/etc/shadow", os.path.join(d, "s")],
        lambda ctx, tok, d, argv, pid: dict(direct(ctx, argv, pid), **{
            "evt.arg.target": "/etc/shadow", "fs.path.target": os.path.join(d, "s")}),
        setup=mk_tokdir))
    add("Hard link to sensitive file created", simple(
        "Hard link to sensitive file created", "Warning",
        lambda ctx, tok, d: [T("ln"), "/etc/shadow", "/nonexistent-%s/h" % tok],
        lambda ctx, tok, d, argv, pid: dict(direct(ctx, argv, pid), **{
            "fs.path.source": "/etc/shadow", "fs.path.target": "/nonexistent-%s/h" % tok,
            "evt.res": "ENOENT"})))

    def shm(c, s, ctx):
        tok = ctx.token("d")
        path = "/dev/shm/" + tok
        shutil.copy(T("true"), path)
        try:
            pid, rc, out, err = run(ctx, [path, "x"])
        finally:
            os.unlink(path)
        expect_alert(c, s, "Program executed from shared memory", tok, "Warning", dict(ROOT, **{
            "proc.exepath": path, "proc.pid": pid, "proc.name": tok[:15],
            "proc.cmdline": tok[:15] + " x", "proc.cwd": cwd_is(ctx.work),
            "proc.pname": ctx.comm, "proc.pcmdline": ctx.cmdline}))
    add("Program executed from shared memory", shm)
    add("Program executed from temporary directory", None)   # in the ground-truth part
    add("Fileless program executed from memory", d_memfd)
    add("Fileless program executed from memory", d_memfd_exepath,
        "proc.exepath of a memfd run through /proc/self/fd/N is memfd:NAME")

    def bincase(rule, prio, name, args, pname=None):
        add(rule, simple(rule, prio, lambda ctx, tok, d: [B(name)] + args(tok),
                         lambda ctx, tok, d, argv, pid: dict(ROOT, **{
                             "proc.cmdline": cmd(*argv), "proc.pname": ctx.comm,
                             "proc.pcmdline": ctx.cmdline})))
    bincase("Security service stopped or disabled", "Warning", "systemctl",
            lambda t: ["stop", "auditd-%s.service" % t])
    add("Security tool process killed by name", simple(
        "Security tool process killed by name", "Warning",
        lambda ctx, tok, d: [T("pkill"), "-x", "auditd-" + tok],
        lambda ctx, tok, d, argv, pid: dict(ROOT, **{"proc.cmdline": cmd(*argv),
                                                      "proc.pname": ctx.comm})))
    bincase("Kernel audit disabled or rules flushed", "Warning", "auditctl",
            lambda t: ["-e", "0", t])
    bincase("Mandatory access control disabled", "Warning", "aa-teardown", lambda t: [t])
    add("Process disguised as kernel thread", d_kthread)
    add("Program deleted its own executable", d_rmself)
    add("Program started with unusual LD_PRELOAD", d_preload)
    add("Program started with unusual LD_PRELOAD", d_preload_short,
        label="Program started with unusual LD_PRELOAD (20 processes that end at once)")

    # -- discovery
    add("Network scanner executed", simple(
        "Network scanner executed", "Notice",
        lambda ctx, tok, d: [B("nmap"), "-sS", "127.0.0.1", tok],
        lambda ctx, tok, d, argv, pid: dict(ROOT, **{
            "proc.cmdline": cmd(*argv), "proc.exepath": B("nmap"), "proc.pname": ctx.comm})))
    add("Search for setuid binaries", simple(
        "Search for setuid binaries", "Notice",
        lambda ctx, tok, d: [T("find"), "/nonexistent-" + tok, "-perm", "-4000"],
        lambda ctx, tok, d, argv, pid: dict(ROOT, **{
            "proc.cmdline": cmd(*argv), "proc.pname": ctx.comm})))

    # -- execution, command and control, impact
    add("Shell started by server process", d_server_shell)
    add("Interpreter one-liner started by server process", d_server_oneliner)
    add("Standard stream redirected to network socket", d_dup2)
    add("Reverse shell one-liner executed", simple(
        "Reverse shell one-liner executed", "Critical",
        lambda ctx, tok, d: [T("bash"), "-c", "echo /dev/tcp/127.0.0.1/9 >/dev/null", tok],
        lambda ctx, tok, d, argv, pid: direct(ctx, argv, pid)))
    add("Shell opened network connection", d_shell_connect)
    add("Netcat or socat started with program execution", simple(
        "Netcat or socat started with program execution", "Critical",
        lambda ctx, tok, d: [B("nc"), "-e", "/bin/sh", "127.0.0.1", "9", tok],
        lambda ctx, tok, d, argv, pid: dict(ROOT, **{
            "proc.cmdline": cmd(*argv), "proc.pid": pid, "proc.pname": ctx.comm})))
    add("Cryptocurrency miner started", simple(
        "Cryptocurrency miner started", "Critical",
        lambda ctx, tok, d: [T("true"), "-o", "stratum+tcp://pool.invalid:3333", tok],
        lambda ctx, tok, d, argv, pid: dict(ROOT, **{
            "proc.cmdline": cmd(*argv), "proc.pid": pid, "proc.exepath": T("true")})))
    add("Connection to mining pool port", d_pool_port)
    add("Downloaded script piped into shell", d_curl_sh)
    add("Tunnelling tool started", simple(
        "Tunnelling tool started", "Warning",
        lambda ctx, tok, d: [B("chisel"), "client", tok],
        lambda ctx, tok, d, argv, pid: dict(ROOT, **{
            "proc.cmdline": cmd(*argv), "proc.pid": pid, "proc.exepath": B("chisel")})))
    add("Kernel usermode helper hook written", simple(
        "Kernel usermode helper hook written", "Critical",
        lambda ctx, tok, d: [T("sh"), "-c", ": >> /proc/sys/kernel/core_pattern", tok],
        lambda ctx, tok, d, argv, pid: dict(sandboxed(ctx, argv, pid), **{
            "fd.name": "/proc/sys/kernel/core_pattern",
            "thread.cap_effective": contains("CAP_SYS_ADMIN")}), sandbox=True))
    return cases


# ============================================================================ 4. ground truth


def gt_check(c, s, ctx, rule, pred, truth, pid, extra=None, timeout=WAIT):
    exp = {"proc.pid": pid, "proc.vpid": pid, "thread.tid": pid,
           "proc.ppid": truth["ppid"], "proc.sid": truth["sid"], "proc.tty": truth["tty"],
           "user.uid": truth["uid"], "group.gid": truth["gid"],
           "proc.cwd": cwd_is(truth["cwd"]), "proc.name": truth["comm"]}
    if truth.get("loginuid") is not None:
        exp["user.loginuid"] = truth["loginuid"]
    exp.update(extra or {})
    return expect_alert(c, s, rule, pred, None, exp, timeout=timeout)


def spawn_and_read(argv, **kw):
    """Starts argv (which should live a second or more), reads /proc about it once it runs
    the expected program, and waits for it. (Popen, truth or None)."""
    want = kw.pop("want_exe")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)
    truth = None
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and p.poll() is None:
        try:
            t = proc_truth(p.pid)
            # exec switches /proc/PID/exe a moment before it renames the task: wait for
            # both, or the name read could still be the shell's
            if t["exe"] == want and t["comm"] == os.path.basename(want)[:15]:
                truth = t
                break
        except OSError:
            pass
        time.sleep(0.01)
    p.wait(15)
    return p, truth


def gt_tmp_exec(c, s, ctx, as_daemon=False, chdir=False):
    tok = ctx.token("gt")
    d = ctx.tokdir(tok)
    os.chmod(d, 0o755)
    prog = os.path.join(d, "sleepy")
    shutil.copy(tool("sleep"), prog)
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    if as_daemon:
        argv = [tool("setpriv"), "--reuid=daemon", "--regid=daemon", "--clear-groups",
                prog, "1"]
        cwd = "/"
    elif chdir:
        argv = [tool("sh"), "-c", 'cd "$1" && exec "$2" 1', "sh", sub, prog]
        cwd = ctx.work
    else:
        argv = [prog, "1"]
        cwd = d
    p, truth = spawn_and_read(argv, cwd=cwd, want_exe=prog)
    if not c.ok(truth, "could not read /proc of %r while it ran" % argv):
        return
    c.eq("/proc ppid (sanity)", truth["ppid"], ctx.pid)
    if chdir:
        c.eq("/proc cwd (sanity)", truth["cwd"], sub)
    gt_check(c, s, ctx, "Program executed from temporary directory",
             lambda a: a["output_fields"].get("proc.pid") == p.pid, truth, p.pid, {
                 "proc.exepath": prog, "proc.exe": prog, "proc.cmdline": "sleepy 1",
                 "proc.pname": ctx.comm, "proc.pcmdline": ctx.cmdline,
                 "user.name": "daemon" if as_daemon else "root",
                 "proc.pexepath": lambda v: isinstance(v, str) and
                 os.path.realpath(v) == os.path.realpath(ctx.py)})


def gt_grandchild(c, s, ctx):
    """cat forked by a shell this test started: ppid and parent fields are the shell's."""
    tok = ctx.token("gt")
    d = ctx.tokdir(tok)
    argv = [tool("sh"), "-c", '"$1" /etc/shadow "$2"; exit 0', "sh", tool("cat"), d]
    pid, rc, out, err = run(ctx, argv, cwd=d)
    expect_alert(c, s, "Shadow password file read by unexpected program", tok, "Warning",
                 dict(ROOT, **{"proc.ppid": pid, "proc.pname": "sh",
                               "proc.aname[2]": ctx.comm, "proc.cwd": cwd_is(d),
                               "proc.exepath": tool("cat"), "proc.exe": tool("cat"),
                               "proc.cmdline": "cat /etc/shadow " + d,
                               "proc.pexepath": tool("sh"), "fd.name": "/etc/shadow",
                               "proc.pid": lambda v: isinstance(v, int) and v > pid - 1 and
                               v != pid}))


def gt_fork(c, s, ctx):
    """A forked (not exec'd) child: its own pid, the helper as parent, the same image."""
    tok = ctx.token("gt")
    d = ctx.tokdir(tok)
    argv = [ctx.py, ctx.helper, "fork-finit", tok]
    pid, rc, out, err = run(ctx, argv, cwd=d)
    try:
        child, res = int(out.split()[0]), out.split()[1]
    except (ValueError, IndexError):
        c.fail("the helper printed no child pid: %r %r" % (out, err))
        return
    expect_alert(c, s, "Kernel module loaded by unexpected program",
                 lambda a: a["output_fields"].get("proc.pid") == child, "Warning", dict(ROOT, **{
                     "proc.pid": child, "proc.ppid": pid, "thread.tid": child,
                     "proc.name": "python3", "proc.pname": "python3", "proc.aname[2]": ctx.comm,
                     "proc.cmdline": cmd(*argv), "proc.exepath": ctx.py, "proc.cwd": cwd_is(d),
                     "evt.res": res}))


def gt_thread(c, s, ctx):
    """setuid(0) from a second thread: thread.tid is that thread, proc.pid the process."""
    tok = ctx.token("gt")
    argv = [ctx.py, ctx.helper, "thread-setuid", tok]
    pid, rc, out, err = run(ctx, argv)
    try:
        tid = int(out.split()[0])
    except (ValueError, IndexError):
        c.fail("the helper printed no thread id: %r %r" % (out, err))
        return
    c.ok(tid != pid, "the helper's thread has the process's id")
    expect_alert(c, s, "Process switched to root user ID", tok, "Warning", dict(ROOT, **{
        "proc.pid": pid, "thread.tid": tid, "proc.ppid": ctx.pid, "proc.name": "python3",
        "evt.type": "setuid"}))


# ============================================================================ 3. benign workload


WORKLOAD = r'''#!/bin/sh
# saker benign workload: what a developer or an administrator does all day.
cd "$1"
py=$2
end=$(( $(date +%s) + $3 ))
have() { command -v "$1" > /dev/null; }
n=0
while :; do
    n=$((n + 1))
    mkdir -p "it$n" && cd "it$n"
    cat > hello.c <<'EOF'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
EOF
    if have gcc; then gcc -O1 -Wall -o hello hello.c; fi
    printf 'alpha\nbeta\ngamma\n' > notes.txt
    sed -i 's/beta/BETA/' notes.txt
    "$py" -c "import json; json.dump({'n': $n}, open('data.json', 'w'))"
    "$py" -c "open('notes.txt', 'a').write('delta\n')"
    if have dpkg; then dpkg -l > /dev/null; fi
    if have apt-cache; then apt-cache policy bash > /dev/null; fi
    sh -c 'ls; cat /etc/hostname; grep root /etc/group' > /dev/null
    ps -ef > /dev/null
    ps aux > /dev/null
    if have git; then
        git init -q repo
        (cd repo && cp ../hello.c ../notes.txt . && git add . &&
            git -c user.name=saker -c user.email=saker@example.invalid commit -q -m "it $n" &&
            git log --oneline > /dev/null && git status --short > /dev/null)
    fi
    tar -czf ../src$n.tar.gz hello.c notes.txt data.json
    gzip -k notes.txt && gzip -dc notes.txt.gz > /dev/null
    sh ./../../script.sh > /dev/null
    cd ..
    [ "$(date +%s)" -ge "$end" ] && break
done
echo "iterations: $n"
'''

SCRIPT = r'''#!/bin/sh
# a maintenance script: loops, pipes, here-documents, command substitution
for f in /etc/hostname /etc/os-release; do
    wc -l < "$f"
done
uname -a
id
date +%F
env | sort | head -n 3
awk -F: '$3 == 0 { print $1 }' /etc/passwd
echo done | tr a-z A-Z
'''


def benign(tap, ctx, stable_ok):
    rules = ([STABLE_RULES] if stable_ok else []) + ["@default"]
    # Every rule's output gets the process, its session and its ancestors' pids, so that an
    # alert can be traced to the workload.
    p = subprocess.run([ctx.exe, "-L"] + sum([["-r", r] for r in rules], []),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    names = [ln for ln in p.stdout.decode().splitlines() if ln and not ln[0].isspace()]
    bn = " bn(pid=%proc.pid ppid=%proc.ppid sid=%proc.sid " + " ".join(
        "a%d=%%proc.apid[%d]" % (i, i) for i in range(2, 10)) + \
        " env=%proc.env[SAKER_RL_BENIGN])"
    ov = os.path.join(ctx.work, "benign-override.yaml")
    with open(ov, "w") as f:
        for n in names:
            f.write("- rule: %s\n  output: %s\n  override:\n    output: append\n\n" % (
                json.dumps(n), json.dumps(bn)))
    wdir = tempfile.mkdtemp(prefix="saker-rl-benign-")
    with open(os.path.join(wdir, "workload.sh"), "w") as f:
        f.write(WORKLOAD)
    with open(os.path.join(wdir, "script.sh"), "w") as f:
        f.write(SCRIPT)
    box = {}

    def t_benign(c):
        c.ok(len(names) >= 73, "saker -L listed %d rules: %r" % (len(names), p.stderr[-500:]))
        s = AlertSensor(ctx.exe, rules + [ov], ["-o", "rule_matching=all"], name="benign",
                        max_seconds=120)
        if not start_sensor(tap, s):
            c.fail("the benign sensor did not start")
            return
        box["s"] = s
        try:
            token = "benign-" + ctx.run
            env = dict(os.environ, SAKER_RL_BENIGN=token, LC_ALL="C")
            t0 = time.monotonic()
            w = subprocess.Popen([tool("sh"), os.path.join(wdir, "workload.sh"), wdir, ctx.py,
                                  str(BENIGN_SECONDS)], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                 start_new_session=True)
            try:
                wout, werr = w.communicate(timeout=BENIGN_SECONDS + 60)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
                wout, werr = w.communicate()
            c.note("workload: pid %d, %.1f s, rc %r, %s" % (
                w.pid, time.monotonic() - t0, w.returncode, wout.decode().strip()))
            c.ok(w.returncode == 0, "the workload failed (rc %r): %s" % (
                w.returncode, werr.decode("utf-8", "replace")[-2000:]))
            cenv = dict(os.environ, SAKER_RL_BENIGN="control-" + ctx.run)
            cp = subprocess.Popen([tool("sh"), "-c", 'sh -c "cat /etc/shadow > /dev/null"; true'],
                                  stdin=subprocess.DEVNULL, env=cenv, start_new_session=True)
            box["ctl"] = cp.pid
            cp.wait(20)
            time.sleep(0.5)
        finally:
            s.stop()
        c.ok(s.rc == 0, "benign sensor exit status %r:\n%s" % (s.rc, s.stderr()[-2000:]))
        for line in s.stderr().splitlines():
            if ": exit: " in line:
                c.note(line)
        def from_tree(a, root, tok):
            of = a.get("output_fields") or {}
            chain = [of.get("proc.pid"), of.get("proc.ppid")] + [
                of.get("proc.apid[%d]" % i) for i in range(2, 10)]
            return (of.get("proc.sid") == root or root in chain or
                    of.get("proc.env[SAKER_RL_BENIGN]") == tok)

        # The control: a known alert (cat /etc/shadow two shells down) from a process
        # started like the workload is attributed to it; the attribution is not vacuous.
        ctl = s.find(lambda a: box.get("ctl") is not None and from_tree(
            a, box["ctl"], "control-" + ctx.run))
        c.ok(ctl is not None, "control: the alert of a process started like the workload "
             "(pid %r) was not attributed to it: %r" % (
                 box.get("ctl"), [short(a) for a in s.events if "/etc/shadow" in a["output"]]))
        mine, other = [], []
        for a in s.events:
            if box.get("ctl") is not None and from_tree(a, box["ctl"], "control-" + ctx.run):
                continue
            (mine if from_tree(a, w.pid, token) else other).append(a)
        c.note("%d alerts during the workload: %d from it, %d from other processes" % (
            len(s.events), len(mine), len(other)))
        seen = {}
        for a in other:
            of = a.get("output_fields") or {}
            key = (a.get("rule"), of.get("proc.name"))
            seen.setdefault(key, []).append(a)
        for (rule, pn), lst in sorted(seen.items(), key=lambda kv: -len(kv[1])):
            c.note("not from the workload: %dx %s (proc.name=%s), e.g. %s" % (
                len(lst), rule, pn, lst[0].get("output", "")[:400]))
        for a in mine[:30]:
            c.fail("false positive from the workload: " + short(a))
        if len(mine) > 30:
            c.fail("... and %d more" % (len(mine) - 30))
        bad = [b for b in s.bad_lines]
        c.ok(not bad, "non-JSON lines on stdout: %r" % bad[:3])

    tap.case("benign workload (gcc, sed -i, python, dpkg -l, apt-cache, sh scripts, ps, git, "
             "tar/gzip) raises no alert under both rulesets", t_benign)
    shutil.rmtree(wdir, ignore_errors=True)
    if "s" in box:
        box["s"].cleanup()


# ============================================================================ main


def setup_files(ctx):
    with open(ctx.helper, "w") as f:
        f.write(HELPER)
    with open(ctx.sandbox, "w") as f:
        f.write(SANDBOX)
    # Programs the rules know by name: harmless copies of true (bash for the "servers").
    for name, src in (("nginx", "bash"), ("sshd", "bash"), ("nmap", "true"),
                      ("chisel", "true"), ("nc", "true"), ("auditctl", "true"),
                      ("aa-teardown", "true"), ("systemctl", "true")):
        if TOOLS.get(src):
            shutil.copy(TOOLS[src], os.path.join(ctx.bin, name))
    gt = os.path.join(ctx.work, "ground-truth.yaml")
    with open(gt, "w") as f:
        for r in GT_RULES:
            f.write("- rule: %s\n  output: %s\n  override:\n    output: append\n\n" % (
                json.dumps(r), json.dumps(GT_OUTPUT)))
    return gt


def list_rules(exe, path):
    p = subprocess.run([exe, "-L", "-r", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return [ln for ln in p.stdout.decode().splitlines() if ln and not ln[0].isspace()]


def sensor_end(c, s):
    c.ok(s.rc == 0, "exit status %r; stderr:\n%s" % (s.rc, s.stderr()[-3000:]))
    err = s.stderr()
    for line in err.splitlines():
        if ": exit: " in line:
            c.note(line)
    m = re.search(r"drop_full=(\d+)", err)
    if m and int(m.group(1)):
        c.note("ring buffer drops: %s (alerts may be missing)" % m.group(1))
    c.ok(not s.bad_lines, "non-JSON lines on stdout: %r" % s.bad_lines[:3])
    for a in s.events:
        missing = [k for k in ("hostname", "output", "output_fields", "priority", "rule",
                               "source", "tags", "time") if k not in a]
        if missing:
            c.fail("alert without %s: %s" % (missing, json.dumps(a)[:500]))
            break


def main():
    exe = sensor_from_argv("the sensor needs CAP_BPF and CAP_PERFMON, the triggers need root")

    started = time.monotonic()
    tap = RTap()
    ctx = Ctx(exe)
    try:
        return run_all(tap, ctx, started)
    finally:
        ctx.cleanup()


def run_all(tap, ctx, started):
    exe = ctx.exe
    gt = setup_files(ctx)
    stable_ok = os.path.isfile(STABLE_RULES)

    ss = AlertSensor(exe, [STABLE_RULES], name="stable") if stable_ok else None
    ds = AlertSensor(exe, ["@default", gt], name="default")
    trusted = None
    if not start_sensor(tap, ds):
        return 1
    if ss is not None and not start_sensor(tap, ss):
        ds.stop()
        ds.cleanup()
        return 1
    try:
        # Slow triggers first, checked later.
        trusted = st_trusted_start(ctx) if ss else None
        sshs = st_ssh_start(ctx) if ss else None

        # ---------------------------------------------------------------- 1. stable
        stable_cases = [
            ("Directory traversal monitored file read", st_dir_traversal),
            ("Read sensitive file untrusted", st_sensitive_untrusted),
            ("Run shell untrusted", st_run_shell),
            ("System user interactive", st_system_user),
            ("Search Private Keys or Passwords", st_search_keys),
            ("Clear Log Activities", st_clear_log),
            ("Remove Bulk Data from Disk", st_remove_bulk),
            ("Create Symlink Over Sensitive Files", st_symlink),
            ("Create Hardlink Over Sensitive Files", st_hardlink),
            ("PTRACE attached to process", st_ptrace),
            ("PTRACE anti-debug attempt", st_traceme),
            ("Find AWS Credentials", st_aws),
            ("Execution from /dev/shm", st_dev_shm),
            ("Execution from /dev/shm (./prog run with cwd /dev/shm)", st_dev_shm_cwd),
            ("proc.cwd ends with '/' as in the reference engine", st_cwd_slash),
            ("Fileless execution via memfd_create", st_memfd),
        ]
        if ss is None:
            tap.report("stable ruleset", skip="%s not found (set SAKER_FALCO_RULES)"
                       % STABLE_RULES)
        else:
            names = list_rules(exe, STABLE_RULES)
            covered = {n.split(" (")[0] for n, _ in stable_cases
                       if not n.startswith("proc.")} | {
                "Read sensitive file trusted after startup",
                "Disallowed SSH Connection Non Standard Port"}
            tap.report("stable: %d rules, each covered here or skipped with a reason" % len(
                names), [("rule %r is neither covered nor skipped" % n) for n in names
                         if n not in covered and n not in STABLE_CONTAINER_ONLY] +
                [("covered rule %r is not in the file" % n) for n in covered
                 if n not in names])
            for name, fn in stable_cases:
                tap.case("stable: " + name, fn, ss, ctx)
            tap.case("stable: Disallowed SSH Connection Non Standard Port", st_ssh, ss, ctx,
                     sshs)
            tap.case("stable: Read sensitive file trusted after startup", st_trusted, ss, ctx,
                     trusted)
            for name in sorted(STABLE_CONTAINER_ONLY):
                tap.report("stable: " + name, skip=STABLE_CONTAINER_ONLY[name])

        # ---------------------------------------------------------------- 2. default
        dnames = list_rules(exe, "@default")
        cases = default_cases(ctx)
        covered = {r for r, _, _ in cases}
        tap.report("default: %d rules, each covered here or skipped with a reason" % len(
            dnames), [("rule %r is neither covered nor skipped" % n) for n in dnames
                      if n not in covered and n not in DEFAULT_CONTAINER_ONLY] +
            [("covered rule %r is not in @default" % n) for n in covered if n not in dnames])
        for rule, label, fn in cases:
            if fn is None:
                continue
            tap.case("default: " + (label or rule), fn, ds, ctx)
        for name in sorted(DEFAULT_CONTAINER_ONLY):
            tap.report("default: " + name, skip="needs a " + DEFAULT_CONTAINER_ONLY[name])

        # ---------------------------------------------------------------- 4. ground truth
        tap.case("ground truth: temp-dir exec by root (pid, ppid, sid, tid, tty, uid, gid, "
                 "cwd, exepath, loginuid)", gt_tmp_exec, ds, ctx)
        tap.case("ground truth: temp-dir exec as daemon via setpriv (uid 1, gid 1, cwd /)",
                 gt_tmp_exec, ds, ctx, as_daemon=True)
        tap.case("ground truth: cd then exec in a shell (cwd follows chdir)", gt_tmp_exec,
                 ds, ctx, chdir=True)
        tap.case("ground truth: grandchild (ppid, pname, aname[2], pexepath)", gt_grandchild,
                 ds, ctx)
        tap.case("ground truth: forked child without exec (pid, ppid, inherited image)",
                 gt_fork, ds, ctx)
        tap.case("ground truth: syscall from a second thread (thread.tid != proc.pid)",
                 gt_thread, ds, ctx)
    finally:
        for s in (ss, ds):
            if s is not None:
                s.stop()
        if trusted and trusted[1].poll() is None:
            trusted[1].kill()
    if ss is not None:
        tap.case("stable sensor: clean exit, every alert a JSON object with the keys",
                 sensor_end, ss)
        ss.cleanup()
    tap.case("default sensor: clean exit, every alert a JSON object with the keys",
             sensor_end, ds)
    ds.cleanup()

    # -------------------------------------------------------------------- 3. benign
    benign(tap, ctx, stable_ok)

    tap.diag("%.1f s" % (time.monotonic() - started))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
