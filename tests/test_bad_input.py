#!/usr/bin/env python3
"""saker -V on malformed rules files: a table of broken inputs run through the real binary.
For each: the exit status (1, or 0 where the spec makes it only a warning), the exact load
code (spec b.14), the file:line:column where one is determinable, the same code and
position in the JSON form (-o json_output=true), no crash (no signal, nothing from the
sanitizers, finished within a time limit) and, where the spec says the good rules still
load, that they compile (the summary line's count, --explain-rule NAME). Fixtures are
generated in a temporary directory (10 MB files included). Prints TAP; a case for a known
bug in code this suite does not own is a TAP TODO naming the bug (there are none now).
usage: test_bad_input.py SAKER SOURCE_DIR"""
import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

saker, src = os.path.abspath(sys.argv[1]), sys.argv[2]
tmp = tempfile.mkdtemp(prefix="saker-bad-input-")
atexit.register(shutil.rmtree, tmp, True)
n = failed = 0

MSG = re.compile(r"^(?P<file>.+?):(?:(?P<line>\d+):(?P<col>\d+):)? (?P<sev>error|warning): "
                 r"(?P<text>.*) \[(?P<code>LOAD_[A-Z_]+)\]$")
SUMMARY = re.compile(r"^(\d+) rules \((\d+) compiled\), (\d+) macros, (\d+) lists; "
                     r"(\d+) errors, (\d+) warnings$")
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
             "runtime error:", "ThreadSanitizer")
R = "  desc: d\n  output: o\n  priority: INFO\n"  # the rest of a valid rule


def rule(name, cond, rest=R):
    return f"- rule: {name}\n  condition: {cond}\n{rest}"


GOOD = rule("good", "evt.type = open and proc.name = bash")


def tap(ok, name, diag="", todo=None):
    global n, failed
    n += 1
    if not ok and not todo:
        failed += 1
    if not ok and diag:
        print("\n".join("# " + l for l in diag.splitlines()[-40:]))
    print(f"{'ok' if ok else 'not ok'} {n} - {name}" + (f" # TODO {todo}" if todo else ""))
    sys.stdout.flush()


def run(args, timeout, demote=False):
    """(rc, stdout, stderr, seconds); rc None on timeout."""
    kw = {}
    if demote:  # as nobody, so that file permissions apply to a root test run
        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        kw["preexec_fn"] = drop
    t0 = time.monotonic()
    try:
        r = subprocess.run([saker, *args], capture_output=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode("utf-8", "replace"), \
            (e.stderr or b"").decode("utf-8", "replace"), time.monotonic() - t0
    return r.returncode, r.stdout.decode("utf-8", "replace"), \
        r.stderr.decode("utf-8", "replace"), time.monotonic() - t0


def crash_problems(rc, out, err, secs, timeout):
    if rc is None:
        return [f"did not finish within {timeout} s"]
    probs = []
    if rc < 0:
        probs.append(f"killed by signal {-rc}")
    for s in SANITIZER:
        if s in err or s in out:
            probs.append(f"sanitizer report ({s})")
            break
    return probs


def messages(out):
    msgs = []
    for l in out.splitlines():
        m = MSG.match(l)
        if m and not l.startswith("    "):
            d = m.groupdict()
            d["line"] = int(d["line"]) if d["line"] else None
            d["col"] = int(d["col"]) if d["col"] else None
            msgs.append(d)
    return msgs


def pos_ok(want, line, col):
    """want: (line, col), (line, None) or (line, (lo, hi))."""
    wl, wc = want
    if line != wl:
        return False
    if wc is None:
        return True
    if isinstance(wc, tuple):
        return col is not None and wc[0] <= col <= wc[1]
    return col == wc


def write(name, content):
    path = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content.encode() if isinstance(content, str) else content)
    return path


