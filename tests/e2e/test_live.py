#!/usr/bin/env python3
"""saker's privileged end-to-end suite: loads the real sensor, makes real syscalls, and checks
what it prints. Speaks TAP on stdout, one line per case.

    python3 tests/e2e/test_live.py build/src/saker

Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); without them it prints
"1..0 # SKIP <reason>" and says so on stderr. Standard library only.

One sensor watches most cases: each case does its syscalls, then polls the sensor's output
for the events, found by a random token in a path or argv, by this process's pid, and by
boot-clock timestamps taken around the action. The checks over the whole output (nothing
uninteresting, nothing from the sensor itself, every line JSON, counters) run after it stops.
Then short extra runs cover a custom syscall set, the raw_tp programs, missing privileges,
bad configuration and -M."""

import ctypes
import ctypes.util
import datetime
import errno
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import (  # noqa: E402
    Sensor, Tap, SkipCase, absent, dig, ev_is, parse_counters, positive, run_saker,
    sensor_from_argv, skip_all,
)
import coverage  # noqa: E402

# The syscalls saker captures by default, and the scheduler events.
DEFAULT_SYSCALLS = {
    # with blobs (bpf/abi/blobs.h)
    "open", "creat", "openat", "openat2", "chdir", "chroot", "mkdir", "mkdirat", "rmdir",
    "unlink", "unlinkat", "rename", "link", "renameat", "renameat2", "linkat", "symlink",
    "symlinkat", "chmod", "chown", "lchown", "truncate", "fchmodat", "fchownat", "mount",
    "umount2", "memfd_create", "execve", "execveat", "clone3", "connect", "accept", "accept4",
    "bind", "listen", "sendto", "recvfrom", "sendmsg", "recvmsg", "socketpair", "pipe", "pipe2",
    # registers only
    "close", "dup", "dup2", "dup3", "fcntl", "socket", "fchdir", "fchmod", "fchown", "setuid",
    "setgid", "setreuid", "setresuid", "setregid", "setresgid", "setns", "unshare", "ptrace",
    "bpf", "init_module", "finit_module", "userfaultfd", "kill", "tkill", "tgkill", "eventfd",
    "eventfd2", "prctl", "capset", "fork", "vfork", "clone"}
DECODED_SYSCALLS = set(DEFAULT_SYSCALLS)
# The rest of the state set (src/syscall_set.c): raw registers are enough for the tables.
# With --dump the sensor captures the decoded syscalls and the state set.
DEFAULT_SYSCALLS |= {
    "setsid", "setpgid", "close_range", "signalfd", "signalfd4", "epoll_create",
    "epoll_create1", "inotify_init", "inotify_init1", "timerfd_create", "io_uring_setup",
    "pidfd_open", "pidfd_getfd", "perf_event_open", "fanotify_init"}
SCHED_EVENTS = {"sched_process_fork", "sched_process_exec", "sched_process_exit"}
FORBIDDEN = {"getppid", "getpid", "gettid", "getuid", "stat", "lstat", "fstat", "newfstatat",
             "statx", "read", "write"}

NR_OPEN, NR_CREAT, NR_OPENAT, NR_OPENAT2 = 2, 85, 257, 437
AT_FDCWD = -100
RESOLVE_NO_MAGICLINKS = 0x02

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
libc.syscall.restype = ctypes.c_long


class OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


def raw_syscall(nr, *args):
    """(return value, errno) of a raw syscall; ret is -1 on failure like libc's."""
    ctypes.set_errno(0)
    ret = libc.syscall(ctypes.c_long(nr), *args)
    return ret, ctypes.get_errno()


def boot_ns():
    """Now on the clock the sensor's ts uses (bpf_ktime_get_boot_ns)."""
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def after(t0):
    return lambda ev: isinstance(ev.get("ts"), (int, float)) and ev["ts"] >= t0


def both(*preds):
    return lambda ev: all(p(ev) for p in preds)


