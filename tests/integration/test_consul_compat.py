"""What Consul's own clients trip on (issue 16, items 1, 2, 4 and 5): the Go
client's zero weights, the config and flags Consul's test SDK starts an agent
with, the index it waits for, and ?dc= for datacenters cairn has no path to.
Raw HTTP where the client's exact bytes matter, python3-consul where it found it."""
import http.client
import json
import os
import re
import signal
import socket
import stat
import subprocess

import consul
import dns.message
import dns.query
import pytest

from harness import Agent, Http, binary, free_port, wait_for

# The body Consul's Go client (api.CatalogRegistration) sends: AgentService's
# Weights is a struct, not a pointer, so it is always there, zero when unset.
GO_CLIENT_CATALOG_REGISTRATION = {
    "Node": "go-node", "Address": "10.1.1.1", "Datacenter": "",
    "Service": {"ID": "go-web", "Service": "go-web", "Tags": None, "Port": 80, "Address": "",
                "Weights": {"Passing": 0, "Warning": 0}, "EnableTagOverride": False},
}


def test_catalog_register_with_the_go_clients_zero_weights_stores_the_defaults(agent):
    r = agent.http.put("/v1/catalog/register", GO_CLIENT_CATALOG_REGISTRATION)
    assert (r.status, r.text) == (200, "true"), r
    [entry] = agent.http.get("/v1/catalog/service/go-web").json()
    assert entry["ServiceWeights"] == {"Passing": 1, "Warning": 1}


@pytest.mark.parametrize("weights,stored", [
    ({"Passing": 5, "Warning": 0}, {"Passing": 5, "Warning": 0}),  # valid: kept
    ({"Passing": 5}, {"Passing": 5, "Warning": 0}),                # Go's zero value for Warning
    ({"Passing": -1, "Warning": 2}, {"Passing": 1, "Warning": 1}),  # invalid: Consul's defaults
    ({"Passing": 70000, "Warning": 1}, {"Passing": 1, "Warning": 1}),
    (None, {"Passing": 1, "Warning": 1}),
])
def test_catalog_weights_follow_consuls_to_service_node(agent, weights, stored):
    body = {"Node": "n1", "Address": "10.1.1.2",
            "Service": {"Service": "w", "Weights": weights}}
    r = agent.http.put("/v1/catalog/register", body)
    assert r.status == 200, r
    assert agent.http.get("/v1/catalog/service/w").json()[0]["ServiceWeights"] == stored


def test_agent_register_weights_are_consuls(agent):
    # Consul's agent endpoint validates explicit weights, in its own words.
    r = agent.http.put("/v1/agent/service/register",
                       {"Name": "z", "Weights": {"Passing": 0, "Warning": 0}})
    assert (r.status, r.text) == (400, "Invalid Weights: Passing must be greater than 0"), r
    r = agent.http.put("/v1/agent/service/register", {"Name": "p", "Weights": {"Passing": 3}})
    assert r.status == 200, r
    assert agent.http.get("/v1/agent/service/p").json()["Weights"] == {"Passing": 3, "Warning": 0}
    r = agent.http.put("/v1/agent/service/register", {"Name": "d"})
    assert agent.http.get("/v1/agent/service/d").json()["Weights"] == {"Passing": 1, "Warning": 1}


def test_python_consul_catalog_register_with_zero_weights(agent):
    c = consul.Consul(host="127.0.0.1", port=agent.port)
    assert c.catalog.register("py-node", "10.1.1.3",
                              service={"Service": "py-web", "Port": 80,
                                       "Weights": {"Passing": 0, "Warning": 0}})
    _, nodes = c.catalog.service("py-web")
    assert nodes[0]["ServiceWeights"] == {"Passing": 1, "Warning": 1}


# --- item 4: the index Consul's test SDK waits for -------------------------