def case(name, yaml=None, paths=None, rc=1, code=None, pos=None, text=None, compiled=None,
         good=(), no_errors_of=None, timeout=60, todo=None, json_check=None, demote=False,
         extra=None):
    """One table row. yaml: the content of the file checked (or paths: the -V arguments).
    code: a message with this code must be there (the first one is the one checked); pos
    its position; text a substring of its text. compiled: the summary's count of rules
    that compiled; good: rules that must compile (--explain-rule). extra(out, paths) may
    return a list of further problems."""
    if paths is None:
        paths = [write(f"case{n + 1}.yaml", yaml)]
    if json_check is None:
        json_check = all(not os.path.isfile(p) or os.path.getsize(p) < 1 << 20 for p in paths)
    args = [a for p in paths for a in ("-V", p)]
    ret, out, err, secs = run(args, timeout, demote)
    probs = crash_problems(ret, out, err, secs, timeout)
    if ret is not None and not probs:
        if ret != rc:
            probs.append(f"exit status {ret}, expected {rc}")
        msgs = messages(out)
        if rc == 0 and any(m["sev"] == "error" for m in msgs):
            probs.append("an error was reported although the input is valid")
        if no_errors_of and any(m["code"] == no_errors_of for m in msgs):
            probs.append(f"unexpected {no_errors_of}")
        hit = None
        if code:
            hit = next((m for m in msgs if m["code"] == code), None)
            if not hit:
                probs.append(f"no {code} reported (got {[m['code'] for m in msgs]})")
        if hit and pos and not pos_ok(pos, hit["line"], hit["col"]):
            probs.append(f"{code} at {hit['line']}:{hit['col']}, expected {pos[0]}:{pos[1]}")
        if hit and pos is False and hit["line"] is not None:
            probs.append(f"{code} has a position {hit['line']}:{hit['col']}, expected none")
        if hit and text and text not in hit["text"]:
            probs.append(f"message lacks {text!r}: {hit['text']!r}")
        summ = [SUMMARY.match(l) for l in out.splitlines() if SUMMARY.match(l)]
        if not summ:
            probs.append("no summary line")
        elif compiled is not None and int(summ[-1].group(2)) != compiled:
            probs.append(f"{summ[-1].group(2)} rules compiled, expected {compiled}")
        for g in good:
            r2, o2, e2, _ = run(["-r", paths[0], "--explain-rule", g], timeout)
            if r2 != 0 or f"rule: {g}" not in o2:
                probs.append(f"good rule {g!r} did not compile: {(o2 + e2).strip()[:300]}")
        if json_check:
            r3, o3, e3, s3 = run(["-o", "json_output=true", *args], timeout, demote)
            probs += ["json: " + p for p in crash_problems(r3, o3, e3, s3, timeout)]
            try:
                j = json.loads(o3)
                res = j["falco_load_results"]
                errs = [e for r in res for e in r["errors"]]
                warns = [w for r in res for w in r["warnings"]]
                if r3 != ret:
                    probs.append(f"json: exit status {r3}, text gave {ret}")
                if any(r["successful"] for r in res if r["errors"]):
                    probs.append("json: successful with errors")
                if code:
                    jm = next((m for m in errs + warns if m["code"] == code), None)
                    if not jm:
                        probs.append(f"json: no {code}")
                    elif hit and hit["line"] is not None:
                        p = jm["context"]["locations"][0]["position"]
                        if (p["line"], p["column"]) != (hit["line"], hit["col"]):
                            probs.append(f"json: {code} at {p['line']}:{p['column']}, text "
                                         f"at {hit['line']}:{hit['col']}")
            except (ValueError, KeyError, IndexError, TypeError) as ex:
                probs.append(f"json: unreadable ({ex}): {o3[:300]!r}")
        if extra:
            probs += extra(out, paths) or []
    diag = "\n".join(probs) + "\n--- output:\n" + "\n".join(
        (out + err).splitlines()[:30]) + f"\n--- {secs:.2f} s"
    tap(not probs, name, diag, todo)


# --- YAML itself ------------------------------------------------------------------------
case("yaml: tab in indentation", "- rule: r\n\tdesc: x\n",
     code="LOAD_ERR_YAML_PARSE", pos=(2, 1), compiled=0)
case("yaml: unclosed flow sequence (error at the end names where it starts)",
     "- rule: r\n  desc: [x\n", code="LOAD_ERR_YAML_PARSE", pos=(3, 1),
     text="flow sequence that starts at 2:9")
case("yaml: unclosed flow mapping", "- rule: r\n  tags: {a: b\n- list: l\n  items: []\n",
     code="LOAD_ERR_YAML_PARSE", text="that starts at 2:9")
case("yaml: bad indentation", "- rule: r\n  desc: x\n   output: y\n",
     code="LOAD_ERR_YAML_PARSE", pos=(3, 10))
case("yaml: unterminated double-quoted scalar",
     "- rule: r\n  condition: \"evt.type = open\n  desc: x\n",
     code="LOAD_ERR_YAML_PARSE", pos=(4, 1), text="quoted scalar that starts at 2:14")
case("yaml: unterminated single-quoted scalar",
     "- rule: r\n  condition: 'evt.type = open\n",
     code="LOAD_ERR_YAML_PARSE", text="quoted scalar that starts at 2:14")
case("yaml: alias to no anchor", rule("r", "*nope"), code="LOAD_ERR_YAML_PARSE", pos=(2, 14))
case("yaml: repeated key is a warning, the first value is used",
     "- rule: r\n  condition: evt.type = open\n  desc: first\n  desc: second\n"
     "  output: o\n  priority: INFO\n",
     rc=0, code="LOAD_UNKNOWN_KEY", pos=(4, 3), text="repeated (first at 3:3)", compiled=1,
     good=["r"])
case("yaml: 10,000 nested flow sequences",
     "- rule: deep\n  desc: " + "[" * 10000 + "]" * 10000 + "\n",
     code="LOAD_ERR_YAML_PARSE", pos=(2, 71), text="nesting deeper than 64")
case("yaml: 10,000 nested block sequences and mappings",
     "- a:\n" + "".join("  " * (i + 1) + "- b:\n" for i in range(10000)),
     code="LOAD_ERR_YAML_PARSE", pos=(33, 65), text="nesting deeper than 64")
case("yaml: 10,000 nested block mappings",
     "".join("  " * i + f"k{i}:\n" for i in range(10000)) + "  " * 10000 + "v\n",
     code="LOAD_ERR_YAML_PARSE", pos=(65, 129))
case("yaml: a NUL byte (position of the byte)",
     b"- rule: r\n  condition: evt.type=open\0\n" + R.encode(),
     code="LOAD_ERR_YAML_PARSE", pos=(2, 27), text="control characters")
case("yaml: a NUL written as an escape",
     "- rule: r\n  condition: \"evt.type=open\\0\"\n" + R,
     code="LOAD_ERR_YAML_VALIDATE", pos=(2, 14), text="NUL")
case("yaml: invalid UTF-8 in a rule name",
     b"- rule: r\xff\xfe\n  condition: evt.type=open\n" + R.encode(),
     code="LOAD_ERR_YAML_PARSE", pos=(1, 10), text="UTF-8")
case("yaml: invalid UTF-8 in a condition",
     b"- rule: r\n  condition: evt.type=open and proc.name = \xc3\x28\n" + R.encode(),
     code="LOAD_ERR_YAML_PARSE", pos=(2, 45), text="UTF-8")
