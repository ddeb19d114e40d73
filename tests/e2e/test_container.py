"""The container image (packaging/container): built here from the binary under test, run
with podman the way docs/deploy.md says (privileged, host PID namespace, the host's / at
/host read-only), it detects another container reading /etc/shadow and writes the alert as
a JSON line on its stdout; /healthz and /metrics answer inside its network namespace;
SIGTERM (podman stop) ends it cleanly. The same again with the DaemonSet's pod
(packaging/kubernetes) imitated by podman: its capabilities instead of --privileged, its
seccomp setting, read-only root, host mounts, ConfigMap, command and environment.

Every image and container this test makes is named saker-pkg-test-*, and removed at the
end. podman needs the runc runtime and explicit ulimits on this kind of machine
(MACHINE-NOTES: crun refuses the hybrid cgroup layout; root lacks CAP_SYS_RESOURCE).

Usage: test_container.py PATH/TO/saker (as root, with podman and runc; skipped otherwise)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from saker_harness import SkipCase, Tap, sensor_from_argv, skip_all  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_IMAGE = os.path.join(TOP, "packaging", "container", "build-image")
PREFIX = "saker-pkg-test"
RULE = "Shadow password file read by unexpected program"
NODE = PREFIX + "-node"
# In the reader's command line, so that its alert is told from any other cat of
# /etc/shadow on the host (other tests make some).
MARK = "%s-reader-%d" % (PREFIX, os.getpid())
RUN_FLAGS = ["--runtime", "runc", "--ulimit", "nofile=20000:20000",
             "--ulimit", "nproc=32768:32768"]


def podman(*args, timeout=120, check=True):
    p = subprocess.run(["podman"] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("podman %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                         p.stderr.strip()[-1500:]))
    return p


def wait_file(path, needle, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, "rb") as f:
            if needle in f.read():
                return True
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(path, "rb") as f:
        return needle in f.read()


def alerts(path):
    """The JSON alerts on the sensor container's stdout, and the lines that are not JSON."""
    good, bad = [], []
    with open(path, "rb") as f:
        for raw in f.read().splitlines():
            try:
                obj = json.loads(raw.decode("utf-8"))
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
                good.append(obj)
            except ValueError:
                bad.append(raw)
    return good, bad


def cannot_unpack(stderr):
    """podman and buildah unpack layers in a private mount namespace after remounting /;
    in a chroot whose / is not a mount point (tools/fresh-machine.sh) that fails with
    EINVAL, and no image can be built there at all: a limit of the place, not of saker."""
    if "remount /" in stderr and "invalid argument" in stderr:
        raise SkipCase("podman cannot unpack image layers here (/ is not a mount point: a "
                       "chroot?): " + stderr.strip()[-200:])