def test_a_fresh_dev_agent_reports_index_2_or_more_on_catalog_nodes(agent):
    # The SDK's WaitForLeader: a known leader, a node, and X-Consul-Index >= 2.
    r = agent.http.get("/v1/catalog/nodes")
    assert r.status == 200 and r.headers["x-consul-knownleader"] == "true"
    assert int(r.headers["x-consul-index"]) >= 2, r.headers
    nodes = r.json()
    assert nodes and "lan" in nodes[0]["TaggedAddresses"]
    index, _ = consul.Consul(host="127.0.0.1", port=agent.port).catalog.nodes()
    assert int(index) >= 2


# --- item 2: the config and flags Consul's test SDK uses --------------------

def sdk_config(tmp_path, **extra):
    """sdk/testutil/server.go's defaultServerConfig, as its json.Marshal writes it."""
    ports = {"dns": free_port(), "http": free_port(), "https": free_port(),
             "serf_lan": free_port(), "serf_wan": free_port(), "server": free_port(),
             "grpc": free_port(), "grpc_tls": free_port()}
    cfg = {
        "node_name": "node-7f3c", "node_id": "7f3c0c2e-8d2a-4f5e-9b1a-2c3d4e5f6a7b",
        "performance": {"raft_multiplier": 1}, "bootstrap": True, "server": True,
        "data_dir": str(tmp_path / "sdk-data"), "segments": None, "disable_update_check": True,
        "log_level": "debug", "bind_addr": "127.0.0.1", "addresses": {}, "ports": ports,
        "acl": {"tokens": {}},
        "connect": {"enabled": True,
                    "ca_config": {"cluster_id": "11111111-2222-3333-4444-555555555555"}},
        "skip_leave_on_interrupt": True, "peering": {"enabled": True},
    }
    cfg.update(extra)
    return cfg


def test_the_test_sdks_server_config_starts_and_stops_on_interrupt(daemons, tmp_path):
    # What `consul agent -config-file config.json` gets from the SDK, plus the
    # one port Consul does not have (the etcd member's), so that parallel
    # tests do not share 8380.
    cfg = sdk_config(tmp_path, primary_datacenter="dc1", raft_protocol=3, enable_debug=True)
    cfg["ports"]["etcd_peer"] = free_port()
    f = tmp_path / "config.json"
    f.write_text(json.dumps(cfg))
    d = daemons([binary("cairn"), "agent", "-config-file", f], name="sdk")
    http = Http("127.0.0.1", cfg["ports"]["http"])

    def leader_and_index():  # the SDK's WaitForLeader, verbatim in spirit
        r = http.get("/v1/catalog/nodes", timeout=2)
        return (r.status == 200 and r.headers.get("x-consul-knownleader") == "true"
                and int(r.headers["x-consul-index"]) >= 2)
    wait_for(lambda: d.alive() and leader_and_index(), 30, "a leader and index >= 2 (server)")
    [warning] = [l for l in d.output().splitlines() if "without effect" in l]
    for name in ("connect", "peering", "enable_debug", "ports.grpc", "ports.grpc_tls",
                 "ports.https"):
        assert re.search(rf"[\"= ,]{re.escape(name)}[,\"]", warning), (name, warning)
    assert http.get("/v1/agent/self").json()["Config"]["PrimaryDatacenter"] == "dc1"
    # The SDK stops its server with SIGINT: skip_leave_on_interrupt stops it at once.
    d.signal(signal.SIGINT)
    d.proc.wait(timeout=10)
    assert d.proc.returncode == 0
    assert re.search(r"shutting down reason=SIGINT leave=false", d.output()), d.output()
    http.close()


def agent_with(daemons, tmp_path, *extra, name="a", dev=True):
    a = Agent(daemons, tmp_path, name=name, dev=dev, extra_args=extra)
    return a


