"""End-to-end cases for the event coverage of ABI 2: each makes the real syscalls (through
raw syscall(2) where libc or Python might pick another one) and checks the JSON dump shows
them, under the rule language's argument names, with the right values. Also the exec
record's new fields: tty, session, process group, pid namespace, capabilities, the
executable's inode, and where the executable lives (memfd, overlayfs upper layer).

Every case is called as fn(check, sensor, ctx) by test_live.py."""

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import termios
import time

from saker_harness import SkipCase, absent, dig, ev_is  # noqa: F401

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
libc.syscall.restype = ctypes.c_long

NR = {
    "pipe": 22, "dup": 32, "dup2": 33, "kill": 62, "fcntl": 72, "truncate": 76, "chdir": 80,
    "fchdir": 81, "rename": 82, "mkdir": 83, "rmdir": 84, "link": 86, "unlink": 87,
    "symlink": 88, "chmod": 90, "fchmod": 91, "chown": 92, "fchown": 93, "lchown": 94,
    "ptrace": 101, "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114,
    "setresuid": 117, "setresgid": 119, "capset": 126, "prctl": 157, "chroot": 161,
    "mount": 165, "umount2": 166, "init_module": 175, "tgkill": 234, "mkdirat": 258,
    "fchownat": 260, "unlinkat": 263, "renameat": 264, "linkat": 265, "symlinkat": 266,
    "fchmodat": 268, "unshare": 272, "eventfd2": 290, "dup3": 292, "pipe2": 293,
    "setns": 308, "finit_module": 313, "renameat2": 316, "memfd_create": 319, "bpf": 321,
    "execveat": 322, "userfaultfd": 323,
}
AT_FDCWD = -100
AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400
AT_EMPTY_PATH = 0x1000
O_CLOEXEC = 0o2000000
O_NONBLOCK = 0o4000
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV = 2, 4
MNT_DETACH = 2
RENAME_NOREPLACE = 1
PTRACE_ATTACH, PTRACE_DETACH = 16, 17
PR_SET_NAME = 15


def arg(v):
    """A ctypes argument for raw_syscall: ints as longs, str/bytes as char pointers."""
    if isinstance(v, str):
        return ctypes.c_char_p(v.encode())
    if isinstance(v, bytes):
        return ctypes.c_char_p(v)
    if isinstance(v, int):
        return ctypes.c_long(v)
    return v


def sc(name, *args):
    """(ret, errno) of a raw syscall by name: ret is -1 on failure, like libc's."""
    ctypes.set_errno(0)
    ret = libc.syscall(ctypes.c_long(NR[name]), *[arg(a) for a in args])
    return ret, ctypes.get_errno()


def boot_ns():
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def after(t0):
    return lambda ev: isinstance(ev.get("ts"), (int, float)) and ev["ts"] >= t0


def both(*preds):
    return lambda ev: all(p(ev) for p in preds)


def want_ret(ret, err):
    """The ret the event should show for a libc-style (ret, errno)."""
    return -err if ret == -1 else ret


def expect_sys(c, s, ctx, name, ret_err, t0, args, pid=None, key=None, what=None):
    """Waits for syscall name of pid (this process by default) after t0 whose args match
    key (a dict, default: all of args) and checks ret and the args. Returns the event."""
    pid = ctx.pid if pid is None else pid
    key = args if key is None else key
    ret = want_ret(*ret_err)

    def pred(ev):
        return ev.get("event") == name and all(dig(ev, "args." + k) == v
                                               for k, v in key.items())

    ev = s.wait_for(both(pred, after(t0)), pid=pid)
    expect = {"ret": ret}
    expect.update({"args." + k: v for k, v in args.items()})
    if ret < 0 and ret > -4096:
        expect["errno"] = errno.errorcode.get(-ret, expect.get("errno"))
    near = s.find_all(both(ev_is(name), after(t0)), pid=pid)
    c.event(ev, what or name, expect, near=near)
    return ev


def ok(c, what, ret_err):
    ret, err = ret_err
    c.ok(ret >= 0, "%s failed: %s" % (what, os.strerror(err) if err else ret))
    return ret


