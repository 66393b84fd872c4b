"""Shared helpers for integration tests: real binaries on loopback.

Every daemon a test starts is a Daemon: it is killed for real at the end of the
test, and its stderr is checked for sanitizer reports, so a test that passes
under ASan/UBSan really ran clean.
"""
import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("CAIRN_BUILD_DIR", ROOT / "build"))
SANITIZED = os.environ.get("CAIRN_SANITIZED") == "1"
# Sanitized builds run several times slower: scale waits, never assertions on speed.
SLOW = 4.0 if SANITIZED else 1.0


def binary(name: str) -> str:
    for candidate in (BUILD / "agent" / name, BUILD / "dnsfwd" / name, BUILD / name):
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"{name} not built in {BUILD}")


def free_port(host: str = "127.0.0.1", kind=socket.SOCK_STREAM) -> int:
    """A port free for both TCP and UDP on host."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def wait_for(cond, timeout: float, what: str, interval: float = 0.02):
    """Polls cond() until it returns a truthy value; fails with a clear message."""
    deadline = time.monotonic() + timeout * SLOW
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = cond()
            if value:
                return value
        except Exception as e:  # the condition may raise while a daemon starts
            last_exc = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout * SLOW:.1f}s waiting for {what}"
                         + (f" (last error: {last_exc!r})" if last_exc else ""))


class Daemon:
    def __init__(self, args, log_path: pathlib.Path, env=None):
        self.args = [str(a) for a in args]
        self.log_path = log_path
        self.log = open(log_path, "ab")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=full_env, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill9(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait, SIGKILL if needed; returns the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        return self.proc.returncode

    def sanitizer_report(self) -> str:
        text = self.output() if not self.log.closed else self.log_path.read_text(errors="replace")
        for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
            if marker in text:
                i = text.index(marker)
                return text[max(0, i - 200):i + 3000]
        return ""


class Http:
    """A keep-alive HTTP/1.1 client for one host:port."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None, timeout=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=(timeout or self.timeout) * SLOW)
            try:
                self.conn.timeout = (timeout or self.timeout) * SLOW
                if self.conn.sock:
                    self.conn.sock.settimeout(self.conn.timeout)
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
            except (ConnectionError, http.client.RemoteDisconnected, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body if body is not None else "", **kw)

    def close(self):
        if self.conn:
            self.conn.close()


class Response:
    def __init__(self, status, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class Agent:
    """A real `cairn agent` on loopback with its own ports, config dir and data dir."""

    def __init__(self, start_daemon, tmp_path: pathlib.Path, name="agent", dev=True,
                 data_dir=True, extra_args=(), config_dir=None):
        self.start_daemon = start_daemon
        self.name = name
        self.dev = dev
        self.port = free_port()
        self.dns_port = free_port()  # every agent serves DNS; parallel agents must not share 8600
        self.config_dir = config_dir or (tmp_path / f"{name}-config")
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = (tmp_path / f"{name}-data") if data_dir else None
        self.extra_args = list(extra_args)
        self.daemon = None
        self.http = Http("127.0.0.1", self.port)

    def args(self):
        a = [binary("cairn"), "agent", "-node", self.name, "-http-port", self.port,
             "-dns-port", self.dns_port, "-config-dir", self.config_dir, "-log-level", "debug"]
        if self.dev:
            a.append("-dev")
        if self.data_dir:
            a += ["-data-dir", self.data_dir]
        return a + self.extra_args

    def start(self, wait=True):
        self.http.close()
        self.daemon = self.start_daemon(self.args(), name=self.name)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        def ready():
            if not self.daemon.alive():
                raise AssertionError(f"agent exited early:\n{self.daemon.output()}")
            r = self.http.get("/v1/status/leader", timeout=1)
            return r.status == 200
        wait_for(ready, 10, f"agent {self.name} to answer on port {self.port}")

    def kill9(self):
        self.daemon.kill9()
        self.http.close()

    def stop(self):
        code = self.daemon.stop()
        self.http.close()
        return code

    def write_config(self, filename: str, text: str):
        (self.config_dir / filename).write_text(text)

    def cli(self, *args, check=False, input=None, env=None):
        full_env = dict(os.environ)
        full_env["CAIRN_HTTP_ADDR"] = f"127.0.0.1:{self.port}"
        full_env.pop("CONSUL_HTTP_ADDR", None)
        full_env.update(env or {})
        p = subprocess.run([binary("cairn"), *map(str, args)], capture_output=True, text=True,
                           env=full_env, timeout=60 * SLOW, input=input)
        if check and p.returncode != 0:
            raise AssertionError(f"cairn {' '.join(map(str, args))} failed ({p.returncode}):\n"
                                 f"{p.stdout}\n{p.stderr}")
        return p