case("yaml: truncated UTF-8 sequence at the end of the file",
     GOOD.encode() + b"# \xe2\x82", code="LOAD_ERR_YAML_PARSE", pos=(6, 3))
case("yaml: a UTF-8 byte order mark is fine", b"\xef\xbb\xbf" + GOOD.encode(), rc=0,
     compiled=1)
case("yaml: CRLF line ends keep positions exact",
     "- rule: r\r\n  condition: evt.type=open and proc.nmae=x\r\n  desc: d\r\n  output: o\r\n"
     "  priority: INFO\r\n", code="LOAD_ERR_COMPILE_CONDITION", pos=(2, 32))
case("file: empty", "", rc=0, compiled=0)
case("file: only comments", "# nothing\n#  - rule: x\n\n   # more\n", rc=0, compiled=0)
case("file: only blanks and document markers", "\n  \n---\n...\n---\n", rc=0, compiled=0)

# --- Shapes (b.1, b.4-b.6): LOAD_ERR_YAML_VALIDATE --------------------------------------
case("shape: document is a mapping", "foo: bar\n", code="LOAD_ERR_YAML_VALIDATE", pos=(1, 1))
case("shape: document is a scalar", "just words\n", code="LOAD_ERR_YAML_VALIDATE",
     pos=(1, 1))