# ---------------------------------------------------------------- files


def t_dirs(c, s, ctx):
    d1, d2 = ctx.path("mkdir"), ctx.path("mkdirat")
    t0 = boot_ns()
    r = sc("mkdir", d1, 0o750)
    ok(c, "mkdir", r)
    expect_sys(c, s, ctx, "mkdir", r, t0, {"path": d1, "mode": 0o750})
    r = sc("mkdirat", AT_FDCWD, d2, 0o700)
    ok(c, "mkdirat", r)
    expect_sys(c, s, ctx, "mkdirat", r, t0, {"dirfd": "AT_FDCWD", "path": d2, "mode": 0o700})
    cwd = os.open(".", os.O_RDONLY)
    try:
        r = sc("chdir", d1)
        ok(c, "chdir", r)
        expect_sys(c, s, ctx, "chdir", r, t0, {"path": d1})
        r = sc("fchdir", cwd)
        ok(c, "fchdir", r)
        expect_sys(c, s, ctx, "fchdir", r, t0, {"fd": cwd})
    finally:
        os.fchdir(cwd)
        os.close(cwd)
    r = sc("rmdir", d1)
    ok(c, "rmdir", r)
    expect_sys(c, s, ctx, "rmdir", r, t0, {"path": d1})
    r = sc("unlinkat", AT_FDCWD, d2, AT_REMOVEDIR)
    ok(c, "unlinkat(AT_REMOVEDIR)", r)
    expect_sys(c, s, ctx, "unlinkat", r, t0,
               {"dirfd": "AT_FDCWD", "name": d2, "flags": "AT_REMOVEDIR"})
    # A failure still carries its path.
    missing = ctx.path("nodir")
    r = sc("rmdir", missing)
    c.eq("rmdir of a missing dir", r, (-1, errno.ENOENT))
    expect_sys(c, s, ctx, "rmdir", r, t0, {"path": missing})


def t_links(c, s, ctx):
    f = ctx.path("file")
    with open(f, "w") as fh:
        fh.write("x")
    s1, s2 = ctx.path("symlink"), ctx.path("symlinkat")
    h1, h2 = ctx.path("link"), ctx.path("linkat")
    n1, n2, n3 = ctx.path("rename"), ctx.path("renameat"), ctx.path("renameat2")
    t0 = boot_ns()
    r = sc("symlink", "/etc/shadow", s1)
    ok(c, "symlink", r)
    expect_sys(c, s, ctx, "symlink", r, t0, {"target": "/etc/shadow", "linkpath": s1})
    r = sc("symlinkat", "/etc/passwd", AT_FDCWD, s2)
    ok(c, "symlinkat", r)
    expect_sys(c, s, ctx, "symlinkat", r, t0,
               {"target": "/etc/passwd", "linkdirfd": "AT_FDCWD", "linkpath": s2})
    r = sc("link", f, h1)
    ok(c, "link", r)
    expect_sys(c, s, ctx, "link", r, t0, {"oldpath": f, "newpath": h1})
    r = sc("linkat", AT_FDCWD, f, AT_FDCWD, h2, AT_SYMLINK_FOLLOW)
    ok(c, "linkat", r)
    expect_sys(c, s, ctx, "linkat", r, t0, {"olddir": "AT_FDCWD", "oldpath": f,
                                           "newdir": "AT_FDCWD", "newpath": h2,
                                           "flags": "AT_SYMLINK_FOLLOW"})
    r = sc("rename", h1, n1)
    ok(c, "rename", r)
    expect_sys(c, s, ctx, "rename", r, t0, {"oldpath": h1, "newpath": n1})
    r = sc("renameat", AT_FDCWD, n1, AT_FDCWD, n2)
    ok(c, "renameat", r)
    expect_sys(c, s, ctx, "renameat", r, t0, {"olddirfd": "AT_FDCWD", "oldpath": n1,
                                             "newdirfd": "AT_FDCWD", "newpath": n2})
    r = sc("renameat2", AT_FDCWD, n2, AT_FDCWD, n3, RENAME_NOREPLACE)
    ok(c, "renameat2", r)
    expect_sys(c, s, ctx, "renameat2", r, t0, {"oldpath": n2, "newpath": n3,
                                              "flags": "RENAME_NOREPLACE"})
    # RENAME_NOREPLACE onto an existing name fails, with both paths.
    r = sc("renameat2", AT_FDCWD, n3, AT_FDCWD, f, RENAME_NOREPLACE)
    c.eq("renameat2 NOREPLACE onto an existing file", r, (-1, errno.EEXIST))
    expect_sys(c, s, ctx, "renameat2", r, t0, {"oldpath": n3, "newpath": f})
    r = sc("unlink", n3)
    ok(c, "unlink", r)
    expect_sys(c, s, ctx, "unlink", r, t0, {"path": n3})
    r = sc("unlinkat", AT_FDCWD, s2, 0)
    ok(c, "unlinkat", r)
    expect_sys(c, s, ctx, "unlinkat", r, t0, {"dirfd": "AT_FDCWD", "name": s2, "flags": "0"})


