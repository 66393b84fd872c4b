"""The processes the server benchmark starts: 3 cairn servers, a raw 3-member etcd with the
same flags, and a cairn -dev agent. Every process is started through
`setpriv --pdeathsig KILL`, so none outlives the driver even if it is killed itself."""
import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

from benchlib import free_port

CAIRN_NET = "127.0.1."  # cairn server i binds 127.0.1.(i+2); apart from the tests' 127.0.0.x
RAW_NET = "127.0.2."    # raw etcd member i listens on 127.0.2.(i+2)
PEER_PORT = 8380        # etcd's peer port, the same on every address
RAW_CLIENT_PORT = 2379


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.socket_path)
        self.sock = s


def call(endpoint, method, path, body=None, timeout=5.0):
    """One request on a fresh connection: (status, headers, body). endpoint is
    ("tcp", host, port) or ("unix", path)."""
    if endpoint[0] == "unix":
        c = UnixHTTPConnection(endpoint[1], timeout)
    else:
        c = http.client.HTTPConnection(endpoint[1], endpoint[2], timeout=timeout)
    try:
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def wait_until(cond, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = cond()
            if v:
                return v
        except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
            last = e
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


def pdeathsig(args):
    return ["setpriv", "--pdeathsig", "KILL", "--", *map(str, args)]


def member_status(endpoint):
    """etcd's /v3/maintenance/status: (member_id, leader_id, raft_index, db_size)."""
    st, _, body = call(endpoint, "POST", "/v3/maintenance/status", {}, timeout=1.0)
    if st != 200:
        return None
    j = json.loads(body)
    return (int(j["header"]["member_id"]), int(j.get("leader", 0)), int(j.get("raftIndex", 0)),
            int(j.get("dbSize", 0)))


def etcd_flags(name, data_dir, client_url, peer_url, cluster, token, no_fsync):
    """The flags of agent/etcd/member_command.cc (member_command_line), as cairn passes them."""
    args = ["etcd", "--name", name, "--data-dir", data_dir,
            "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", cluster, "--initial-cluster-state", "new",
            "--initial-cluster-token", token,
            "--heartbeat-interval", "100", "--election-timeout", "1000",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
            "--experimental-enable-lease-checkpoint",
            "--experimental-enable-lease-checkpoint-persist",
            "--experimental-watch-progress-notify-interval", "1s",
            "--snapshot-count", "10000", "--pre-vote"]
    if no_fsync:
        args.append("--unsafe-no-fsync")
    return args


class Proc:
    """One long-running process with its log in the work dir; restartable with the same args."""

    def __init__(self, args, log_path, env=None):
        self.args, self.log_path, self.env = args, log_path, env
        self.p = None

    def start(self):
        log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.update(self.env or {})
        self.p = subprocess.Popen(pdeathsig(self.args), stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env)
        log.close()
        return self

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def kill9(self):
        if self.alive():
            os.kill(self.p.pid, signal.SIGKILL)
        if self.p is not None:
            self.p.wait()

    def stop(self, timeout=10):
        if not self.alive():
            return
        self.p.terminate()
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""


def etcd_pids_under(data_dir):
    """pids of etcd processes whose --data-dir is data_dir."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"etcd") and data_dir.encode() in cmd:
            out.append(int(pid))
    return out


class CairnServer:
    def __init__(self, binary, work, i, n, config_file, no_fsync):
        self.i, self.name, self.ip = i, f"s{i}", f"{CAIRN_NET}{i + 2}"
        self.data_dir = os.path.join(work, f"s{i}-data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.http_port = free_port()
        self.serf_port = 8301  # one address per server: the same port everywhere
        joins = []
        for j in range(n):
            if j != i:
                joins += ["-retry-join", f"{CAIRN_NET}{j + 2}:{self.serf_port}"]
        args = [binary, "agent", "-server", "-bootstrap-expect", n, "-node", self.name,
                "-bind", self.ip, "-data-dir", self.data_dir, "-http-port", self.http_port,
                "-dns-port", free_port(), "-serf-lan-port", self.serf_port,
                "-serf-wan-port", 8302, "-config-file", config_file, "-log-level", "warn",
                "-retry-interval", "1s", *joins]
        env = {"CAIRN_ETCD_UNSAFE_NO_FSYNC": "1" if no_fsync else "0"}
        self.proc = Proc(args, os.path.join(work, f"s{i}.log"), env)
        self.endpoint = ("tcp", "127.0.0.1", self.http_port)
        self.member_endpoint = ("unix", os.path.join(self.data_dir, "etcd-run", "etcd-client.sock:0"))

    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def start(self):
        self.proc.start()
        return self

    def etcd_pid(self):
        pids = etcd_pids_under(os.path.join(self.data_dir, "etcd"))
        return pids[0] if pids else None

    def pids(self):
        return [p for p in (self.proc.pid if self.proc.alive() else None, self.etcd_pid()) if p]

    def kill9(self):
        """kill -9 of the server: cairn, and its etcd child at the same moment (the child would
        follow by its parent-death signal anyway)."""
        etcd = self.etcd_pid()
        os.kill(self.proc.pid, signal.SIGKILL)
        if etcd:
            try:
                os.kill(etcd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def reap(self):
        self.proc.p.wait()
        wait_until(lambda: not etcd_pids_under(os.path.join(self.data_dir, "etcd")), 10,
                   f"{self.name}'s etcd to exit")

    def leader(self):
        st, _, body = call(self.endpoint, "GET", "/v1/status/leader", timeout=1.0)
        return json.loads(body) if st == 200 else ""

    def put(self, key, value, timeout=5.0):
        st, _, body = call(self.endpoint, "PUT", f"/v1/kv/{key}", value, timeout=timeout)
        return st == 200 and body == b"true"


class CairnDatacenter:
    def __init__(self, binary, work, config_file, no_fsync, n=3):
        self.servers = [CairnServer(binary, work, i, n, config_file, no_fsync) for i in range(n)]

    def start(self):
        for s in self.servers:
            s.start()
        self.wait_healthy(90)

    def wait_healthy(self, timeout):
        """One cairn leader named by every server, every etcd member agreeing on one etcd
        leader, and a write accepted through every server."""
        def one_leader():
            names = {s.leader() for s in self.servers}
            return len(names) == 1 and "" not in names and names.pop()
        for s in self.servers:
            if not s.proc.alive():
                raise RuntimeError(f"{s.name} exited:\n{s.proc.log_tail()}")
        leader = wait_until(one_leader, timeout, "one cairn leader named by all servers", 0.05)
        wait_until(lambda: self.etcd_leader() is not None, timeout, "one etcd leader", 0.05)
        for s in self.servers:
            wait_until(lambda: s.put("bench/ready", "x", timeout=2.0), timeout,
                       f"a write through {s.name}", 0.05)
        return leader

    def etcd_leader(self):
        """The server whose member is the etcd raft leader, when all members agree."""
        st = [member_status(s.member_endpoint) for s in self.servers]
        if any(x is None for x in st):
            return None
        leaders = {x[1] for x in st}
        if len(leaders) != 1:
            return None
        lid = leaders.pop()
        return next((s for s, x in zip(self.servers, st) if x[0] == lid), None)

    def move_etcd_leader_away(self, server):
        """When server's member is the etcd leader, hands etcd leadership to another member
        (MoveLeader), so that killing server's cairn tests the cairn leader alone."""
        if self.etcd_leader() is not server:
            return False
        target = next(s for s in self.servers if s is not server)
        tid = member_status(target.member_endpoint)[0]
        st, _, body = call(server.member_endpoint, "POST", "/v3/maintenance/transfer-leadership",
                           {"targetID": str(tid)})
        if st != 200:
            raise RuntimeError(f"transfer-leadership: {st} {body[:200]!r}")
        wait_until(lambda: self.etcd_leader() is target, 10, "etcd leadership to move")
        return True

    def cairn_leader(self):
        name = self.servers[0].leader()
        return next((s for s in self.servers if name.startswith(s.ip + ":")), None)

    def stop(self):
        for s in self.servers:
            s.proc.stop()


class RawMember:
    def __init__(self, work, i, cluster, no_fsync):
        self.i, self.name, self.ip = i, f"e{i}", f"{RAW_NET}{i + 2}"
        self.data_dir = os.path.join(work, f"e{i}-data")
        client = f"http://{self.ip}:{RAW_CLIENT_PORT}"
        args = etcd_flags(self.name, self.data_dir, client, f"http://{self.ip}:{PEER_PORT}",
                          cluster, "bench-raw", no_fsync)
        self.proc = Proc(args, os.path.join(work, f"e{i}.log"))
        self.endpoint = ("tcp", self.ip, RAW_CLIENT_PORT)

    def url(self):
        return f"http://{self.ip}:{RAW_CLIENT_PORT}"

    def pids(self):
        return [self.proc.pid] if self.proc.alive() else []

    def put(self, key, value, timeout=5.0):
        st, _, _ = call(self.endpoint, "POST", "/v3/kv/put",
                        {"key": b64(key), "value": b64(value)}, timeout=timeout)
        return st == 200


class RawCluster:
    def __init__(self, work, no_fsync, n=3):
        cluster = ",".join(f"e{i}=http://{RAW_NET}{i + 2}:{PEER_PORT}" for i in range(n))
        self.members = [RawMember(work, i, cluster, no_fsync) for i in range(n)]

    def start(self):
        for m in self.members:
            m.proc.start()
        self.wait_healthy(60)

    def wait_healthy(self, timeout):
        for m in self.members:
            if not m.proc.alive():
                raise RuntimeError(f"{m.name} exited:\n{m.proc.log_tail()}")
        wait_until(lambda: self.leader() is not None, timeout, "one raw etcd leader", 0.05)
        for m in self.members:
            wait_until(lambda: m.put("bench/ready", "x", timeout=2.0), timeout,
                       f"a put through {m.name}", 0.05)

    def leader(self):
        st = [member_status(m.endpoint) for m in self.members]
        if any(x is None for x in st):
            return None
        leaders = {x[1] for x in st}
        if len(leaders) != 1:
            return None
        lid = leaders.pop()
        return next((m for m, x in zip(self.members, st) if x[0] == lid), None)

    def stop(self):
        for m in self.members:
            m.proc.stop()


class DevAgent:
    def __init__(self, binary, work, config_file):
        self.http_port = free_port()
        args = [binary, "agent", "-dev", "-node", "dev", "-http-port", self.http_port,
                "-dns-port", free_port(), "-serf-lan-port", free_port(),
                "-serf-wan-port", free_port(), "-config-file", config_file, "-log-level", "warn"]
        self.proc = Proc(args, os.path.join(work, "dev.log"))
        self.endpoint = ("tcp", "127.0.0.1", self.http_port)

    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def pids(self):
        return [self.proc.pid] if self.proc.alive() else []

    def start(self):
        self.proc.start()
        wait_until(lambda: call(self.endpoint, "GET", "/v1/status/leader", timeout=1)[0] == 200,
                   15, "the -dev agent")
        return self

    def put(self, key, value, timeout=5.0):
        st, _, body = call(self.endpoint, "PUT", f"/v1/kv/{key}", value, timeout=timeout)
        return st == 200 and body == b"true"


class KeyspaceWatchers:
    """One whole-keyspace watch per raw member through its JSON gateway, as each cairn
    server's watch feed opens on its own member; the events are read and dropped. Shows
    what delivering every write to three watchers costs etcd."""

    def __init__(self, members):
        self.members = members
        self.threads, self.socks = [], []
        self.bytes = 0
        self.lock = threading.Lock()

    def __enter__(self):
        body = json.dumps({"create_request": {"key": "AA==", "range_end": "AA==",
                                              "progress_notify": True}})
        for m in self.members:
            s = socket.create_connection((m.ip, RAW_CLIENT_PORT))
            s.sendall((f"POST /v3/watch HTTP/1.1\r\nHost: {m.ip}\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
            first = s.recv(65536)
            if not first.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"watch on {m.name}: {first[:200]!r}")
            if b'"created":true' not in first:
                first += s.recv(65536)
            self.socks.append(s)
            t = threading.Thread(target=self._drain, args=(s,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def _drain(self, s):
        n = 0
        try:
            while True:
                b = s.recv(1 << 18)
                if not b:
                    break
                n += len(b)
        except OSError:
            pass
        with self.lock:
            self.bytes += n

    def __exit__(self, *exc):
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self.threads:
            t.join(5)
        return False
