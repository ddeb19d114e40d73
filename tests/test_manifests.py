"""packaging/kubernetes, checked offline (no cluster):

- kubernetes-models (npm, pinned in tests/k8s/package-lock.json) validates every object
  against the API's schemas: types and required fields. It is installed once into a cache
  directory (npm ci; skipped, loudly, when node or npm is missing or the registry cannot
  be reached);
- our own checks of what the schemas cannot know: hostPID, the probes on the configured
  health path and port, the Prometheus annotations, every host path read-only and where
  state.host_root expects it, resources, capabilities, the ConfigMap's configuration and
  rules accepted by `saker --dry-run`.

Usage: test_manifests.py PATH/TO/saker CACHE_DIR"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e"))
from saker_harness import SkipCase, Tap  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K8S = os.path.join(TOP, "packaging", "kubernetes")
NODE_DIR = os.path.join(TOP, "tests", "k8s")
UNIT = os.path.join(TOP, "packaging", "systemd", "saker.service")

# The host paths the sensor reads (under state.host_root) and those of the container
# runtimes' state, for container metadata.
HOST_PATHS = ["/proc", "/etc", "/run/containerd", "/run/runc", "/run/containers",
              "/var/lib/containers", "/var/lib/docker"]


SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"
NPM_FAILED = []  # the reason, once npm ci has failed: not tried again in this run


def manifests():
    return sorted(os.path.join(K8S, f) for f in os.listdir(K8S) if f.endswith(".yaml"))


def npm_install(cache):
    """kubernetes-models and js-yaml as locked in tests/k8s, in cache/; reinstalled only when
    the lock file changed. Returns the node_modules directory; SkipCase if it cannot."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise SkipCase("node or npm is not installed (scripts/setup-deps installs them)")
    if NPM_FAILED:
        raise SkipCase(NPM_FAILED[0])
    lock = os.path.join(NODE_DIR, "package-lock.json")
    with open(lock, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(cache, "installed.sha256")
    mods = os.path.join(cache, "node_modules")
    try:
        with open(stamp) as f:
            if f.read().strip() == digest and os.path.isdir(mods):
                return mods
    except OSError:
        pass
    os.makedirs(cache, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(NODE_DIR, name), os.path.join(cache, name))
    env = dict(os.environ)
    # The system's trusted certificates, as apt and curl use them (node has its own list
    # otherwise, which a TLS-inspecting proxy's certificate is not in).
    if "NODE_EXTRA_CA_CERTS" not in env and os.path.exists(SYSTEM_CAS):
        env["NODE_EXTRA_CA_CERTS"] = SYSTEM_CAS
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=cache, capture_output=True, text=True, timeout=300, env=env)
    if p.returncode != 0:
        lines = [l for l in p.stderr.splitlines() if "complete log" not in l and l.strip()]
        NPM_FAILED.append("npm ci failed: " + " / ".join(lines[-3:]))
        raise SkipCase(NPM_FAILED[0])
    with open(stamp, "w") as f:
        f.write(digest + "\n")
    return mods


def load_yaml_docs():
    import yaml  # python3-yaml (scripts/setup-deps)

    docs = []
    for path in manifests():
        with open(path, encoding="utf-8") as f:
            for d in yaml.safe_load_all(f):
                if d is not None:
                    docs.append((os.path.basename(path), d))
    return docs


def unit_caps():
    with open(UNIT, encoding="utf-8") as f:
        for line in f:
            if line.startswith("CapabilityBoundingSet="):
                return {c[len("CAP_"):] for c in line.split("=", 1)[1].split()}
    return set()