def t_modes(c, s, ctx):
    f = ctx.path("modes")
    with open(f, "w") as fh:
        fh.write("x")
    t0 = boot_ns()
    r = sc("chmod", f, 0o4755)
    ok(c, "chmod", r)
    expect_sys(c, s, ctx, "chmod", r, t0, {"filename": f, "mode": lambda v: "S_ISUID" in
                                           v.split("|") and "S_IXOTH" in v.split("|")},
               key={"filename": f})
    fd = os.open(f, os.O_RDONLY)
    try:
        r = sc("fchmod", fd, 0o2750)
        ok(c, "fchmod", r)
        expect_sys(c, s, ctx, "fchmod", r, t0, {
            "fd": fd, "mode": "S_ISGID|S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP"})
        r = sc("fchown", fd, 65534, 65534)
        ok(c, "fchown", r)
        expect_sys(c, s, ctx, "fchown", r, t0, {"fd": fd, "uid": 65534, "gid": 65534})
    finally:
        os.close(fd)
    r = sc("fchmodat", AT_FDCWD, f, 0o644, 0)
    ok(c, "fchmodat", r)
    expect_sys(c, s, ctx, "fchmodat", r, t0, {
        "dirfd": "AT_FDCWD", "filename": f,
        "mode": "S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH"})
    r = sc("chown", f, 0, 0)
    ok(c, "chown", r)
    expect_sys(c, s, ctx, "chown", r, t0, {"path": f, "uid": 0, "gid": 0})
    r = sc("lchown", f, -1, 0)
    ok(c, "lchown", r)
    expect_sys(c, s, ctx, "lchown", r, t0, {"path": f, "uid": -1, "gid": 0})
    r = sc("fchownat", AT_FDCWD, f, 0, -1, 0x100)
    ok(c, "fchownat", r)
    expect_sys(c, s, ctx, "fchownat", r, t0, {
        "dirfd": "AT_FDCWD", "pathname": f, "uid": 0, "gid": -1,
        "flags": "AT_SYMLINK_NOFOLLOW"})
    r = sc("truncate", f, 12345)
    ok(c, "truncate", r)
    expect_sys(c, s, ctx, "truncate", r, t0, {"path": f, "length": 12345})


