#!/usr/bin/env python3
"""The http output over TLS, end to end: the real binary as root, a rule that fires on opens
of this test's files, and an HTTPS receiver of this test on 127.0.0.1 (Python's ssl) with
certificates made here with the openssl command.

    python3 tests/e2e/test_https.py build/src/saker

1. https://localhost with http_output.ca_cert = the test CA: each alert arrives, the same
   line as on stdout, over one kept-alive connection.
2. No CA given (the system's /etc/ssl/certs does not know the test CA): nothing is
   delivered, the failures are counted and the log says the certificate is not trusted.
3. The certificate is for localhost, the URL says 127.0.0.1: refused (name mismatch).
4. http_output.insecure: delivered anyway, with a warning at start.
5. A receiver that requires a client certificate: delivered with mtls and the test's client
   certificate; refused without one.
6. --dry-run with a CA file that is not PEM: an error naming the file, exit 2.

Standard library only (plus the openssl command, which ca-certificates brings); prints TAP."""

import http.server
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saker_harness import Tap, sensor_from_argv, skip_all  # noqa: E402

RULE = """- rule: Https test open
  desc: a file of the https test was opened
  condition: evt.type in (open, openat) and fd.name startswith %(prefix)s
  output: "https test: %%proc.name opened %%fd.name"
  priority: WARNING
"""


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True,
                   timeout=60)


def make_pki(d):
    """A CA, a server certificate for localhost, a client CA and a client certificate."""
    for ca in ("ca", "clientca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key",
                "-out", ca + ".pem", "-days", "2", "-subj", "/CN=saker test " + ca, cwd=d)
    for name, ca, ext in (("server", "ca", "subjectAltName=DNS:localhost\n"),
                          ("client", "clientca", "extendedKeyUsage=clientAuth\n")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
                name + ".csr", "-subj", "/CN=" + ("localhost" if name == "server" else
                                                   "saker client"), cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile",
                name + ".ext", cwd=d)


class Receiver:
    """An HTTPS server on 127.0.0.1: keeps each POST body; counts TLS connections."""

    def __init__(self, d, client_ca=None):
        recv = self
        self.posts = []
        self.conns = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with recv.lock:
                    recv.conns += 1

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with recv.lock:
                    recv.posts.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(client_ca)
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.thr = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thr.start()

    def bodies(self):
        with self.lock:
            return list(self.posts)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def run_case(exe, d, url, extra, n_alerts=3, expect_delivered=True):
    """Starts saker with the http output at url, makes n_alerts opens, stops it. Returns
    (stdout alert lines, stderr text, exit status)."""
    tag = "tok%d" % int(time.monotonic() * 1e6)
    rules = os.path.join(d, tag + ".yaml")
    with open(rules, "w") as f:
        f.write(RULE % {"prefix": os.path.join(d, "hit-" + tag)})
    out, err = os.path.join(d, tag + ".out"), os.path.join(d, tag + ".err")
    args = [exe, "-U", "-M", "60", "-r", rules, "-o", "json_output=true",
            "-o", "webserver.enabled=false", "-o", "http_output.enabled=true",
            "-o", "http_output.url=" + url, "-o", "http_output.max_retries=0",
            "-o", "output_timeout=2000"] + extra
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=o, stderr=e)
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and "ready: " not in open(err).read():
            if p.poll() is not None:
                break
            time.sleep(0.05)
        for i in range(n_alerts):
            with open(os.path.join(d, "hit-%s-%d" % (tag, i)), "w"):
                pass
            time.sleep(0.1)
        time.sleep(1.0 if expect_delivered else 2.5)
        p.send_signal(2)
        rc = p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    lines = [ln for ln in open(out, "rb").read().decode("utf-8", "replace").split("\n") if ln]
    return lines, open(err, encoding="utf-8", errors="replace").read(), rc


def http_counters(stderr_text):
    m = re.search(r"exit: output http: (.*)", stderr_text)
    if not m:
        return {}
    return {k: int(v) for k, v in (kv.split("=", 1) for kv in m.group(1).split())}


def check_delivered(lines, recv, err, rc, n=3, one_conn=True):
    problems = []
    if rc != 0:
        problems.append("exit status %r" % rc)
    bodies = [b.decode("utf-8", "replace") for b in recv.bodies()]
    if len(lines) != n:
        problems.append("%d alerts on stdout, want %d" % (len(lines), n))
    if bodies != lines:
        problems.append("the receiver got %d bodies %r, stdout had %r" %
                        (len(bodies), bodies[:1], lines[:1]))
    for b in bodies:
        try:
            json.loads(b)
        except ValueError:
            problems.append("not JSON: %r" % b[:100])
    if one_conn and recv.conns != 1:
        problems.append("%d TLS connections, want 1 (keep-alive)" % recv.conns)
    c = http_counters(err)
    if c.get("sent") != n or c.get("failed"):
        problems.append("http counters %r" % c)
    return problems


