#!/usr/bin/env python3
"""saker's rule fields on live events, each checked against ground truth.

    python3 tests/e2e/test_fields_live.py build/src/saker

Needs root (skips loudly otherwise); x86-64 (the triggers make raw syscalls by number);
Python standard library only.

One rules file, one rule per action, each matching only this test's own trigger (a random
token in a path or in argv) and printing the same long list of fields (the profile's fields
that apply to host processes, and a few more). The sensor runs with json_output, so every
alert's output_fields holds typed values. Each trigger runs in a child process this test
controls (pid, parent, cwd, uid, argv, environment, tty); the child reports what it did
(fds, ports, thread id, errno) and then waits on its stdin, so that /proc/PID can be read
while it is alive and its alert formatted while its environment is still there. Every
field of every alert is compared with what /proc, pwd/grp and the test itself know: one
TAP line per (trigger, field), so a wrong field is pinpointed.

A check that fails because of a known saker bug is "not ok ... # TODO <the bug>"
(KNOWN_BUGS)."""

import grp
import json
import os
import platform
import pty
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Sensor, Tap, sensor_from_argv, skip_all  # noqa: E402

WAIT = 5.0          # seconds to wait for an alert that should come at once
SLACK_NS = 200_000_000   # clock slack when comparing event times with the test's clock

TEST_PID = os.getpid()
PY = os.path.realpath(sys.executable)   # exec'd by its real path: exepath == /proc exe
RUN = uuid.uuid4().hex[:8]
ENV_VAR = "SAKER_FL_VAR"
UNSET_VAR = "SAKER_FL_UNSET_" + RUN

# Known saker bugs. Keys: (trigger, field) or field alone (any trigger). A failing check
# with a key here is "not ok # TODO"; a passing one says the bug is gone.
# (None now: relative evt.arg paths, evt.arg.uid by name and evt.arg.filename of a
# successful execve are fixed.)
KNOWN_BUGS = {}

# The fields every rule prints.
OUTPUT_FIELDS = [
    # proc.*
    "proc.name", "proc.pid", "proc.vpid", "proc.ppid", "proc.exe", "proc.exepath",
    "proc.args", "proc.cmdline", "proc.cwd", "proc.tty", "proc.sid", "proc.sname",
    "proc.is_sid_leader", "proc.is_vpgid_leader", "proc.pname", "proc.pcmdline", "proc.pexe",
    "proc.pexepath", "proc.aname[1]", "proc.aname[2]", "proc.aexe[2]", "proc.aexepath[2]",
    "proc.duration", "proc.is_exe_from_memfd", "proc.is_exe_upper_layer",
    "proc.exe_ino.ctime", "proc.exe_ino.mtime", "proc.exe_ino.ctime_duration_proc_start",
    "proc.env[HOME]", "proc.env[%s]" % ENV_VAR, "proc.env[%s]" % UNSET_VAR,
    # thread.*
    "thread.tid", "thread.vtid", "thread.ismain", "thread.cap_effective",
    "thread.cap_permitted",
    # user.*, group.*
    "user.uid", "user.name", "user.loginuid", "user.loginname", "group.gid", "group.name",
    # fd.*
    "fd.num", "fd.name", "fd.nameraw", "fd.directory", "fd.filename", "fd.typechar",
    "fd.type", "fd.ino", "fd.sip", "fd.sport", "fd.cip", "fd.cport", "fd.lip", "fd.lport",
    "fd.rip", "fd.rport", "fd.l4proto", "fd.sockfamily", "fd.is_server", "fd.connected",
    "fd.name_changed", "fd.cip.name", "fd.sip.name", "fd.lip.name", "fd.rip.name",
    # evt.*
    "evt.type", "evt.res", "evt.rawres", "evt.num", "evt.time", "evt.is_open_read",
    "evt.is_open_write", "evt.is_open_exec",
    "evt.arg.flags", "evt.arg.mode", "evt.arg.name", "evt.arg.request", "evt.arg.target",
    "evt.arg.linkpath", "evt.arg.oldpath", "evt.arg.newpath", "evt.arg.path",
    "evt.arg.filename", "evt.arg.uid", "evt.arg.domain", "evt.arg.cmd",
    # fs.path.* (saker's; the reference has them too)
    "fs.path.name", "fs.path.nameraw", "fs.path.source", "fs.path.target",
    # container.*, k8s.*: host processes
    "container.id", "container.name", "container.image.repository", "container.image",
    "container.privileged", "container.mounts", "container.start_ts",
    "container.mount.dest[/]", "k8s.ns.name", "k8s.pod.name",
]

FD_FIELDS = [f for f in OUTPUT_FIELDS if f.startswith("fd.")]
# Which arguments each syscall has (of those printed): the others must be null.
ARGS_OF = {
    "open": {"flags", "mode", "name"},
    "openat": {"flags", "mode", "name"},
    "symlinkat": {"target", "linkpath"},
    "linkat": {"oldpath", "newpath", "flags"},
    "renameat2": {"oldpath", "newpath", "flags"},
    "unlinkat": {"name", "flags"},
    "mkdirat": {"path", "mode"},
    "fchmodat": {"filename", "mode"},
    "connect": set(),
    "accept": {"flags"},
    "accept4": {"flags"},
    "sendto": {"flags"},
    "socket": {"domain"},
    "ptrace": {"request"},
    "setuid": {"uid"},
    "execve": {"filename", "flags"},
    "bpf": {"cmd"},
}
ARG_FIELDS = [f for f in OUTPUT_FIELDS if f.startswith("evt.arg.")]

CAP_NAMES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]


# ---------------------------------------------------------------------------- the helper