case("shape: second document is a mapping", "- list: a\n  items: []\n---\nfoo: bar\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(4, 1))
case("shape: item is a sequence", "- [a, b]\n", code="LOAD_ERR_YAML_VALIDATE", pos=(1, 3))
case("shape: item is a scalar", "- just words\n", code="LOAD_ERR_YAML_VALIDATE", pos=(1, 3))
case("shape: mapping key is a sequence", "- ? [a]\n  : b\n", code="LOAD_ERR_YAML_VALIDATE",
     pos=(1, 5))
case("type: condition is a list", rule("r", "[evt.type = open]"),
     code="LOAD_ERR_YAML_VALIDATE", pos=(2, 14), text="single value")
case("type: priority is a mapping",
     "- rule: r\n  condition: evt.type=open\n  desc: d\n  output: o\n  priority: {a: b}\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(5, 13))
case("type: enabled is a word", rule("r", "evt.type=open", R + "  enabled: maybe\n"),
     code="LOAD_ERR_YAML_VALIDATE", pos=(6, 12), text="true or false")
case("type: tags is a scalar", rule("r", "evt.type=open", R + "  tags: foo\n"),
     code="LOAD_ERR_YAML_VALIDATE", pos=(6, 9), text="sequence")
case("type: a tag is a sequence", rule("r", "evt.type=open", R + "  tags: [a, [b]]\n"),
     code="LOAD_ERR_YAML_VALIDATE", pos=(6, 13))
case("type: list items is a scalar", "- list: l\n  items: a\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(2, 10))
case("type: macro condition is a mapping", "- macro: m\n  condition: {a: 1}\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(2, 14))
case("type: rule name is a sequence", rule("[a]", "evt.type=open"),
     code="LOAD_ERR_YAML_VALIDATE", pos=(1, 9))
case("type: exceptions is a mapping",
     rule("r", "evt.type=open", R + "  exceptions: {name: e}\n"),
     code="LOAD_ERR_YAML_VALIDATE", pos=(6, 15))
case("type: capture_duration is negative",
     rule("r", "evt.type=open", R + "  capture_duration: -5\n"),
     code="LOAD_ERR_YAML_VALIDATE", pos=(6, 21))
case("type: skip-if-unknown-filter is a word",
     rule("r", "evt.type=open", R + "  skip-if-unknown-filter: sometimes\n"),
     code="LOAD_ERR_YAML_VALIDATE", pos=(6, 27))
case("type: override is a scalar",
     GOOD + "- rule: good\n  desc: x\n  override: replace\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(8, 13))
case("missing: output", "- rule: r\n  condition: evt.type=open\n  desc: d\n  priority: INFO\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(1, 3), text="'output'")
case("empty: output", "- rule: r\n  condition: evt.type=open\n  desc: d\n  output: ''\n"
     "  priority: INFO\n", code="LOAD_ERR_YAML_VALIDATE", pos=(4, 11))
case("empty: condition", rule("r", "''"), code="LOAD_ERR_YAML_VALIDATE", pos=(2, 14))
case("empty: priority", "- rule: r\n  condition: evt.type=open\n  desc: d\n  output: o\n"
     "  priority:\n", code="LOAD_ERR_YAML_VALIDATE", pos=(5, 3))
case("priority: unknown name",
     "- rule: r\n  condition: evt.type=open\n  desc: d\n  output: o\n  priority: URGENT\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(5, 13), text="invalid priority 'URGENT'")
case("priority: number",
     "- rule: r\n  condition: evt.type=open\n  desc: d\n  output: o\n  priority: 3\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(5, 13))

# --- Unknown things --------------------------------------------------------------------
case("unknown: top-level item is a warning; the rest loads", "- foo: bar\n" + GOOD, rc=0,
     code="LOAD_UNKNOWN_ITEM", pos=(1, 3), compiled=1, good=["good"])
case("unknown: key in a rule is a warning",
     rule("r", "evt.type=open", R + "  bogus: 1\n"), rc=0, code="LOAD_UNKNOWN_KEY",
     pos=(6, 3), compiled=1)
case("unknown: source skips the rule with a warning",
     rule("r", "evt.type=open", R + "  source: k8s_audit\n") + GOOD, rc=0,
     code="LOAD_UNKNOWN_SOURCE", pos=(6, 11), compiled=1, good=["good"])
case("unknown: field; the good rule still compiles",
     rule("bad", "evt.type=open and proc.nosuch = x") + GOOD,
     code="LOAD_ERR_COMPILE_CONDITION", pos=(2, 32), text="unknown field 'proc.nosuch'",
     compiled=1, good=["good"])
case("unknown: field with skip-if-unknown-filter is a warning",
     rule("r", "evt.type=open and proc.nosuch = x", R + "  skip-if-unknown-filter: true\n"),
     rc=0, code="LOAD_UNKNOWN_FILTER", pos=(2, 32), compiled=0)
case("unknown: macro; the good rule still compiles",
     rule("bad", "evt.type=open and nosuch_macro") + GOOD,
     code="LOAD_ERR_VALIDATE", pos=(2, 32), text="undefined macro 'nosuch_macro'",
     compiled=1, good=["good"])
case("unknown: list name in a value list is just a value (b.11)",
     rule("r", "evt.type=open and proc.name in (nosuch_list)"), rc=0, compiled=1)
case("unknown: list name as event types is an unknown event type",
     rule("r", "evt.type in (nosuch_list)"), code="LOAD_ERR_COMPILE_CONDITION",
     pos=(2, 27), text="nosuch_list")
case("unknown: event type", rule("r", "evt.type = nosuchsyscall"),
     code="LOAD_ERR_COMPILE_CONDITION", pos=(2, 25))

# --- Macro cycles (b.9, b.12) ----------------------------------------------------------
def n_errors(k):
    """extra: the summary counts exactly k errors (nothing reported twice)."""
    def check(out, paths):
        m = [SUMMARY.match(l) for l in out.splitlines() if SUMMARY.match(l)]
        return [] if m and int(m[-1].group(5)) == k else [f"expected exactly {k} errors"]
    return check


case("macro: refers to itself",
     "- macro: a\n  condition: a and evt.type=open\n" + rule("r", "a") + GOOD,
     code="LOAD_ERR_VALIDATE", pos=(2, 14), text="reference loop: 'a' uses itself",
     compiled=1, good=["good"], extra=n_errors(1))
case("macro: refers to a later macro (visibility)",
     "- macro: a\n  condition: b\n- macro: b\n  condition: evt.type=open\n" + rule("r", "a"),
     code="LOAD_ERR_VALIDATE", pos=(2, 14), text="undefined macro 'b'")
LOOP = ("- macro: b\n  condition: evt.type=open\n- macro: a\n  condition: b\n"
        "- macro: b\n  override: {condition: replace}\n  condition: a\n")
case("macro: indirect loop through a redefinition, used by a rule (reported at the macro)",
     LOOP + rule("r", "evt.type=open and a") + GOOD,
     code="LOAD_ERR_VALIDATE", pos=(7, 14), text="reference loop: b -> a -> b", compiled=1,
     good=["good"], extra=n_errors(1))
case("macro: loop through an append",
     "- macro: a\n  condition: evt.type=open\n- macro: a\n  override: {condition: append}\n"
     "  condition: or a\n" + rule("r", "a"), code="LOAD_ERR_VALIDATE", pos=(5, 17),
     text="reference loop", extra=n_errors(1))
case("macro: indirect loop no rule uses is still an error", LOOP,
     code="LOAD_ERR_VALIDATE", pos=(7, 14), text="reference loop: b -> a -> b",
     extra=n_errors(1))
case("macro: undefined macro in a macro no rule uses is an error",
     "- macro: a\n  condition: evt.type=open and nosuch_macro\n",
     code="LOAD_ERR_VALIDATE", pos=(2, 32), text="undefined macro 'nosuch_macro'")
case("macro: a rule using a macro that failed is not told it is undefined",
     "- macro: m\n  condition: (evt.type=open\n" + rule("r", "m") + GOOD,
     code="LOAD_ERR_COMPILE_CONDITION", pos=(2, 28), no_errors_of="LOAD_ERR_VALIDATE",
     compiled=1, good=["good"], extra=n_errors(1))
case("macro: nor is a rule using a macro that uses a macro with a loop",
     LOOP + "- macro: c\n  condition: a\n" + rule("r", "c") + GOOD,
     code="LOAD_ERR_VALIDATE", pos=(7, 14), text="reference loop", compiled=1,
     good=["good"], extra=n_errors(1))
case("macro: 40 levels of m(i) = m(i-1) and m(i-1) end in bounded time",
     "- macro: m0\n  condition: proc.name = a\n" +
     "".join(f"- macro: m{i}\n  condition: m{i - 1} and m{i - 1}\n" for i in range(1, 41)) +
     rule("r", "evt.type = open and m40") + GOOD, code="LOAD_ERR_COMPILE_CONDITION",
     pos=(84, 34), text="condition too large", timeout=5, compiled=1, good=["good"])

# --- Condition syntax and types (a.*): LOAD_ERR_COMPILE_CONDITION -----------------------
C = "LOAD_ERR_COMPILE_CONDITION"
case("paren: '(' never closed; the good rule still compiles",
     rule("bad", "(evt.type=open") + GOOD, code=C, pos=(2, 28), text="never closed",
     compiled=1, good=["good"])
case("paren: ')' without '('", rule("r", "evt.type=open)"), code=C, pos=(2, 27),
     text="has no '('")
case("paren: one ')' too many after a group", rule("r", "evt.type=open and (proc.name=a))"),
     code=C, pos=(2, 45), text="has no '('")
case("paren: a stray ')' is placed on that ')'", rule("r", "evt.type=open)"), code=C,
     pos=(2, 27), text="has no '('")
case("paren: an unclosed '(' is placed at the end of the condition, not past it",
     rule("r", "(evt.type=open"), code=C, pos=(2, 28), text="the '(' at 2:14 is never closed")
case("paren: the message names where the unclosed '(' is in the file",
     "- macro: m\n  condition: (evt.type=open\n" + GOOD, code=C, pos=(2, 28),
     text="the '(' at 2:14 is never closed")
case("paren: an unclosed '(' on a later line of a rule's condition",
     "- rule: r\n  condition: |\n    evt.type=open and\n    (proc.name=a\n" + R, code=C,
     pos=(4, 17), text="the '(' at 4:5 is")
case("paren: a ')' in an exception value is placed in the exception",
     rule("r", "evt.type=open", R + "  exceptions:\n    - name: e\n      fields: proc.name\n"
          "      values: [a, 'b(']\n"), code=C, pos=(9, 19), text="exception 'e'")
case("string: single quote never closed", rule("r", "evt.type=open and proc.name = 'abc"),
     code=C, pos=(2, 44), text="no closing '")
case("string: double quote never closed",
     "- rule: r\n  condition: 'evt.type=open and proc.name = \"abc'\n" + R,
     code=C, pos=(2, 45), text="no closing \"")
case("string: unsupported escape", rule("r", "evt.type=open and proc.name = 'a\\qb'"),
     code=C, pos=(2, 46), text="escape")
case("string: \\x with one hex digit",
     "- rule: r\n  condition: 'evt.type=open and proc.name = \"a\\x4\"'\n" + R,
     code=C, pos=(2, 47), text="escape")
case("type: proc.pid contains 1", rule("r", "evt.type=open and proc.pid contains 1"),
     code=C, pos=(2, 32), text="'contains'")
case("type: evt.num startswith x", rule("r", "evt.type=open and evt.num startswith x"),
     code=C, pos=(2, 32), text="'startswith'")
case("type: fd.ip = notanip", rule("r", "evt.type=open and fd.ip = notanip"),
     code=C, pos=(2, 40), text="notanip")
case("type: fd.net = a CIDR without a length", rule("r", "evt.type=open and fd.net = 10.0.0.1"),
     code=C, pos=(2, 41))
case("type: hex number for an integer field", rule("r", "evt.type=open and fd.num > 0x10"),
     code=C, pos=(2, 41), text="0x10")
case("type: '<' needs a number", rule("r", "evt.type=open and proc.name < abc"),
     code=C, pos=(2, 44))
case("type: bcontains on a string field", rule("r", "evt.type=open and proc.name bcontains 41"),
     code=C, pos=(2, 32))
case("regex: unmatched '['", rule("r", "evt.type=open and proc.name regex '[a-'"),
     code=C, pos=(2, 48), text="invalid regex")
case("regex: unmatched '('", rule("r", "evt.type=open and proc.name regex 'a('"),
     code=C, pos=(2, 48), text="invalid regex")
case("syntax: operator without a value", rule("r", "evt.type=open and proc.name ="),
     code=C, pos=(2, None))
case("syntax: dangling 'and'", rule("r", "evt.type=open and"), code=C, pos=(2, None))
DEEP = "- rule: deep\n  desc: d\n  output: o\n  priority: INFO\n  condition: evt.type = open and "
case("deep: 10,000 nested parentheses", DEEP + "(" * 10000 + "proc.name = x" + ")" * 10000 + "\n",
     code=C, pos=(5, (34, 10034)), text="nesting too deep")
case("deep: 10,000 nested 'not (' ", DEEP + "not (" * 10000 + "proc.name = x" + ")" * 10000 + "\n",
     code=C, pos=(5, (34, 50034)), text="nesting too deep")
case("deep: 10,000 nested transformers",
     DEEP + "tolower(" * 10000 + "proc.name" + ")" * 10000 + " = x\n",
     code=C, pos=(5, (34, 80034)), text="nesting too deep")
case("deep: 10,000 'not' in a row load", DEEP + "not " * 10000 + "proc.name = x\n", rc=0,
     compiled=1)

# --- Duplicates (b.8: a redefinition replaces, keeping the position) ---------------------
case("duplicate: rule redefined; the second definition wins",
     rule("r", "evt.type=open") + rule("r", "evt.type=close"), rc=0, compiled=1,
     extra=lambda out, paths: [] if "event types: close" in run(
         ["-r", paths[0], "--explain-rule", "r"], 30)[1] else ["the first definition was kept"])
case("duplicate: macro redefined",
     "- macro: m\n  condition: evt.type=open\n- macro: m\n  condition: evt.type=close\n" +
     rule("r", "m"), rc=0, compiled=1)
case("duplicate: list redefined", "- list: l\n  items: [a]\n- list: l\n  items: [b]\n" +
     rule("r", "evt.type=open and proc.name in (l)"), rc=0, compiled=1)
case("duplicate: exception name",
     rule("r", "evt.type=open", R + "  exceptions:\n    - {name: e, fields: proc.name, "
          "values: [a]}\n    - {name: e, fields: proc.name, values: [b]}\n"),
     rc=0, code="LOAD_EXCEPTION_NAME_NOT_UNIQUE", pos=(8, 7), compiled=1)

# --- Append and override (b.8) -----------------------------------------------------------
V = "LOAD_ERR_VALIDATE"
case("append: to a missing list (append: true)", "- list: l\n  items: [a]\n  append: true\n",
     code=V, pos=(1, 3), text="existing list")
case("append: deprecated 'append: true' is also warned about",
     "- list: l\n  items: [a]\n  append: true\n", code="LOAD_DEPRECATED_ITEM", pos=(3, 3))
case("append: to a missing list (override)", "- list: l\n  items: [a]\n"
     "  override: {items: append}\n", code=V, pos=(1, 3))
case("append: to a missing macro", "- macro: m\n  condition: and x\n"
     "  override: {condition: append}\n", code=V, pos=(1, 3))
case("append: to a missing rule", "- rule: r\n  condition: and x\n  append: true\n",
     code=V, pos=(1, 3))
case("override: replace in a missing rule", "- rule: r\n  priority: INFO\n"
     "  override: {priority: replace}\n", code=V, pos=(1, 3))
case("override: enabled alone for a missing rule", "- rule: r\n  enabled: false\n",
     code=V, pos=(1, 3))
case("override: of a key the item does not have",
     GOOD + "- rule: good\n  override: {desc: replace}\n", code="LOAD_ERR_YAML_VALIDATE",
     pos=(7, 14), text="the item has no 'desc'")
case("override: a key present but not listed under override",
     GOOD + "- rule: good\n  desc: x\n  output: y\n  override: {desc: replace}\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(8, 3), text="'output'")
case("override: append to priority", GOOD + "- rule: good\n  priority: INFO\n"
     "  override: {priority: append}\n", code="LOAD_ERR_YAML_VALIDATE", pos=(8, 14))
case("override: an operation other than append/replace",
     GOOD + "- rule: good\n  desc: x\n  override: {desc: merge}\n",
     code="LOAD_ERR_YAML_VALIDATE", pos=(8, 20))
case("override: with append: true", GOOD + "- rule: good\n  desc: x\n  append: true\n"
     "  override: {desc: append}\n", code="LOAD_ERR_YAML_VALIDATE", pos=(9, 3))
case("override: another source", GOOD + "- rule: good\n  condition: or x\n"
     "  source: k8s_audit\n  override: {condition: append}\n", code=V, pos=(8, 11))
case("append: exception restating fields",
     rule("r", "evt.type=open", R + "  exceptions:\n    - {name: e, fields: proc.name}\n") +
     "- rule: r\n  exceptions:\n    - {name: e, fields: proc.name, values: [a]}\n"
     "  override: {exceptions: append}\n", code=V, pos=(10, 7))

# --- Exceptions (b.10): LOAD_ERR_VALIDATE --------------------------------------------------
EXC = R + "  exceptions:\n    - name: e\n"
case("exception: fields and comps of different lengths",
     rule("r", "evt.type=open", EXC + "      fields: [proc.name, fd.name]\n      comps: [=]\n"
          "      values: [[a, b]]\n"), code=V, pos=(9, 14), text="comps")
case("exception: fields and comps of different lengths; the good rule still compiles",
     GOOD + rule("r", "evt.type=open", EXC + "      fields: [proc.name, fd.name]\n"
                 "      comps: [=]\n      values: [[a, b]]\n"),
     code=V, pos=(14, 14), compiled=1, good=["good"])
case("exception: an invalid exception does not hide another rule's error",
     rule("r", "evt.type=open", EXC + "      fields: [proc.name, fd.name]\n"
                 "      comps: [=]\n      values: [[a, b]]\n") +
     rule("typo", "evt.type=open and proc.nmae = x") + GOOD,
     code=C, pos=(12, 32), text="proc.nmae", compiled=1, good=["good"], extra=n_errors(2))
case("exception: a value tuple of the wrong length",
     rule("r", "evt.type=open", EXC + "      fields: [proc.name, fd.name]\n"
          "      values: [[a]]\n"), code=V, pos=(9, 16), text="2 fields, 1 values")
case("exception: a value that is not a tuple",
     rule("r", "evt.type=open", EXC + "      fields: [proc.name, fd.name]\n"
          "      values: [a]\n"), code=V, pos=(9, 16))
case("exception: comp is not an operator",
     rule("r", "evt.type=open", EXC + "      fields: [proc.name]\n      comps: [like]\n"
          "      values: [[a]]\n"), code=V, pos=(9, 15), text="'like'")
case("exception: no fields",
     rule("r", "evt.type=open", EXC + "      values: [[a]]\n"), code=V, pos=(7, 7))
case("exception: single field with a list of comps",
     rule("r", "evt.type=open", EXC + "      fields: proc.name\n      comps: [in]\n"
          "      values: [a]\n"), code=V, pos=(9, 14))
case("exception: single field with comp '='",
     rule("r", "evt.type=open", EXC + "      fields: proc.name\n      comps: '='\n"
          "      values: [a]\n"), code=V, pos=(9, 14))
case("exception: unknown field, reported at the field",
     rule("r", "evt.type=open", EXC + "      fields: [proc.nosuch]\n      values: [[a]]\n"),
     code=V, pos=(8, 16), text="exception 'e': unknown field 'proc.nosuch'",
     no_errors_of=C)
case("exception: unknown field of a single-field exception, in a transformer",
     rule("r", "evt.type=open", EXC + "      fields: tolower(proc.nosuch)\n"
          "      values: [a]\n"), code=V, pos=(8, 15), text="proc.nosuch", no_errors_of=C)
case("exception: unknown field with skip-if-unknown-filter skips the rule",
     rule("r", "evt.type=open", R + "  skip-if-unknown-filter: true\n  exceptions:\n"
          "    - name: e\n      fields: [proc.nosuch]\n      values: [[a]]\n"),
     rc=0, code="LOAD_UNKNOWN_FILTER", pos=(9, 16), compiled=0)
case("exception: a bad value is placed at the value",
     rule("r", "evt.type=open", EXC + "      fields: [proc.name, fd.ip]\n"
          "      values: [[a, 1.2.3.4], [b, notanip]]\n"), code=C, pos=(9, 34),
     text="exception 'e': 'notanip'")

# --- Versions (b.2, b.3) --------------------------------------------------------------------
for v, c, why in [("abc", "LOAD_ERR_YAML_VALIDATE", "not a version"),
                  ("1.2", "LOAD_ERR_YAML_VALIDATE", "two parts"),
                  ("1.2.3.4", "LOAD_ERR_YAML_VALIDATE", "four parts"),
                  ("99999999999999999999999", "LOAD_ERR_YAML_VALIDATE", "overflows"),
                  ("[0.1.0]", "LOAD_ERR_YAML_VALIDATE", "a sequence"),
                  ("0.99.0", V, "newer than the engine"),
                  ("1.0.0", V, "another major")]:
    case(f"required_engine_version: {why} ({v})",
         f"- required_engine_version: {v}\n" + GOOD, code=c, pos=(1, 28))
case("required_plugin_versions: a plugin saker does not provide",
     "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n" + GOOD,
     code=V, pos=(2, 5), text="k8saudit")
case("required_plugin_versions: invalid version",
     "- required_plugin_versions:\n  - name: container\n    version: x.y\n",
     code=V, pos=(3, 14))
case("required_plugin_versions: entry without version",
     "- required_plugin_versions:\n  - name: container\n", code="LOAD_ERR_YAML_VALIDATE",
     pos=(2, 5))

# --- Outputs (d.2): LOAD_ERR_COMPILE_OUTPUT ---------------------------------------------------
O = "LOAD_ERR_COMPILE_OUTPUT"
OUTR = ("- rule: bad\n  condition: evt.type=open\n  desc: d\n"
        "  output: file %fd.nosuch by %proc.name\n  priority: INFO\n")
case("output: unknown %field; the good rule still compiles", OUTR + GOOD, code=O,
     text="fd.nosuch", compiled=1, good=["good"])
case("output: unknown %field, reported at the field", OUTR, code=O, pos=(4, 17),
     text="unknown field 'fd.nosuch'")
case("output: unknown %field in an appended output, reported there",
     GOOD + "- rule: good\n  output: and %proc.nosuch\n  override: {output: append}\n",
     code=O, pos=(7, 16), text="proc.nosuch")
case("output: '%' at the end", "- rule: r\n  condition: evt.type=open\n  desc: d\n"
     "  output: 100%\n  priority: INFO\n", code=O)

# --- Files (b.13): LOAD_ERR_FILE_READ ------------------------------------------------------
case("file: missing", paths=[os.path.join(tmp, "no", "such.yaml")],
     code="LOAD_ERR_FILE_READ", pos=False, text="No such file")
os.makedirs(os.path.join(tmp, "emptydir"))
case("directory: no files at all", paths=[os.path.join(tmp, "emptydir")], rc=0, compiled=0)
write("txtdir/README.txt", "not rules\n")
write("txtdir/rules.yaml.bak", "- rule: [broken\n")
case("directory: only files that are not .yaml/.yml", paths=[os.path.join(tmp, "txtdir")],
     rc=0, compiled=0)
write("mixdir/10-bad.yaml", "- rule: r\n\tdesc: x\n")
write("mixdir/20-good.yaml", GOOD + rule("typo", "evt.type=open and proc.nmae = x"))
case("directory: a bad file does not stop the next file's checks",
     paths=[os.path.join(tmp, "mixdir")], code="LOAD_ERR_COMPILE_CONDITION", pos=(7, 32),
     text="proc.nmae", compiled=1, good=["good"], extra=n_errors(2))


def second_file_checked(out, paths):
    probs = []
    if f"{paths[1]}: Invalid" not in out.splitlines():
        probs.append("the second file is not reported Invalid")
    if not any(m["file"] == paths[1] and m["code"] == "LOAD_ERR_COMPILE_CONDITION"
               for m in messages(out)):
        probs.append("the second file's own compile error is not reported")
    return probs


write("two/a.yaml", "- rule: nosuch\n  condition: and x\n  override: {condition: append}\n")
write("two/b.yaml", GOOD + rule("typo", "evt.type=open and proc.nmae = x"))
case("files: an error in the first of two -V files does not stop the second's checks",
     paths=[os.path.join(tmp, "two", "a.yaml"), os.path.join(tmp, "two", "b.yaml")],
     code="LOAD_ERR_COMPILE_CONDITION", pos=(7, 32), compiled=1, extra=second_file_checked)
case("required_plugin_versions: an unmet requirement does not stop the rules' checks",
     "- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n" + GOOD +
     rule("typo", "evt.type=open and proc.nmae = x"), code=C, pos=(10, 32), compiled=1,
     good=["good"], extra=n_errors(2))
case("file: /dev/null", paths=["/dev/null"], rc=0, compiled=0)
case("file: a directory given with a trailing slash", paths=[os.path.join(tmp, "emptydir") + "/"],
     rc=0, compiled=0)

# Unreadable: as root, permissions do not apply, so the case runs as nobody (skipped if it
# cannot).
locked_dir = os.path.join(tmp, "locked")
os.makedirs(locked_dir)
locked = write("locked/rules.yaml", GOOD)
os.chmod(locked, 0)
for d in (tmp, locked_dir):
    os.chmod(d, 0o755)
skip_why = None
demote = False
try:
    with open(locked, "rb"):
        pass
    demote = True  # readable anyway: root (or CAP_DAC_OVERRIDE)
except PermissionError:
    pass
if demote:
    try:
        r = run(["--version"], 30, demote=True)
        if r[0] != 0:
            skip_why = f"running as nobody failed: {(r[1] + r[2]).strip()[:100]}"
    except (PermissionError, OSError) as ex:
        skip_why = f"cannot run as nobody ({ex}); as root, mode 000 does not stop reading"
if skip_why:
    n += 1
    print(f"ok {n} - file: unreadable (mode 000) # SKIP {skip_why}")
else:
    case("file: unreadable (mode 000)" + (" [run as nobody]" if demote else ""),
         paths=[locked], code="LOAD_ERR_FILE_READ", pos=False, text="Permission denied",
         demote=demote)
os.chmod(tmp, 0o700)

# --- Names that would trip a formatter ----------------------------------------------------------
case("name: printf directives in a rule name",
     rule("'%n%s%s%x%p'", "evt.type=open and proc.nmae = x"), code=C, pos=(2, 32),
     text="rule '%n%s%s%x%p'")
case("name: a rule name of 1 MB", rule("r" * (1 << 20), "evt.type=open and proc.nmae = x"),
     code=C, pos=(2, 32), json_check=False)

# --- Size: must load (or fail cleanly) in bounded time ----------------------------------------
big = ["- list: shells\n  items: [bash, sh, zsh]\n- macro: spawned\n  condition: evt.type = execve\n"]
size = len(big[0])
i = 0
while size < 10 << 20:
    s = (f"- rule: rule number {i}\n  desc: generated rule {i}\n  condition: spawned and "
         f"proc.name in (shells) and proc.pname = parent{i} and fd.name startswith /tmp/d{i}/\n"
         f"  output: \"rule {i} fired %proc.name %fd.name\"\n  priority: NOTICE\n"
         f"  tags: [t{i % 10}, big]\n")
    big.append(s)
    size += len(s)
    i += 1
case(f"size: 10 MB of valid rules ({i} rules) load", "".join(big), rc=0, compiled=i,
     timeout=120)
terms, size = [], 0
while size < 10 << 20:
    t = f"proc.name = n{len(terms)}"
    terms.append(t)
    size += len(t) + 4
case("size: one 10 MB condition (an 'or' chain) fails cleanly",
     "- rule: big\n  desc: d\n  output: o\n  priority: INFO\n  condition: evt.type = open and (" +
     " or ".join(terms) + ")\n", code=C, pos=(5, 14), timeout=120)
items, size = [], 0
while size < 10 << 20:
    t = f"name{len(items)}"
    items.append(t)
    size += len(t) + 2
case("size: one 10 MB condition (an 'in' list) loads",
     "- rule: big\n  desc: d\n  output: o\n  priority: INFO\n  condition: evt.type = open and "
     "proc.name in (" + ", ".join(items) + ")\n", rc=0, compiled=1, timeout=120)
case("size: 5,000 broken rules are each reported",
     "".join(rule(f"r{k}", f"evt.type=open and proc.nmae{k} = x") for k in range(5000)),
     code=C, pos=(2, 32), compiled=0, timeout=120,
     extra=lambda out, paths: [] if "5000 rules (0 compiled), 0 macros, 0 lists; 5000 errors" in out
     else ["not every broken rule was reported"])

# --- Inputs that multiply: bounded time and memory ------------------------------------------
case("multiply: lists naming lists, ten times over (10^10 items)",
     "- list: l0\n  items: [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9]\n" +
     "".join(f"- list: l{k}\n  items: [{', '.join([f'l{k - 1}'] * 10)}]\n" for k in range(1, 10)) +
     rule("r", "evt.type=open and proc.name in (l9)"),
     code=V, pos=(15, 3), text="list 'l7'", timeout=60)
k = 1000
alias = ("- rule: r\n  condition: evt.type = open\n" + R + "  exceptions:\n    - name: e\n"
         "      fields: [" + ", ".join(["proc.name"] * k) + "]\n      values:\n        - &T [" +
         ", ".join(["&L [" + ", ".join(f"x{j}" for j in range(k)) + "]"] + ["*L"] * (k - 1)) +
         "]\n" + "        - *T\n" * (k - 1))
case("multiply: exception values through YAML aliases (10^9 values from 34 KB)", alias,
     code=V, text="longer than", timeout=60)
case("multiply: 200,000 references to a list in one condition",
     "- list: l\n  items: [a, b]\n" + rule("r", "evt.type = open and (" +
                                            " or ".join(["proc.name in (l)"] * 200000) + ")"),
     code=C, pos=(4, 14), timeout=60)
appends = [rule("r", "evt.type = open")]
for j in range(100000):
    appends.append(f"- rule: r\n  condition: or proc.name = n{j}\n"
                   "  override: {condition: append}\n")
case("multiply: 100,000 appends to one condition", "".join(appends), code=C, pos=(2, 14),
     timeout=60)
case("multiply: 100,000 tags on one rule",
     rule("r", "evt.type = open", R + "  tags: [" + ", ".join(f"t{j}" for j in range(100000)) +
          "]\n"), rc=0, compiled=1, timeout=60)
case("multiply: 100,000 exceptions on one rule",
     rule("r", "evt.type = open", R + "  exceptions:\n" +
          "".join(f"    - {{name: e{j}, fields: proc.name}}\n" for j in range(100000))),
     rc=0, compiled=1, timeout=60)
case("multiply: 20,000 lists with blanks in their names and 20,000 rules",
     "".join(f"- list: \"my list {j}\"\n  items: [a{j}]\n" for j in range(20000)) +
     "".join(rule(f"r{j}", f"evt.type = open and proc.name = x{j}") for j in range(20000)),
     rc=0, code="LOAD_INVALID_LIST_NAME", pos=(1, 9), compiled=20000, timeout=60)

print(f"1..{n}")
sys.exit(1 if failed else 0)
