"""Starts Wattline's programs as separate processes on loopback for integration tests, and
talks to the server's REST API. Standard library only (runs on Debian's /usr/bin/python3).

Binaries come from $WATTLINE_BIN_DIR (the build's apps/ folder); the repository root from
$WATTLINE_SOURCE_DIR. Every process is stopped by its PID when the test ends."""
import http.cookiejar
import json
import os
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

SOURCE_DIR = os.environ.get("WATTLINE_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN_DIR = os.environ.get("WATTLINE_BIN_DIR", os.path.join(SOURCE_DIR, "build", "asan", "apps"))
TOKEN = "integration-test-token-0123456789"


def wait_for(predicate, timeout, what, interval=0.2):
    """Polls predicate() until it returns a truthy value; fails with `what` after timeout s."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the thing we wait for may not be up yet
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last_error})")


class Proc:
    """One child process with its output in a log file."""

    def __init__(self, name, args, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)

    def running(self):
        return self.popen.poll() is None

    def kill(self):
        """SIGKILL (this process only, by its PID); returns the exit code (-9 if it was running)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()
        self.log.close()
        return self.popen.returncode

    def stop(self, timeout=20):
        """SIGTERM, wait; returns the exit code. SIGKILL only if it does not end in time."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
                raise AssertionError(f"{self.name} did not stop within {timeout} s of SIGTERM")
        self.log.close()
        return self.popen.returncode

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Api:
    """HTTPS client of the server's REST API that trusts exactly the server's certificate."""

    def __init__(self, base_url, cert_path):
        self.base_url = base_url
        ctx = ssl.create_default_context(cafile=cert_path)
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the pinned cert is self-signed
        self.ctx = ctx
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, method, path, body=None, headers=None, raw=False):
        """Returns (status, parsed JSON or bytes)."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with self.opener.open(req, timeout=15) as res:
                status, payload = res.status, res.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        if raw or not payload:
            return status, payload
        return status, json.loads(payload)

    def get(self, path):
        status, body = self.request("GET", path)
        if status != 200:
            raise AssertionError(f"GET {path} answered {status}: {body}")
        return body

    def login(self, username, password):
        return self.request("POST", "/api/v1/login", {"username": username, "password": password})


class Stack:
    """Simulator (or another Modbus peer), server and connector, each its own process."""

    def __init__(self, meters=10):
        self.tmp = tempfile.TemporaryDirectory(prefix="wattline-it-")
        self.dir = self.tmp.name
        self.meters = meters
        self.procs = {}
        self.server_port = 0
        self.api = None
        with open(os.path.join(self.dir, "server.toml"), "w") as f:
            f.write(f'[[connector]]\nname = "edge-1"\ntoken = "{TOKEN}"\nsite = "Test site"\n')

    @property
    def cert(self):
        return os.path.join(self.dir, "server", "tls", "server.crt")

    @property
    def meters_file(self):
        return os.path.join(self.dir, "meters.toml")

    def start_sim(self):
        self.procs["sim"] = Proc("sim", [os.path.join(BIN_DIR, "wattline-sim"), "--meters", str(self.meters),
                                         "--base_port", "0", "--meters_file", self.meters_file], self.dir)
        wait_for(lambda: os.path.exists(self.meters_file), 30, "the simulator's meters file")

    def start_peer(self, args):
        """Starts a Modbus peer that prints 'READY <port>'; returns its port."""
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.dir, text=True)
        line = proc.stdout.readline().strip()
        if not line.startswith("READY "):
            proc.kill()
            raise AssertionError(f"Modbus peer did not start: {line} {proc.stdout.read()}")
        self.procs["peer"] = proc
        return int(line.split()[1])

    def start_server(self, extra_args=()):
        port_file = os.path.join(self.dir, "server.port")
        if os.path.exists(port_file):
            os.remove(port_file)
        listen = f"127.0.0.1:{self.server_port}"
        self.procs["server"] = Proc("server", [
            os.path.join(BIN_DIR, "wattline-server"), "--config", "server.toml", "--listen", listen,
            "--data_dir", "server", "--web_root", os.path.join(SOURCE_DIR, "web", "dist"),
            "--port_file", port_file, *extra_args], self.dir)
        def read_port():
            with open(port_file) as f:
                return f.read().strip()
        self.server_port = int(wait_for(read_port, 60, "the server's port file"))
        if self.api is None:
            self.api = Api(f"https://127.0.0.1:{self.server_port}", self.cert)

    def admin_password(self):
        with open(os.path.join(self.dir, "server", "initial-admin-password")) as f:
            return f.read().strip()

    def start_edge(self, extra_args=()):
        self.procs["edge"] = Proc("edge", [
            os.path.join(BIN_DIR, "wattline-edge"), "--name", "edge-1", "--data_dir", "edge",
            "--profiles_dir", os.path.join(SOURCE_DIR, "profiles"), "--meters_file", self.meters_file,
            "--uplink.url", f"https://127.0.0.1:{self.server_port}", "--uplink.server_cert", self.cert,
            "--uplink.token", TOKEN, *extra_args], self.dir)

    def stop(self, name):
        proc = self.procs.pop(name)
        if isinstance(proc, Proc):
            return proc.stop()
        proc.terminate()
        return proc.wait(10)

    def close(self):
        """Stops everything that still runs (reverse start order) and removes the folder."""
        for name in reversed(list(self.procs)):
            try:
                self.stop(name)
            except Exception:
                pass
        self.tmp.cleanup()

    def logs(self):
        out = []
        for name in ("sim", "server", "edge"):
            path = os.path.join(self.dir, name + ".log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out.append(f"----- {name}.log (tail) -----\n" + "".join(f.readlines()[-40:]))
        return "\n".join(out)

    def meters_with_values(self):
        """{meter name: {signal name: latest sample}} of every meter that has values."""
        meters = self.api.get("/api/v1/meters")
        latest = {v["signal_id"]: v for v in self.api.get("/api/v1/latest")}
        out = {}
        for m in meters:
            values = {s["name"]: latest[s["id"]] for s in m["signals"] if s["id"] in latest}
            if values:
                out[m["name"]] = values
        return out

    def history(self, signal_id, from_ms, to_ms):
        body = self.api.get(f"/api/v1/signals/{signal_id}/history?from={from_ms}&to={to_ms}")
        return body["points"]