def test_sigint_leaves_on_clients_and_not_on_servers_unless_configured(daemons, tmp_path):
    server = agent_with(daemons, tmp_path, name="srv").start()
    join = ["-retry-join", f"127.0.0.1:{server.serf_port}"]
    client = agent_with(daemons, tmp_path, *join, name="cli", dev=False).start()
    wait_for(lambda: any(m["Name"] == "cli" and m["Status"] == 1
                         for m in server.http.get("/v1/agent/members").json()), 10,
             "the client to join")
    client.daemon.signal(signal.SIGINT)
    client.daemon.proc.wait(timeout=10)
    assert "reason=SIGINT leave=true" in client.daemon.output()
    # Left, not failed: it said goodbye.
    wait_for(lambda: any(m["Name"] == "cli" and m["Status"] == 3
                         for m in server.http.get("/v1/agent/members").json()), 10,
             "the server to see the client leave")
    (tmp_path / "skip.json").write_text('{"skip_leave_on_interrupt": true}')
    quiet = agent_with(daemons, tmp_path, *join, "-config-file", tmp_path / "skip.json",
                       name="quiet", dev=False).start()
    quiet.daemon.signal(signal.SIGINT)
    quiet.daemon.proc.wait(timeout=10)
    assert "reason=SIGINT leave=false" in quiet.daemon.output()
    # A server (-dev is one) skips the leave unless told otherwise.
    server.daemon.signal(signal.SIGINT)
    server.daemon.proc.wait(timeout=10)
    assert "reason=SIGINT leave=false" in server.daemon.output()


def test_pid_file_is_written_at_start_and_removed_at_exit(daemons, tmp_path):
    pid_file = tmp_path / "run" / "cairn.pid"
    pid_file.parent.mkdir()
    a = agent_with(daemons, tmp_path, "-pid-file", pid_file).start()
    assert pid_file.read_text() == str(a.daemon.proc.pid)  # Consul's: no newline
    assert a.stop() == 0
    assert not pid_file.exists()
    # pid_file in a config file too; an unwritable path stops the agent with Consul's words.
    (tmp_path / "pid.json").write_text(json.dumps({"pid_file": str(tmp_path / "missing/x.pid")}))
    args = agent_with(daemons, tmp_path, "-config-file", tmp_path / "pid.json", name="nopid").args()
    p = subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=20)
    assert p.returncode == 1 and "Could not open pid file" in p.stderr, p.stderr