def main():
    if len(sys.argv) != 3:
        sys.stdout.write("Bail out! usage: %s PATH/TO/saker CACHE_DIR\n" % sys.argv[0])
        return 2
    exe = os.path.abspath(sys.argv[1])
    cache = os.path.abspath(sys.argv[2])
    tap = Tap()

    def schemas(c):
        mods = npm_install(cache)
        env = dict(os.environ, NODE_PATH=mods)
        p = subprocess.run(["node", os.path.join(NODE_DIR, "validate.js")] + manifests(),
                           capture_output=True, text=True, timeout=120, env=env)
        c.eq("validate.js exit status (%s)" % p.stderr.strip()[-500:], p.returncode, 0)
        out = json.loads(p.stdout)
        for e in out["errors"]:
            c.fail("%s #%d (%s): %s" % (os.path.basename(e["file"]), e["index"], e["kind"],
                                        e["message"][:1500]))
        kinds = sorted(d["object"]["kind"] for d in out["docs"])
        c.eq("kinds", kinds, ["ConfigMap", "DaemonSet", "Namespace", "ServiceAccount"])
        ver = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
        c.note("node %s; kubernetes-models validated %d objects" % (ver.strip(),
                                                                   len(out["docs"])))

    tap.case("kubernetes-models validates every object", schemas)

    # A schema checker that sees an invalid object pass would make the case above
    # worthless: feed it broken copies.
    def negative(c):
        mods = npm_install(cache)
        import yaml

        ds = next(d for _, d in load_yaml_docs() if d["kind"] == "DaemonSet")
        work = tempfile.mkdtemp(prefix="saker-pkg-test-k8s-")
        try:
            breakages = {
                "no container name": lambda d: d["spec"]["template"]["spec"]["containers"][0]
                .pop("name"),
                "hostPID a string": lambda d: d["spec"]["template"]["spec"]
                .__setitem__("hostPID", "yes"),
                "no selector": lambda d: d["spec"].pop("selector"),
            }
            for what, breakit in breakages.items():
                bad = json.loads(json.dumps(ds))
                breakit(bad)
                path = os.path.join(work, "bad.yaml")
                with open(path, "w") as f:
                    yaml.safe_dump(bad, f)
                p = subprocess.run(["node", os.path.join(NODE_DIR, "validate.js"), path],
                                   capture_output=True, text=True, timeout=60,
                                   env=dict(os.environ, NODE_PATH=mods))
                errs = json.loads(p.stdout)["errors"] if p.returncode == 0 else None
                c.ok(errs, "a DaemonSet with %s passed validation" % what)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    tap.case("kubernetes-models rejects broken objects", negative)

    docs = {d["kind"]: d for _, d in load_yaml_docs()}
    ds = docs["DaemonSet"]
    pod = ds["spec"]["template"]["spec"]
    ctr = pod["containers"][0]
    cm = docs["ConfigMap"]
    import yaml

    cfg = yaml.safe_load(cm["data"]["saker.yaml"])
    web = cfg.get("webserver", {})

    def namespacing(c):
        ns = docs["Namespace"]["metadata"]["name"]
        for kind in ("ServiceAccount", "ConfigMap", "DaemonSet"):
            c.eq("%s namespace" % kind, docs[kind]["metadata"].get("namespace"), ns)
        c.eq("service account", pod.get("serviceAccountName"),
             docs["ServiceAccount"]["metadata"]["name"])
        c.eq("automountServiceAccountToken", pod.get("automountServiceAccountToken"), False)
        sel = ds["spec"]["selector"]["matchLabels"]
        labels = ds["spec"]["template"]["metadata"]["labels"]
        c.ok(all(labels.get(k) == v for k, v in sel.items()),
             "the selector %r does not match the pod's labels %r" % (sel, labels))
        c.eq("Pod Security level", docs["Namespace"]["metadata"]["labels"]
             .get("pod-security.kubernetes.io/enforce"), "privileged")

    tap.case("one namespace, the service account, the selector", namespacing)

    def host_access(c):
        c.eq("hostPID", pod.get("hostPID"), True)
        c.eq("hostNetwork", pod.get("hostNetwork", False), False)
        sc = ctr.get("securityContext", {})
        caps = set(sc.get("capabilities", {}).get("add", []))
        proven = unit_caps()
        c.ok(proven and proven <= caps,
             "capabilities %r lack some of the systemd unit's proven set %r"
             % (sorted(caps), sorted(proven)))
        c.ok(caps - proven <= {"SYS_RESOURCE"},
             "capabilities beyond the proven set and SYS_RESOURCE: %r" % sorted(caps - proven))
        c.eq("capabilities dropped", sc.get("capabilities", {}).get("drop"), ["ALL"])
        c.ok(sc.get("privileged") is not True or not caps,
             "privileged and a capability list at once")
        c.eq("readOnlyRootFilesystem", sc.get("readOnlyRootFilesystem"), True)
        c.eq("seccomp profile (the runtime default refuses bpf())",
             sc.get("seccompProfile", {}).get("type"), "Unconfined")
        c.eq("SAKER_HOSTNAME from", next((e.get("valueFrom", {}).get("fieldRef", {})
                                          .get("fieldPath") for e in ctr.get("env", [])
                                          if e["name"] == "SAKER_HOSTNAME"), None),
             "spec.nodeName")

    tap.case("host PID namespace, capabilities, node name", host_access)

    def mounts(c):
        root = cfg.get("state", {}).get("host_root")
        c.eq("state.host_root", root, "/host")
        vols = {v["name"]: v for v in pod["volumes"]}
        by_host = {}
        for m in ctr["volumeMounts"]:
            v = vols.get(m["name"])
            if not c.ok(v is not None, "mount %r names no volume" % m["name"]):
                continue
            if "hostPath" in v:
                c.ok(m.get("readOnly") is True, "host path %s is mounted writable"
                     % v["hostPath"]["path"])
                by_host[v["hostPath"]["path"]] = m["mountPath"]
        for path in HOST_PATHS:
            c.eq("where host %s is mounted" % path, by_host.get(path), root + path)
        c.eq("where the kernel's BTF is mounted", by_host.get("/sys/kernel/btf"),
             "/sys/kernel/btf")
        extra = set(by_host) - set(HOST_PATHS) - {"/sys/kernel/btf"}
        c.ok(not extra, "host paths nobody asked for: %r" % sorted(extra))
        cmv = next((v["name"] for v in vols.values()
                    if v.get("configMap", {}).get("name") == cm["metadata"]["name"]), None)
        where = next((m["mountPath"] for m in ctr["volumeMounts"] if m["name"] == cmv), None)
        c.eq("ConfigMap mounted at", where, "/etc/saker")
        c.eq("command", ctr.get("command"), ["/usr/bin/saker"])
        c.eq("args", ctr.get("args"), ["-c", "/etc/saker/saker.yaml"])

    tap.case("host paths read-only under state.host_root, the ConfigMap at /etc/saker", mounts)

    def probes(c):
        port = web.get("listen_port")
        path = web.get("k8s_healthz_endpoint")
        c.eq("webserver.enabled", web.get("enabled"), True)
        c.eq("webserver.listen_address (own network namespace: the pod IP)",
             web.get("listen_address"), "0.0.0.0")
        ports = {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            get = ctr.get(kind, {}).get("httpGet")
            if not c.ok(get, "%s is not an httpGet probe" % kind):
                continue
            c.eq("%s path" % kind, get.get("path"), path)
            p = get.get("port")
            c.eq("%s port" % kind, ports.get(p, p), port)
        ann = ds["spec"]["template"]["metadata"].get("annotations", {})
        c.eq("prometheus.io/scrape", ann.get("prometheus.io/scrape"), "true")
        c.eq("prometheus.io/port", ann.get("prometheus.io/port"), str(port))
        c.eq("prometheus.io/path", ann.get("prometheus.io/path"), "/metrics")
        c.eq("prometheus_metrics_enabled", web.get("prometheus_metrics_enabled"), True)

    tap.case("probes and Prometheus annotations on the configured path and port", probes)

    def resources(c):
        def qty(s):
            s = str(s)
            units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
            for u, f in units.items():
                if s.endswith(u):
                    return float(s[:-len(u)]) * f
            return float(s)

        r = ctr.get("resources", {})
        for what in ("cpu", "memory"):
            req = r.get("requests", {}).get(what)
            lim = r.get("limits", {}).get(what)
            if c.ok(req is not None and lim is not None, "%s request or limit missing" % what):
                c.ok(qty(req) <= qty(lim), "%s request %s above the limit %s" % (what, req, lim))
        mem = qty(r.get("limits", {}).get("memory", 0))
        # bench/README.md: 14.4 MiB idle, about 1 KiB per process.
        c.ok(mem >= 15 * 2**20 + 262144 * 1024, "the memory limit cannot hold a full "
             "process table (262,144 processes at about 1 KiB each)")

    tap.case("resources: requests and limits", resources)

    def outputs(c):
        c.eq("json_output", cfg.get("json_output"), True)
        c.eq("stdout_output.enabled", cfg.get("stdout_output", {}).get("enabled"), True)

    tap.case("JSON alerts on stdout", outputs)

    def dry_run(c):
        work = tempfile.mkdtemp(prefix="saker-pkg-test-cm-")
        try:
            for key, text in cm["data"].items():
                with open(os.path.join(work, key), "w", encoding="utf-8") as f:
                    f.write(text)
            p = subprocess.run([exe, "-c", os.path.join(work, "saker.yaml"), "--dry-run"],
                               capture_output=True, text=True, timeout=60)
            c.eq("saker --dry-run exit status", p.returncode, 0)
            c.ok("saker: warning" not in p.stderr and "saker: error" not in p.stderr,
                 "saker --dry-run:\n" + p.stderr)
            c.ok("loaded from 2 paths" in p.stderr,
                 "the default ruleset and local_rules.yaml were not both loaded:\n" + p.stderr)
            c.note(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    tap.case("the ConfigMap's configuration and rules pass saker --dry-run", dry_run)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
