#!/usr/bin/env python3
"""CO-RE portability: boots other Debian kernels under qemu (software emulation) with an
initramfs holding the static saker binary, runs it against real syscalls there, and checks
that it attaches (tp_btf, and the raw_tp fallback forced) and decodes events. Prints TAP.

usage: run.py SAKER_BINARY
The kernels come from Debian's archive (apt-get download), cached in
$SAKER_KERNEL_CACHE (default /var/cache/saker-test-kernels)."""
import glob
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("SAKER_KERNEL_CACHE", "/var/cache/saker-test-kernels")
# Kernel series to test: the newest Debian 12 package of each.
SERIES = [r"^linux-image-6\.1\.0-\d+-cloud-amd64$", r"^linux-image-6\.12\.[\d.]+\+deb12-cloud-amd64$"]

n = 0
failed = 0


def tap(ok, name, diag=""):
    global n, failed
    n += 1
    if not ok:
        failed += 1
        for line in diag.splitlines()[-40:]:
            print("# " + line)
    print(f"{'ok' if ok else 'not ok'} {n} - {name}", flush=True)


def newest_package(pattern):
    out = subprocess.run(["apt-cache", "search", "--names-only", "^linux-image-"],
                         capture_output=True, text=True).stdout
    names = [l.split(" - ")[0] for l in out.splitlines() if re.match(pattern, l.split(" - ")[0])]

    def key(name):
        return [int(x) for x in re.findall(r"\d+", name)]
    return max(names, key=key) if names else None


def fetch_kernel(pkg):
    """Returns the path of the package's vmlinuz, downloading and extracting it once."""
    dest = os.path.join(CACHE, pkg)
    found = glob.glob(os.path.join(dest, "boot", "vmlinuz-*"))
    if found:
        return found[0]
    os.makedirs(CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        r = subprocess.run(["apt-get", "download", "-q", pkg], cwd=tmp, capture_output=True, text=True)
        if r.returncode:
            # Stale package lists name files the mirror no longer has: refresh once.
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
            r = subprocess.run(["apt-get", "download", "-q", pkg], cwd=tmp, capture_output=True,
                               text=True)
        if r.returncode:
            raise RuntimeError(f"apt-get download {pkg}: {r.stderr.strip()}")
        deb = glob.glob(os.path.join(tmp, "*.deb"))[0]
        unpack = os.path.join(tmp, "x")
        subprocess.run(["dpkg-deb", "-x", deb, unpack], check=True)
        os.makedirs(os.path.join(dest, "boot"), exist_ok=True)
        for f in glob.glob(os.path.join(unpack, "boot", "vmlinuz-*")):
            shutil.copy(f, os.path.join(dest, "boot"))
    return glob.glob(os.path.join(dest, "boot", "vmlinuz-*"))[0]


def cpio_newc(entries):
    """A newc cpio archive from (name, mode, data) entries; data None for directories."""
    out = io.BytesIO()
    ino = 1
    for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        data = data or b""
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out.write(hdr.encode() + nb)
        out.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))
        ino += 1
    return out.getvalue()


def make_initramfs(saker, attach, path):
    busybox = shutil.which("busybox") or "/bin/busybox"
    with open(busybox, "rb") as f:
        bb = f.read()
    with open(saker, "rb") as f:
        sk = f.read()
    with open(os.path.join(HERE, "init.sh"), "rb") as f:
        init = f.read()
    entries = [
        ("bin", 0o40755, None), ("etc", 0o40755, None), ("proc", 0o40755, None),
        ("sys", 0o40755, None), ("dev", 0o40755, None), ("tmp", 0o41777, None),
        ("bin/busybox", 0o100755, bb), ("bin/sh", 0o100755, bb), ("bin/saker", 0o100755, sk),
        ("init", 0o100755, init), ("attach", 0o100644, attach.encode()),
        ("etc/marker-file-saker", 0o100644, b"x\n"),
    ]
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(cpio_newc(entries))


def boot(kernel, initrd):
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1",
           "-nographic", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
           "-append", "console=ttyS0 panic=-1 quiet"]
    r = subprocess.run(cmd, capture_output=True, timeout=240, stdin=subprocess.DEVNULL)
    return r.stdout.decode("utf-8", "replace")


def section(text, name):
    m = re.search(rf"SAKER-{name}-BEGIN\r?\n(.*?)SAKER-{name}-END", text, re.S)
    return m.group(1).replace("\r", "") if m else ""


def check(console, attach):
    rc = re.search(r"SAKER-RC (\d+)", console)
    err = section(console, "STDERR")
    out = section(console, "STDOUT")
    problems = []
    if not rc or rc.group(1) != "0":
        problems.append(f"saker exit status {rc.group(1) if rc else 'missing'}")
    want = f"sensor attached ({attach} programs"
    if want not in err:
        problems.append(f"stderr lacks '{want}'")
    events = []
    for line in out.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            problems.append(f"not JSON: {line[:200]}")
    opens = [e for e in events if e.get("event") in ("openat", "open")
             and e.get("args", {}).get("name") == "/etc/marker-file-saker" and e.get("ret", -1) >= 0]
    execs = [e for e in events if e.get("event") == "sched_process_exec"
             and e.get("args", {}).get("argv", [None])[-1:] == ["/etc/marker-file-saker"]]
    if not opens:
        problems.append("no successful open of /etc/marker-file-saker was captured")
    if not execs:
        problems.append("no exec of 'cat /etc/marker-file-saker' was captured")
    if "drop_full=0" not in err:
        problems.append("ring buffer drops reported")
    return problems, err + out


def main():
    saker = sys.argv[1]
    if not shutil.which("qemu-system-x86_64"):
        print("1..0 # SKIP qemu-system-x86_64 is not installed (scripts/setup-deps installs it)")
        return 0
    kernels = []
    for pattern in SERIES:
        pkg = newest_package(pattern)
        if not pkg:
            tap(False, f"find a kernel package matching {pattern}", "apt-cache found none")
            continue
        try:
            kernels.append((pkg, fetch_kernel(pkg)))
        except Exception as e:  # noqa: BLE001 - reported as a failed case
            tap(False, f"download {pkg}", str(e))
    with tempfile.TemporaryDirectory() as tmp:
        for pkg, vmlinuz in kernels:
            for attach in ("tp_btf", "raw_tp"):
                initrd = os.path.join(tmp, f"initrd-{attach}.gz")
                make_initramfs(saker, attach, initrd)
                try:
                    console = boot(vmlinuz, initrd)
                except subprocess.TimeoutExpired:
                    tap(False, f"{pkg} {attach}", "qemu timed out")
                    continue
                problems, detail = check(console, attach)
                tap(not problems, f"{pkg}: loads, attaches with {attach}, captures exec and open",
                    "\n".join(problems) + "\n--- console tail ---\n" + (detail or console[-3000:]))
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
