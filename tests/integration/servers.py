"""A datacenter of real cairn servers on loopback, each with its own etcd member.

Server i binds 127.0.0.(i+2), so etcd's peer port is the same number on every server and
nothing clashes; the etcd client endpoint is a unix socket in each data dir."""
import json
import os
import pathlib

from harness import Agent, free_port, wait_for

SERVER_ENV = {"CAIRN_ETCD_UNSAFE_NO_FSYNC": "1"}  # a process kill loses nothing without fsync


class ServerAgent(Agent):
    """What every test server shares: etcd without fsync, and the leader it names."""

    def start(self, wait=True, **daemon_kw):
        daemon_kw.setdefault("env", SERVER_ENV)
        return super().start(wait=wait, **daemon_kw)

    def leader(self) -> str:
        r = self.http.get("/v1/status/leader", timeout=2)
        return r.json() if r.status == 200 else ""


class Server(ServerAgent):
    def __init__(self, start_daemon, tmp_path: pathlib.Path, index: int, expect: int,
                 join_port_of=None, extra_args=(), subnet="127.0.0"):
        self.ip = f"{subnet}.{index + 2}"
        super().__init__(start_daemon, tmp_path, name=f"s{index}", dev=False,
                         extra_args=["-server", "-bootstrap-expect", str(expect),
                                     "-bind", self.ip, *extra_args])
        self.join_port_of = join_port_of
        # Consul's RPC port: each server binds its own address, so the default never clashes.
        self.server_port = 8300


class Datacenter:
    """servers[0] is the seed others -retry-join; start() waits for one leader named by all."""

    def __init__(self, make_daemon, tmp_path: pathlib.Path, size: int, expect=None,
                 subnet="127.0.0"):
        """subnet: the servers' /24 on loopback; a test module that keeps its datacenter while
        others run may take its own so that their fixed ports (8300) never meet."""
        expect = expect or size
        self.servers = []
        # One etcd peer port for the datacenter (each server binds its own address), not
        # the default 8380, so that nothing else on the machine can be in the way.
        self.peer_port = free_port()
        for i in range(size):
            s = Server(make_daemon, tmp_path, i, expect, subnet=subnet)
            s.write_config("etcd.yaml", f"ports:\n  etcd_peer: {self.peer_port}\n")
            self.servers.append(s)
        seed = self.servers[0]
        for s in self.servers[1:]:
            s.extra_args += ["-retry-join", f"{seed.ip}:{seed.serf_port}"]

    def start(self, timeout=30):
        for s in self.servers:
            s.start()
        leader = self.wait_leader(timeout)
        self.wait_registered()
        return leader

    def wait_registered(self, timeout=20):
        """Each server's own node is in the catalog (it syncs once its cache is loaded): what
        sessions on a server's node need."""
        names = {s.name for s in self.servers}

        def registered():
            r = self.servers[0].http.get("/v1/catalog/nodes")
            return r.status == 200 and names <= {n["Node"] for n in r.json()}
        wait_for(registered, timeout, f"servers {sorted(names)} in the catalog")

    def alive(self):
        return [s for s in self.servers if s.daemon and s.daemon.alive()]

    def wait_leader(self, timeout=30, servers=None):
        servers = servers or self.alive()

        def one_leader():
            names = {s.leader() for s in servers}
            return names.pop() if len(names) == 1 and "" not in names else None
        return wait_for(one_leader, timeout,
                        f"one leader named by all of {[s.name for s in servers]}")

    def leader_server(self):
        leader = self.wait_leader()
        return next(s for s in self.servers if leader.startswith(s.ip + ":"))


def kv_put(server, key, value, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return server.http.request("PUT", f"/v1/kv/{key}" + (f"?{q}" if q else ""), body=value)


def kv_get_raw(server, key, stale=False):
    r = server.http.get(f"/v1/kv/{key}?raw" + ("&stale" if stale else ""))
    return r.body.decode() if r.status == 200 else None


def register(server, node, service, address, port):
    body = {"Node": node, "Address": address,
            "Service": {"Service": service, "Port": port}}
    r = server.http.put("/v1/catalog/register", json.dumps(body))
    assert r.status == 200, r
    return r


def etcd_member_status(server):
    """etcd's /v3/maintenance/status from the server's own member, over its unix socket (reached
    through /proc/self/fd: the path is longer than a socket address holds)."""
    import http.client
    import os
    import socket

    run_dir = f"{server.data_dir}/etcd-run"
    dir_fd = os.open(run_dir, os.O_PATH | os.O_DIRECTORY)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(3)
        sock.connect(f"/proc/self/fd/{dir_fd}/etcd-client.sock:0")
    finally:
        os.close(dir_fd)
    conn = http.client.HTTPConnection("localhost")
    conn.sock = sock
    conn.request("POST", "/v3/maintenance/status", body="{}")
    status = json.loads(conn.getresponse().read())
    conn.close()
    return status


def etcd_raft_leader(servers):
    """The server whose etcd member is the raft leader, or None."""
    for s in servers:
        try:
            st = etcd_member_status(s)
        except OSError:
            continue
        if st.get("leader") and st["leader"] == st.get("header", {}).get("member_id"):
            return s
    return None


def etcd_children(server):
    """pids of etcd processes whose data dir is this server's."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"etcd") and f"{server.data_dir}/etcd".encode() in cmd:
            out.append(int(pid))
    return out
