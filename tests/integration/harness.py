"""Shared helpers for integration tests: real binaries on loopback.

Every daemon a test starts is a Daemon: it is killed for real at the end of the
test, and its stderr is checked for sanitizer reports, so a test that passes
under ASan/UBSan really ran clean.
"""
import http.client
import json
import os
import pathlib
import resource
import signal
import random
import socket
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("CAIRN_BUILD_DIR", ROOT / "build"))
SANITIZED = os.environ.get("CAIRN_SANITIZED") == "1"
# Sanitized builds run several times slower: scale waits, never assertions on speed.
SLOW = 4.0 if SANITIZED else 1.0


MEMORY_CAP_MB = 512


def memory_capped(env=None, mb: int = MEMORY_CAP_MB):
    """(preexec_fn, env) for a child whose memory must stay bounded: a runaway
    allocation then fails fast instead of exhausting the machine. ASan reserves
    terabytes of address space for its shadow, so sanitized builds get ASan's
    own RSS limit (with room for its overhead) instead of RLIMIT_AS."""
    env = dict(env or {})
    if SANITIZED:
        opts = env.get("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", ""))
        env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + f"hard_rss_limit_mb={mb * 2}"
        return None, env

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    return cap, env


def binary(name: str) -> str:
    for candidate in (BUILD / "agent" / name, BUILD / "dnsfwd" / name, BUILD / name):
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"{name} not built in {BUILD}")


_HANDED_OUT: set = set()


def free_port(host: str = "127.0.0.1", kind=socket.SOCK_STREAM) -> int:
    """A port free for both TCP and UDP on host, below the kernel's ephemeral range: a port
    the kernel handed out for bind(0) could be handed out again as the source port of an
    outgoing connection (an RPC client, an etcd client) before the daemon binds it."""
    low, _ = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    for _ in range(1000):
        port = random.randrange(max(1024, low - 20000), low)
        if port in _HANDED_OUT:  # picked for a daemon that may not have bound it yet
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((host, port))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
        except OSError:
            continue
        _HANDED_OUT.add(port)
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
    def __init__(self, args, log_path: pathlib.Path, env=None, preexec_fn=None):
        self.args = [str(a) for a in args]
        self.log_path = log_path
        self.log = open(log_path, "ab")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=full_env, start_new_session=True,
                                     preexec_fn=preexec_fn)

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
                self.conn = self.new_connection((timeout or self.timeout) * SLOW)
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

    def new_connection(self, timeout: float) -> http.client.HTTPConnection:
        """Overridden by clients whose sockets must be made elsewhere (a network namespace)."""
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

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
        self.serf_port = free_port()
        self.serf_wan_port = free_port()  # -dev agents are servers: they gossip on the WAN too
        self.dns_port = free_port()  # every agent serves DNS; parallel agents must not share 8600
        self.server_port = free_port()  # servers and -dev agents listen for the RPC here
        self.config_dir = config_dir or (tmp_path / f"{name}-config")
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = (tmp_path / f"{name}-data") if data_dir else None
        self.extra_args = list(extra_args)
        self.daemon = None
        self.http = Http("127.0.0.1", self.port)

    def args(self):
        a = [binary("cairn"), "agent", "-node", self.name, "-http-port", self.port,
             "-serf-lan-port", self.serf_port, "-serf-wan-port", self.serf_wan_port,
             "-dns-port", self.dns_port, "-server-port", self.server_port,
             "-config-dir", self.config_dir, "-log-level", "debug"]
        if self.dev:
            a.append("-dev")
        elif "-bind" not in self.extra_args:
            a += ["-bind", "127.0.0.1"]  # never gossip beyond loopback
        if self.data_dir:
            a += ["-data-dir", self.data_dir]
        return a + self.extra_args

    def start(self, wait=True, **daemon_kw):
        """daemon_kw (env, preexec_fn) go to the Daemon, e.g. from memory_capped()."""
        self.http.close()
        self.daemon = self.start_daemon(self.args(), name=self.name, **daemon_kw)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        def ready():
            if not self.daemon.alive():
                raise AssertionError(f"agent exited early:\n{self.daemon.output()}")
            # A client agent forwards /v1/status/leader to a server it may not know yet.
            client = not self.dev and "-server" not in self.extra_args
            r = self.http.get("/v1/agent/self" if client else "/v1/status/leader", timeout=1)
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

    def metric(self, name: str, **labels) -> float:
        """One series of /v1/agent/metrics in Prometheus format, 0 when absent."""
        r = self.http.get("/v1/agent/metrics?format=prometheus")
        assert r.status == 200, r
        return prometheus_value(r.text, name.replace(".", "_"), **labels)

    def wait_parked(self, count: int = 1):
        """Waits until count blocking queries are parked (consul.rpc.queries_blocking),
        instead of sleeping and hoping they got there."""
        wait_for(lambda: self.metric("consul.rpc.queries_blocking") >= count, 10,
                 f"{count} blocking quer{'y' if count == 1 else 'ies'} to park on {self.name}")

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