def t_fds(c, s, ctx):
    t0 = boot_ns()
    fds = (ctypes.c_int * 2)()
    r = sc("pipe", fds)
    ok(c, "pipe", r)
    p1 = (fds[0], fds[1])
    expect_sys(c, s, ctx, "pipe", r, t0, {"fd1": p1[0], "fd2": p1[1]})
    r = sc("pipe2", fds, O_CLOEXEC | O_NONBLOCK)
    ok(c, "pipe2", r)
    p2 = (fds[0], fds[1])
    expect_sys(c, s, ctx, "pipe2", r, t0, {"fd1": p2[0], "fd2": p2[1],
                                          "flags": "O_CLOEXEC|O_NONBLOCK"})
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    expect_sys(c, s, ctx, "socketpair", (0, 0), t0, {
        "domain": "AF_UNIX", "type": "SOCK_STREAM|SOCK_CLOEXEC", "proto": 0,
        "fd1": a.fileno(), "fd2": b.fileno()}, key={"fd1": a.fileno()})
    r = sc("dup", p1[0])
    d1 = ok(c, "dup", r)
    expect_sys(c, s, ctx, "dup", r, t0, {"oldfd": p1[0]})
    r = sc("dup2", p1[0], 200)
    ok(c, "dup2", r)
    expect_sys(c, s, ctx, "dup2", r, t0, {"oldfd": p1[0], "newfd": 200})
    r = sc("dup3", p1[1], 201, O_CLOEXEC)
    ok(c, "dup3", r)
    expect_sys(c, s, ctx, "dup3", r, t0, {"oldfd": p1[1], "newfd": 201, "flags": "O_CLOEXEC"})
    r = sc("fcntl", p1[0], 4, O_NONBLOCK)  # F_SETFL
    ok(c, "fcntl", r)
    expect_sys(c, s, ctx, "fcntl", r, t0, {"fd": p1[0], "cmd": "F_SETFL"})
    for fd in p1 + p2 + (d1, 200, 201):
        if fd >= 0:
            os.close(fd)
    a.close()
    b.close()


def t_memfd(c, s, ctx):
    """memfd_create, then an execveat of it: the exec record says EXE_FROM_MEMFD."""
    tok = ctx.token("memfd")
    t0 = boot_ns()
    fd = os.memfd_create(tok, os.MFD_CLOEXEC)
    expect_sys(c, s, ctx, "memfd_create", (fd, 0), t0, {"name": tok, "flags": "MFD_CLOEXEC"})
    with open("/bin/true", "rb") as src:
        os.write(fd, src.read())
    ino = os.fstat(fd).st_ino
    argv = (ctypes.c_char_p * 3)(b"memfd-true", tok.encode(), None)
    envp = (ctypes.c_char_p * 1)(None)
    t0 = boot_ns()
    pid = os.fork()
    if pid == 0:
        try:
            sc("execveat", fd, b"", argv, envp, AT_EMPTY_PATH)
        finally:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    c.eq("exit status of the memfd program", os.waitstatus_to_exitcode(status), 0)
    ex = s.wait_for(both(ev_is("sched_process_exec"), after(t0)), pid=pid)
    c.event(ex, "sched_process_exec of the memfd", {
        "args.argv": ["memfd-true", tok], "args.exe_flags": "EXE_FROM_MEMFD",
        "args.exe_ino": ino})
    # A successful exec of a 64-bit program returns as execve whatever the call was: x86
    # rewrites the syscall number (set_personality_64bit) and clears the argument
    # registers. The exec record above carries what matters (/dev/fd/N, the memfd flag).
    sv = s.wait_for(both(ev_is("execve"), after(t0)), pid=pid)
    c.event(sv, "the exit of the successful execveat (reported as execve)", {
        "ret": 0, "args.filename": "/dev/fd/%d" % fd})
    # A failed one is execveat, with its arguments.
    t0 = boot_ns()
    r = sc("execveat", fd, b"", argv, envp, AT_EMPTY_PATH | 0x100)
    c.eq("execveat of a closed fd", r, (-1, errno.EBADF))
    sv = s.wait_for(both(ev_is("execveat"), after(t0)), pid=ctx.pid)
    c.event(sv, "failed execveat", {"ret": -errno.EBADF, "args.dirfd": str(fd),
                                    "args.atflags": "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH",
                                    "args.filename": "", "args.argv": ["memfd-true", tok]})


# ---------------------------------------------------------------- sockets