def iso_to_epoch(text):
    """Seconds since the epoch of an ISO 8601 time like 2026-01-02T03:04:05.123456789Z."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$", text)
    if not m:
        return None
    tz = m.group(3).replace("Z", "+00:00")
    if ":" not in tz:
        tz = tz[:3] + ":" + tz[3:]
    base = datetime.datetime.fromisoformat(m.group(1) + tz).timestamp()
    return base + (float("0." + m.group(2)) if m.group(2) else 0.0)


def flag_set(v):
    return set(v.split("|")) if isinstance(v, str) else v


class Ctx:
    """Facts about this test process and a scratch directory."""

    def __init__(self, exe):
        self.exe = exe
        self.pid = os.getpid()
        self.tid = threading.get_native_id()
        self.ppid = os.getppid()
        with open("/proc/self/comm") as f:
            self.comm = f.read().rstrip("\n")
        self.run = uuid.uuid4().hex[:12]
        self.tmp = tempfile.mkdtemp(prefix="saker-e2e-")
        self.loginuid = None
        try:
            with open("/proc/self/loginuid") as f:
                v = int(f.read().strip())
            self.loginuid = v - (1 << 32) if v >= (1 << 31) else v
        except (OSError, ValueError):
            pass
        self.cgroup_id = None
        try:
            with open("/proc/self/cgroup") as f:
                for line in f:
                    if line.startswith("0::"):
                        self.cgroup_id = os.stat("/sys/fs/cgroup" +
                                                 line[3:].rstrip("\n")).st_ino
        except OSError:
            pass
        self._n = 0
        self.fds = []

    def token(self, what):
        self._n += 1
        return "saker-e2e-%s-%s-%d" % (what, self.run, self._n)

    def path(self, what):
        return os.path.join(self.tmp, self.token(what))


# ================================================================ cases on the main sensor


def t_ready(c, s, ctx):
    err = s.stderr()
    m = re.search(r"saker: info: ready: capturing (\d+) syscalls, (\d+) threads read from /proc",
                  err)
    if c.ok(m, "no ready line on stderr:\n" + err):
        c.eq("syscalls captured by default", int(m.group(1)), len(DEFAULT_SYSCALLS))
        c.ok(int(m.group(2)) > 0, "threads read from /proc: expected > 0, got " + m.group(2))
    # kernel 6.18 has BTF and tp_btf: auto must not fall back.
    c.ok("sensor attached (tp_btf programs" in err,
         "engine.attach=auto: expected 'sensor attached (tp_btf programs' on stderr, got:\n" + err)
    c.ok("falling back" not in err, "unexpected fallback:\n" + err)


def t_exec(c, s, ctx):
    tok = ctx.token("exec")
    argv = ["/bin/sh", "-c", "exit 0", tok]
    t0 = boot_ns()
    p = subprocess.Popen(argv)
    c.eq("exit status of " + " ".join(argv), p.wait(), 0)
    ex = s.wait_for(both(ev_is("sched_process_exec"), after(t0)), pid=p.pid)
    expect = {"pid": p.pid, "tid": p.pid, "ppid": ctx.pid, "comm": "sh",
              "args.filename": "/bin/sh", "args.argv": argv, "args.old_tid": p.pid,
              "args.uid": 0, "args.euid": 0, "flags": absent, "ret": absent}
    if ctx.loginuid is not None:
        expect["args.loginuid"] = ctx.loginuid
    expect["args.cgroup_id"] = ctx.cgroup_id if ctx.cgroup_id is not None else positive
    c.event(ex, "sched_process_exec of the child", expect)
    if ex is None:
        return
    sc = s.wait_for(both(ev_is("execve"), after(ex["ts"])), pid=p.pid)
    c.event(sc, "execve syscall after sched_process_exec", {
        "tid": p.pid, "ppid": ctx.pid, "comm": "sh", "ret": 0, "errno": absent,
        "args.filename": "/bin/sh", "args.argv": argv})
    # The process that ran it: fork from this process, exit with status 0.
    fk = s.wait_for(both(ev_is("sched_process_fork", args__child_pid=p.pid), after(t0)),
                    pid=ctx.pid)
    c.event(fk, "sched_process_fork of the child", {
        "tid": ctx.tid, "args.child_tid": p.pid, "args.child_ppid": ctx.pid, "args.thread": 0})
    xt = s.wait_for(both(ev_is("sched_process_exit"), after(ex["ts"])), pid=p.pid)
    c.event(xt, "sched_process_exit of the child", {
        "tid": p.pid, "comm": "sh", "args.status": 0, "args.signal": 0, "args.group_dead": 1})


def t_exec_fail(c, s, ctx):
    tok = ctx.token("noexec")
    path = "/nonexistent/" + tok
    try:
        subprocess.Popen([path, tok]).wait()
        c.fail("running %s did not fail" % path)
    except FileNotFoundError:
        pass
    ev = s.wait_for(lambda e: e.get("event") == "execve" and dig(e, "args.filename") == path)
    c.event(ev, "failed execve", {
        "ret": -errno.ENOENT, "errno": "ENOENT", "args.argv": [path, tok], "ppid": ctx.pid,
        "pid": lambda v: v != ctx.pid and v > 0})


def t_openat(c, s, ctx, path):
    t0 = boot_ns()
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    os.close(fd)
    ev = s.wait_for(both(ev_is("openat", args__name=path), after(t0)), pid=ctx.pid)
    c.event(ev, "openat of " + path, {
        "pid": ctx.pid, "tid": ctx.tid, "ppid": ctx.ppid, "comm": ctx.comm,
        "args.dirfd": "AT_FDCWD", "args.flags": "O_RDONLY|O_CLOEXEC", "args.mode": 0,
        "ret": fd, "errno": absent, "flags": absent})
    if ev:
        c.ok(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$",
                      ev.get("time", "")),
             "time: expected an ISO 8601 timestamp, got %r" % ev.get("time"))
        wall = iso_to_epoch(ev.get("time", ""))
        c.ok(wall is not None and abs(wall - time.time()) < 5,
             "time: expected about now (%s), got %r" %
             (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), ev.get("time")))
        c.ok(isinstance(ev.get("ts"), int) and t0 <= ev["ts"] <= boot_ns(),
             "ts: expected boot-clock ns between %d and now (%d), got %r" %
             (t0, boot_ns(), ev.get("ts")))


def t_open_create(c, s, ctx, box):
    path = ctx.path("create")
    t0 = boot_ns()
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o640)
    box["fd"], box["t0"] = fd, t0
    ev = s.wait_for(both(ev_is("openat", args__name=path), after(t0)), pid=ctx.pid)
    c.event(ev, "openat(O_CREAT) of " + path, {
        "tid": ctx.tid, "args.dirfd": "AT_FDCWD", "args.mode": 0o640, "ret": fd,
        "errno": absent})
    if ev:
        want = {"O_WRONLY", "O_CREAT", "O_TRUNC", "O_CLOEXEC"}  # os.open adds O_CLOEXEC
        c.eq("flags (as a set) of " + repr(ev["args"].get("flags")),
             flag_set(ev["args"].get("flags")), want)
        box["ts"] = ev["ts"]


def t_close(c, s, ctx, box):
    if "fd" not in box:
        raise SkipCase("the open before it failed")
    fd = box["fd"]
    t0 = boot_ns()
    os.close(fd)
    ev = s.wait_for(both(ev_is("close", args__fd=fd, tid=ctx.tid), after(t0)), pid=ctx.pid)
    c.event(ev, "close(%d)" % fd, {"pid": ctx.pid, "comm": ctx.comm, "ret": 0,
                                   "errno": absent})


def t_raw_open(c, s, ctx, path):
    t0 = boot_ns()
    fd, err = raw_syscall(NR_OPEN, ctypes.c_char_p(path.encode()),
                          ctypes.c_long(os.O_RDONLY), ctypes.c_long(0))
    c.ok(fd >= 0, "open(2) of %s failed: %s" % (path, os.strerror(err)))
    if fd >= 0:
        os.close(fd)
    ev = s.wait_for(both(ev_is("open", args__name=path), after(t0)), pid=ctx.pid)
    c.event(ev, "open (nr 2)", {"tid": ctx.tid, "args.flags": "O_RDONLY", "args.mode": 0,
                                "ret": fd, "errno": absent})


def t_raw_creat(c, s, ctx):
    path = ctx.path("creat")
    t0 = boot_ns()
    fd, err = raw_syscall(NR_CREAT, ctypes.c_char_p(path.encode()), ctypes.c_long(0o600))
    c.ok(fd >= 0, "creat(2) of %s failed: %s" % (path, os.strerror(err)))
    if fd >= 0:
        os.close(fd)
    ev = s.wait_for(both(ev_is("creat", args__name=path), after(t0)), pid=ctx.pid)
    c.event(ev, "creat (nr 85)", {"tid": ctx.tid, "args.mode": 0o600, "ret": fd,
                                  "errno": absent})


def t_raw_openat2(c, s, ctx):
    path = ctx.path("openat2")
    how = OpenHow(os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600, RESOLVE_NO_MAGICLINKS)
    t0 = boot_ns()
    fd, err = raw_syscall(NR_OPENAT2, ctypes.c_long(AT_FDCWD), ctypes.c_char_p(path.encode()),
                          ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
    c.ok(fd >= 0, "openat2(2) of %s failed: %s" % (path, os.strerror(err)))
    if fd >= 0:
        os.close(fd)
    ev = s.wait_for(both(ev_is("openat2", args__name=path), after(t0)), pid=ctx.pid)
    c.event(ev, "openat2 (nr 437)", {
        "tid": ctx.tid, "args.dirfd": "AT_FDCWD", "args.mode": 0o600,
        "args.resolve": "RESOLVE_NO_MAGICLINKS", "ret": fd, "errno": absent})
    if ev:
        c.eq("openat2 flags (as a set) of " + repr(ev["args"].get("flags")),
             flag_set(ev["args"].get("flags")), {"O_WRONLY", "O_CREAT", "O_CLOEXEC"})


def t_openat_enoent(c, s, ctx):
    path = ctx.path("missing")
    t0 = boot_ns()
    ret, err = raw_syscall(NR_OPENAT, ctypes.c_long(AT_FDCWD), ctypes.c_char_p(path.encode()),
                           ctypes.c_long(os.O_RDONLY), ctypes.c_long(0))
    c.ok(ret == -1 and err == errno.ENOENT,
         "openat of a missing path: expected -1/ENOENT, got %d/%d" % (ret, err))
    ev = s.wait_for(both(ev_is("openat", args__name=path), after(t0)), pid=ctx.pid)
    c.event(ev, "failed openat", {"tid": ctx.tid, "args.dirfd": "AT_FDCWD",
                                  "args.flags": "O_RDONLY", "ret": -errno.ENOENT,
                                  "errno": "ENOENT"})


def t_long_path(c, s, ctx):
    """A path longer than PATH_MAX: the kernel refuses it, saker cuts it and says so."""
    head = os.path.join(ctx.tmp, ctx.token("long")) + "-"
    path = head + "x" * (5000 - len(head))
    t0 = boot_ns()
    ret, err = raw_syscall(NR_OPENAT, ctypes.c_long(AT_FDCWD), ctypes.c_char_p(path.encode()),
                           ctypes.c_long(os.O_RDONLY), ctypes.c_long(0))
    c.eq("openat of a 5000-byte path: errno", err, errno.ENAMETOOLONG)
    ev = s.wait_for(both(lambda e: e.get("event") == "openat" and
                         str(dig(e, "args.name")).startswith(head), after(t0)), pid=ctx.pid)
    c.event(ev, "openat of a 5000-byte path", {
        "ret": -errno.ENAMETOOLONG, "errno": "ENAMETOOLONG", "flags": ["truncated"],
        "args.name": lambda v: isinstance(v, str) and 1000 < len(v) < 4096 and
        path.startswith(v)})


def tcp_pair(c, s, ctx, family, host, fmt):
    srv = socket.socket(family, socket.SOCK_STREAM)
    cli = socket.socket(family, socket.SOCK_STREAM)
    try:
        srv.bind((host, 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        t0 = boot_ns()
        cli.connect((host, port))
        conn, peer = srv.accept()
        cport = cli.getsockname()[1]
        server = fmt % (host, port)
        client = fmt % (host, cport)
        cev = s.wait_for(both(ev_is("connect", args__addr=server), after(t0)), pid=ctx.pid)
        c.event(cev, "connect to " + server, {
            "tid": ctx.tid, "args.fd": cli.fileno(), "ret": 0, "errno": absent,
            "args.socktype": "SOCK_STREAM", "args.remote": server, "args.local": client})
        aev = s.wait_for(both(lambda e: e.get("event") in ("accept", "accept4") and
                              dig(e, "args.fd") == srv.fileno(), after(t0)), pid=ctx.pid)
        expect = {"tid": ctx.tid, "ret": conn.fileno(), "errno": absent, "args.addr": client,
                  "args.socktype": "SOCK_STREAM", "args.local": server, "args.remote": client}
        if aev and aev["event"] == "accept4":
            expect["args.flags"] = lambda v: "SOCK_CLOEXEC" in flag_set(v)
        c.event(aev, "accept on " + server, expect)
        if aev:
            c.note("the accept event is named %r" % aev["event"])
        conn.close()
    finally:
        cli.close()
        srv.close()


def t_tcp4(c, s, ctx):
    tcp_pair(c, s, ctx, socket.AF_INET, "127.0.0.1", "%s:%d")


def t_tcp6(c, s, ctx):
    if not socket.has_ipv6:
        raise SkipCase("no IPv6 in this Python")
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError as e:
        raise SkipCase("cannot bind [::1]: %s" % e)
    tcp_pair(c, s, ctx, socket.AF_INET6, "::1", "[%s]:%d")


def t_connect_refused(c, s, ctx):
    # Bound but not listening: a connect to it is refused, and the port stays ours.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        addr = "127.0.0.1:%d" % holder.getsockname()[1]
        t0 = boot_ns()
        rc = cli.connect_ex(holder.getsockname())
        c.eq("connect_ex to a bound, not listening port", rc, errno.ECONNREFUSED)
        ev = s.wait_for(both(ev_is("connect", args__addr=addr), after(t0)), pid=ctx.pid)
        c.event(ev, "refused connect to " + addr, {
            "args.fd": cli.fileno(), "ret": -errno.ECONNREFUSED, "errno": "ECONNREFUSED"})
    finally:
        cli.close()
        holder.close()


def unix_pair(c, s, ctx, bind_addr, want_addr):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind(bind_addr)
        srv.listen(1)
        t0 = boot_ns()
        cli.connect(bind_addr)
        conn, _ = srv.accept()
        ev = s.wait_for(both(ev_is("connect", args__addr=want_addr), after(t0)), pid=ctx.pid)
        c.event(ev, "unix connect to " + want_addr, {
            "tid": ctx.tid, "args.fd": cli.fileno(), "ret": 0, "errno": absent,
            "args.socktype": "SOCK_STREAM", "args.local": "unix", "args.remote": "unix"},
            near=s.find_all(both(ev_is("connect", args__fd=cli.fileno()), after(t0)),
                            pid=ctx.pid))
        aev = s.wait_for(both(lambda e: e.get("event") in ("accept", "accept4") and
                              dig(e, "args.fd") == srv.fileno(), after(t0)), pid=ctx.pid)
        c.event(aev, "unix accept", {"ret": conn.fileno(), "errno": absent,
                                     "args.socktype": "SOCK_STREAM"})
        conn.close()
    finally:
        cli.close()
        srv.close()


def t_unix_path(c, s, ctx):
    path = ctx.path("sock")
    unix_pair(c, s, ctx, path, "unix:" + path)


def t_unix_abstract(c, s, ctx):
    name = ctx.token("abstract")
    unix_pair(c, s, ctx, "\0" + name, "unix:@" + name)


def t_fork_exit(c, s, ctx):
    t0 = boot_ns()
    child = os.fork()
    if child == 0:
        os._exit(7)
    _, status = os.waitpid(child, 0)
    c.eq("child exit status", os.waitstatus_to_exitcode(status), 7)
    fk = s.wait_for(both(ev_is("sched_process_fork", args__child_pid=child), after(t0)),
                    pid=ctx.pid)
    c.event(fk, "sched_process_fork of the child", {
        "tid": ctx.tid, "comm": ctx.comm, "args.child_tid": child, "args.child_ppid": ctx.pid,
        "args.thread": 0})
    cl = s.wait_for(both(lambda e: e.get("event") in ("clone", "clone3", "fork", "vfork") and
                         e.get("ret") == child, after(t0)), pid=ctx.pid)
    c.event(cl, "clone/clone3 returning the child's pid", {"tid": ctx.tid, "errno": absent})
    if cl:
        c.note("os.fork() made a %r event, args %r" % (cl["event"], cl.get("args")))
        if cl["event"] in ("clone", "clone3"):
            c.ok("CLONE_VM" not in flag_set(cl["args"].get("flags", "")) and
                 "CLONE_THREAD" not in flag_set(cl["args"].get("flags", "")),
                 "fork's clone flags should have neither CLONE_VM nor CLONE_THREAD: %r"
                 % cl["args"])
    xt = s.wait_for(ev_is("sched_process_exit"), pid=child)
    c.event(xt, "sched_process_exit of the child", {
        "tid": child, "ppid": ctx.pid, "args.status": 7, "args.signal": 0,
        "args.group_dead": 1})


def t_thread(c, s, ctx):
    box = []
    t0 = boot_ns()
    th = threading.Thread(target=lambda: box.append(threading.get_native_id()))
    th.start()
    th.join()
    ttid = box[0]
    fk = s.wait_for(both(ev_is("sched_process_fork", args__child_tid=ttid), after(t0)),
                    pid=ctx.pid)
    c.event(fk, "sched_process_fork of a thread", {
        "tid": ctx.tid, "args.child_pid": ctx.pid, "args.child_ppid": ctx.ppid,
        "args.thread": 1})
    cl = s.wait_for(both(lambda e: e.get("event") in ("clone", "clone3") and
                         e.get("ret") == ttid, after(t0)), pid=ctx.pid)
    c.event(cl, "clone/clone3 returning the thread's tid", {
        "tid": ctx.tid, "args.flags": lambda v: {"CLONE_VM", "CLONE_THREAD"} <= flag_set(v)})
    xt = s.wait_for(both(ev_is("sched_process_exit", tid=ttid), after(t0)), pid=ctx.pid)
    c.event(xt, "sched_process_exit of the thread", {"args.group_dead": 0, "args.status": 0})


def t_boring_syscalls(c, s, ctx, path):
    """Only the action; whether any of it showed up is checked over the whole output."""
    for _ in range(1000):
        os.getppid()
        os.getpid()
    for _ in range(100):
        os.stat(path)
        os.lstat(path)
        os.getuid()
    c.note("made 1000 getppid, 1000 getpid, 100 stat/lstat/getuid calls")


def t_hostile_path(c, s, ctx, bpath, want):
    t0 = boot_ns()
    fd = os.open(bpath, os.O_RDONLY)
    os.close(fd)
    ev = s.wait_for(both(lambda e: e.get("event") == "openat" and
                         ctx.run in str(dig(e, "args.name")) and
                         "hostile" in str(dig(e, "args.name")), after(t0)), pid=ctx.pid)
    c.event(ev, "openat of a file named %r" % bpath, {"args.name": want, "ret": fd})


def t_hostile_argv(c, s, ctx):
    tok = ctx.token("argv")
    weird = b"x\ty\n\xc3\x28\xff\x01" + tok.encode() + "é".encode()
    want = "x\ty\n\\xc3(\\xff\x01" + tok + "é"
    t0 = boot_ns()
    p = subprocess.Popen([b"/bin/sh", b"-c", b"exit 0", weird])
    p.wait()
    ev = s.wait_for(both(ev_is("sched_process_exec"), after(t0)), pid=p.pid)
    c.event(ev, "sched_process_exec with invalid UTF-8 in argv",
            {"args.argv": ["/bin/sh", "-c", "exit 0", want]})


def t_argv_truncated(c, s, ctx, box):
    tok = ctx.token("bigargv")
    argv = ["/bin/sh", "-c", "exit 0", tok] + ["A" * 99 + str(i % 10) for i in range(60)]
    t0 = boot_ns()
    p = subprocess.Popen(argv)
    p.wait()
    ev = s.wait_for(both(ev_is("sched_process_exec"), after(t0)), pid=p.pid)
    c.event(ev, "sched_process_exec with a %d-byte argv" % sum(len(a) + 1 for a in argv), {
        "flags": ["truncated"], "args.filename": "/bin/sh"})
    if ev:
        got = ev["args"].get("argv", [])
        # NUL-separated; the last, cut, argument may have lost its NUL.
        size = sum(len(a.encode()) + 1 for a in got) - 1
        c.ok(got[:4] == argv[:4], "the first arguments: expected %r, got %r" %
             (argv[:4], got[:4]))
        c.ok(size <= 4096, "argv kept: expected at most 4096 bytes, got %d" % size)
        c.ok(size >= 3000, "argv kept: expected most of the first 4096 bytes, got %d" % size)
        c.ok(all(argv[i].startswith(a) for i, a in enumerate(got)),
             "the kept arguments are not a prefix of the real ones: %r" % got)
        box["truncated"] = True


# ================================================================ checks over the whole run


def t_stopped(c, s, ctx):
    c.eq("exit status after SIGINT", s.rc, 0)
    err = s.stderr()
    c.ok("saker: info: signal 2: stopping" in err, "no 'signal 2: stopping' on stderr:\n" + err)
    c.ok(s.stop_seconds is not None and s.stop_seconds < 5,
         "stopping took %s s (expected < 5)" % s.stop_seconds)
    # Without rules the sensor says so (a warning by design); anything else is a problem.
    c.ok(not re.search(r"saker: (error|warning):(?! no rules files)", err),
         "errors or warnings on stderr:\n" + err)
    c.note("main sensor: %d lines, %d events, %.1f s to stop" %
           (s.nlines, len(s.events), s.stop_seconds or -1))


def t_all_json(c, s, ctx):
    for lineno, raw, e in s.bad_lines[:5]:
        c.fail("stdout line %d is not a JSON object (%s): %r" % (lineno, e, raw[:300]))
    if s.bad_lines:
        c.fail("%d of %d lines are not JSON" % (len(s.bad_lines), s.nlines))
    with open(s.out_path, "rb") as f:
        data = f.read()
    c.ok(data.endswith(b"\n"), "stdout does not end with a newline")
    c.ok(s.nlines >= 50, "only %d lines: the cases alone make more than that" % s.nlines)


def t_schema(c, s, ctx):
    bad = []
    for ev in s.events:
        why = []
        for k, typ in (("time", str), ("ts", int), ("pid", int), ("tid", int), ("ppid", int),
                       ("comm", str), ("event", str), ("args", dict)):
            if not isinstance(ev.get(k), typ):
                why.append("%s is %r" % (k, ev.get(k)))
        is_sys = ev.get("event") not in SCHED_EVENTS
        if is_sys and not isinstance(ev.get("ret"), int):
            why.append("a syscall without an integer ret")
        if not is_sys and "ret" in ev:
            why.append("a sched event with a ret")
        if isinstance(ev.get("ret"), int):
            if ev["ret"] >= 0 and "errno" in ev:
                why.append("errno with a non-negative ret")
            if -4096 < ev["ret"] < 0 and not isinstance(ev.get("errno"), str):
                why.append("no errno name for ret %d" % ev["ret"])
        if "flags" in ev and not (isinstance(ev["flags"], list) and ev["flags"] and
                                  set(ev["flags"]) <= {"truncated", "read_failed"}):
            why.append("flags is %r" % ev["flags"])
        if why:
            bad.append((why, ev))
    for why, ev in bad[:5]:
        c.fail("%s: %r" % ("; ".join(why), ev))
    if bad:
        c.fail("%d of %d events have the wrong shape" % (len(bad), len(s.events)))


def t_no_boring(c, s, ctx):
    names = {}
    for ev in s.events:
        names[ev.get("event")] = names.get(ev.get("event"), 0) + 1
    forbidden = {n: k for n, k in names.items() if n in FORBIDDEN}
    c.ok(not forbidden, "events of uncaptured syscalls: %r" % forbidden)
    extra = {n: k for n, k in names.items() if n not in DEFAULT_SYSCALLS | SCHED_EVENTS}
    c.ok(not extra, "events outside the default set (%s): %r" %
         (" ".join(sorted(DEFAULT_SYSCALLS)), extra))
    c.note("events by name: %s" % ", ".join("%s=%d" % kv for kv in sorted(names.items())))


def t_self_filter(c, s, ctx):
    own = [ev for ev in s.events if ev.get("pid") == s.pid or ev.get("tid") == s.pid]
    c.ok(not own, "%d events from the sensor itself (pid %d), e.g. %r" %
         (len(own), s.pid, own[:3]))
    # ... while its child-facing side is visible: this suite's own process is.
    c.ok(len(s.by_pid.get(ctx.pid, [])) > 10,
         "only %d events from the test process" % len(s.by_pid.get(ctx.pid, [])))


def check_counters(c, s, expect_truncated=False):
    ctr = parse_counters(s.stderr(), "exit")
    k, d = ctr.get("kernel"), ctr.get("daemon")
    if not c.ok(k and d, "no exit counter lines on stderr:\n" + s.stderr()):
        return
    c.note("kernel: %s" % " ".join("%s=%s" % kv for kv in k.items()))
    c.note("daemon: %s" % " ".join("%s=%s" % kv for kv in d.items()))
    c.note("stdout lines: %d" % s.nlines)
    for key in ("drop_full", "drop_too_large", "drop_read_fail"):
        c.eq("kernel " + key, k.get(key), 0)
    c.eq("daemon decode_errors", d.get("decode_errors"), 0)
    c.eq("kernel seen (expected == emitted)", k.get("seen"), k.get("emitted"))
    c.eq("JSON lines on stdout (expected == daemon records)", s.nlines, d.get("records"))
    c.eq("daemon records (expected == kernel emitted)", d.get("records"), k.get("emitted"))
    if expect_truncated:
        c.ok(k.get("truncated", 0) >= 1, "kernel truncated: expected >= 1, got %r" %
             k.get("truncated"))
    c.eq("kernel compat_ignored", k.get("compat_ignored"), 0)


# ================================================================ extra runs


def t_custom_set(c, ctx):
    s = Sensor(ctx.exe, ["-o", "base_syscalls.custom_set=getppid"]).start()
    try:
        if not c.ok(s.wait_ready(), "the sensor did not get ready (rc %r):\n%s" %
                    (s.rc, s.stderr())):
            return
        # a custom set replaces the state set (spec g); the dump still shows every
        # decoded syscall
        c.ok("ready: capturing %d syscalls" % (len(DECODED_SYSCALLS) + 1) in s.stderr(),
             "expected 'capturing %d syscalls' with getppid added:\n%s" %
             (len(DECODED_SYSCALLS) + 1, s.stderr()))
        n = 200
        marker = ctx.path("marker")
        t0 = boot_ns()
        for _ in range(n):
            os.getppid()
        t1 = boot_ns()
        try:
            os.open(marker, os.O_RDONLY)
        except FileNotFoundError:
            pass
        # This thread's events reach the ring in order: once the marker is there, so are
        # the getppid calls before it.
        m = s.wait_for(both(ev_is("openat", args__name=marker), after(t1)), pid=ctx.pid)
        c.ok(m, "the marker openat after the getppid calls was not seen")
        got = s.find_all(lambda e: e.get("event") == "getppid" and e.get("tid") == ctx.tid
                         and t0 <= e.get("ts", 0) <= t1, pid=ctx.pid)
        c.eq("getppid events from this thread between the markers", len(got), n)
        wrong = [e for e in got if e.get("ret") != ctx.ppid]
        c.ok(not wrong, "getppid ret: expected %d, got e.g. %r" % (ctx.ppid, wrong[:2]))
    finally:
        rc = s.stop()
    c.eq("exit status", rc, 0)
    check_counters(c, s)
    s.cleanup()


def t_raw_tp(c, ctx, path):
    s = Sensor(ctx.exe, ["-o", "engine.attach=raw_tp"]).start()
    try:
        if not c.ok(s.wait_ready(), "the sensor did not get ready (rc %r):\n%s" %
                    (s.rc, s.stderr())):
            return
        c.ok("sensor attached (raw_tp programs" in s.stderr(),
             "expected 'sensor attached (raw_tp programs' on stderr:\n" + s.stderr())
        t0 = boot_ns()
        fd = os.open(path, os.O_RDONLY)
        os.close(fd)
        ev = s.wait_for(both(ev_is("openat", args__name=path), after(t0)), pid=ctx.pid)
        c.event(ev, "raw_tp: openat of " + path, {
            "tid": ctx.tid, "comm": ctx.comm, "args.dirfd": "AT_FDCWD",
            "args.flags": "O_RDONLY|O_CLOEXEC", "ret": fd, "errno": absent})
        tok = ctx.token("rawexec")
        argv = ["/bin/sh", "-c", "exit 3", tok]
        t0 = boot_ns()
        p = subprocess.Popen(argv)
        c.eq("exit status of the child", p.wait(), 3)
        fk = s.wait_for(both(ev_is("sched_process_fork", args__child_pid=p.pid), after(t0)),
                        pid=ctx.pid)
        c.event(fk, "raw_tp: sched_process_fork", {"args.child_ppid": ctx.pid,
                                                   "args.thread": 0})
        ex = s.wait_for(both(ev_is("sched_process_exec"), after(t0)), pid=p.pid)
        c.event(ex, "raw_tp: sched_process_exec", {
            "ppid": ctx.pid, "comm": "sh", "args.filename": "/bin/sh", "args.argv": argv})
        xt = s.wait_for(both(ev_is("sched_process_exit"), after(t0)), pid=p.pid)
        c.event(xt, "raw_tp: sched_process_exit", {"args.status": 3, "args.group_dead": 1})
        if ex:
            c.event(ex, "raw_tp: the exec record's new fields", {
                "args.exe_ino": os.stat("/bin/sh").st_ino, "args.vpid": p.pid,
                "args.exe_flags": "0"})
        # The generic blob filler through the raw_tp programs: two paths, a sockaddr and a
        # tuple, an fd pair.
        link = ctx.path("rawlink")
        t0 = boot_ns()
        os.symlink("/etc/hostname", link)
        coverage.expect_sys(c, s, ctx, "symlink", (0, 0), t0,
                            {"target": "/etc/hostname", "linkpath": link},
                            what="raw_tp: symlink")
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            n = udp.sendto(b"x", ("127.0.0.1", 9))
            coverage.expect_sys(c, s, ctx, "sendto", (n, 0), t0, {
                "fd": udp.fileno(), "addr": "127.0.0.1:9", "socktype": "SOCK_DGRAM"},
                what="raw_tp: sendto")
        finally:
            udp.close()
        r, w = os.pipe2(os.O_CLOEXEC)
        os.close(r)
        os.close(w)
        coverage.expect_sys(c, s, ctx, "pipe2", (0, 0), t0, {
            "fd1": r, "fd2": w, "flags": "O_CLOEXEC"}, what="raw_tp: pipe2")
    finally:
        rc = s.stop()
    c.eq("exit status", rc, 0)
    check_counters(c, s)
    s.cleanup()


def t_no_privileges(c, ctx):
    # A copy any user can run, whatever the permissions of the build tree.
    d = tempfile.mkdtemp(prefix="saker-e2e-nobody-")
    try:
        os.chmod(d, 0o755)
        exe = os.path.join(d, "saker")
        shutil.copy(ctx.exe, exe)
        os.chmod(exe, 0o755)

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)

        rc, out, err, secs = run_saker(exe, ["--dump=json", "-M", "1"], preexec_fn=drop,
                                       cwd=d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    c.eq("exit status as uid 65534", rc, 1)
    c.ok("missing capability CAP_BPF" in err,
         "stderr should name CAP_BPF, got:\n" + err)
    c.ok(re.search(r"^saker: error: ", err, re.M), "no 'saker: error:' line:\n" + err)
    c.eq("stdout", out, b"")
    c.ok(secs < 1.0, "it took %.1f s to give up (the -M 1 should not matter)" % secs)


def t_bad_override(c, ctx):
    rc, out, err, _ = run_saker(ctx.exe, ["-o", "engine.ringbuf_size_mb=3", "-M", "1"])
    c.eq("exit status", rc, 2)
    c.ok("engine.ringbuf_size_mb" in err and "power of two" in err,
         "stderr should name the key and say 'power of two', got:\n" + err)
    c.ok("ready" not in err, "it should not start:\n" + err)


def t_unknown_override(c, ctx):
    rc, out, err, _ = run_saker(ctx.exe, ["-o", "engine.nosuchkey=1", "-M", "1"])
    c.eq("exit status", rc, 2)
    c.ok("unknown key 'engine.nosuchkey'" in err, "stderr should name the key:\n" + err)


def t_bad_duration(c, ctx):
    rc, out, err, _ = run_saker(ctx.exe, ["-M", "soon"])
    c.eq("exit status", rc, 2)
    c.ok("-M" in err and "soon" in err, "stderr should explain -M:\n" + err)


def write_config(ctx, text):
    path = ctx.path("config") + ".yaml"
    with open(path, "w") as f:
        f.write(text)
    return path


def t_config_unknown_key(c, ctx):
    path = write_config(ctx, "# saker test config\nengine.bogus: 1\nengine:\n  bogus2: 2\n")
    rc, out, err, secs = run_saker(ctx.exe, ["-c", path, "-M", "1"])
    c.eq("exit status (an unknown key is only a warning)", rc, 0)
    c.ok(re.search(r"^saker: warning: %s:2: unknown key 'engine\.bogus'" % re.escape(path),
                   err, re.M),
         "expected \"saker: warning: %s:2: unknown key 'engine.bogus'\" on stderr, got:\n%s"
         % (path, err))
    c.ok(re.search(r"^saker: warning: %s:4: unknown key 'engine\.bogus2'" % re.escape(path),
                   err, re.M),
         "expected \"%s:4: unknown key 'engine.bogus2'\" (nested form) on stderr, got:\n%s"
         % (path, err))


def t_config_bad_value(c, ctx):
    path = write_config(ctx, "# saker test config\nlog_level: info\nengine.ringbuf_size_mb: abc\n")
    rc, out, err, _ = run_saker(ctx.exe, ["-c", path, "-M", "1"])
    c.eq("exit status", rc, 2)
    c.ok(("%s:3" % path) in err and "engine.ringbuf_size_mb" in err,
         "stderr should name %s:3 and the key, got:\n%s" % (path, err))
    c.ok("ready" not in err, "it should not start:\n" + err)


def t_duration(c, ctx):
    rc, out, err, secs = run_saker(ctx.exe, ["--dump=json", "-M", "1"], timeout=15)
    c.eq("exit status", rc, 0)
    c.ok(1.0 <= secs < 4.0, "expected to stop after about 1 s, took %.2f s" % secs)
    c.ok("-M 1: time is up, stopping" in err, "no '-M 1: time is up' on stderr:\n" + err)
    ctr = parse_counters(err, "exit")
    c.ok("kernel" in ctr and "daemon" in ctr, "no exit counters on stderr:\n" + err)
    c.note("ran %.2f s" % secs)


# ================================================================ main


def main():
    exe = sensor_from_argv()

    started = time.monotonic()
    ctx = Ctx(exe)
    tap = Tap()

    # Files the cases open, made before the sensor starts so that the only events about
    # them are the cases' own.
    existing = ctx.path("existing")
    with open(existing, "w") as f:
        f.write("saker\n")
    hostile = os.path.join(ctx.tmp.encode(), b"hostile-a\nb\xff\xfe" + ctx.run.encode() +
                           "-é".encode())
    with open(hostile, "wb") as f:
        f.write(b"x")
    hostile_want = ctx.tmp + "/hostile-a\nb\\xff\\xfe" + ctx.run + "-é"

    s = Sensor(exe).start()
    if not s.wait_ready():
        err = s.stderr()
        s.cleanup()
        shutil.rmtree(ctx.tmp, ignore_errors=True)
        if s.rc == 1 and "missing capability" in err:
            skip_all("the sensor cannot load here for lack of privileges: " +
                     err.strip().splitlines()[-1])
        sys.stdout.write("Bail out! the sensor did not start (rc %r):\n" % s.rc)
        tap.diag(err)
        return 1

    try:
        tap.case("sensor starts: ready line, tp_btf programs", t_ready, s, ctx)
        tap.case("exec: sched_process_exec (filename, argv, pid, ppid, comm) then execve=0",
                 t_exec, s, ctx)
        tap.case("failed execve: ret -2 ENOENT with filename and argv", t_exec_fail, s, ctx)
        tap.case("openat: path, O_RDONLY|O_CLOEXEC, ret fd, pid/tid/comm", t_openat, s, ctx,
                 existing)
        box = {}
        tap.case("openat O_CREAT|O_WRONLY|O_TRUNC mode 0640", t_open_create, s, ctx, box)
        tap.case("close: fd and ret 0", t_close, s, ctx, box)
        tap.case("open (raw nr 2)", t_raw_open, s, ctx, existing)
        tap.case("creat (raw nr 85)", t_raw_creat, s, ctx)
        tap.case("openat2 (raw nr 437) with struct open_how", t_raw_openat2, s, ctx)
        tap.case("failed openat: ret -2 ENOENT with the path", t_openat_enoent, s, ctx)
        tap.case("a path over PATH_MAX: ENAMETOOLONG, cut and flagged truncated",
                 t_long_path, s, ctx)
        tap.case("connect + accept over TCP 127.0.0.1", t_tcp4, s, ctx)
        tap.case("connect + accept over TCP [::1]", t_tcp6, s, ctx)
        tap.case("refused connect: ret -111 ECONNREFUSED", t_connect_refused, s, ctx)
        tap.case("unix socket connect + accept (path)", t_unix_path, s, ctx)
        tap.case("unix socket connect (abstract name shown with @)", t_unix_abstract, s, ctx)
        tap.case("fork: sched_process_fork, clone ret, exit status 7", t_fork_exit, s, ctx)
        tap.case("thread: sched_process_fork thread=1, clone3 ret, exit group_dead=0",
                 t_thread, s, ctx)
        tap.case("uninteresting syscalls made (getppid/getpid/stat x many)",
                 t_boring_syscalls, s, ctx, existing)
        tap.case("hostile file name: newline and invalid UTF-8 in openat path",
                 t_hostile_path, s, ctx, hostile, hostile_want)
        tap.case("hostile argv: control bytes and invalid UTF-8", t_hostile_argv, s, ctx)
        tbox = {}
        tap.case("argv over 4 KiB: cut and flagged truncated", t_argv_truncated, s, ctx, tbox)
        for name, fn in (
                ("mkdir, mkdirat, chdir, fchdir, rmdir, unlinkat(AT_REMOVEDIR)",
                 coverage.t_dirs),
                ("symlink(at), link(at), rename(at/at2), unlink(at): both paths",
                 coverage.t_links),
                ("chmod family (S_ISUID by name), chown family, truncate", coverage.t_modes),
                ("pipe, pipe2, socketpair (fd pairs), dup, dup2, dup3, fcntl", coverage.t_fds),
                ("memfd_create, execveat of it: exe_flags EXE_FROM_MEMFD", coverage.t_memfd),
                ("UDP: socket, bind, sendto, recvfrom, sendmsg, recvmsg with addresses",
                 coverage.t_udp),
                ("listen: backlog and the socket's tuple", coverage.t_listen),
                ("ptrace ATTACH/DETACH, kill", coverage.t_ptrace),
                ("unshare and setns (CLONE_NEWUTS), in a child", coverage.t_namespaces),
                ("setuid family, in a child", coverage.t_setid),
                ("init_module, finit_module, bpf, userfaultfd, prctl, eventfd2, tgkill, "
                 "capset", coverage.t_kernel),
                ("mount/umount2 of a tmpfs; exe inode and times; a memfd: name on tmpfs "
                 "is no memfd", coverage.t_mount_exe),
                ("overlayfs: exe from the upper layer flagged, from the lower not",
                 coverage.t_overlay),
                ("exec on a pty: tty, sid, pgid, vpid, caps, exe inode", coverage.t_exec_ids),
                ("exec in a new pid namespace: vpid 1, other pidns_ino", coverage.t_pidns)):
            tap.case(name, fn, s, ctx)
    finally:
        s.stop()

    tap.case("SIGINT: clean stop, exit 0, no warnings", t_stopped, s, ctx)
    tap.case("every stdout line is a JSON object", t_all_json, s, ctx)
    tap.case("every event has the documented keys and types", t_schema, s, ctx)
    tap.case("uninteresting syscalls never emitted (any pid)", t_no_boring, s, ctx)
    tap.case("self-filter: no event from the sensor's own pid", t_self_filter, s, ctx)
    tap.case("exit counters: no drops, no decode errors, seen==emitted==records==lines",
             lambda c: check_counters(c, s, expect_truncated=bool(tbox)))

    tap.case("custom_set=getppid: every getppid from this thread, with ret", t_custom_set, ctx)
    tap.case("engine.attach=raw_tp: raw_tp programs, openat, fork/exec/exit, blobs",
             t_raw_tp, ctx, existing)
    tap.case("no privileges (uid 65534): exit 1 naming CAP_BPF", t_no_privileges, ctx)
    tap.case("-o engine.ringbuf_size_mb=3: exit 2, power of two", t_bad_override, ctx)
    tap.case("-o unknown key: exit 2", t_unknown_override, ctx)
    tap.case("-M not a number: exit 2", t_bad_duration, ctx)
    tap.case("config file unknown key: warning with file:line", t_config_unknown_key, ctx)
    tap.case("config file bad value: exit 2 with file:line and key", t_config_bad_value, ctx)
    tap.case("-M 1: stops by itself, exit 0", t_duration, ctx)

    shutil.rmtree(ctx.tmp, ignore_errors=True)
    s.cleanup()
    tap.diag("took %.1f s" % (time.monotonic() - started))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