# ---------------------------------------------------------------------------
# DNS on loopback: a scriptable fake server (an upstream resolver, or an agent
# stand-in) and small query helpers. dnspython builds and parses messages.

import collections
import threading

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

DnsQueryLog = collections.namedtuple(
    "DnsQueryLog", "transport qname qtype id src_port edns_payload do cd rd options")


class FakeDns:
    """A DNS server on 127.0.0.1 (UDP and TCP) whose behaviour a test sets.

    mode (for every name) or modes[name] (lower-case, trailing dot) is one of:
      answer          A/AAAA/SRV/PTR/TXT/SOA/NS data; AAAA gets NODATA with a SOA
      nxdomain        NXDOMAIN with a SOA (TTL soa_ttl, MINIMUM soa_minimum)
      nxdomain_nosoa  NXDOMAIN without authority
      servfail, refused
      drop            no answer at all
      truncate        TC and no records over UDP, the full answer over TCP
      corrupt         right ID, but a record whose owner name is a compression loop
      wrong_id        a correct answer under another ID
      wrong_question  an answer for another name
    delay / delays[name] postpone answers (in their own thread, so the server
    keeps reading). Every query received is logged in .queries.
    """

    def __init__(self, port: int = 0, ttl: int = 60, host: str = "127.0.0.1"):
        self.host = host
        self.port = port or free_port(host)
        self.ttl = ttl
        self.ttls = {}
        self.mode = "answer"
        self.modes = {}
        self.delay = 0.0
        self.delays = {}
        self.addresses = {}
        self.soa_ttl = 300
        self.soa_minimum = 30
        self.queries = []
        self._lock = threading.Lock()
        self._stopping = False
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((host, self.port))
        self._udp.settimeout(0.1)
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._tcp.bind((host, self.port))
        self._tcp.listen(64)
        self._tcp.settimeout(0.1)
        self._threads = [threading.Thread(target=self._serve_udp, daemon=True),
                         threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self._threads:
            t.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self):
        self._stopping = True
        for t in self._threads:
            t.join(timeout=2)
        self._udp.close()
        self._tcp.close()

    def clear(self):
        with self._lock:
            self.queries = []

    def count(self, qname=None, transport=None) -> int:
        with self._lock:
            return sum(1 for q in self.queries
                       if (qname is None or q.qname.lower() == qname.lower())
                       and (transport is None or q.transport == transport))

    # -- serving

    def _serve_udp(self):
        while not self._stopping:
            try:
                data, peer = self._udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self._handle(data, "udp", peer, lambda wire, p=peer: self._send_udp(wire, p))

    def _send_udp(self, wire, peer):
        try:
            self._udp.sendto(wire, peer)
        except OSError:
            pass  # stopped while a delayed answer was pending

    def _serve_tcp(self):
        while not self._stopping:
            try:
                conn, peer = self._tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve_conn, args=(conn, peer), daemon=True).start()

    def _serve_conn(self, conn, peer):
        conn.settimeout(0.2)
        buf = b""
        write_lock = threading.Lock()

        def send(wire):
            with write_lock:
                try:
                    conn.sendall(len(wire).to_bytes(2, "big") + wire)
                except OSError:
                    pass
        with conn:
            while not self._stopping:
                try:
                    chunk = conn.recv(65535)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                    n = int.from_bytes(buf[:2], "big")
                    self._handle(buf[2:2 + n], "tcp", peer, send)
                    buf = buf[2 + n:]

    def _handle(self, data, transport, peer, send):
        try:
            q = dns.message.from_wire(data)
        except Exception:
            return
        qname = q.question[0].name if q.question else dns.name.root
        qtype = q.question[0].rdtype if q.question else 0
        key = qname.to_text().lower()
        with self._lock:
            self.queries.append(DnsQueryLog(
                transport, qname.to_text(), dns.rdatatype.to_text(qtype), q.id, peer[1],
                q.payload if q.edns >= 0 else -1, bool(q.ednsflags & dns.flags.DO),
                bool(q.flags & dns.flags.CD), bool(q.flags & dns.flags.RD),
                [o.otype for o in q.options]))
            mode = self.modes.get(key, self.mode)
            delay = self.delays.get(key, self.delay)
        if mode == "drop":
            return
        wire = self._respond(q, qname, qtype, key, mode, transport)
        if delay > 0:
            threading.Timer(delay, send, args=(wire,)).start()
        else:
            send(wire)

    def _respond(self, q, qname, qtype, key, mode, transport) -> bytes:
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        ttl = self.ttls.get(key, self.ttl)
        zone = dns.name.Name(qname.labels[-2:]) if len(qname.labels) >= 2 else dns.name.root
        suffix = "" if zone == dns.name.root else zone.to_text()
        soa = dns.rrset.from_text(zone, self.soa_ttl, "IN", "SOA",
                                  f"ns.{suffix} hostmaster.{suffix} 1 3600 600 86400 {self.soa_minimum}")
        if mode in ("nxdomain", "nxdomain_nosoa"):
            r.set_rcode(dns.rcode.NXDOMAIN)
            if mode == "nxdomain":
                r.authority.append(soa)
        elif mode == "servfail":
            r.set_rcode(dns.rcode.SERVFAIL)
        elif mode == "refused":
            r.set_rcode(dns.rcode.REFUSED)
        elif mode == "truncate" and transport == "udp":
            r.flags |= dns.flags.TC
        elif mode == "corrupt":
            wire = bytearray(r.to_wire())
            wire[7] = 1  # ANCOUNT 1: a record whose owner points at itself
            at = len(wire)
            wire += bytes([0xC0 | (at >> 8), at & 0xFF]) + b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04"
            return bytes(wire)
        else:
            name = qname
            if mode == "wrong_question":
                name = dns.name.from_text("wrong." + qname.to_text())
                r.question = [dns.rrset.RRset(name, dns.rdataclass.IN, qtype)]
            if qtype == dns.rdatatype.A:
                addrs = self.addresses.get(key, ["192.0.2.1"])
                r.answer.append(dns.rrset.from_text(name, ttl, "IN", "A", *addrs))
            elif qtype == dns.rdatatype.AAAA:
                r.authority.append(soa)
            elif qtype == dns.rdatatype.SRV:
                r.answer.append(dns.rrset.from_text(name, ttl, "IN", "SRV", "1 1 8080 node1.example."))
            elif qtype == dns.rdatatype.PTR:
                r.answer.append(dns.rrset.from_text(name, ttl, "IN", "PTR", "host.example."))
            elif qtype == dns.rdatatype.TXT:
                r.answer.append(dns.rrset.from_text(name, ttl, "IN", "TXT", '"fake"'))
            elif qtype in (dns.rdatatype.SOA, dns.rdatatype.NS):
                if qtype == dns.rdatatype.SOA:
                    r.answer.append(dns.rrset.from_text(name, ttl, "IN", "SOA",
                                                        "ns.example. h.example. 1 3600 600 86400 30"))
                else:
                    r.answer.append(dns.rrset.from_text(name, ttl, "IN", "NS", "ns.example."))
            if mode == "wrong_id":
                r.id = q.id ^ 0x5555
        return r.to_wire()