HELPER = r'''"""saker field-test helper: one harmless action per mode (argv: MODE TOKEN ...). Prints
"INFO {json}" once done, then waits for a line (or EOF) on stdin before exiting."""
import ctypes, errno, json, os, socket, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
AT_FDCWD = -100

def arg(x):
    if isinstance(x, bytes):
        return ctypes.c_char_p(x)
    if x is None:
        return ctypes.c_void_p(None)
    return ctypes.c_long(x)

def sc(nr, *a):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[arg(x) for x in a])
    e = ctypes.get_errno()
    return {"ret": r if r >= 0 else -e,
            "res": "SUCCESS" if r >= 0 else errno.errorcode.get(e, str(e))}

def say(tag, **kw):
    sys.stdout.write(tag + " " + json.dumps(kw) + "\n")
    sys.stdout.flush()

def hold():
    sys.stdin.readline()

mode, tok = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
if mode == "openat":                     # openat(AT_FDCWD, PATH, FLAGS, MODE)
    path, flags, fmode = extra[0].encode(), int(extra[1], 0), int(extra[2], 0)
    os.umask(0o022)
    say("INFO", **sc(257, AT_FDCWD, path, flags, fmode))
    hold()
elif mode == "open":                     # open(PATH, FLAGS, MODE)
    path, flags, fmode = extra[0].encode(), int(extra[1], 0), int(extra[2], 0)
    os.umask(0o022)
    say("INFO", **sc(2, path, flags, fmode))
    hold()
elif mode == "thread-openat":            # openat from a second thread
    box = {}
    def body():
        box["tid"] = threading.get_native_id()
        box.update(sc(257, AT_FDCWD, extra[0].encode(), 0, 0))
    t = threading.Thread(target=body)
    t.start()
    t.join()
    say("INFO", **box)
    hold()
elif mode == "files":                    # the path syscalls, in order; cwd is the token dir
    d = os.getcwd()
    out = {}
    out["symlinkat"] = sc(266, (tok + "-target-text").encode(), AT_FDCWD,
                          (tok + "-link").encode())
    out["linkat"] = sc(265, AT_FDCWD, ("sub/" + tok + "-src.txt").encode(), AT_FDCWD,
                       (d + "/" + tok + "-hard").encode(), 0)
    out["renameat2"] = sc(316, AT_FDCWD, (tok + "-hard").encode(), AT_FDCWD,
                          ("sub/" + tok + "-renamed").encode(), 1)
    out["unlinkat"] = sc(263, AT_FDCWD, ("sub/" + tok + "-renamed").encode(), 0)
    out["mkdirat"] = sc(258, AT_FDCWD, (d + "/" + tok + "-newdir").encode(), 0o750)
    out["fchmodat"] = sc(268, AT_FDCWD, (tok + "-newdir").encode(), 0o705)
    dfd = os.open(d + "/sub", os.O_RDONLY | os.O_DIRECTORY)
    out["mkdirat-dirfd"] = sc(258, dfd, (tok + "-d2").encode(), 0o700)
    out["dirfd"] = dfd
    say("INFO", **out)
    hold()
elif mode == "tcp-server":               # listen on ADDR, accept one connection
    fam = socket.AF_INET6 if ":" in extra[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((extra[0], int(extra[1]) if len(extra) > 1 else 0))
    s.listen(1)
    say("PORT", port=s.getsockname()[1])
    c, peer = s.accept()
    say("INFO", fd=c.fileno(), lport=c.getsockname()[1], rport=peer[1], listen_fd=s.fileno())
    hold()
elif mode == "tcp-client":               # connect to ADDR PORT
    fam = socket.AF_INET6 if ":" in extra[0] else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.connect((extra[0], int(extra[1])))
    say("INFO", fd=c.fileno(), lport=c.getsockname()[1], rport=c.getpeername()[1])
    hold()
elif mode == "udp-send":                 # one datagram to 127.0.0.1 PORT, unconnected
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = u.sendto(b"saker-field-test", ("127.0.0.1", int(extra[0])))
    la = u.getsockname()
    say("INFO", fd=u.fileno(), lip=la[0], lport=la[1], sent=n)
    hold()
elif mode == "packet":                   # socket(AF_PACKET, SOCK_RAW, 0): bound to no protocol
    say("INFO", **sc(41, 17, 3, 0))
    hold()
elif mode == "ptrace":                   # attach to a child of ours, then detach
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    r = sc(101, 16, pid, 0, 0)
    os.waitpid(pid, 0)
    sc(101, 17, pid, 0, 0)
    r["target"] = pid
    say("INFO", **r)
    hold()
    os.kill(pid, 9)
    os.waitpid(pid, 0)
elif mode == "fork-setuid":              # a forked child becomes uid N
    pid = os.fork()
    if pid == 0:
        r = sc(105, int(extra[0]))
        r["pid"] = os.getpid()
        say("INFO", **r)
        hold()
        os._exit(0)
    os.waitpid(pid, 0)
elif mode == "bpf":                      # bpf(BPF_PROG_LOAD, NULL, 0): fails
    say("INFO", **sc(321, 5, None, 0))
    hold()
elif mode == "wait":
    say("INFO", pid=os.getpid())
    hold()
else:
    sys.exit("unknown mode " + mode)
'''

SCRIPT = '''#!/bin/sh
echo "INFO {}"
read x
'''


# ---------------------------------------------------------------------------- TAP


class FTap(Tap):
    """One line per check; known bugs are TODO."""

    def __init__(self):
        Tap.__init__(self)
        self.counts = {"pass": 0, "fail": 0, "todo": 0, "skip": 0}
        self.todo_seen = []

    def check(self, name, problem=None, key=None, notes=()):
        """problem: None for a pass, else the explanation. key: (trigger, field)."""
        todo = None
        if key is not None:
            todo = KNOWN_BUGS.get(key) or KNOWN_BUGS.get(key[1])
        self.n += 1
        for note in notes:
            self.diag(note)
        if problem is None:
            self.counts["pass"] += 1
            if todo:
                self.diag("known bug no longer seen (remove it from KNOWN_BUGS?): " + todo)
            self.out.write("ok %d - %s\n" % (self.n, name))
        elif todo:
            self.counts["todo"] += 1
            self.todo_seen.append((name, problem))
            self.diag(problem)
            self.out.write("not ok %d - %s # TODO %s\n" % (self.n, name, todo))
        else:
            self.counts["fail"] += 1
            self.diag(problem)
            self.out.write("not ok %d - %s\n" % (self.n, name))
            self.failed.append(name)
        self.out.flush()

    def skip(self, name, why):
        self.counts["skip"] += 1
        self.report(name, skip=why)


# ---------------------------------------------------------------------------- expectations


class P:
    """A predicate expectation, with what it means."""

    def __init__(self, fn, desc):
        self.fn = fn
        self.desc = desc

    def __call__(self, v):
        try:
            return bool(self.fn(v))
        except Exception:  # noqa: BLE001 - a value of the wrong type fails the check
            return False


def same(got, want):
    """Equality that tells 1 from True and 0 from False."""
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    return got == want


def flags_are(*names, allow=()):
    want = set(names)

    def f(v):
        have = set(v.split("|")) if v else set()
        return want <= have and not (have - want - set(allow))
    return P(f, "the flags %s%s (in any order)" % (
        "|".join(names), " (also allowed: %s)" % ", ".join(allow) if allow else ""))


def between(lo, hi, what):
    return P(lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi,
             "%s: between %d and %d" % (what, lo, hi))


def caps_text(mask):
    return " ".join(CAP_NAMES[i] if i < len(CAP_NAMES) else "CAP_%d" % i
                    for i in range(64) if mask >> i & 1)


# ---------------------------------------------------------------------------- /proc


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def read_argv(pid):
    raw = open("/proc/%d/cmdline" % pid, "rb").read()
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0")[:-1]] if raw else []


def read_stat(pid):
    st = read_text("/proc/%d/stat" % pid)
    rest = st[st.rindex(")") + 2:].split()
    return {"ppid": int(rest[1]), "pgid": int(rest[2]), "sid": int(rest[3]),
            "tty": int(rest[4]), "starttime": int(rest[19])}