def t_udp(c, s, ctx):
    t0 = boot_ns()
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        srv.bind(("127.0.0.1", 0))
        port = srv.getsockname()[1]
        saddr = "127.0.0.1:%d" % port
        expect_sys(c, s, ctx, "socket", (srv.fileno(), 0), t0, {
            "domain": "AF_INET", "type": "SOCK_DGRAM|SOCK_CLOEXEC", "proto": 0})
        expect_sys(c, s, ctx, "bind", (0, 0), t0, {
            "fd": srv.fileno(), "addr": "127.0.0.1:0", "local": saddr,
            "socktype": "SOCK_DGRAM"}, key={"fd": srv.fileno()})
        n = cli.sendto(b"hello", ("127.0.0.1", port))
        cport = cli.getsockname()[1]
        caddr = "127.0.0.1:%d" % cport
        # The client is bound by the send, to every address: its tuple says 0.0.0.0.
        expect_sys(c, s, ctx, "sendto", (n, 0), t0, {
            "fd": cli.fileno(), "size": 5, "flags": "0", "addr": saddr,
            "local": "0.0.0.0:%d" % cport, "socktype": "SOCK_DGRAM"}, key={"fd": cli.fileno()})
        data, peer = srv.recvfrom(100)
        expect_sys(c, s, ctx, "recvfrom", (len(data), 0), t0, {
            "fd": srv.fileno(), "size": 100, "addr": caddr, "local": saddr},
            key={"fd": srv.fileno()})
        n = cli.sendmsg([b"again"], [], socket.MSG_DONTWAIT, ("127.0.0.1", port))
        expect_sys(c, s, ctx, "sendmsg", (n, 0), t0, {
            "fd": cli.fileno(), "flags": "MSG_DONTWAIT", "addr": saddr},
            key={"fd": cli.fileno()})
        data, anc, mflags, peer = srv.recvmsg(100)
        expect_sys(c, s, ctx, "recvmsg", (len(data), 0), t0, {
            "fd": srv.fileno(), "addr": caddr, "local": saddr}, key={"fd": srv.fileno()})
        # A failed recvfrom has no peer address.
        try:
            srv.recvfrom(100, socket.MSG_DONTWAIT)
            c.fail("recvfrom on an empty socket did not fail")
        except BlockingIOError:
            pass
        ev = s.wait_for(both(lambda e: e.get("event") == "recvfrom" and e.get("ret") ==
                             -errno.EAGAIN, after(t0)), pid=ctx.pid)
        c.event(ev, "recvfrom with nothing to read", {
            "errno": "EAGAIN", "args.addr": absent, "args.flags": "MSG_DONTWAIT",
            "args.local": saddr})
    finally:
        cli.close()
        srv.close()


def t_listen(c, s, ctx):
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        try:
            srv.bind(("::1", 0))
        except OSError as e:
            raise SkipCase("cannot bind [::1]: %s" % e)
        port = srv.getsockname()[1]
        t0 = boot_ns()
        srv.listen(7)
        expect_sys(c, s, ctx, "listen", (0, 0), t0, {
            "fd": srv.fileno(), "backlog": 7, "local": "[::1]:%d" % port,
            "socktype": "SOCK_STREAM"})
    finally:
        srv.close()


# ---------------------------------------------------------------- processes


def t_ptrace(c, s, ctx):
    child = subprocess.Popen(["/bin/sleep", "10"])
    try:
        t0 = boot_ns()
        r = sc("ptrace", PTRACE_ATTACH, child.pid, 0, 0)
        ok(c, "ptrace(PTRACE_ATTACH)", r)
        os.waitpid(child.pid, 0)
        expect_sys(c, s, ctx, "ptrace", r, t0, {"request": "PTRACE_ATTACH", "pid": child.pid})
        r = sc("ptrace", PTRACE_DETACH, child.pid, 0, 0)
        ok(c, "ptrace(PTRACE_DETACH)", r)
        expect_sys(c, s, ctx, "ptrace", r, t0, {"request": "PTRACE_DETACH", "pid": child.pid})
        r = sc("kill", child.pid, signal.SIGTERM)
        ok(c, "kill", r)
        expect_sys(c, s, ctx, "kill", r, t0, {"pid": child.pid, "sig": "SIGTERM"})
    finally:
        child.kill()
        child.wait()