def dns_query(port: int, name: str, rdtype: str = "A", *, tcp: bool = False,
              host: str = "127.0.0.1", timeout: float = 2.0, edns=None, do: bool = False,
              cd: bool = False, source: str = None, options=None) -> dns.message.Message:
    """One query to host:port. edns: None (no OPT) or the advertised payload size."""
    use_edns = 0 if (edns is not None or do or options) else False
    q = dns.message.make_query(name, rdtype, use_edns=use_edns, payload=edns or 1232,
                               want_dnssec=do, options=options or [])
    if cd:
        q.flags |= dns.flags.CD
    if tcp:
        return dns.query.tcp(q, host, port=port, timeout=timeout * SLOW, source=source)
    return dns.query.udp(q, host, port=port, timeout=timeout * SLOW, source=source,
                         ignore_trailing=True)


def dns_raw_udp(port: int, wire: bytes, host: str = "127.0.0.1", timeout: float = 2.0,
                source: str = "127.0.0.1") -> bytes:
    """Sends raw bytes and returns the raw reply (socket.timeout if none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(timeout * SLOW)
        s.sendto(wire, (host, port))
        data, _ = s.recvfrom(65535)
        return data


def prometheus_value(text: str, name: str, **labels) -> float:
    """The value of one series in Prometheus text, 0 when absent."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        base, _, rest = series.partition("{")
        if base != name:
            continue
        got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if got == want:
            return float(value)
    return 0.0
