#!/usr/bin/env python3
"""saker -V: the community stable ruleset validates cleanly, and a file with broken rules
reports each problem with its code and position while the good rules still compile.
Prints TAP. usage: test_validate.py SAKER SOURCE_DIR"""
import json
import os
import subprocess
import sys

saker, src = sys.argv[1], sys.argv[2]
n = failed = 0


def case(ok, name, diag=""):
    global n, failed
    n += 1
    failed += not ok
    if not ok:
        print("\n".join("# " + l for l in diag.splitlines()[-30:]))
    print(f"{'ok' if ok else 'not ok'} {n} - {name}")


def run(*args):
    r = subprocess.run([saker, *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


corpus = os.path.join(src, "..", "shared", "corpus", "falco-rules", "falco_rules.yaml")
if os.path.exists(corpus):
    rc, out = run("-V", corpus)
    case(rc == 0, "stable ruleset: exit 0", out)
    case(out.splitlines()[0].endswith(": Ok"), "stable ruleset: Ok", out)
    case("25 rules (25 compiled), 87 macros, 49 lists; 0 errors, 0 warnings" in out,
         "stable ruleset: 25/87/49, all rules compile, no errors or warnings", out)
else:
    print(f"ok {n + 1} - stable ruleset # SKIP {corpus} not found")
    n += 1

bad = os.path.join(src, "tests", "rules", "compile_errors.yaml")
rc, out = run("-V", bad)
case(rc == 1, "broken rules: exit 1", out)
case(": Invalid" in out.splitlines()[0], "broken rules: Invalid", out)
for want in [
    "compile_errors.yaml:12:26: error: rule 'bad field': unknown field 'proc.nmae' [LOAD_ERR_COMPILE_CONDITION]",
    "error: rule 'bad paren': unbalanced parenthesis",
    "compile_errors.yaml:22:14: error: rule 'undefined macro': undefined macro 'nosuch_macro' used in filter [LOAD_ERR_VALIDATE]",
    "warning: rule 'skipped': unknown field 'proc.bogus' (rule skipped) [LOAD_UNKNOWN_FILTER]",
    "warning: rule 'broad': rule matches too many evt.type values",
    "6 rules (2 compiled), 1 macros, 1 lists; 3 errors, 2 warnings",
]:
    case(want in out, "broken rules report: " + want[:60], out)
# Cumulative: both files in one run; each gets its own verdict.
rc, out = run("-V", bad, "-V", corpus) if os.path.exists(corpus) else (1, ": Invalid")
case(rc == 1 and ": Invalid" in out, "two files at once: invalid overall", out)
if os.path.exists(corpus):
    rc, out = run("-r", corpus, "-L")
    lines = out.splitlines()
    case(rc == 0 and lines[0] == "Directory traversal monitored file read"
         and lines[1] == "    priority: Warning"
         and sum(1 for l in lines if l.startswith("    priority: ")) == 25,
         "-L lists the 25 stable rules with their priorities", out)
rc, out = run("-o", "json_output=true", "-V", bad)
try:
    j = json.loads(out)
    res = j["falco_load_results"][0]
    e0 = res["errors"][0]
    ok = (rc == 1 and res["successful"] is False and len(res["errors"]) == 3
          and len(res["warnings"]) == 2 and e0["code"] == "LOAD_ERR_COMPILE_CONDITION"
          and e0["context"]["locations"][0]["position"]["line"] == 12
          and e0["context"]["locations"][0]["position"]["column"] == 26
          and e0["context"]["locations"][0]["item_name"] == "bad field")
except (ValueError, KeyError, IndexError) as ex:
    ok, out = False, f"{ex}\n{out}"
case(ok, "-V with json_output: falco_load_results with codes and positions", out)
if os.path.exists(corpus):
    rc, out = run("-r", corpus, "--explain-rule", "Read sensitive file untrusted")
    lines = out.splitlines()
    prog = [l for l in lines if l[:4].isdigit()]
    case(rc == 0 and "event types: open openat openat2" in lines
         and prog and prog[0].split()[1] == "CMP_JF" and "evt.type in" in prog[0]
         and prog[-1].split()[1] in ("ACCEPT", "REJECT"),
         "--explain-rule: event types and a program ending in a terminal op", out)
    rc, out = run("-r", corpus, "--explain-rule", "no such rule")
    case(rc == 1 and "no rule 'no such rule'" in out, "--explain-rule: unknown rule", out)
rc, out = run("-L")
case(rc == 0 and "priority:" in out and "mitre_" in out,
     "-L without -r: the built-in default ruleset", out[-2000:])
rc, out = run("-V", "@default")
case(rc == 0 and "0 errors, 0 warnings" in out, "-V @default: the built-in ruleset is valid", out)
rc, out = run("--dry-run")
case(rc == 0 and "--dry-run: the configuration is valid; 73 rules load, 0 errors" in out,
     "--dry-run with the defaults: valid, exit 0", out)
rc, out = run("--dry-run", "-r", os.path.join(src, "tests", "rules", "compile_errors.yaml"))
case(rc == 1 and "LOAD_ERR_COMPILE_CONDITION" in out and "not starting the sensor" in out,
     "--dry-run with rule errors: each reported, exit 1", out)
rc, out = run("--dry-run", "-o", "rule_matching=sometimes")
case(rc == 2 and "rule_matching" in out, "--dry-run with a bad key: exit 2, the key named", out)
rc, out = run("-A", "--print-config")
case(rc == 0 and "base_syscalls.all: true" in out, "-A is base_syscalls.all", out[-500:])
rc, out = run("-V", "/nonexistent/rules.yaml")
case(rc == 1 and "LOAD_ERR_FILE_READ" in out, "missing file: LOAD_ERR_FILE_READ", out)
print(f"1..{n}")
sys.exit(1 if failed else 0)