def t_namespaces(c, s, ctx):
    """unshare and setns, in a child (they change the caller)."""
    t0 = boot_ns()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fd = os.open("/proc/self/ns/uts", os.O_RDONLY)
            if sc("unshare", CLONE_NEWUTS)[0] == 0 and sc("setns", fd, CLONE_NEWUTS)[0] == 0:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    c.eq("the child's unshare and setns", os.waitstatus_to_exitcode(status), 0)
    expect_sys(c, s, ctx, "unshare", (0, 0), t0, {"flags": "CLONE_NEWUTS"}, pid=pid)
    expect_sys(c, s, ctx, "setns", (0, 0), t0, {"nstype": "CLONE_NEWUTS", "fd": positive},
               pid=pid, key={"nstype": "CLONE_NEWUTS"})


def positive(v):
    """a number > 0"""
    return isinstance(v, int) and v > 0


def t_setid(c, s, ctx):
    t0 = boot_ns()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ok_all = all(r[0] == 0 for r in (
                sc("setresgid", -1, 65534, -1), sc("setregid", -1, 65534),
                sc("setgid", 65534), sc("setresuid", -1, 65534, -1),
                sc("setreuid", 0, -1), sc("setuid", 65534)))
            code = 0 if ok_all else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    c.eq("the child's setuid family", os.waitstatus_to_exitcode(status), 0)
    expect_sys(c, s, ctx, "setresgid", (0, 0), t0, {"rgid": -1, "egid": 65534, "sgid": -1},
               pid=pid)
    expect_sys(c, s, ctx, "setregid", (0, 0), t0, {"rgid": -1, "egid": 65534}, pid=pid)
    expect_sys(c, s, ctx, "setgid", (0, 0), t0, {"gid": 65534}, pid=pid)
    expect_sys(c, s, ctx, "setresuid", (0, 0), t0, {"ruid": -1, "euid": 65534, "suid": -1},
               pid=pid)
    expect_sys(c, s, ctx, "setreuid", (0, 0), t0, {"ruid": 0, "euid": -1}, pid=pid)
    expect_sys(c, s, ctx, "setuid", (0, 0), t0, {"uid": 65534}, pid=pid)


def t_kernel(c, s, ctx):
    """The kernel-facing calls, all made to fail harmlessly."""
    t0 = boot_ns()
    img = ctypes.create_string_buffer(b"\0" * 64)
    r = sc("init_module", img, 64, b"")
    c.ok(r[0] == -1, "init_module of 64 zero bytes succeeded")
    expect_sys(c, s, ctx, "init_module", r, t0, {"length": 64})
    r = sc("finit_module", -1, b"", 0)
    c.ok(r[0] == -1, "finit_module(-1) succeeded")
    expect_sys(c, s, ctx, "finit_module", r, t0, {"fd": -1, "flags": "0"})
    r = sc("bpf", 5, 0, 0)  # BPF_PROG_LOAD without attributes
    c.ok(r[0] == -1, "bpf(BPF_PROG_LOAD, NULL, 0) succeeded")
    expect_sys(c, s, ctx, "bpf", r, t0, {"cmd": "BPF_PROG_LOAD", "size": 0})
    r = sc("userfaultfd", O_CLOEXEC | O_NONBLOCK)
    if r[0] >= 0:
        os.close(r[0])
    expect_sys(c, s, ctx, "userfaultfd", r, t0, {"flags": "O_CLOEXEC|O_NONBLOCK"})
    name = ctypes.create_string_buffer(b"saker-e2e")
    old = ctypes.create_string_buffer(16)
    libc.prctl(16, old, 0, 0, 0)  # PR_GET_NAME
    r = sc("prctl", PR_SET_NAME, name, 0, 0, 0)
    ok(c, "prctl(PR_SET_NAME)", r)
    libc.prctl(PR_SET_NAME, old, 0, 0, 0)
    expect_sys(c, s, ctx, "prctl", r, t0, {"option": "PR_SET_NAME"})
    r = sc("eventfd2", 3, O_CLOEXEC)
    fd = ok(c, "eventfd2", r)
    if fd >= 0:
        os.close(fd)
    expect_sys(c, s, ctx, "eventfd2", r, t0, {"initval": 3, "flags": "EFD_CLOEXEC"})
    r = sc("tgkill", ctx.pid, ctx.tid, 0)
    ok(c, "tgkill(sig 0)", r)
    expect_sys(c, s, ctx, "tgkill", r, t0, {"pid": ctx.pid, "tid": ctx.tid, "sig": "0"})
    r = sc("capset", 0, 0)
    expect_sys(c, s, ctx, "capset", r, t0, {"header": 0, "data": 0})