def remove_leftovers():
    """Containers and images of an earlier run of this test that was killed before its
    cleanup: their names end in the pid of a process that no longer exists. Nobody
    else's (other tests use other prefixes)."""
    def dead(name):
        m = re.search(r"[-:](\d+)(?:-reader)?$", name)
        return m and not os.path.exists("/proc/" + m.group(1))

    for name in podman("ps", "-a", "--format", "{{.Names}}", check=False).stdout.split():
        if name.startswith(PREFIX + "-") and dead(name):
            podman("rm", "-f", "--ignore", name, check=False)
    images = podman("images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout
    for ref in images.split():
        if ref.startswith("localhost/" + PREFIX + "-") and dead(ref):
            podman("rmi", "-f", "--ignore", ref, check=False)


def daemonset_args(tag, work):
    """podman arguments that run the image as packaging/kubernetes' DaemonSet runs it:
    (args, health port, health path). Host paths that do not exist here are left out (the
    runtime would create them empty); SYS_RESOURCE is left out when this process lacks it
    (root here does: MACHINE-NOTES), since podman cannot grant what it does not have."""
    try:
        import yaml
    except ImportError:
        raise SkipCase("python3-yaml is not installed")
    k8s = os.path.join(TOP, "packaging", "kubernetes")
    docs = {}
    for f in sorted(os.listdir(k8s)):
        if f.endswith(".yaml"):
            with open(os.path.join(k8s, f), encoding="utf-8") as fh:
                for d in yaml.safe_load_all(fh):
                    if d:
                        docs[d["kind"]] = d
    pod = docs["DaemonSet"]["spec"]["template"]["spec"]
    ctr = pod["containers"][0]
    sc = ctr["securityContext"]
    cm = docs["ConfigMap"]
    cfg = yaml.safe_load(cm["data"]["saker.yaml"])
    etc = os.path.join(work, "configmap")
    os.makedirs(etc, exist_ok=True)
    for key, text in cm["data"].items():
        with open(os.path.join(etc, key), "w", encoding="utf-8") as f:
            f.write(text)
    with open("/proc/self/status") as f:
        bnd = int(next(l for l in f if l.startswith("CapBnd:")).split()[1], 16)
    caps = [c for c in sc["capabilities"]["add"] if c != "SYS_RESOURCE" or bnd >> 24 & 1]
    args = ["--cap-drop=all", "--cap-add=" + ",".join(caps)]
    if sc.get("privileged"):
        args.append("--privileged")
    if sc.get("seccompProfile", {}).get("type") == "Unconfined":
        args += ["--security-opt", "seccomp=unconfined"]
    if sc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if pod.get("hostPID"):
        args.append("--pid=host")
    args.append("--network=none")  # its own network namespace, as hostNetwork: false
    args += ["--user", "%d:%d" % (sc.get("runAsUser", 0), sc.get("runAsGroup", 0))]
    vols = {v["name"]: v for v in pod["volumes"]}
    for m in ctr["volumeMounts"]:
        v = vols[m["name"]]
        ro = ":ro" if m.get("readOnly") else ""
        if "configMap" in v:
            args += ["-v", "%s:%s%s" % (etc, m["mountPath"], ro)]
        elif os.path.exists(v["hostPath"]["path"]):
            args += ["-v", "%s:%s%s" % (v["hostPath"]["path"], m["mountPath"], ro)]
    for e in ctr.get("env", []):
        if e["name"] == "SAKER_HOSTNAME":
            args += ["-e", "SAKER_HOSTNAME=" + NODE]
    args += ["--entrypoint", ctr["command"][0], tag] + ctr["command"][1:] + ctr["args"]
    web = cfg["webserver"]
    return args, web["listen_port"], web["k8s_healthz_endpoint"]


def exercise(tap, state, what, name, run_args, work, reader_tag, port, health):
    """Starts the sensor container `name` with run_args, checks it is ready, that the
    reader container's /etc/shadow read comes out as a JSON alert, the endpoints inside its
    network namespace, and podman stop. Returns the podman process."""
    out_path = os.path.join(work, name + ".stdout")
    err_path = os.path.join(work, name + ".stderr")
    reader_name = name + "-reader"
    sensor = None

    def start(c):
        nonlocal sensor
        if not state.get("built"):
            raise SkipCase("no image")
        args = ["run", "--rm", "--name", name] + RUN_FLAGS + run_args
        c.note("podman " + " ".join(args))
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            sensor = subprocess.Popen(["podman"] + args, stdin=subprocess.DEVNULL,
                                      stdout=out, stderr=err)
        ready = wait_file(err_path, b"saker: info: ready: ", 60, sensor)
        with open(err_path, errors="replace") as f:
            err_text = f.read()
        c.ok(ready, "the sensor container is not ready; its stderr:\n" + err_text[-3000:])
        for line in err_text.splitlines():
            if line.startswith("saker: info: ready") or "attached" in line:
                c.note(line)
        c.ok("saker: error" not in err_text and "saker: warning" not in err_text,
             "errors or warnings at start:\n" + err_text[-3000:])
        state[name] = ready

    tap.case("%s: starts with the host's PID namespace" % what, start)

    def detect(c):
        if not state.get(name) or not state.get("reader"):
            raise SkipCase("no sensor or no reader image")
        p = podman("run", "--rm", "--name", reader_name, *RUN_FLAGS, "--network=none",
                   reader_tag)
        c.ok("root:*:" in p.stdout, "the reader did not print the file: %r" % p.stdout)
        deadline = time.monotonic() + 10
        hit = None
        while time.monotonic() < deadline and hit is None:
            good, bad = alerts(out_path)
            hit = next((a for a in good if a.get("rule") == RULE and
                        MARK in (a.get("output_fields", {}).get("proc.cmdline") or "")),
                       None)
            time.sleep(0.1)
        good, bad = alerts(out_path)
        if not c.ok(hit is not None, "no %r alert for the reader on the sensor's stdout; "
                    "its stdout (%d JSON lines): %r" % (RULE, len(good), good[-5:])):
            return
        c.ok(not bad, "lines on stdout that are not JSON: %r" % bad[:3])
        f = hit["output_fields"]
        c.eq("proc.name", f.get("proc.name"), "cat")
        c.eq("fd.name", f.get("fd.name"), "/etc/shadow")
        c.eq("proc.exepath", f.get("proc.exepath"), "/bin/cat")
        c.eq("user.name (from the host's /etc under /host)", f.get("user.name"), "root")
        c.eq("hostname (SAKER_HOSTNAME)", hit.get("hostname"), NODE)
        c.eq("priority", hit.get("priority"), "Warning")
        c.note("alert: " + hit.get("output", ""))

    tap.case("%s: another container's /etc/shadow read raises a JSON alert on stdout"
             % what, detect)

    def endpoints(c):
        if not state.get(name):
            raise SkipCase("no sensor")
        pid = podman("inspect", "-f", "{{.State.Pid}}", name).stdout.strip()
        script = ("import urllib.request as u, sys\n"
                  "for p in sys.argv[2:]:\n"
                  "    r = u.urlopen('http://127.0.0.1:%s' % sys.argv[1] + p, timeout=5)\n"
                  "    print(p, r.status, r.read().decode())\n")
        p = subprocess.run(["nsenter", "-t", pid, "-n", sys.executable, "-c", script,
                            str(port), health, "/metrics"],
                           capture_output=True, text=True, timeout=30)
        c.eq("probe exit status (%s)" % p.stderr.strip()[-500:], p.returncode, 0)
        c.ok('%s 200 {"status":"ok"}' % health in p.stdout, "health: %r" % p.stdout[:300])
        c.ok('saker_alerts_total{rule="%s",priority="Warning"}' % RULE in p.stdout,
             "/metrics does not count the alert")

    tap.case("%s: %s and /metrics on port %s of its network namespace"
             % (what, health, port), endpoints)

    def stop(c):
        if sensor is None:
            raise SkipCase("no sensor")
        t0 = time.monotonic()
        podman("stop", "-t", "20", name, check=False)
        try:
            rc = sensor.wait(30)
        except subprocess.TimeoutExpired:
            sensor.kill()
            rc = "hung"
        with open(err_path, errors="replace") as f:
            err_text = f.read()
        c.eq("exit status after podman stop", rc, 0)
        c.ok("saker: info: exit: daemon:" in err_text,
             "no exit counters on stderr:\n" + err_text[-2000:])
        c.note("stopped in %.1f s" % (time.monotonic() - t0))

    tap.case("%s: podman stop (SIGTERM) ends it cleanly" % what, stop)
    return sensor


def main():
    exe = sensor_from_argv("podman runs privileged containers as root only")
    for tool in ("podman", "runc", "nsenter"):
        if not shutil.which(tool):
            skip_all("%s is not installed (scripts/setup-deps installs it)" % tool)
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.access(busybox, os.X_OK):
        skip_all("busybox-static is not installed")

    tap = Tap()
    remove_leftovers()
    tag = "localhost/%s-saker:%d" % (PREFIX, os.getpid())
    tag_buildah = "localhost/%s-saker-buildah:%d" % (PREFIX, os.getpid())
    reader_tag = "localhost/%s-reader:%d" % (PREFIX, os.getpid())
    work = tempfile.mkdtemp(prefix=PREFIX + "-")
    state = {}

    def build(c):
        t0 = time.monotonic()
        p = subprocess.run([BUILD_IMAGE, "-b", exe, "-t", tag], capture_output=True,
                           text=True, timeout=300)
        cannot_unpack(p.stderr)
        c.eq("build-image exit status", p.returncode, 0)
        c.ok(p.stdout.strip().splitlines()[-1:] == [tag],
             "build-image prints the tag last: %r %s" % (p.stdout, p.stderr))
        c.note("built in %.1f s" % (time.monotonic() - t0))
        size = int(podman("image", "inspect", "-f", "{{.Size}}", tag).stdout.strip())
        c.note("image size: %d bytes (%.2f MB); the binary: %d bytes"
               % (size, size / 1e6, os.path.getsize(exe)))
        c.ok(size < os.path.getsize(exe) + 1024 * 1024,
             "the image is more than the binary and its two text files: %d bytes" % size)
        cfg = json.loads(podman("image", "inspect", tag).stdout)[0]["Config"]
        c.eq("entrypoint", cfg.get("Entrypoint"),
             ["/usr/bin/saker", "-c", "/etc/saker/saker.yaml"])
        c.eq("cmd", cfg.get("Cmd"), ["-o", "state.host_root=/host", "-o", "json_output=true"])
        # Its files: exactly the binary, the configuration and the ruleset's text.
        cid = podman("create", "--name", "%s-files-%d" % (PREFIX, os.getpid()),
                     tag).stdout.strip()
        try:
            tar = os.path.join(work, "fs.tar")
            podman("export", "-o", tar, cid)
            with tarfile.open(tar) as t:
                files = sorted(m.name.lstrip("./") for m in t.getmembers() if m.isfile())
                mode = {m.name.lstrip("./"): m.mode for m in t.getmembers() if m.isfile()}
                contents = {m.name.lstrip("./"): t.extractfile(m).read()
                            for m in t.getmembers() if m.isfile() and m.name.endswith(".yaml")}
        finally:
            podman("rm", "-f", cid, check=False)
        c.eq("files in the image", files,
             ["etc/saker/saker.yaml", "usr/bin/saker", "usr/share/saker/saker_rules.yaml"])
        c.eq("the binary's mode", oct(mode.get("usr/bin/saker", 0) & 0o7777), oct(0o755))
        for inside, src in (("etc/saker/saker.yaml", "config/saker.yaml"),
                            ("usr/share/saker/saker_rules.yaml", "rules/saker_rules.yaml")):
            with open(os.path.join(TOP, src), "rb") as f:
                c.ok(contents.get(inside) == f.read(), "%s in the image is not %s" % (inside, src))
        state["built"] = True

    tap.case("build-image builds the image (podman)", build)

    def build_buildah(c):
        if not shutil.which("buildah"):
            raise SkipCase("buildah is not installed")
        p = subprocess.run([BUILD_IMAGE, "--buildah", "-b", exe, "-t", tag_buildah],
                           capture_output=True, text=True, timeout=300)
        cannot_unpack(p.stderr)
        c.eq("build-image --buildah exit status (%s)" % p.stderr.strip(), p.returncode, 0)
        ids = podman("image", "inspect", "-f", "{{.Size}}", tag_buildah, check=False)
        c.eq("buildah's image is visible to podman", ids.returncode, 0)

    tap.case("build-image --buildah", build_buildah)

    def reader_image(c):
        ctx = os.path.join(work, "reader")
        os.makedirs(ctx)
        # busybox picks its applet from argv[0]: copied as /bin/cat, it is cat, with the
        # process name "cat", which no rule exception covers.
        shutil.copy(busybox, os.path.join(ctx, "cat"))
        with open(os.path.join(ctx, "shadow"), "w") as f:
            f.write("root:*:19000:0:99999:7:::\n")
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write("FROM scratch\nCOPY cat /bin/cat\nCOPY shadow /etc/shadow\n"
                    'COPY shadow /etc/%s\n'
                    'ENTRYPOINT ["/bin/cat", "/etc/shadow", "/etc/%s"]\n' % (MARK, MARK))
        p = podman("build", "--quiet", "--pull=never", "-t", reader_tag, ctx, check=False)
        cannot_unpack(p.stderr)
        c.eq("podman build exit status (%s)" % p.stderr.strip()[-1000:], p.returncode, 0)
        state["reader"] = True

    tap.case("a busybox image that reads /etc/shadow", reader_image)

    sensors = []
    try:
        # As docs/deploy.md runs it with podman: privileged, the host's whole / at /host.
        plain = (["--privileged", "--pid=host", "--network=none", "-v", "/:/host:ro,rslave",
                  "-e", "SAKER_HOSTNAME=" + NODE, tag])
        sensors.append(exercise(tap, state, "podman --privileged", "%s-sensor-%d"
                                % (PREFIX, os.getpid()), plain, work, reader_tag,
                                8765, "/healthz"))
        # The DaemonSet's pod, imitated: its capabilities, seccomp, read-only root, host
        # mounts, ConfigMap, command and environment.
        try:
            pod_args, port, path = daemonset_args(tag, work)
        except SkipCase as e:
            tap.report("the DaemonSet's pod, imitated with podman", skip=str(e))
        else:
            sensors.append(exercise(tap, state, "the DaemonSet's pod", "%s-pod-%d"
                                    % (PREFIX, os.getpid()), pod_args, work, reader_tag,
                                    port, path))

        def seccomp(c):
            if not state.get("built"):
                raise SkipCase("no image")
            p = podman("run", "--rm", "--name", "%s-seccomp-%d" % (PREFIX, os.getpid()),
                       *RUN_FLAGS, "--cap-drop=all", "--cap-add=BPF,PERFMON", "--pid=host",
                       "--network=none", tag, "-M", "5", check=False, timeout=60)
            c.eq("exit status", p.returncode, 1)
            c.ok("bpf() was refused" in p.stderr and "seccomp" in p.stderr,
                 "the refusal is not explained:\n" + p.stderr[-1500:])

        tap.case("with the runtime's default seccomp profile, saker says bpf() is refused",
                 seccomp)
    finally:
        for s in sensors:
            if s is not None and s.poll() is None:
                s.kill()
                s.wait()
        names = podman("ps", "-a", "--format", "{{.Names}}", check=False).stdout.split()
        for name in names:
            if name.startswith(PREFIX + "-") and ("-%d" % os.getpid()) in name:
                podman("rm", "-f", "--ignore", name, check=False)
        for t in (tag, tag_buildah, reader_tag):
            podman("rmi", "-f", "--ignore", t, check=False)
        shutil.rmtree(work, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