def test_version_format_json_has_consuls_shape():
    p = subprocess.run([binary("cairn"), "version", "-format=json"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert list(info) == ["Version", "Revision", "Prerelease", "BuildDate", "RPC"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["Version"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["BuildDate"])
    assert info["RPC"] == {"Default": 2, "Min": 2, "Max": 3}
    p = subprocess.run([binary("cairn"), "version", "-format=yaml"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 1 and "Unknown format: yaml" in p.stderr


class UnixHttp(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def unix_get(path, target):
    c = UnixHttp(str(path))
    c.request("GET", target)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def test_addresses_http_serves_a_unix_socket_and_addresses_override_client_addr(daemons,
                                                                                 tmp_path):
    sock = tmp_path / "http.sock"
    cfg = {"addresses": {"http": f"unix://{sock} 127.0.0.3", "dns": "127.0.0.4"},
           "unix_sockets": {"mode": "0600"}}
    (tmp_path / "addr.json").write_text(json.dumps(cfg))
    a = agent_with(daemons, tmp_path, "-config-file", tmp_path / "addr.json")
    a.http = Http("127.0.0.3", a.port)
    a.start()
    status, body = unix_get(sock, "/v1/status/leader")
    assert status == 200 and body.startswith(b'"'), body
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    # client_addr (127.0.0.1) serves neither HTTP nor DNS any more.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", a.port), timeout=2).close()
    q = dns.message.make_query("consul.service.consul.", "A")
    answer = dns.query.udp(q, "127.0.0.4", port=a.dns_port, timeout=2)
    assert answer.answer, answer
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(q, "127.0.0.1", port=a.dns_port, timeout=0.5)
    # The socket file goes with the agent, as Consul's does.
    assert a.stop() == 0
    assert not sock.exists()


def test_a_socket_left_behind_is_replaced_and_a_regular_file_is_not(daemons, tmp_path):
    sock = tmp_path / "left.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock))
    stale.close()  # the file stays, as after a crash
    (tmp_path / "a.json").write_text(json.dumps({"addresses": {"http": f"unix://{sock}"}}))
    a = agent_with(daemons, tmp_path, "-config-file", tmp_path / "a.json")
    a.start(wait=False)
    wait_for(lambda: unix_get(sock, "/v1/status/leader")[0] == 200, 10, "the unix socket")
    a.stop()
    plain = tmp_path / "plain"
    plain.write_text("keep me")
    (tmp_path / "b.json").write_text(json.dumps({"addresses": {"http": f"unix://{plain}"}}))
    args = agent_with(daemons, tmp_path, "-config-file", tmp_path / "b.json", name="b").args()
    p = subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=20)
    assert p.returncode == 1 and "not a socket" in p.stdout + p.stderr
    assert plain.read_text() == "keep me"


# --- item 5: ?dc= for a datacenter cairn has no path to ---------------------

TAKES_DC = [
    ("GET", "/v1/status/leader"), ("GET", "/v1/status/peers"),
    ("PUT", "/v1/session/create"), ("GET", "/v1/session/list"), ("GET", "/v1/session/info/x"),
    ("GET", "/v1/catalog/nodes"), ("GET", "/v1/catalog/services"),
    ("GET", "/v1/catalog/service/consul"), ("GET", "/v1/catalog/node/n"),
    ("GET", "/v1/health/service/consul"), ("GET", "/v1/health/state/any"),
    ("GET", "/v1/kv/k"), ("PUT", "/v1/kv/k"), ("DELETE", "/v1/kv/k"),
    ("PUT", "/v1/txn"), ("GET", "/v1/query"), ("GET", "/v1/coordinate/nodes"),
    ("PUT", "/v1/event/fire/e"), ("GET", "/v1/operator/raft/configuration"),
]


@pytest.mark.parametrize("method,path", TAKES_DC)
def test_an_unknown_datacenter_is_no_path_everywhere_dc_is_taken(agent, method, path):
    body = "[]" if path == "/v1/txn" else ""
    r = agent.http.request(method, path + "?dc=nowhere", body=body)
    assert (r.status, r.text) == (500, "No path to datacenter"), r
    # The agent's own datacenter, by name, is served as without ?dc=.
    r = agent.http.request(method, path + "?dc=dc1", body=body)
    assert r.status != 500 or r.text != "No path to datacenter", r


def test_session_create_for_another_dc_creates_nothing_and_agent_routes_ignore_dc(agent):
    r = agent.http.put("/v1/session/create?dc=nowhere", {"Name": "s"})
    assert r.status == 500
    assert agent.http.get("/v1/session/list").json() == []
    # Routes Consul answers from the agent itself take no ?dc=.
    for path in ("/v1/agent/self", "/v1/agent/services", "/v1/catalog/datacenters",
                 "/v1/coordinate/datacenters"):
        assert agent.http.get(path + "?dc=nowhere").status == 200, path
    # A catalog write's datacenter is its body's, as in Consul.
    r = agent.http.put("/v1/catalog/register?dc=nowhere",
                       {"Node": "n2", "Address": "10.1.1.4"})
    assert r.status == 200, r
    r = agent.http.put("/v1/catalog/register", {"Node": "n3", "Address": "10.1.1.5",
                                                "Datacenter": "nowhere"})
    assert (r.status, r.text) == (500, "No path to datacenter")


def test_python_consul_with_another_dc_fails_instead_of_answering_locally(agent):
    c = consul.Consul(host="127.0.0.1", port=agent.port, dc="nowhere")
    with pytest.raises(consul.ConsulException, match="No path to datacenter"):
        c.session.create(name="s")
    with pytest.raises(consul.ConsulException, match="No path to datacenter"):
        c.kv.get("k")
    local = consul.Consul(host="127.0.0.1", port=agent.port)
    assert local.session.list()[1] == []