def mount_tmpfs(c, s, ctx, t0):
    mnt = ctx.path("mnt")
    os.mkdir(mnt)
    src = ctx.token("tmpfs")
    r = sc("mount", src, mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m")
    if r[0] != 0:
        raise SkipCase("cannot mount a tmpfs: %s" % os.strerror(r[1]))
    expect_sys(c, s, ctx, "mount", r, t0, {"dev": src, "dir": mnt,
                                          "flags": "MS_NOSUID|MS_NODEV"})
    return mnt


def umount(c, s, ctx, mnt, t0):
    r = sc("umount2", mnt, MNT_DETACH)
    ok(c, "umount2", r)
    expect_sys(c, s, ctx, "umount2", r, t0, {"name": mnt, "flags": "MNT_DETACH"})
    os.rmdir(mnt)


def run_child(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    return p.pid, p.wait()


def t_mount_exe(c, s, ctx):
    """mount and umount2 of a tmpfs; a file named memfd:... on it is not a memfd."""
    t0 = boot_ns()
    mnt = mount_tmpfs(c, s, ctx, t0)
    try:
        fake = os.path.join(mnt, "memfd:" + ctx.token("fake"))
        shutil.copy("/bin/true", fake)
        os.chmod(fake, 0o755)
        st = os.stat(fake)
        t1 = boot_ns()
        pid, rc = run_child([fake])
        c.eq("exit status of " + fake, rc, 0)
        ex = s.wait_for(both(ev_is("sched_process_exec"), after(t1)), pid=pid)
        c.event(ex, "exec of a tmpfs file named memfd:...", {
            "args.filename": fake, "args.exe_flags": "0", "args.exe_ino": st.st_ino,
            "args.exe_mode": st.st_mode, "args.exe_uid": st.st_uid, "args.exe_gid": st.st_gid})
        if ex:
            for key, ns in (("exe_ctime", st.st_ctime_ns), ("exe_mtime", st.st_mtime_ns)):
                got = iso_ns(dig(ex, "args." + key))
                c.ok(got is not None and abs(got - ns) < 1000,
                     "%s: expected %d ns, got %r" % (key, ns, dig(ex, "args." + key)))
    finally:
        umount(c, s, ctx, mnt, t0)


def iso_ns(text):
    """ns since the epoch of 2026-01-02T03:04:05.123456789Z (UTC only)."""
    import calendar
    import re
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$", str(text))
    if not m:
        return None
    secs = calendar.timegm(tuple(int(x) for x in m.groups()[:6]))
    frac = (m.group(7) or "0").ljust(9, "0")
    return secs * 10**9 + int(frac)


def t_overlay(c, s, ctx):
    """An executable from an overlayfs's upper layer is flagged; one from the lower is not."""
    t0 = boot_ns()
    mnt = mount_tmpfs(c, s, ctx, t0)
    merged = os.path.join(mnt, "merged")
    try:
        for d in ("lower", "upper", "work", "merged"):
            os.mkdir(os.path.join(mnt, d))
        shutil.copy("/bin/true", os.path.join(mnt, "lower", "lower-true"))
        opts = "lowerdir=%s,upperdir=%s,workdir=%s" % tuple(
            os.path.join(mnt, d) for d in ("lower", "upper", "work"))
        r = sc("mount", "overlay", merged, "overlay", 0, opts)
        if r[0] != 0:
            raise SkipCase("cannot mount an overlayfs: %s" % os.strerror(r[1]))
        try:
            shutil.copy("/bin/true", os.path.join(merged, "upper-true"))
            for name, want in (("lower-true", "0"), ("upper-true", "EXE_UPPER_LAYER")):
                path = os.path.join(merged, name)
                t1 = boot_ns()
                pid, rc = run_child([path])
                c.eq("exit status of " + path, rc, 0)
                ex = s.wait_for(both(ev_is("sched_process_exec"), after(t1)), pid=pid)
                c.event(ex, "exec of %s" % path, {"args.filename": path,
                                                   "args.exe_flags": want})
        finally:
            sc("umount2", merged, MNT_DETACH)
    finally:
        umount(c, s, ctx, mnt, t0)


def status_hex(field, pid="self"):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    return None


def t_exec_ids(c, s, ctx):
    """A child on a pty, leading its own session: tty, sid, pgid, ids, capabilities."""
    master, slave = os.openpty()
    tty = os.stat(os.ttyname(slave)).st_rdev
    tok = ctx.token("ttyexec")
    t0 = boot_ns()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.execv("/bin/sh", ["/bin/sh", "-c", "exit 0", tok])
        finally:
            os._exit(99)
    os.close(slave)
    try:
        while os.read(master, 1024):
            pass
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    os.close(master)
    c.eq("exit status of the child on the pty", os.waitstatus_to_exitcode(status), 0)
    sh = os.stat("/bin/sh")
    ex = s.wait_for(both(ev_is("sched_process_exec"), after(t0)), pid=pid)
    c.event(ex, "sched_process_exec on a pty", {
        "args.argv": ["/bin/sh", "-c", "exit 0", tok], "args.tty": tty, "args.sid": pid,
        "args.pgid": pid, "args.vpid": pid, "args.vpgid": pid,
        "args.pidns_ino": os.stat("/proc/self/ns/pid").st_ino,
        "args.cap_effective": status_hex("CapBnd"), "args.cap_permitted": status_hex("CapBnd"),
        "args.cap_inheritable": status_hex("CapInh"),
        "args.exe_ino": sh.st_ino, "args.exe_mode": sh.st_mode, "args.exe_uid": sh.st_uid,
        "args.exe_flags": "0"})
    # And one without a terminal, in this process's group and session.
    t0 = boot_ns()
    pid, rc = run_child(["/bin/sh", "-c", "exit 0", tok + "-notty"], start_new_session=False,
                        stdin=subprocess.DEVNULL)
    ex = s.wait_for(both(ev_is("sched_process_exec"), after(t0)), pid=pid)
    c.event(ex, "sched_process_exec without a new session", {
        "args.sid": os.getsid(0), "args.pgid": os.getpgid(0)})


def t_pidns(c, s, ctx):
    """A process in a new pid namespace: vpid 1, its own namespace inode."""
    tok = ctx.token("pidns")
    own = os.stat("/proc/self/ns/pid").st_ino
    t0 = boot_ns()
    mid = os.fork()
    if mid == 0:
        code = 1
        try:
            if sc("unshare", CLONE_NEWPID)[0] == 0:
                inner = os.fork()
                if inner == 0:
                    os.execv("/bin/sh", ["/bin/sh", "-c", "exit 0", tok])
                _, st = os.waitpid(inner, 0)
                code = os.waitstatus_to_exitcode(st)
        finally:
            os._exit(code)
    _, status = os.waitpid(mid, 0)
    c.eq("exit status in the new pid namespace", os.waitstatus_to_exitcode(status), 0)
    ex = s.wait_for(both(lambda e: e.get("event") == "sched_process_exec" and
                         dig(e, "args.argv") == ["/bin/sh", "-c", "exit 0", tok], after(t0)))
    c.event(ex, "sched_process_exec in a new pid namespace", {
        "args.vpid": 1, "args.vpgid": 0, "args.pidns_ino": lambda v: isinstance(v, int) and
        v > 0 and v != own, "pid": lambda v: v != 1, "ppid": mid})
