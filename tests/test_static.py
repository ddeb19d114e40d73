#!/usr/bin/env python3
"""The release binary is fully static and self-contained: `file` says statically linked,
`ldd` says not a dynamic executable, and it runs with an empty environment from an empty
directory (no config, no BPF object, no library beside it). Prints TAP.

usage: test_static.py SAKER_BINARY STATIC(true|false)"""
import os
import subprocess
import sys
import tempfile

saker, static = os.path.abspath(sys.argv[1]), sys.argv[2] == "true"
if not static:
    print("1..0 # SKIP built with -Dstatic=false")
    sys.exit(0)

n = failed = 0


def case(ok, name, diag=""):
    global n, failed
    n += 1
    failed += not ok
    if not ok and diag:
        print("\n".join("# " + l for l in diag.splitlines()))
    print(f"{'ok' if ok else 'not ok'} {n} - {name}")


out = subprocess.run(["file", "-L", saker], capture_output=True, text=True).stdout
case("statically linked" in out, "file says statically linked", out)
r = subprocess.run(["ldd", saker], capture_output=True, text=True)
case("not a dynamic executable" in (r.stdout + r.stderr), "ldd says not a dynamic executable",
     r.stdout + r.stderr)
with open(saker, "rb") as f:
    head = f.read(1 << 20)
case(b"/lib64/ld-linux" not in head, "no program interpreter named in the binary")
with tempfile.TemporaryDirectory() as empty:
    r = subprocess.run([saker, "--version"], cwd=empty, env={}, capture_output=True, text=True)
    case(r.returncode == 0 and r.stdout.startswith("saker "),
         "runs from an empty directory with an empty environment", r.stdout + r.stderr)
    r = subprocess.run([saker, "--print-config"], cwd=empty, env={}, capture_output=True, text=True)
    case(r.returncode == 0 and "engine.ringbuf_size_mb: 4" in r.stdout,
         "built-in defaults without a config file", r.stdout + r.stderr)
print(f"1..{n}")
sys.exit(1 if failed else 0)
