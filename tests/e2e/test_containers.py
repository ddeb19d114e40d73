#!/usr/bin/env python3
"""Container awareness on real containers this test creates: runc with a Docker-like and a
Kubernetes-like cgroup path and CRI annotations, containerd (private daemon, namespace
k8s.io, an OCI image built here with umoci and imported), podman; a shell started in each
raises an alert whose container fields are the container's; a host shell says "host"; 1,000
short-lived runc containers leave the container cache where it started.

    python3 tests/e2e/test_containers.py build/src/saker

Everything created here is named saker-test-*, and removed at the end (containers, the
cgroups runc leaves behind, the private containerd and its state)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import SkipCase, Tap, parse_counters, sensor_from_argv, skip_all  # noqa: E402

RULES = """
- rule: saker-test shell in container
  desc: a marked shell in a container
  condition: >
    evt.type in (execve, execveat) and container.id != host
    and proc.name = sh and proc.cmdline contains saker-mark
  output: >
    shell in container (cmdline=%proc.cmdline id=%container.id full=%container.full_id
    name=%container.name image=%container.image repo=%container.image.repository
    tag=%container.image.tag type=%container.type privileged=%container.privileged
    pod=%k8s.pod.name ns=%k8s.ns.name poduid=%k8s.pod.uid hostnet=%container.host_network)
  priority: WARNING
- rule: saker-test host shell
  desc: a marked shell on the host
  condition: >
    evt.type in (execve, execveat) and proc.name = sh
    and proc.cmdline contains saker-hostmark
  output: host shell (cmdline=%proc.cmdline id=%container.id name=%container.name image=%container.image.repository)
  priority: WARNING
- rule: saker-test burst
  desc: the short-lived containers
  condition: >
    evt.type in (execve, execveat) and container.id != host
    and proc.cmdline contains saker-burst
  output: burst (id=%container.full_id name=%container.name)
  priority: INFO
