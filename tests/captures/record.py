#!/usr/bin/env python3
"""Records the golden captures of tests/captures/ with saker itself, in a throwaway virtual
machine, so that they hold nothing of the machine that made them: qemu boots a Debian kernel
(tests/kernels/run.py fetches and caches it) with an initramfs of busybox, the static saker
binary and a small fake /etc; inside, saker runs live with -w while harmless triggers run,
then the capture and the live alerts come back over the console.

    python3 tests/captures/record.py build/src/saker [falco_rules.yaml]

Writes, for each ruleset NAME (default: the built-in @default; stable: the Falco stable
ruleset, when given or found in ../shared/corpus):
    NAME.cap.gz    the capture
    NAME.rules     the -r argument the test replays it with (@default, or "stable")
    NAME.alerts    the JSON alerts saker printed live in the VM
tests/test_golden_captures.py replays each capture and compares with NAME.alerts. When the
rules change on purpose, rerun this (or `test_golden_captures.py SAKER SRC --update`, which
rewrites NAME.alerts from a replay)."""

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "kernels"))

import run as kernels  # noqa: E402  (cpio_newc, fetch_kernel, newest_package)

APPLETS = ["cat", "cp", "ln", "chmod", "touch", "find", "rm", "sleep", "mkdir", "ls",
           "echo", "grep", "kill", "base64", "true", "head", "wc", "env", "id"]

PASSWD = b"root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
GROUP = b"root:x:0:\nalice:x:1000:\n"

INIT = r"""#!/bin/sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sys/fs/bpf /work
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t bpf bpf /sys/fs/bpf 2>/dev/null
export PATH=/bin
for name in $(cat /rulesets); do
  rules=@default
  [ "$name" = stable ] && rules=/falco_rules.yaml
  /bin/saker -r $rules -o json_output=true -U -M 60 -w /tmp/$name.cap.gz \
    >/tmp/$name.alerts 2>/tmp/$name.err &
  pid=$!
  i=0
  while ! grep -q 'ready:' /tmp/$name.err 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.1
  done
  # the triggers: harmless, in /work
  cd /work
  /bin/cat /etc/shadow > /dev/null
  /bin/cat /etc/sudoers > /dev/null
  /bin/cp /bin/busybox /tmp/tool && /tmp/tool true
  /bin/ln -s /etc/shadow /work/shadow-link
  /bin/touch /work/suid-file && /bin/chmod u+s /work/suid-file
  /bin/find /bin -perm -4000 > /dev/null
  /bin/env LD_PRELOAD=/work/none.so /bin/true 2> /dev/null
  /bin/cat /proc/1/environ > /dev/null
  /bin/rm -f /work/shadow-link /work/suid-file /tmp/tool
  /bin/sh -c '/bin/cat /etc/shadow /etc/passwd > /dev/null'
  cd /
  sleep 0.5
  kill -INT $pid
  wait $pid
  echo "GOLDEN-$name-RC $?"
  echo "GOLDEN-$name-ERR-BEGIN"; cat /tmp/$name.err; echo "GOLDEN-$name-ERR-END"
  echo "GOLDEN-$name-ALERTS-BEGIN"; base64 /tmp/$name.alerts; echo "GOLDEN-$name-ALERTS-END"
  echo "GOLDEN-$name-CAP-BEGIN"; base64 /tmp/$name.cap.gz; echo "GOLDEN-$name-CAP-END"
done
/bin/busybox poweroff -f
"""


def section(text, name):
    m = re.search(r"GOLDEN-%s-BEGIN\r?\n(.*?)GOLDEN-%s-END" % (name, name), text, re.S)
    return m.group(1).replace("\r", "") if m else None


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    saker = os.path.abspath(sys.argv[1])
    stable = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        SRC, "..", "shared", "corpus", "falco-rules", "falco_rules.yaml")
    rulesets = ["default"] + (["stable"] if os.path.exists(stable) else [])
    pkg = kernels.newest_package(kernels.SERIES[-1])
    kernel = kernels.fetch_kernel(pkg)
    bb = open(shutil.which("busybox") or "/bin/busybox", "rb").read()
    entries = [
        ("bin", 0o40755, None), ("etc", 0o40755, None), ("proc", 0o40755, None),
        ("sys", 0o40755, None), ("dev", 0o40755, None), ("tmp", 0o41777, None),
        ("bin/busybox", 0o100755, bb), ("bin/sh", 0o100755, bb),
        ("bin/saker", 0o100755, open(saker, "rb").read()),
        ("init", 0o100755, INIT.encode()),
        ("rulesets", 0o100644, " ".join(rulesets).encode()),
        ("etc/passwd", 0o100644, PASSWD), ("etc/group", 0o100644, GROUP),
        ("etc/shadow", 0o100600, b"root:*:19000:0:99999:7:::\n"),
        ("etc/sudoers", 0o100440, b"root ALL=(ALL) ALL\n"),
        ("etc/hostname", 0o100644, b"golden\n"),
    ] + [("bin/" + a, 0o120777, b"busybox") for a in APPLETS]
    if "stable" in rulesets:
        entries.append(("falco_rules.yaml", 0o100644, open(stable, "rb").read()))
    with tempfile.TemporaryDirectory() as tmp:
        initrd = os.path.join(tmp, "initrd.gz")
        import gzip
        with gzip.open(initrd, "wb", compresslevel=1) as f:
            f.write(kernels.cpio_newc(entries))
        console = kernels.boot(kernel, initrd)
    for name in rulesets:
        rc = re.search(r"GOLDEN-%s-RC (\d+)" % name, console)
        err = section(console, name + "-ERR") or ""
        alerts = section(console, name + "-ALERTS")
        cap = section(console, name + "-CAP")
        if not rc or rc.group(1) != "0" or alerts is None or cap is None:
            sys.stderr.write("recording %s failed (rc %s):\n%s\n%s\n" % (
                name, rc and rc.group(1), err, console[-3000:]))
            return 1
        alerts = base64.b64decode(alerts)
        with open(os.path.join(HERE, name + ".cap.gz"), "wb") as f:
            f.write(base64.b64decode(cap))
        with open(os.path.join(HERE, name + ".alerts"), "wb") as f:
            f.write(alerts)
        with open(os.path.join(HERE, name + ".rules"), "w") as f:
            f.write(("@default" if name == "default" else "stable") + "\n")
        print("%s: %d alerts, capture %d bytes (kernel %s); %s" % (
            name, alerts.count(b"\n"), os.path.getsize(os.path.join(HERE, name + ".cap.gz")),
            pkg, (re.findall(r"-w .*", err) or ["?"])[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