def main():
    exe = sensor_from_argv()
    if not shutil.which("openssl"):
        skip_all("the openssl command is missing (it comes with ca-certificates)")
    try:
        hosts = open("/etc/hosts").read()
    except OSError:
        hosts = ""
    if not re.search(r"^\s*127\.0\.0\.1\s+(.*\s)?localhost(\s|$)", hosts, re.M):
        skip_all("/etc/hosts does not name 127.0.0.1 localhost")
    tap = Tap()
    d = tempfile.mkdtemp(prefix="saker-https-")
    try:
        make_pki(d)
        ca = os.path.join(d, "ca.pem")
        recv = Receiver(d)
        url = "https://localhost:%d/alerts" % recv.port
        try:
            lines, err, rc = run_case(exe, d, url, ["-o", "http_output.ca_cert=" + ca])
            tap.report("https with the CA: every alert delivered over one connection",
                       check_delivered(lines, recv, err, rc))

            if not os.path.isdir("/etc/ssl/certs"):
                tap.report("https without the CA: refused, counted, logged",
                           skip="no /etc/ssl/certs here (the default ca_path)")
            else:
                before = len(recv.bodies())
                lines, err, rc = run_case(exe, d, url, [], expect_delivered=False)
                problems = []
                if len(recv.bodies()) != before:
                    problems.append("delivered to an untrusted server")
                if "the server's certificate is not trusted" not in err:
                    problems.append("no 'not trusted' in the log: " + err[-600:])
                if not http_counters(err).get("failed"):
                    problems.append("no failure counted: %r" % http_counters(err))
                tap.report("https without the CA: refused, counted, logged", problems)

            before = len(recv.bodies())
            lines, err, rc = run_case(exe, d, "https://127.0.0.1:%d/alerts" % recv.port,
                                      ["-o", "http_output.ca_cert=" + ca],
                                      expect_delivered=False)
            problems = []
            if len(recv.bodies()) != before:
                problems.append("delivered although the name does not match")
            if "not trusted" not in err:
                problems.append("no 'not trusted' in the log: " + err[-600:])
            tap.report("https to a name the certificate does not have: refused", problems)

            recv.posts.clear()
            recv.conns = 0
            lines, err, rc = run_case(exe, d, url, ["-o", "http_output.insecure=true"])
            problems = check_delivered(lines, recv, err, rc)
            if "http_output.insecure: the server's certificate is not verified" not in err:
                problems.append("no warning about insecure")
            tap.report("https insecure: delivered, with a warning", problems)
        finally:
            recv.close()

        recv = Receiver(d, client_ca=os.path.join(d, "clientca.pem"))
        url = "https://localhost:%d/alerts" % recv.port
        try:
            lines, err, rc = run_case(exe, d, url, [
                "-o", "http_output.ca_cert=" + ca, "-o", "http_output.mtls=true",
                "-o", "http_output.client_cert=" + os.path.join(d, "client.pem"),
                "-o", "http_output.client_key=" + os.path.join(d, "client.key")])
            tap.report("mutual TLS with the client certificate: delivered",
                       check_delivered(lines, recv, err, rc))
            before = len(recv.bodies())
            lines, err, rc = run_case(exe, d, url, ["-o", "http_output.ca_cert=" + ca],
                                      expect_delivered=False)
            problems = []
            if len(recv.bodies()) != before:
                problems.append("delivered without a client certificate")
            if not http_counters(err).get("failed") or "TLS handshake" not in err:
                problems.append("no handshake failure counted and logged: " + err[-600:])
            tap.report("mutual TLS without a client certificate: refused", problems)
        finally:
            recv.close()

        bad = os.path.join(d, "bad.pem")
        with open(bad, "w") as f:
            f.write("not a certificate\n")
        p = subprocess.run([exe, "--dry-run", "-o", "http_output.enabled=true",
                            "-o", "http_output.url=https://localhost/",
                            "-o", "http_output.ca_cert=" + bad], capture_output=True,
                           timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        tap.report("--dry-run with a CA file that is not PEM: the file named, exit 2",
                   [] if p.returncode == 2 and ("CA certificate '%s'" % bad) in err else
                   ["status %d: %s" % (p.returncode, err[-400:])])
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