def read_status(pid):
    out = {}
    for line in read_text("/proc/%d/status" % pid).splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def proc_truth(pid):
    """What /proc says about a live process (and its parent, grandparent, session)."""
    st = read_stat(pid)
    status = read_status(pid)
    env = {}
    for kv in open("/proc/%d/environ" % pid, "rb").read().split(b"\0"):
        if b"=" in kv:
            k, _, v = kv.partition(b"=")
            env.setdefault(k.decode(), v.decode("utf-8", "replace"))
    lu = int(read_text("/proc/%d/loginuid" % pid).strip())
    t = {
        "pid": pid, "comm": read_text("/proc/%d/comm" % pid).rstrip("\n"),
        "argv": read_argv(pid), "cwd": os.readlink("/proc/%d/cwd" % pid),
        "exe": os.readlink("/proc/%d/exe" % pid), "env": env,
        "uid": int(status["Uid"].split()[0]), "gid": int(status["Gid"].split()[0]),
        "capeff": int(status["CapEff"], 16), "capprm": int(status["CapPrm"], 16),
        "nspid": int(status["NSpid"].split()[-1]),
        "loginuid": -1 if lu == 0xFFFFFFFF else lu,
    }
    t.update(st)
    for rel, p in (("parent", st["ppid"]), ("gparent", read_stat(st["ppid"])["ppid"]),
                   ("leader", st["sid"])):
        try:
            t[rel] = {"pid": p, "comm": read_text("/proc/%d/comm" % p).rstrip("\n"),
                      "argv": read_argv(p), "exe": os.readlink("/proc/%d/exe" % p)}
        except OSError:
            t[rel] = None
    try:
        s = os.stat(t["exe"])
        t["exe_ctime"], t["exe_mtime"] = s.st_ctime_ns, s.st_mtime_ns
    except OSError:
        t["exe_ctime"] = t["exe_mtime"] = None
    return t


def cmdline(comm, argv):
    return " ".join([comm] + argv[1:])


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def proc_expect(t, tid, t0, t1):
    """The process, thread, user and group fields of any event of this process."""
    par, gp, lead = t["parent"], t["gparent"], t["leader"]
    e = {
        "proc.name": t["comm"], "proc.pid": t["pid"], "proc.vpid": t["nspid"],
        "proc.ppid": t["ppid"], "proc.exe": t["argv"][0], "proc.exepath": t["exe"],
        "proc.args": " ".join(t["argv"][1:]), "proc.cmdline": cmdline(t["comm"], t["argv"]),
        # the reference engine's proc.cwd ends with '/'
        "proc.cwd": t["cwd"].rstrip("/") + "/",
        "proc.tty": t["tty"], "proc.sid": t["sid"],
        "proc.is_sid_leader": t["sid"] == t["pid"],
        "proc.is_vpgid_leader": t["pgid"] == t["pid"],
        "proc.pname": par["comm"], "proc.pcmdline": cmdline(par["comm"], par["argv"]),
        "proc.pexe": par["argv"][0], "proc.pexepath": par["exe"],
        "proc.aname[1]": par["comm"],
        "proc.is_exe_from_memfd": False, "proc.is_exe_upper_layer": False,
        "proc.env[HOME]": t["env"].get("HOME"), "proc.env[%s]" % ENV_VAR: t["env"].get(ENV_VAR),
        "proc.env[%s]" % UNSET_VAR: None,
        "thread.tid": tid, "thread.vtid": tid, "thread.ismain": tid == t["pid"],
        "thread.cap_effective": caps_text(t["capeff"]),
        "thread.cap_permitted": caps_text(t["capprm"]),
        "user.uid": t["uid"], "user.name": user_name(t["uid"]),
        "user.loginuid": t["loginuid"],
        "user.loginname": user_name(t["loginuid"]) if t["loginuid"] >= 0 else None,
        "group.gid": t["gid"], "group.name": group_name(t["gid"]),
        "container.id": "host",
        # the process started after t0 (the test started it, or its parent, then)
        "proc.duration": P(lambda v: isinstance(v, int) and 0 < v <= t1 - t0 + SLACK_NS,
                           "0 < duration <= %.3f s (the process is younger than that)"
                           % ((t1 - t0 + SLACK_NS) / 1e9)),
    }
    if gp:
        e.update({"proc.aname[2]": gp["comm"], "proc.aexe[2]": gp["argv"][0] if gp["argv"]
                  else None, "proc.aexepath[2]": gp["exe"]})
    if lead:
        e["proc.sname"] = lead["comm"]
    if t["exe_ctime"] is not None:
        e["proc.exe_ino.ctime"] = t["exe_ctime"]
        e["proc.exe_ino.mtime"] = t["exe_mtime"]
        # the process started between t0 and t1
        lo, hi = t0 - t["exe_ctime"] - SLACK_NS, t1 - t["exe_ctime"] + SLACK_NS
        e["proc.exe_ino.ctime_duration_proc_start"] = between(
            lo, hi, "process start - executable ctime")
    return e


# ---------------------------------------------------------------------------- children