"""

POD_UID = "5a4e7e57-0000-4000-8000-00000000c0de"
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STABLE_RULES = os.environ.get("SAKER_FALCO_RULES") or os.path.normpath(
    os.path.join(SRC, "..", "shared", "corpus", "falco-rules", "falco_rules.yaml"))
BURST = int(os.environ.get("SAKER_CONTAINERS_BURST", "1000"))


def hexid(tag, n):
    """A 64-hex container id that says which test made it: 5a4e7 ("saker"), a tag, n."""
    return ("5a4e7%02x%08x" % (tag, n)).ljust(64, "0")


# ---------------------------------------------------------------------------- cgroups


def cgroup_mounts():
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            i = parts.index("-")
            if parts[i + 1] in ("cgroup", "cgroup2"):
                out.append(parts[4])
    return out


def remove_cgroups(paths):
    """rmdir each path (relative to every hierarchy), deepest first; a directory that is
    not empty (someone else's) stays."""
    for rel in sorted(set(paths), key=lambda p: -p.count("/")):
        for m in cgroup_mounts():
            p = os.path.join(m, rel.strip("/"))
            if os.path.isdir(p):
                try:
                    os.rmdir(p)
                except OSError:
                    pass


def parents(path):
    """/a/b/c -> [/a/b/c, /a/b, /a]"""
    out = []
    while path not in ("", "/"):
        out.append(path)
        path = os.path.dirname(path)
    return out


# ---------------------------------------------------------------------------- runc


class Runc:
    def __init__(self, work):
        self.work = work
        self.rootfs = os.path.join(work, "rootfs")
        os.makedirs(os.path.join(self.rootfs, "bin"))
        shutil.copy("/bin/busybox", os.path.join(self.rootfs, "bin", "busybox"))
        os.symlink("busybox", os.path.join(self.rootfs, "bin", "sh"))
        os.symlink("busybox", os.path.join(self.rootfs, "bin", "true"))
        os.symlink("busybox", os.path.join(self.rootfs, "bin", "apk"))
        os.symlink("busybox", os.path.join(self.rootfs, "bin", "nc"))
        spec_dir = os.path.join(work, "spec")
        os.makedirs(spec_dir)
        subprocess.run(["runc", "spec"], cwd=spec_dir, check=True)
        with open(os.path.join(spec_dir, "config.json")) as f:
            self.spec = json.load(f)
        self.names = []
        self.cgroups = []

    def bundle(self, name, args, cgroup, annotations=None):
        b = os.path.join(self.work, "b-" + name)
        os.makedirs(b, exist_ok=True)
        c = json.loads(json.dumps(self.spec))
        c["process"]["terminal"] = False
        c["process"]["args"] = args
        c["root"] = {"path": self.rootfs, "readonly": True}
        c["linux"]["cgroupsPath"] = cgroup
        if annotations:
            c["annotations"] = annotations
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(c, f)
        self.names.append(name)
        self.cgroups.extend(parents(cgroup))
        return b

    def run_detached(self, name, args, cgroup, annotations=None):
        b = self.bundle(name, args, cgroup, annotations)
        subprocess.run(["runc", "run", "-d", "-b", b, name], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=30)

    def run(self, name, args, cgroup):
        """runc run to completion; the container is gone after, so only its cgroups are
        remembered for the cleanup."""
        b = self.bundle(name, args, cgroup)
        self.names.remove(name)
        subprocess.run(["runc", "run", "-b", b, name], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        return b

    def cleanup(self):
        for n in self.names:
            subprocess.run(["runc", "delete", "-f", n], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        remove_cgroups(self.cgroups)


# ---------------------------------------------------------------------------- containerd


class Containerd:
    """A private containerd: its own root, state dir and socket; no CRI plugin."""

    def __init__(self, work):
        self.dir = os.path.join(work, "containerd")
        self.state = os.path.join(self.dir, "state")
        self.sock = os.path.join(self.dir, "containerd.sock")
        os.makedirs(self.dir)
        cfg = os.path.join(self.dir, "config.toml")
        with open(cfg, "w") as f:
            f.write('version = 2\nroot = "%s/root"\nstate = "%s"\n'
                    '[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s/ttrpc.sock"\n'
                    '[plugins."io.containerd.grpc.v1.cri"]\n  disable = true\n'
                    % (self.dir, self.state, self.sock, self.dir))
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(["containerd", "--config", cfg], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        self.ids = []
        self.cgroups = []
        deadline = time.monotonic() + 10
        while not self.ctr("version", check=False).returncode == 0:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("private containerd did not start")
            time.sleep(0.05)

    def ctr(self, *args, check=True, timeout=60):
        return subprocess.run(["ctr", "-a", self.sock, "-n", "k8s.io"] + list(args),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=check, timeout=timeout)

    def run(self, image, cid, cgroup, annotations, args):
        cmd = ["run", "-d", "--cgroup", cgroup]
        for k, v in annotations.items():
            cmd += ["--annotation", "%s=%s" % (k, v)]
        self.ids.append(cid)
        self.cgroups.extend(parents(cgroup))
        self.ctr(*(cmd + [image, cid] + args))

    def cleanup(self):
        for cid in self.ids:
            self.ctr("task", "kill", "-s", "KILL", cid, check=False)
        for cid in self.ids:
            for _ in range(50):
                if self.ctr("task", "rm", "-f", cid, check=False).returncode == 0:
                    break
                time.sleep(0.05)
            self.ctr("container", "rm", cid, check=False)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        remove_cgroups(self.cgroups)


def build_oci_tarball(work, tag):
    """A busybox image in OCI layout, made with umoci, as a tarball for ctr image import."""
    layout = os.path.join(work, "oci")
    unpacked = os.path.join(work, "oci-unpacked")
    run = lambda *a: subprocess.run(list(a), check=True, stdout=subprocess.DEVNULL,  # noqa
                                    stderr=subprocess.PIPE, timeout=60)
    run("umoci", "init", "--layout", layout)
    run("umoci", "new", "--image", "%s:%s" % (layout, tag))
    run("umoci", "unpack", "--image", "%s:%s" % (layout, tag), unpacked)
    os.makedirs(os.path.join(unpacked, "rootfs", "bin"), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(unpacked, "rootfs", "bin", "busybox"))
    os.symlink("busybox", os.path.join(unpacked, "rootfs", "bin", "sh"))
    run("umoci", "repack", "--image", "%s:%s" % (layout, tag), unpacked)
    tarball = os.path.join(work, "image.tar")
    run("tar", "-C", layout, "-cf", tarball, ".")
    return tarball


# ---------------------------------------------------------------------------- the sensor


class Sensor:
    def __init__(self, exe, work, extra=()):
        self.rules = os.path.join(work, "rules.yaml")
        with open(self.rules, "w") as f:
            f.write(RULES)
        self.out_path = os.path.join(work, "alerts.jsonl")
        self.err_path = os.path.join(work, "stderr.txt")
        # The spec's suggested container fields appended to every output (append_output).
        self.config = os.path.join(work, "saker.yaml")
        with open(self.config, "w") as f:
            f.write("append_output:\n  - suggested_output: true\n")
        stable = ["-r", STABLE_RULES] if os.path.exists(STABLE_RULES) else []
        args = [exe, "-U", "-M", "600", "-c", self.config, "-r", "@default"] + stable + [
                "-r", self.rules,
                "-o", "json_output=true",
                "-o", "webserver.listen_port=0", "-o", "rule_matching=all"] + list(extra)
        with open(self.out_path, "wb") as o, open(self.err_path, "wb") as e:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=o, stderr=e)
        self.port = None

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            err = self.stderr()
            m = re.search(r"webserver: listening on 127\.0\.0\.1:(\d+)", err)
            if m:
                self.port = int(m.group(1))
            if "saker: info: ready: " in err:
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def alerts(self):
        out = []
        with open(self.out_path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def wait_alert(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            for a in self.alerts():
                if pred(a):
                    return a
            if time.monotonic() > deadline or self.proc.poll() is not None:
                return None
            time.sleep(0.05)

    def metrics(self):
        if not self.port:
            return {}
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port,
                                      timeout=5).read().decode()
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name, _, val = line.rpartition(" ")
                try:
                    out[name] = float(val)
                except ValueError:
                    pass
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def fields_of(alert):
    return alert.get("output_fields", {})


def check_fields(c, alert, want):
    if alert is None:
        c.fail("no alert")
        return
    f = fields_of(alert)
    for k, v in want.items():
        c.eq(k, f.get(k), v)


def marked(mark):
    return lambda a: mark in (fields_of(a).get("proc.cmdline") or "")


# ---------------------------------------------------------------------------- cases


def case_runc_docker(c, s, runc):
    cid = hexid(1, 1)
    name = "saker-test-" + cid
    ann = {"io.kubernetes.cri.container-name": "web",
           "io.kubernetes.cri.image-name": "docker.io/library/busybox:1.36",
           "io.kubernetes.cri.sandbox-name": "web-pod-1",
           "io.kubernetes.cri.sandbox-namespace": "shop",
           "io.kubernetes.cri.sandbox-uid": POD_UID}
    runc.run_detached(name, ["/bin/sh", "-c", "/bin/busybox sleep 3; : saker-mark-docker"],
                      "/docker/" + cid, ann)
    a = s.wait_alert(marked("saker-mark-docker"))
    check_fields(c, a, {"container.id": cid[:12], "container.full_id": cid,
                        "container.name": "web",
                        "container.image": "docker.io/library/busybox:1.36",
                        "container.image.repository": "docker.io/library/busybox",
                        "container.image.tag": "1.36", "container.type": "runc",
                        "container.privileged": False, "k8s.pod.name": "web-pod-1",
                        "k8s.ns.name": "shop", "k8s.pod.uid": POD_UID,
                        "container.host_network": False})
    if a:
        suffix = ("container_id=%s container_name=web container_image_repository="
                  "docker.io/library/busybox container_image_tag=1.36 k8s_pod_name=web-pod-1 "
                  "k8s_ns_name=shop" % cid[:12])
        c.ok(a.get("output", "").endswith(suffix),
             "output does not end with the suggested fields %r: %r" % (suffix, a.get("output")))


def case_default_rule(c, s, runc):
    """saker's default ruleset on a container: a package manager run in one."""
    cid = hexid(1, 3)
    ann = {"io.kubernetes.cri.container-name": "builder",
           "io.kubernetes.cri.image-name": "registry.example:5000/team/app:v2",
           "io.kubernetes.cri.sandbox-name": "app-0",
           "io.kubernetes.cri.sandbox-namespace": "ci"}
    runc.run_detached("saker-test-" + cid,
                      ["/bin/sh", "-c", "/bin/apk add saker-mark-pkg; /bin/busybox sleep 3"],
                      "/kubepods/burstable/pod%s/%s" % (POD_UID, cid), ann)
    a = s.wait_alert(lambda a: a.get("rule") == "Package manager run in container" and
                     "saker-mark-pkg" in (fields_of(a).get("proc.cmdline") or ""))
    check_fields(c, a, {"container.id": cid[:12], "container.name": "builder",
                        "container.image.repository": "registry.example:5000/team/app",
                        "container.image.tag": "v2", "k8s.pod.name": "app-0",
                        "k8s.ns.name": "ci"})


def case_stable_rule(c, s, runc):
    """The community stable ruleset's container rules fire now that container.id is real:
    netcat with -e in a container (the container's network namespace has no route, so
    the connection fails at once)."""
    if not os.path.exists(STABLE_RULES):
        raise SkipCase("%s not found (set SAKER_FALCO_RULES)" % STABLE_RULES)
    cid = hexid(1, 4)
    runc.run_detached("saker-test-" + cid,
                      ["/bin/sh", "-c", "/bin/nc -e /bin/true 127.0.0.1 9; /bin/busybox sleep 2"],
                      "/docker/" + cid, {"io.kubernetes.cri.container-name": "netcat"})
    a = s.wait_alert(lambda a: a.get("rule") == "Netcat Remote Code Execution in Container" and
                     fields_of(a).get("container.id") == cid[:12])
    check_fields(c, a, {"container.id": cid[:12], "container.name": "netcat",
                        "proc.name": "nc"})


def case_runtime_quiet(c, s):
    """Starting containers is not an attack: no default rule fired on runc's own setup
    processes (runc:[0:PARENT], [1:CHILD], [2:INIT] switch ids, make namespaces, ...)."""
    for a in s.alerts():
        if a.get("rule", "").startswith("saker-test"):
            continue
        name = fields_of(a).get("proc.name") or ""
        if name.startswith("runc"):
            c.fail("%s: %s" % (a.get("rule"), a.get("output", "")[:300]))


def case_runc_kubepods(c, s, runc):
    cid = hexid(1, 2)
    name = "saker-test-" + cid
    runc.run_detached(name, ["/bin/sh", "-c", "/bin/busybox sleep 3; : saker-mark-kubepods"],
                      "/kubepods/besteffort/pod%s/%s" % (POD_UID, cid), None)
    a = s.wait_alert(marked("saker-mark-kubepods"))
    # No annotations: runc's own name for it; no image, no pod (missing, not guessed).
    check_fields(c, a, {"container.id": cid[:12], "container.name": name,
                        "container.image.repository": None, "k8s.pod.name": None,
                        "k8s.ns.name": None})


def case_containerd(c, s, cd, image):
    cid = hexid(2, 1)
    ann = {"io.kubernetes.cri.container-type": "container",
           "io.kubernetes.cri.container-name": "api",
           "io.kubernetes.cri.image-name": image,
           "io.kubernetes.cri.sandbox-id": hexid(2, 2),
           "io.kubernetes.cri.sandbox-name": "api-7d4b9c-x2x",
           "io.kubernetes.cri.sandbox-namespace": "payments",
           "io.kubernetes.cri.sandbox-uid": POD_UID}
    cd.run(image, cid, "/kubepods/besteffort/pod%s/%s" % (POD_UID, cid), ann,
           ["/bin/sh", "-c", "/bin/busybox sleep 3; : saker-mark-containerd"])
    a = s.wait_alert(marked("saker-mark-containerd"))
    check_fields(c, a, {"container.id": cid[:12], "container.name": "api",
                        "container.image.repository": "docker.io/saker-test/busybox",
                        "container.image.tag": "1.36", "container.type": "containerd",
                        "k8s.pod.name": "api-7d4b9c-x2x", "k8s.ns.name": "payments",
                        "k8s.pod.uid": POD_UID})


def case_capture_replay(c, exe, work, runc):
    """A capture recorded while a container runs (-w), replayed (-e): the same alerts byte
    for byte, container fields included. The runtime's files are read live only; the
    replay answers from the capture (docs/capture.md), so the container's name, image and
    pod come back although its state is gone by then."""
    sub = os.path.join(work, "capture")
    os.makedirs(sub)
    cap = os.path.join(sub, "live.cap.gz")
    s2 = Sensor(exe, sub, ["-w", cap])
    try:
        if not s2.wait_ready():
            c.fail("capture sensor not ready:\n" + s2.stderr()[-2000:])
            return
        cid = hexid(1, 9)
        runc.run_detached("saker-test-" + cid,
                          ["/bin/sh", "-c", "/bin/busybox sleep 2; : saker-mark-capture"],
                          "/docker/" + cid,
                          {"io.kubernetes.cri.container-name": "recorded",
                           "io.kubernetes.cri.image-name": "docker.io/library/busybox:1.36",
                           "io.kubernetes.cri.sandbox-name": "rec-pod",
                           "io.kubernetes.cri.sandbox-namespace": "rec"})
        a = s2.wait_alert(marked("saker-mark-capture"))
        check_fields(c, a, {"container.id": cid[:12], "container.name": "recorded",
                            "k8s.pod.name": "rec-pod"})
        time.sleep(0.5)
    finally:
        rc = s2.stop()
    c.ok(rc == 0, "capture sensor exit status %r" % rc)
    with open(s2.out_path, "rb") as f:
        live = f.read()
    stable = ["-r", STABLE_RULES] if os.path.exists(STABLE_RULES) else []
    args = [exe, "-U", "-c", s2.config, "-r", "@default"] + stable + [
        "-r", s2.rules, "-o", "json_output=true", "-o", "rule_matching=all", "-e", cap]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    c.ok(p.returncode == 0, "replay exit status %d: %s" % (
        p.returncode, p.stderr.decode("utf-8", "replace")[-1000:]))
    if p.stdout != live:
        a, b = live.split(b"\n"), p.stdout.split(b"\n")
        i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
        c.fail("replayed alerts differ from live (%d vs %d lines) at line %d:\n live:   %r\n"
               " replay: %r" % (len(a), len(b), i, a[i][:600] if i < len(a) else None,
                                b[i][:600] if i < len(b) else None))
    else:
        c.ok(b"saker-mark-capture" in p.stdout, "the container's alert is not in the replay")


def case_podman(c, s, work):
    ctx = os.path.join(work, "podman-ctx")
    os.makedirs(os.path.join(ctx, "bin"))
    shutil.copy("/bin/busybox", os.path.join(ctx, "bin", "busybox"))
    os.symlink("busybox", os.path.join(ctx, "bin", "sh"))
    with open(os.path.join(ctx, "Containerfile"), "w") as f:
        f.write("FROM scratch\nCOPY bin /bin\n")
    image = "localhost/saker-test-busybox:1.36"
    name = "saker-test-pm-%d" % os.getpid()
    r = subprocess.run(["podman", "build", "-q", "-t", image, ctx], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if r.returncode:
        c.fail("podman build: %s" % r.stderr.decode(errors="replace")[-500:])
        return
    try:
        r = subprocess.run(["podman", "run", "-d", "--rm", "--name", name, "--runtime", "runc",
                            "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
                            "--privileged", image,
                            "/bin/sh", "-c", "/bin/busybox sleep 3; : saker-mark-podman"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if r.returncode:
            c.fail("podman run: %s" % r.stderr.decode(errors="replace")[-500:])
            return
        cid = r.stdout.decode().strip()
        a = s.wait_alert(marked("saker-mark-podman"))
        check_fields(c, a, {"container.id": cid[:12], "container.name": name,
                            "container.image.repository": "localhost/saker-test-busybox",
                            "container.image.tag": "1.36", "container.type": "podman",
                            "container.privileged": True, "k8s.pod.name": None})
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        subprocess.run(["podman", "rmi", "-f", image], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)


def case_host(c, s):
    subprocess.run(["/bin/sh", "-c", ": saker-hostmark"], check=True)
    a = s.wait_alert(marked("saker-hostmark"))
    check_fields(c, a, {"container.id": "host", "container.name": "host",
                        "container.image.repository": None})
    if a:
        suffix = ("container_id=host container_name=host container_image_repository=<NA> "
                  "container_image_tag=<NA> k8s_pod_name=<NA> k8s_ns_name=<NA>")
        c.ok(a.get("output", "").endswith(suffix),
             "output does not end with %r: %r" % (suffix, a.get("output")))
    # This machine's own processes sit in a hex-named memory cgroup: still the host.
    with open("/proc/self/cgroup") as f:
        c.note("this process's cgroups: " + f.read().replace("\n", " | "))


def case_burst(c, s, runc, state):
    # The cache's size once the earlier cases' containers (3 s sleepers) are gone.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        m0 = s.metrics()
        if m0.get("saker_containers") == 0:
            break
        time.sleep(0.2)
    start = m0.get("saker_containers")
    c.ok(start is not None, "no saker_containers in /metrics")
    t0 = time.monotonic()
    workers = 4
    errors = []

    def worker(w):
        for i in range(w, BURST, workers):
            cid = hexid(3, i)
            try:
                runc.run("saker-test-" + cid, ["/bin/sh", "-c", ": saker-burst"],
                         "/docker/" + cid)
                subprocess.run(["runc", "delete", "-f", "saker-test-" + cid],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    c.note("%d containers in %.1f s (%.0f/s), %d errors" % (BURST, took, BURST / took,
                                                              len(errors)))
    c.ok(not errors, "runc errors: %s" % errors[:3])
    # Every container raised its alert (so each was looked up and cached), but for what
    # the kernel dropped (ring buffer full: other load on the machine) and the execs
    # whose cgroup was gone before the sensor read the event (counted as unknown).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        n = len(set(fields_of(a).get("container.full_id") for a in s.alerts()
                    if a.get("rule") == "saker-test burst"))
        if n >= BURST:
            break
        time.sleep(0.2)
    m1 = s.metrics()
    full = 'saker_kernel_drops_total{reason="ringbuf_full"}'
    drops = m1.get(full, 0) - m0.get(full, 0)
    unknown = m1.get("saker_cgroup_unknown_total", 0) - m0.get("saker_cgroup_unknown_total", 0)
    c.note("containers with a burst alert: %d of %d; kernel drops %d, cgroups gone before "
           "read %d" % (n, BURST, drops, unknown))
    # Each container is accounted for: its alert, or an exec whose cgroup was gone, or a
    # drop. The unknowns are a small minority (the cgroup's mkdir is seen; without that the
    # exec of `sh -c :` and its cgroup live for a few milliseconds).
    if n + unknown + drops < BURST:
        seen = set(fields_of(a).get("container.full_id") for a in s.alerts()
                   if a.get("rule") == "saker-test burst")
        lost = [hexid(3, i) for i in range(BURST) if hexid(3, i) not in seen]
        c.fail("%d alerts + %d unknown cgroups + %d drops < %d; no alert for %s" % (
            n, unknown, drops, BURST, lost[:5]))
    c.ok(n >= BURST * 0.9, "only %d of %d containers raised their alert" % (n, BURST))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        m = s.metrics()
        if m.get("saker_containers") == start:
            break
        time.sleep(0.2)
    c.eq("saker_containers after the burst", m.get("saker_containers"), start)
    c.ok(m.get("saker_container_lookups_total", 0) - m0.get("saker_container_lookups_total", 0)
         >= n, "lookups: %s -> %s" % (m0.get("saker_container_lookups_total"),
                                          m.get("saker_container_lookups_total")))
    c.ok(m.get("saker_container_removals_total", 0) -
         m0.get("saker_container_removals_total", 0) >= n,
         "removals: %s -> %s" % (m0.get("saker_container_removals_total"),
                                 m.get("saker_container_removals_total")))
    c.eq("evictions", m.get("saker_container_evictions_total"), 0)
    c.note("cache: start %s, after %s; lookups %s, found %s, removals %s" % (
        start, m.get("saker_containers"), m.get("saker_container_lookups_total"),
        m.get("saker_container_lookups_found_total"), m.get("saker_container_removals_total")))
    state["burst_start"] = start


def main():
    exe = sensor_from_argv()
    for tool in ("runc", "containerd", "ctr", "umoci", "podman"):
        if not shutil.which(tool):
            skip_all("%s is not installed (scripts/setup-deps installs it)" % tool)
    tap = Tap()
    work = tempfile.mkdtemp(prefix="saker-test-containers-")
    runc = Runc(work)
    cd = None
    s = None
    state = {}
    try:
        # Can containers run here at all? Not in a chroot whose / is not a mount point
        # (tools/fresh-machine.sh): runc cannot pivot its root there. A limit of the place.
        probe = "saker-test-probe-%d" % os.getpid()
        b = runc.bundle(probe, ["/bin/true"], "/" + probe)
        runc.names.remove(probe)
        r = subprocess.run(["runc", "run", "-b", b, probe], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            skip_all("runc cannot run a container here (/ not a mount point: a chroot?): " +
                     r.stderr.decode("utf-8", "replace").strip()[-300:])
        image_tar = build_oci_tarball(work, "1.36")
        cd = Containerd(work)
        image = "docker.io/saker-test/busybox"
        cd.ctr("image", "import", "--base-name", image, image_tar)
        image += ":1.36"
        s = Sensor(exe, work, ["-o", "containers.containerd_dirs=[%s]" % cd.state])
        if not tap.report("sensor ready", [] if s.wait_ready() else
                          ["not ready:\n" + s.stderr()[-3000:]]):
            return tap.finish()
        tap.case("host shell: container.id host", case_host, s)
        tap.case("runc, Docker cgroup path, CRI annotations", case_runc_docker, s, runc)
        tap.case("runc, kubepods cgroup path, no annotations", case_runc_kubepods, s, runc)
        tap.case("default ruleset: package manager in a container", case_default_rule, s, runc)
        tap.case("stable ruleset: netcat -e in a container", case_stable_rule, s, runc)
        tap.case("default ruleset: quiet about runc's own setup", case_runtime_quiet, s)
        tap.case("containerd k8s.io task, CRI annotations", case_containerd, s, cd, image)
        tap.case("podman, privileged", case_podman, s, work)
        tap.case("capture and replay: container alerts byte for byte", case_capture_replay,
                 exe, work, runc)
        tap.case("%d short-lived runc containers: cache back to its size" % BURST, case_burst,
                 s, runc, state)
        rc = s.stop()
        counters = parse_counters(s.stderr())
        line = [ln for ln in s.stderr().splitlines() if "exit: containers:" in ln]
        problems = [] if rc == 0 else ["exit status %s" % rc]
        if not line:
            problems.append("no containers line in the exit counters")
        else:
            m = re.search(r"cached=(\d+)", line[-1])
            if not m or int(m.group(1)) > 0:
                problems.append("containers still cached at exit: " + line[-1])
        tap.report("clean exit, exit counters say the cache is empty", problems,
                   notes=line + ["daemon: %s" % counters.get("daemon")])
    finally:
        if s:
            s.stop()
        runc.cleanup()
        if cd:
            cd.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