class Child:
    """A helper (or any program) started by the test, whose "INFO {json}" line it reads."""

    def __init__(self, argv, cwd=None, env=None, pre=None):
        self.t0 = time.time_ns()
        self.p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.p.pid
        self.lines = {}
        self.t1 = None

    def read(self, tag="INFO", timeout=10.0):
        """The json of the first line tagged tag (None on timeout or exit)."""
        deadline = time.monotonic() + timeout
        while tag not in self.lines:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                continue
            line = self.p.stdout.readline()
            if not line:
                return None
            t, _, js = line.decode("utf-8", "replace").strip().partition(" ")
            try:
                self.lines[t] = json.loads(js)
            except ValueError:
                continue
        if tag == "INFO":
            self.t1 = time.time_ns()
        return self.lines[tag]

    def release(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        err = self.p.stderr.read().decode("utf-8", "replace")
        self.p.stdout.close()
        self.p.stderr.close()
        return err


class PtyChild:
    """A helper started on a new pseudo-terminal (its controlling tty, a new session)."""

    def __init__(self, argv, env):
        self.t0 = time.time_ns()
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.buf = b""
        self.t1 = None

    def read(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while b"INFO " not in self.buf or not self.buf.split(b"INFO ", 1)[1].count(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    return None
                if not data:
                    return None
                self.buf += data
        self.t1 = time.time_ns()
        line = self.buf.split(b"INFO ", 1)[1].split(b"\n", 1)[0]
        return json.loads(line.decode().strip())

    def release(self):
        try:
            os.write(self.fd, b"go\n")
        except OSError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    os.read(self.fd, 4096)
            except OSError:
                pass
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
        return ""


# ---------------------------------------------------------------------------- the sensor


class AlertSensor(Sensor):
    def __init__(self, exe, rules, max_seconds=240):
        Sensor.__init__(self, exe, name="fields", max_seconds=max_seconds)
        self.args = [exe, "-U", "-M", str(max_seconds), "-o", "json_output=true",
                     "-o", "engine.ringbuf_size_mb=64", "-o", "rule_matching=all",
                     "-r", rules]


# ---------------------------------------------------------------------------- the test


class FieldTest:
    def __init__(self, exe):
        self.exe = exe
        self.tap = FTap()
        self.work = tempfile.mkdtemp(prefix="saker-fl-")
        os.chmod(self.work, 0o755)
        self.helper = os.path.join(self.work, "fl_helper.py")
        with open(self.helper, "w") as f:
            f.write(HELPER)
        os.chmod(self.helper, 0o644)
        self.rules = []          # (name, condition)
        self.sensor = None
        self.alerts_checked = []  # alerts in the order checked
        self.env = dict(os.environ)
        self.env[ENV_VAR] = "fl %s value=with=equals" % RUN
        self.env.pop(UNSET_VAR, None)
        self.hostname = os.environ.get("SAKER_HOSTNAME") or os.environ.get(
            "FALCO_HOSTNAME") or socket.gethostname()
        self._n = 0

    def token(self, what):
        self._n += 1
        return "fl%s%s%d" % (what, RUN, self._n)

    def tokdir(self, tok):
        d = os.path.join(self.work, tok)
        os.mkdir(d)
        os.mkdir(os.path.join(d, "sub"))
        return d

    def rule(self, trigger, action, condition):
        name = "FL %s %s %s" % (RUN, trigger, action)
        self.rules.append((name, condition))
        return name

    def write_rules(self):
        out = " ".join("%s=%%%s" % (f, f) for f in OUTPUT_FIELDS)
        path = os.path.join(self.work, "fields.yaml")
        with open(path, "w") as f:
            for name, cond in self.rules:
                f.write("- rule: %s\n  desc: saker field test\n  condition: %s\n"
                        "  output: %s\n  priority: NOTICE\n  tags: [zz_fl, aa_fl]\n\n" % (
                            json.dumps(name), json.dumps(cond), json.dumps("FL " + out)))
        return path

    # -- alerts

    def alert(self, rule, pid=None, timeout=WAIT):
        def pred(a):
            if a.get("rule") != rule:
                return False
            return pid is None or (a.get("output_fields") or {}).get("proc.pid") == pid
        return self.sensor.wait_for(pred, timeout=timeout)

    def compare(self, trigger, a, expect, notes=()):
        """One TAP line per expected field."""
        of = a.get("output_fields") or {}
        for field, want in expect.items():
            name = "%s: %s" % (trigger, field)
            if field not in of:
                self.tap.check(name, "output field %s is absent from output_fields" % field,
                               (trigger, field))
                continue
            got = of[field]
            if isinstance(want, P):
                ok = want(got)
                prob = None if ok else "%s = %r, expected %s" % (field, got, want.desc)
            else:
                prob = None if same(got, want) else "%s: expected %r, got %r" % (
                    field, want, got)
            self.tap.check(name, prob, (trigger, field))

    def null_group(self, trigger, a, fields, what):
        """One line: every field in fields is null."""
        of = a.get("output_fields") or {}
        bad = ["%s=%r" % (f, of.get(f)) for f in fields if of.get(f) is not None]
        self.tap.check("%s: %s are null" % (trigger, what),
                       "not null: " + ", ".join(bad) if bad else None, (trigger, what))

    def check_alert(self, trigger, syscall, a, truth, tid, child, expect):
        """All the checks of one alert: process fields from /proc, event fields from
        expect, arguments the syscall does not have are null, event time and duration."""
        of = a.get("output_fields") or {}
        self.alerts_checked.append((trigger, a))
        e = proc_expect(truth, tid, child.t0, child.t1)
        e.update({"evt.type": syscall,
                  "evt.num": P(lambda v: isinstance(v, int) and v > 0, "a positive integer"),
                  "evt.time": between(child.t0 - SLACK_NS, child.t1 + SLACK_NS,
                                      "the event happened while the trigger ran (ns)")})
        e.update(expect)
        self.compare(trigger, a, e)
        # the arguments this syscall does not have
        have = ARGS_OF.get(syscall, set())
        others = [f for f in ARG_FIELDS if f[len("evt.arg."):] not in have]
        self.null_group(trigger, a, others, "the evt.arg.* %s does not have (%s)" % (
            syscall, ", ".join(f[len("evt.arg."):] for f in others)))
        # process start = event time - duration, inside the window the test started it in
        d, t = of.get("proc.duration"), of.get("evt.time")
        if isinstance(d, int) and isinstance(t, int):
            start = t - d
            ok = child.t0 - SLACK_NS <= start <= child.t1 + SLACK_NS
            self.tap.check("%s: evt.time - proc.duration is the process's start" % trigger,
                           None if ok else "start %d outside [%d, %d]" % (
                               start, child.t0, child.t1), (trigger, "proc.duration"))
        # the alert's time is the event's time
        if isinstance(t, int):
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 10**9)) + \
                ".%09dZ" % (t % 10**9)
            self.tap.check("%s: alert time is evt.time in UTC" % trigger,
                           None if a.get("time") == iso else "time %r, evt.time %d is %s" % (
                               a.get("time"), t, iso), (trigger, "time"))

    def missing(self, trigger, rule, extra=""):
        near = [x for x in self.sensor.events if trigger in x.get("rule", "")]
        self.tap.check("%s: alert of rule %r" % (trigger, rule),
                       "no alert seen%s; alerts of this trigger: %s" % (
                           extra, json.dumps([x.get("output_fields") for x in near])[:3000]))

    # -- one trigger: start, read, alert(s), release

    def run_trigger(self, trigger, start, actions, labels=None):
        """start() -> (child, info); actions: [(rule, syscall, fn(info) -> (expect, tid,
        pid))]. Reads /proc while the child waits, waits for each alert, checks it; then
        lets the child go."""
        try:
            child, info = start()
        except Exception as ex:  # noqa: BLE001
            self.tap.check("%s: trigger ran" % trigger, "could not start: %r" % ex)
            return
        try:
            if info is None:
                self.tap.check("%s: trigger ran" % trigger, "the child reported nothing")
                return
            truths = {}
            for i, (rule, syscall, fn) in enumerate(actions):
                label = trigger if labels is None else "%s %s" % (trigger, labels[i])
                exp, tid, pid = fn(info)
                if pid not in truths:
                    try:
                        truths[pid] = proc_truth(pid)
                    except OSError as ex:
                        self.tap.check("%s: /proc of %d" % (label, pid), repr(ex))
                        return
                a = self.alert(rule, pid)
                if a is None:
                    self.missing(label, rule, " (pid %d)" % pid)
                    continue
                self.check_alert(label, syscall, a, truths[pid], tid, child, exp)
        finally:
            err = child.release()
            if err.strip():
                self.tap.diag("%s: the child's stderr: %s" % (trigger, err.strip()[-500:]))

    def helper_argv(self, mode, tok, *extra):
        return [PY, self.helper, mode, tok] + [str(x) for x in extra]

    def start_helper(self, argv, cwd=None):
        def start():
            c = Child(argv, cwd=cwd, env=self.env)
            return c, c.read()
        return start

    # ------------------------------------------------------------------ the triggers
    #
    # Each t_* makes its files and rules now (the rules file is written before the sensor
    # starts) and returns what runs the trigger and checks its alerts.

    def simple(self, trigger, syscall, rule, argv, cwd, expect_fn):
        """A helper whose own pid and main thread make the event."""
        box = {}

        def start():
            c = Child(argv, cwd=cwd, env=self.env)
            box["c"] = c
            return c, c.read()

        def fn(info):
            pid = box["c"].pid
            return expect_fn(info), pid, pid
        return lambda: self.run_trigger(trigger, start, [(rule, syscall, fn)])

    def t_open_read(self):
        tok = self.token("rd")
        d = self.tokdir(tok)
        rel = "sub/%s-file.txt" % tok
        absn = os.path.join(d, rel)
        with open(absn, "w") as f:
            f.write("x")
        rule = self.rule("open-read", "openat", 'evt.type=openat and fd.name contains "%s"'
                         % tok)

        def exp(info):
            return {"evt.res": "SUCCESS", "evt.rawres": info["ret"], "fd.num": info["ret"],
                    "fd.name": absn, "fd.nameraw": rel, "fd.directory": os.path.dirname(absn),
                    "fd.filename": os.path.basename(absn), "fd.typechar": "f",
                    "fd.type": "file",
                    "fd.sockfamily": None, "fd.sip": None, "fd.cport": None,
                    "evt.arg.flags": flags_are("O_RDONLY"), "evt.arg.mode": "0",
                    "evt.arg.name": absn, "evt.is_open_read": True,
                    "evt.is_open_write": False, "evt.is_open_exec": False,
                    "fs.path.name": absn, "fs.path.nameraw": rel,
                    # host processes: container.id and container.name are "host" (as in
                    # the reference); the rest of the container and k8s metadata is missing
                    "container.name": "host", "container.image.repository": None,
                    "container.image": None, "container.privileged": None,
                    "container.mounts": None, "container.start_ts": None,
                    "container.mount.dest[/]": None, "k8s.ns.name": None,
                    "k8s.pod.name": None}
        return self.simple("open-read", "openat", rule,
                           self.helper_argv("openat", tok, rel, "0", "0"), d, exp)

    def t_open_write(self):
        tok = self.token("wr")
        d = self.tokdir(tok)
        path = os.path.join(d, tok + "-out.txt")
        rule = self.rule("open-write", "open", 'evt.type=open and fd.name contains "%s"' % tok)

        def exp(info):
            return {"evt.res": "SUCCESS", "evt.rawres": info["ret"], "fd.num": info["ret"],
                    "fd.name": path, "fd.nameraw": path, "fd.directory": d,
                    "fd.filename": tok + "-out.txt", "fd.typechar": "f", "fd.type": "file",
                    "evt.arg.flags": flags_are("O_WRONLY", "O_CREAT", "O_TRUNC",
                                               allow=("O_F_CREATED",)),
                    "evt.arg.mode": "0640", "evt.arg.name": path,
                    "evt.is_open_read": False, "evt.is_open_write": True,
                    "evt.is_open_exec": False, "fs.path.name": path}
        return self.simple("open-write", "open", rule, self.helper_argv(
            "open", tok, path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "0o640"), d, exp)

    def t_open_exec(self):
        tok = self.token("ex")
        d = self.tokdir(tok)
        rel = tok + "-prog"
        path = os.path.join(d, rel)
        rule = self.rule("open-exec", "openat", 'evt.type=openat and fd.name contains "%s"'
                         % tok)

        def exp(info):
            return {"evt.res": "SUCCESS", "evt.rawres": info["ret"], "fd.num": info["ret"],
                    "fd.name": path, "fd.nameraw": rel, "fd.typechar": "f",
                    "evt.arg.flags": flags_are("O_WRONLY", "O_CREAT", "O_EXCL",
                                               allow=("O_F_CREATED",)),
                    "evt.arg.mode": "0755", "evt.arg.name": path,
                    "evt.is_open_read": False, "evt.is_open_write": True,
                    "evt.is_open_exec": True}
        return self.simple("open-exec", "openat", rule, self.helper_argv(
            "openat", tok, rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL, "0o755"), d, exp)

    def t_open_fail(self):
        tok = self.token("nf")
        d = self.tokdir(tok)
        rel = "missing-%s/none.txt" % tok
        path = os.path.join(d, rel)
        rule = self.rule("open-fail", "openat", 'evt.type=openat and fd.name contains "%s"'
                         % tok)

        def exp(info):
            return {"evt.res": "ENOENT", "evt.rawres": -2, "fd.num": -1,
                    "fd.name": path, "fd.nameraw": rel, "fd.directory": os.path.dirname(path),
                    "fd.filename": "none.txt", "fd.typechar": "f", "fd.type": "file",
                    "evt.arg.flags": flags_are("O_RDONLY"), "evt.arg.name": path,
                    "evt.is_open_read": True, "evt.is_open_write": False}
        return self.simple("open-fail", "openat", rule,
                           self.helper_argv("openat", tok, rel, "0", "0"), d, exp)

    def t_thread(self):
        tok = self.token("th")
        d = self.tokdir(tok)
        rel = "sub/%s-t.txt" % tok
        path = os.path.join(d, rel)
        with open(path, "w") as f:
            f.write("x")
        rule = self.rule("thread", "openat", 'evt.type=openat and fd.name contains "%s"' % tok)
        box = {}

        def start():
            c = Child(self.helper_argv("thread-openat", tok, rel), cwd=d, env=self.env)
            box["c"] = c
            return c, c.read()

        def fn(info):
            pid = box["c"].pid
            self.tap.check("thread: the helper's thread id differs from its pid",
                           None if info.get("tid") != pid else "tid %r" % info.get("tid"))
            return ({"evt.res": "SUCCESS", "fd.num": info["ret"], "evt.rawres": info["ret"],
                     "fd.name": path, "fd.nameraw": rel, "fd.typechar": "f"},
                    info["tid"], pid)
        return lambda: self.run_trigger("thread", start, [(rule, "openat", fn)])

    def t_files(self):
        tok = self.token("fs")
        d = self.tokdir(tok)
        src = os.path.join(d, "sub", tok + "-src.txt")
        with open(src, "w") as f:
            f.write("x")
        names = {}
        for sc in ("symlinkat", "linkat", "renameat2", "unlinkat", "fchmodat"):
            names[sc] = self.rule("files", sc, 'evt.type=%s and proc.args contains "%s"' % (
                sc, tok))
        names["mkdirat"] = self.rule("files", "mkdirat", 'evt.type=mkdirat and proc.args '
                                     'contains "%s" and evt.arg.path contains "%s-newdir"'
                                     % (tok, tok))
        names["mkdirat-dirfd"] = self.rule("files", "mkdirat-dirfd", 'evt.type=mkdirat and '
                                           'proc.args contains "%s" and evt.arg.path contains '
                                           '"%s-d2"' % (tok, tok))
        box = {}

        def start():
            c = Child(self.helper_argv("files", tok), cwd=d, env=self.env)
            box["c"] = c
            return c, c.read()

        def pid():
            return box["c"].pid

        # path syscalls with AT_FDCWD have no fd
        nofd = {"fd.num": None, "fd.name": None, "fd.typechar": None}
        hard, renamed = os.path.join(d, tok + "-hard"), os.path.join(d, "sub", tok + "-renamed")
        newdir, link = os.path.join(d, tok + "-newdir"), os.path.join(d, tok + "-link")

        def res(info, k):
            return {"evt.res": info[k]["res"], "evt.rawres": info[k]["ret"]}

        def a_symlink(info):
            e = dict(nofd, **res(info, "symlinkat"))
            e.update({"evt.arg.target": tok + "-target-text", "evt.arg.linkpath": link,
                      "fs.path.source": tok + "-target-text", "fs.path.target": link})
            return e, pid(), pid()

        def a_link(info):
            e = dict(nofd, **res(info, "linkat"))
            e.update({"evt.arg.oldpath": src, "evt.arg.newpath": hard, "evt.arg.flags": "0",
                      "fs.path.source": src, "fs.path.target": hard})
            return e, pid(), pid()

        def a_rename(info):
            e = dict(nofd, **res(info, "renameat2"))
            e.update({"evt.arg.oldpath": hard, "evt.arg.newpath": renamed,
                      "evt.arg.flags": "RENAME_NOREPLACE",
                      "fs.path.source": hard, "fs.path.target": renamed})
            return e, pid(), pid()

        def a_unlink(info):
            e = dict(nofd, **res(info, "unlinkat"))
            e.update({"evt.arg.name": renamed, "evt.arg.flags": "0", "fs.path.name": renamed,
                      "fs.path.nameraw": "sub/%s-renamed" % tok})
            return e, pid(), pid()

        def a_mkdir(info):
            e = dict(nofd, **res(info, "mkdirat"))
            e.update({"evt.arg.path": newdir, "evt.arg.mode": "0750", "fs.path.name": newdir})
            return e, pid(), pid()

        def a_chmod(info):
            e = dict(nofd, **res(info, "fchmodat"))
            e.update({"evt.arg.filename": newdir, "fs.path.name": newdir,
                      "evt.arg.mode": flags_are("S_IRUSR", "S_IWUSR", "S_IXUSR", "S_IROTH",
                                                "S_IXOTH")})
            return e, pid(), pid()

        def a_mkdir_dirfd(info):
            p = os.path.join(d, "sub", tok + "-d2")
            e = res(info, "mkdirat-dirfd")
            e.update({"evt.arg.path": p, "evt.arg.mode": "0700", "fs.path.name": p,
                      "fs.path.nameraw": tok + "-d2"})
            return e, pid(), pid()
        return lambda: self.run_trigger("files", start, [
            (names["symlinkat"], "symlinkat", a_symlink),
            (names["linkat"], "linkat", a_link),
            (names["renameat2"], "renameat2", a_rename),
            (names["unlinkat"], "unlinkat", a_unlink),
            (names["mkdirat"], "mkdirat", a_mkdir),
            (names["fchmodat"], "fchmodat", a_chmod),
            (names["mkdirat-dirfd"], "mkdirat", a_mkdir_dirfd)], labels=[
                "symlinkat", "linkat", "renameat2", "unlinkat", "mkdirat", "fchmodat",
                "mkdirat(dirfd)"])

    def t_tcp(self, v6):
        addr = "::1" if v6 else "127.0.0.1"
        label = "tcp6" if v6 else "tcp4"
        if v6:
            try:
                s = socket.socket(socket.AF_INET6)
                s.bind(("::1", 0))
                s.close()
            except OSError as ex:
                return lambda: self.tap.skip(label, "no IPv6 loopback here: %s" % ex)
        stok, ctok = self.token("srv"), self.token("cli")
        srule = self.rule(label, "accept", 'evt.type in (accept, accept4) and '
                          'proc.args contains "%s"' % stok)
        crule = self.rule(label, "connect", 'evt.type=connect and proc.args contains "%s"'
                          % ctok)
        typ, ch = ("ipv6", "6") if v6 else ("ipv4", "4")
        # IPv4: the server's port is chosen now, so that conditions can name it; filter-only
        # fields (fd.net, fd.snet, fd.ip, fd.port, ...) and un-indexed proc.aname can only
        # be checked through conditions: one rule per probe, that must fire or must not
        probes = []
        pre_port = None
        if not v6:
            pre_port = free_port()
            gp = read_text("/proc/%d/comm" % os.getppid()).rstrip("\n")
            for cond, fires in (
                    ("fd.snet in (127.0.0.0/8)", True),
                    ("fd.snet in (10.0.0.0/8, 192.168.0.0/16)", False),
                    ("fd.cnet in (127.0.0.0/8)", True), ("fd.rnet in (127.0.0.0/8)", True),
                    ("fd.lnet in (127.0.0.0/8)", True),
                    ("fd.net in (127.0.0.0/8)", True), ("fd.net in (172.16.0.0/12)", False),
                    ("fd.ip = 127.0.0.1", True), ("fd.ip = 10.1.2.3", False),
                    ("fd.sip = 127.0.0.1", True), ("fd.cip = 127.0.0.1", True),
                    ("fd.port = %d" % pre_port, True), ("fd.sport in (%d)" % pre_port, True),
                    ("fd.sport in (%d)" % (pre_port ^ 1), False),
                    ("fd.rport = %d" % pre_port, True),
                    ("proc.aname = %s" % json.dumps(gp), True),
                    ("proc.aname[1] = %s" % json.dumps(gp), False),
                    ("proc.aname = \"no-such-ancestor-%s\"" % RUN, False),
                    ("fd.l4proto = tcp and fd.sockfamily = ip", True)):
                probes.append((cond, fires, self.rule(label, "probe %d" % len(probes),
                               'evt.type=connect and proc.args contains "%s" and %s'
                               % (ctok, cond))))

        def go():
            server = Child(self.helper_argv("tcp-server", stok, addr,
                                            *([pre_port] if pre_port else [])),
                           cwd=self.work, env=self.env)
            try:
                port = server.read("PORT")
                if port is None:
                    self.tap.check("%s: server listening" % label, "the server reported no "
                                   "port")
                    return
                sport = port["port"]
                box = {}

                def start():
                    c = Child(self.helper_argv("tcp-client", ctok, addr, sport),
                              cwd=self.work, env=self.env)
                    box["c"] = c
                    return c, c.read()

                def client(info):
                    cport = info["lport"]
                    e = {"evt.res": "SUCCESS", "evt.rawres": 0, "fd.num": info["fd"],
                         "fd.name": "%s:%d->%s:%d" % (addr, cport, addr, sport),
                         "fd.typechar": ch, "fd.type": typ, "fd.sip": addr,
                         "fd.sport": sport, "fd.cip": addr, "fd.cport": cport, "fd.lip": addr,
                         "fd.lport": cport, "fd.rip": addr, "fd.rport": sport,
                         "fd.l4proto": "tcp", "fd.sockfamily": "ip", "fd.is_server": False,
                         "fd.connected": True, "fd.name_changed": True,
                         "fd.directory": None, "fd.filename": None,
                         # no name resolution: the reference has no name for an address
                         # no DNS answer was seen for
                         "fd.sip.name": P(lambda v: v in (None, ""), "null or empty"),
                         "fd.cip.name": P(lambda v: v in (None, ""), "null or empty"),
                         "fd.lip.name": P(lambda v: v in (None, ""), "null or empty"),
                         "fd.rip.name": P(lambda v: v in (None, ""), "null or empty")}
                    return e, box["c"].pid, box["c"].pid
                self.run_trigger(label + " client", start, [(crule, "connect", client)])
                if probes and "c" in box:
                    time.sleep(0.3)   # alerts of one event are written together
                    self.sensor.poll()
                    for cond, fires, rule in probes:
                        seen = self.sensor.find(lambda a, r=rule: a.get("rule") == r and (
                            a.get("output_fields") or {}).get("proc.pid") == box["c"].pid)
                        self.tap.check("%s client: condition %s %s" % (
                            label, cond, "holds" if fires else "does not hold"),
                            None if bool(seen) == fires else "the rule %s" % (
                                "did not fire" if fires else "fired"),
                            (label + " client", cond))
                sinfo = server.read("INFO")
                if sinfo is None:
                    self.tap.check("%s server: accepted" % label, "the server accepted nothing")
                    return
                truth = proc_truth(server.pid)
                a = self.alert(srule, server.pid)
                if a is None:
                    self.missing(label + " server", srule)
                    return
                cport = sinfo["rport"]
                et = (a.get("output_fields") or {}).get("evt.type")
                self.check_alert(label + " server", et if et in ("accept", "accept4")
                                 else "accept4", a, truth, server.pid, server, {
                                     "evt.res": "SUCCESS", "evt.rawres": sinfo["fd"],
                                     "fd.num": sinfo["fd"],
                                     "fd.name": "%s:%d->%s:%d" % (addr, cport, addr, sport),
                                     "fd.typechar": ch, "fd.type": typ, "fd.sip": addr,
                                     "fd.sport": sport, "fd.cip": addr, "fd.cport": cport,
                                     "fd.lip": addr, "fd.lport": sport, "fd.rip": addr,
                                     "fd.rport": cport, "fd.l4proto": "tcp",
                                     "fd.sockfamily": "ip", "fd.is_server": True,
                                     "fd.connected": True})
            finally:
                err = server.release()
                if err.strip():
                    self.tap.diag("%s server stderr: %s" % (label, err.strip()[-500:]))
        return go

    def t_udp(self):
        tok = self.token("udp")
        rule = self.rule("udp", "sendto", 'evt.type=sendto and proc.args contains "%s"' % tok)

        def go():
            rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rx.bind(("127.0.0.1", 0))
            sport = rx.getsockname()[1]

            def exp(info):
                # the sender is the client; its local address is the socket's
                # (getsockname: 0.0.0.0 for an unconnected, auto-bound socket)
                cip, cport = info["lip"], info["lport"]
                return {"evt.res": "SUCCESS", "evt.rawres": info["sent"],
                        "fd.num": info["fd"],
                        "fd.name": "%s:%d->127.0.0.1:%d" % (cip, cport, sport),
                        "fd.typechar": "4", "fd.type": "ipv4", "fd.sip": "127.0.0.1",
                        "fd.sport": sport, "fd.cip": cip, "fd.cport": cport, "fd.lip": cip,
                        "fd.rip": "127.0.0.1", "fd.rport": sport, "fd.lport": cport,
                        "fd.l4proto": "udp", "fd.sockfamily": "ip", "fd.is_server": False,
                        "fd.connected": False, "fd.name_changed": True,
                        "evt.arg.flags": "0"}
            try:
                self.simple("udp", "sendto", rule, self.helper_argv("udp-send", tok, sport),
                            self.work, exp)()
            finally:
                rx.close()
        return go

    def t_packet(self):
        tok = self.token("pkt")
        rule = self.rule("packet-socket", "socket", 'evt.type=socket and proc.args contains '
                         '"%s"' % tok)
        box = {}

        def start():
            c = Child(self.helper_argv("packet", tok), cwd=self.work, env=self.env)
            box["c"] = c
            return c, c.read()

        def fn(info):
            pid = box["c"].pid
            if info["ret"] < 0:
                return {"evt.res": info["res"], "evt.rawres": info["ret"],
                        "evt.arg.domain": "AF_PACKET"}, pid, pid
            link = os.readlink("/proc/%d/fd/%d" % (pid, info["ret"]))
            # docs/state.md: packet sockets are fd type unknown ('o'); seeded ones are
            # named by their /proc link text, one made by socket() has no name yet
            return {"evt.res": "SUCCESS", "evt.rawres": info["ret"], "fd.num": info["ret"],
                    "evt.arg.domain": "AF_PACKET", "fd.typechar": "o", "fd.type": "unknown",
                    "fd.name": P(lambda v: v in ("", link), "%r or empty" % link),
                    "fd.sockfamily": None, "fd.sip": None}, pid, pid
        return lambda: self.run_trigger("packet-socket", start, [(rule, "socket", fn)])

    def t_ptrace(self):
        tok = self.token("pt")
        rule = self.rule("ptrace", "ptrace", 'evt.type=ptrace and proc.args contains "%s"'
                         % tok)

        def exp(info):
            return {"evt.res": info["res"], "evt.rawres": info["ret"],
                    "evt.arg.request": "PTRACE_ATTACH", "fd.num": None, "fd.name": None}
        return self.simple("ptrace", "ptrace", rule, self.helper_argv("ptrace", tok),
                           self.work, exp)

    def t_setuid(self):
        tok = self.token("su")
        uid = pwd.getpwnam("daemon").pw_uid if user_exists("daemon") else 1
        rule = self.rule("setuid", "setuid", 'evt.type=setuid and proc.args contains "%s"'
                         % tok)
        box = {}

        def start():
            c = Child(self.helper_argv("fork-setuid", tok, uid), cwd=self.work, env=self.env)
            box["c"] = c
            return c, c.read()

        def fn(info):
            pid = info["pid"]
            # the reference renders a uid argument as the user's name
            return ({"evt.res": "SUCCESS", "evt.rawres": 0,
                     "evt.arg.uid": user_name(uid) or str(uid),
                     "proc.ppid": box["c"].pid, "fd.num": None, "fd.name": None},
                    pid, pid)
        return lambda: self.run_trigger("setuid", start, [(rule, "setuid", fn)])

    def t_bpf(self):
        tok = self.token("bpf")
        rule = self.rule("bpf", "bpf", 'evt.type=bpf and proc.args contains "%s"' % tok)

        def exp(info):
            return {"evt.res": info["res"], "evt.rawres": info["ret"],
                    "evt.arg.cmd": "BPF_PROG_LOAD"}
        return self.simple("bpf", "bpf", rule, self.helper_argv("bpf", tok), self.work, exp)

    def t_script(self):
        tok = self.token("sh")
        d = self.tokdir(tok)
        script = os.path.join(d, "fl-%s.sh" % tok)
        with open(script, "w") as f:
            f.write(SCRIPT)
        os.chmod(script, 0o755)
        rule = self.rule("exec-script", "execve", 'evt.type=execve and proc.args contains "%s"'
                         % tok)
        argv = [script, "alpha", "two words", tok]

        def exp(info):
            # docs/state.md: proc.exepath is the exec filename, not the interpreter that
            # /proc shows for a #! script
            return {"evt.res": "SUCCESS", "evt.rawres": 0, "evt.arg.filename": script,
                    "proc.exepath": script, "fd.num": None, "fd.name": None}
        return self.simple("exec-script", "execve", rule, argv, d, exp)

    def t_exec_daemon(self):
        tok = self.token("dm")
        setpriv = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
        if not setpriv or not user_exists("daemon"):
            return lambda: self.tap.skip("exec-daemon", "needs setpriv and a daemon user")
        # (setpriv's own execve has the token in its arguments too)
        rule = self.rule("exec-daemon", "execve", 'evt.type=execve and proc.args contains '
                         '"%s" and not proc.name=setpriv' % tok)
        argv = [setpriv, "--reuid=daemon", "--regid=daemon", "--clear-groups",
                PY, self.helper, "wait", tok]

        def exp(info):
            return {"evt.res": "SUCCESS", "evt.rawres": 0, "evt.arg.filename": PY,
                    "user.name": "daemon", "thread.cap_effective": "", "fd.num": None}
        return self.simple("exec-daemon", "execve", rule, argv, "/", exp)

    def t_loginuid(self):
        """A shell sets its own audit loginuid, then execs the helper: user.loginuid and
        user.loginname follow (the exec record carries the loginuid)."""
        tok = self.token("lu")
        sh = shutil.which("sh", path="/usr/bin:/bin")
        uid = pwd.getpwnam("daemon").pw_uid if user_exists("daemon") else 1
        probe = subprocess.run([sh, "-c", "echo %d > /proc/self/loginuid" % uid],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if probe.returncode != 0:
            return lambda: self.tap.skip("loginuid", "cannot set a loginuid here")
        rule = self.rule("loginuid", "execve", 'evt.type=execve and proc.args contains "%s" '
                         'and not proc.name in (sh, dash, bash)' % tok)
        argv = [sh, "-c", 'echo %d > /proc/self/loginuid && exec "$@"' % uid, "sh",
                PY, self.helper, "wait", tok]

        def exp(info):
            return {"evt.res": "SUCCESS", "evt.rawres": 0, "evt.arg.filename": PY,
                    "user.loginuid": uid, "user.loginname": user_name(uid)}
        return self.simple("loginuid", "execve", rule, argv, self.work, exp)

    def t_tty(self):
        tok = self.token("tty")
        rule = self.rule("tty", "execve", 'evt.type=execve and proc.args contains "%s"' % tok)
        box = {}

        def start():
            c = PtyChild(self.helper_argv("wait", tok), self.env)
            box["c"] = c
            return c, c.read()

        def fn(info):
            pid = box["c"].pid
            tty = read_stat(pid)["tty"]
            self.tap.check("tty: the pty child has a controlling terminal (/proc)",
                           None if tty else "tty_nr is 0")
            return ({"evt.res": "SUCCESS", "evt.rawres": 0, "evt.arg.filename": PY,
                     "proc.tty": tty, "proc.sid": pid, "proc.is_sid_leader": True},
                    pid, pid)
        return lambda: self.run_trigger("tty", start, [(rule, "execve", fn)])

    def prepare(self):
        """Makes every trigger's rules and files; returns the triggers to run, in order."""
        return [self.t_open_read(), self.t_open_write(), self.t_open_exec(),
                self.t_open_fail(), self.t_thread(), self.t_files(), self.t_tcp(False),
                self.t_tcp(True), self.t_udp(), self.t_packet(), self.t_ptrace(),
                self.t_setuid(), self.t_bpf(), self.t_script(), self.t_exec_daemon(),
                self.t_loginuid(), self.t_tty()]

    def final_checks(self):
        """Across alerts: evt.num and evt.time grow from one trigger to the next (triggers
        run one after the other; within one, a client and a server may race), and from one
        syscall to the next of the single-threaded "files" helper; the alert's meta."""
        groups = []
        for tr, a in self.alerts_checked:
            of = a.get("output_fields") or {}
            g = tr.split()[0]
            if not groups or groups[-1][0] != g:
                groups.append((g, []))
            groups[-1][1].append((tr, of.get("evt.num"), of.get("evt.time")))

        def order(items, what, strict):
            bad = []
            for (ta, na, ma), (tb, nb, mb) in zip(items, items[1:]):
                for k, x, y in (("evt.num", na, nb), ("evt.time", ma, mb)):
                    if not (isinstance(x, int) and isinstance(y, int) and
                            (y > x if strict or k == "evt.num" else y >= x)):
                        bad.append("%s %s %r then %s %s %r" % (ta, k, x, tb, k, y))
            self.tap.check(what, "; ".join(bad) if bad else None)
        spans = []
        for g, items in groups:
            nums = [n for _, n, _ in items if isinstance(n, int)]
            times = [t for _, _, t in items if isinstance(t, int)]
            if nums and times:
                spans.append(((g + " (first)", min(nums), min(times)),
                              (g + " (last)", max(nums), max(times))))
        bad = ["%s then %s" % (a[1][0], b[0][0]) for a, b in zip(spans, spans[1:])
               if not (b[0][1] > a[1][1] and b[0][2] >= a[1][2])]
        self.tap.check("evt.num and evt.time grow from one trigger to the next (%d triggers)"
                       % len(spans), "out of order: " + "; ".join(bad) if bad else None)
        for g, items in groups:
            if g == "files":
                order(items, "files: evt.num and evt.time grow from one syscall to the next",
                      False)
        if self.alerts_checked:
            a = self.alerts_checked[0][1]
            self.tap.check("alert: priority, source, tags (sorted), hostname", None if (
                a.get("priority") == "Notice" and a.get("source") == "syscall" and
                a.get("tags") == ["aa_fl", "zz_fl"] and a.get("hostname") == self.hostname)
                else "got priority %r source %r tags %r hostname %r (expected Notice, "
                "syscall, ['aa_fl', 'zz_fl'], %r)" % (a.get("priority"), a.get("source"),
                                                      a.get("tags"), a.get("hostname"),
                                                      self.hostname))

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def main():
    exe = sensor_from_argv("the sensor needs CAP_BPF and CAP_PERFMON, the triggers need root")
    if platform.machine() != "x86_64":
        skip_all("the triggers make raw x86-64 syscalls; this is %s" % platform.machine())
    started = time.monotonic()
    ft = FieldTest(exe)
    try:
        return run(ft, started)
    finally:
        if ft.sensor is not None:
            ft.sensor.cleanup()
        shutil.rmtree(ft.work, ignore_errors=True)


def run(ft, started):
    tap = ft.tap
    triggers = ft.prepare()
    rules = ft.write_rules()
    p = subprocess.run([ft.exe, "-V", rules], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    if p.returncode != 0:
        sys.stdout.write("Bail out! the generated rules do not validate:\n")
        tap.diag(p.stdout.decode("utf-8", "replace"))
        return 1
    s = AlertSensor(ft.exe, rules)
    ft.sensor = s
    s.start()
    if not s.wait_ready(timeout=30):
        err = s.stderr()
        if s.rc == 1 and "missing capability" in err:
            skip_all("the sensor cannot load here for lack of privileges: " +
                     err.strip().splitlines()[-1])
        sys.stdout.write("Bail out! the sensor did not start (rc %r): %s\n" % (
            s.rc, " ".join(s.args)))
        tap.diag(err)
        return 1
    try:
        for go in triggers:
            go()
        ft.final_checks()
    finally:
        s.stop()
    err = s.stderr()
    tap.check("sensor: clean exit, only JSON on stdout", None if s.rc == 0 and not
              s.bad_lines else "rc %r, bad lines %r; stderr:\n%s" % (
                  s.rc, s.bad_lines[:3], err[-2000:]))
    for line in err.splitlines():
        if ": exit: " in line:
            tap.diag(line)
    if os.environ.get("SAKER_FL_DUMP"):
        for a in s.events:
            tap.diag(json.dumps(a, sort_keys=True))
    c = tap.counts
    tap.diag("%d checks: %d pass, %d todo, %d fail, %d skip; %.1f s" % (
        tap.n, c["pass"], c["todo"], c["fail"], c["skip"], time.monotonic() - started))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
