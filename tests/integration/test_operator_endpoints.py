"""Operator and debug endpoints Consul clients call (issue 16 item 8): /v1/agent/host,
/v1/agent/monitor, /v1/operator/usage, autopilot (configuration, health, state) and
/v1/operator/raft/transfer-leader, with their CLI commands. Shapes are checked field by
field as Consul's Go api package decodes them. -dev first; then one shared datacenter of
three servers for what needs a real consensus (CAS through etcd, a leadership transfer)."""
import http.client
import json
import signal
import socket
import threading
import time

import pytest

from harness import Daemon, wait_for
from servers import Datacenter, etcd_raft_leader, register

AUTOPILOT_FIELDS = {
    "CleanupDeadServers": bool, "LastContactThreshold": str, "MaxTrailingLogs": int,
    "MinQuorum": int, "ServerStabilizationTime": str, "RedundancyZoneTag": str,
    "DisableUpgradeMigration": bool, "UpgradeVersionTag": str, "CreateIndex": int,
    "ModifyIndex": int,
}
SERVER_HEALTH_FIELDS = {
    "ID": str, "Name": str, "Address": str, "SerfStatus": str, "Version": str, "Leader": bool,
    "LastContact": str, "LastTerm": int, "LastIndex": int, "Healthy": bool, "Voter": bool,
    "StableSince": str,
}
STATE_SERVER_FIELDS = {
    "ID": str, "Name": str, "Address": str, "NodeStatus": str, "Version": str,
    "LastContact": str, "LastTerm": int, "LastIndex": int, "Healthy": bool, "StableSince": str,
    "ReadReplica": bool, "Status": str, "Meta": dict, "NodeType": str,
}


def assert_fields(obj, fields, what):
    for name, kind in fields.items():
        assert name in obj, f"{what}: no {name} in {obj}"
        assert isinstance(obj[name], kind), f"{what}.{name}: {obj[name]!r} is not {kind}"


def put_autopilot(agent, body, cas=None):
    path = "/v1/operator/autopilot/configuration" + (f"?cas={cas}" if cas is not None else "")
    return agent.http.request("PUT", path, body=json.dumps(body))


# ---- -dev --------------------------------------------------------------------------------


def test_agent_host_answers_gopsutil_shape(agent):
    r = agent.http.get("/v1/agent/host")
    assert r.status == 200, r
    h = r.json()
    assert set(h) == {"Memory", "CPU", "Host", "Disk", "CollectionTime", "Errors"}, h.keys()
    assert h["Errors"] is None
    assert isinstance(h["CollectionTime"], int) and h["CollectionTime"] > 1_600_000_000 * 10**9
    mem = h["Memory"]
    assert mem["total"] > 0 and 0 < mem["usedPercent"] < 100
    assert mem["available"] <= mem["total"] and "swapTotal" in mem
    assert len(h["CPU"]) >= 1
    cpu = h["CPU"][0]
    for k in ("cpu", "vendorId", "family", "model", "stepping", "physicalId", "coreId", "cores",
              "modelName", "mhz", "cacheSize", "flags", "microcode"):
        assert k in cpu, k
    host = h["Host"]
    assert host["os"] == "linux" and host["hostname"] == socket.gethostname()
    assert host["kernelVersion"] and host["bootTime"] > 0 and host["procs"] > 0
    disk = h["Disk"]
    assert disk["path"] == "/" and disk["total"] > 0 and disk["fstype"]


def test_operator_usage_counts_the_catalog(agent):
    for i, (name, kind) in enumerate([("web", None), ("web", None), ("api", None),
                                      ("web-sidecar-proxy", "connect-proxy")]):
        svc = {"ID": f"{name}-{i}", "Service": name, "Port": 8000 + i}
        if kind:
            svc["Kind"] = kind
            svc["Proxy"] = {"DestinationServiceName": "web"}
        r = agent.http.put("/v1/catalog/register",
                           json.dumps({"Node": "n1", "Address": "10.0.0.1", "Service": svc}))
        assert r.status == 200, r
    # A Connect-native service, through the agent (its Connect block reaches the catalog).
    r = agent.http.put("/v1/agent/service/register",
                       json.dumps({"Name": "native-app", "Port": 9000, "Connect": {"Native": True}}))
    assert r.status == 200, r
    wait_for(lambda: agent.http.get("/v1/catalog/service/native-app").json(), 10,
             "the agent's native-app in the catalog")
    r = agent.http.get("/v1/operator/usage")
    assert r.status == 200, r
    assert int(r.headers["x-consul-index"]) > 0
    body = r.json()
    dc = body["Usage"]["dc1"]
    # consul (the -dev server's own service), web, api, web-sidecar-proxy, native-app: the
    # numbers of Consul's own TestOperator_Usage.
    assert dc["Services"] == 5, dc
    assert dc["ServiceInstances"] == 6, dc
    assert dc["ConnectServiceInstances"] == {
        "api-gateway": 0, "connect-native": 1, "connect-proxy": 1, "ingress-gateway": 0,
        "mesh-gateway": 0, "terminating-gateway": 0}, dc
    # Neither the consul service nor the proxy is billed; a Connect-native service is.
    assert dc["BillableServiceInstances"] == 4, dc
    assert dc["Nodes"] == 2, dc
    assert body["Index"] == int(r.headers["x-consul-index"])
    assert body["KnownLeader"] is True


def test_autopilot_configuration_defaults_put_and_cas(agent):
    r = agent.http.get("/v1/operator/autopilot/configuration")
    assert r.status == 200, r
    c = r.json()
    assert_fields(c, AUTOPILOT_FIELDS, "AutopilotConfiguration")
    assert c["CleanupDeadServers"] is True and c["LastContactThreshold"] == "200ms"
    assert c["MaxTrailingLogs"] == 250 and c["ServerStabilizationTime"] == "10s"
    # A plain PUT answers true; fields left out take Consul's defaults.
    r = put_autopilot(agent, {"CleanupDeadServers": False, "LastContactThreshold": "1s",
                              "MinQuorum": 3})
    assert r.status == 200 and r.json() is True, r
    c = agent.http.get("/v1/operator/autopilot/configuration").json()
    assert (c["CleanupDeadServers"], c["LastContactThreshold"], c["MinQuorum"]) == (False, "1s", 3)
    assert c["MaxTrailingLogs"] == 250 and c["ModifyIndex"] > 0
    assert c["CreateIndex"] <= c["ModifyIndex"]
    # CAS: a stale index answers false and changes nothing; the current one answers true.
    r = put_autopilot(agent, {"MaxTrailingLogs": 7}, cas=c["ModifyIndex"] - 1)
    assert r.status == 200 and r.json() is False, r
    assert agent.http.get("/v1/operator/autopilot/configuration").json()["MaxTrailingLogs"] == 250
    r = put_autopilot(agent, {"MaxTrailingLogs": 7, "ServerStabilizationTime": 2_000_000_000},
                      cas=c["ModifyIndex"])
    assert r.status == 200 and r.json() is True, r
    c2 = agent.http.get("/v1/operator/autopilot/configuration").json()
    assert c2["MaxTrailingLogs"] == 7 and c2["ServerStabilizationTime"] == "2s"
    assert c2["CreateIndex"] == c["CreateIndex"] and c2["ModifyIndex"] > c["ModifyIndex"]
    # Malformed input: Consul's 400s.
    r = put_autopilot(agent, {"LastContactThreshold": "soon"})
    assert r.status == 400 and r.text.startswith("Error parsing autopilot config"), r
    r = put_autopilot(agent, {}, cas="x")
    assert r.status == 400 and r.text.startswith("Error parsing cas value"), r
    # The CLI reads and CAS-updates it.
    p = agent.cli("operator", "autopilot", "set-config", "-min-quorum=5",
                  "-last-contact-threshold=300ms", check=True)
    assert p.stdout.strip() == "Configuration updated!", p.stdout
    out = agent.cli("operator", "autopilot", "get-config", check=True).stdout.splitlines()
    assert "MinQuorum = 5" in out and "LastContactThreshold = 300ms" in out, out
    assert "MaxTrailingLogs = 7" in out and 'RedundancyZoneTag = ""' in out, out


def test_autopilot_health_and_state_in_dev(agent):
    r = agent.http.get("/v1/operator/autopilot/health")
    assert r.status == 200, r
    h = r.json()
    assert h["Healthy"] is True and h["FailureTolerance"] == 0
    assert len(h["Servers"]) == 1
    assert_fields(h["Servers"][0], SERVER_HEALTH_FIELDS, "ServerHealth")
    s = h["Servers"][0]
    assert s["Name"] == agent.name and s["Leader"] and s["Voter"] and s["SerfStatus"] == "alive"
    assert s["StableSince"].endswith("Z")
    r = agent.http.get("/v1/operator/autopilot/state")
    assert r.status == 200, r
    st = r.json()
    assert st["Healthy"] is True and st["Leader"] == s["ID"] and st["Voters"] == [s["ID"]]
    assert_fields(st["Servers"][s["ID"]], STATE_SERVER_FIELDS, "AutopilotServer")
    assert st["Servers"][s["ID"]]["Status"] == "leader"
    p = agent.cli("operator", "autopilot", "state", check=True)
    assert "Healthy:" in p.stdout and s["ID"] in p.stdout, p.stdout
    # A lone -dev server has nobody to hand leadership to.
    r = agent.http.request("POST", "/v1/operator/raft/transfer-leader")
    assert r.status == 500, r


class MonitorReader:
    """Reads a /v1/agent/monitor stream on a thread, line by line."""

    def __init__(self, agent, query):
        self.conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=10)
        self.conn.request("GET", "/v1/agent/monitor" + query)
        self.resp = self.conn.getresponse()
        self.lines = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for line in self.resp:
                self.lines.append(line.decode().rstrip("\n"))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass
        self.done.set()

    def close(self):
        self.conn.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


def test_monitor_streams_lines_logged_after_it_started(agent):
    reader = MonitorReader(agent, "?loglevel=debug")
    assert reader.resp.status == 200
    assert reader.resp.getheader("Transfer-Encoding") == "chunked"
    # Something logged now: a service registration logs at info.
    r = agent.http.put("/v1/agent/service/register",
                       json.dumps({"Name": "monitored-svc", "Port": 1234}))
    assert r.status == 200, r
    wait_for(lambda: any("monitored-svc" in line for line in reader.lines), 10,
             "the registration's log line on the monitor stream")
    reader.close()
    reader.thread.join(5)
    # The agent noticed the disconnect: a later stream works, and nothing piled up.
    json_reader = MonitorReader(agent, "?loglevel=info&logjson")
    agent.http.put("/v1/agent/service/register", json.dumps({"Name": "json-svc", "Port": 1}))
    wait_for(lambda: any("json-svc" in line for line in json_reader.lines), 10,
             "a JSON log line")
    event = json.loads(next(line for line in json_reader.lines if "json-svc" in line))
    assert {"@level", "@message", "@module", "@timestamp"} <= set(event), event
    json_reader.close()
    r = agent.http.get("/v1/agent/monitor?loglevel=loud")
    assert r.status == 400 and r.text == "Unknown log level: loud", r
    assert agent.daemon.alive()


def test_monitor_cli_prints_lines_until_interrupted(agent, tmp_path):
    import subprocess
    import os
    from harness import binary
    env = dict(os.environ, CAIRN_HTTP_ADDR=f"127.0.0.1:{agent.port}")
    env.pop("CONSUL_HTTP_ADDR", None)
    out_path = tmp_path / "monitor.out"
    with open(out_path, "w") as out:
        # SIGINT as a terminal's Ctrl-C: a test run started in the background (`&` in a
        # script) ignores it, and the child would inherit that.
        p = subprocess.Popen([binary("cairn"), "monitor", "-log-level=debug"], stdout=out,
                             stderr=subprocess.STDOUT, env=env,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            def logged():
                agent.http.put("/v1/agent/service/register",
                               json.dumps({"Name": "cli-monitored", "Port": 1}))
                return "cli-monitored" in out_path.read_text()
            wait_for(logged, 10, "the CLI monitor to print a line", interval=0.2)
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(5)


# ---- a datacenter of three servers, shared by the tests below -----------------------------


@pytest.fixture(scope="module")
def dc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("operator-dc")
    started = []

    def start(args, name="daemon", env=None, preexec_fn=None):
        d = Daemon(args, tmp / f"{name}-{len(started)}.log", env=env, preexec_fn=preexec_fn)
        started.append(d)
        return d

    dc = Datacenter(start, tmp, 3, subnet="127.0.8")
    dc.start()
    yield dc
    for d in started:
        if d.alive():
            d.signal(signal.SIGTERM)
    reports = []
    for d in started:
        d.stop()
        if report := d.sanitizer_report():
            reports.append(report)
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)


def test_cluster_autopilot_configuration_is_replicated_with_cas(dc):
    s0, s1, s2 = dc.servers
    c = s1.http.get("/v1/operator/autopilot/configuration").json()
    r = put_autopilot(s0, {"MinQuorum": 3, "CleanupDeadServers": False}, cas=c["ModifyIndex"])
    assert r.status == 200 and r.json() is True, r
    # Another server reads it (default consistency waits for the write).
    c2 = s2.http.get("/v1/operator/autopilot/configuration").json()
    assert c2["MinQuorum"] == 3 and c2["CleanupDeadServers"] is False
    assert c2["ModifyIndex"] > c["ModifyIndex"]
    # The index s0 used is stale now, whichever server is asked.
    r = put_autopilot(s1, {"MinQuorum": 9}, cas=c["ModifyIndex"])
    assert r.status == 200 and r.json() is False, r
    assert s0.http.get("/v1/operator/autopilot/configuration").json()["MinQuorum"] == 3


def test_cluster_autopilot_health_lists_every_server(dc):
    def healthy():
        r = dc.servers[2].http.get("/v1/operator/autopilot/health")
        return r.json() if r.status == 200 else None
    h = wait_for(healthy, 20, "a healthy datacenter")
    assert h["FailureTolerance"] == 1, h
    assert sorted(s["Name"] for s in h["Servers"]) == ["s0", "s1", "s2"]
    leader = dc.wait_leader()
    for s in h["Servers"]:
        assert_fields(s, SERVER_HEALTH_FIELDS, "ServerHealth")
        assert s["SerfStatus"] == "alive" and s["Voter"] and s["LastTerm"] > 0
        assert s["Leader"] == (s["Address"] == leader), (s, leader)
    # The IDs are the raft configuration's.
    ids = {p["ID"] for p in dc.servers[0].http.get("/v1/operator/raft/configuration")
           .json()["Servers"]}
    assert ids == {s["ID"] for s in h["Servers"]}
    st = dc.servers[1].http.get("/v1/operator/autopilot/state").json()
    assert set(st["Servers"]) == ids and sorted(st["Voters"]) == sorted(ids)
    assert st["Servers"][st["Leader"]]["Address"] == leader


def test_cluster_usage_is_the_datacenters(dc):
    register(dc.servers[0], "usage-node", "usage-svc", "10.9.0.1", 80)
    u = dc.servers[2].http.get("/v1/operator/usage").json()["Usage"]["dc1"]
    assert u["Nodes"] == 4 and u["Services"] == 2, u  # consul + usage-svc
    assert u["ServiceInstances"] == 4 and u["BillableServiceInstances"] == 1, u


def test_cluster_transfer_leader_moves_cairn_and_etcd_leadership(dc):
    old = dc.leader_server()
    config = old.http.get("/v1/operator/raft/configuration").json()["Servers"]
    target = next(p for p in config if not p["Leader"])
    # Asked through a server that is neither the leader nor the target.
    via = next(s for s in dc.servers
               if s is not old and not target["Address"].startswith(s.ip + ":"))
    r = via.http.request("POST", f"/v1/operator/raft/transfer-leader?id={target['ID']}",
                         timeout=20)
    assert r.status == 200 and r.json() == {"Success": True}, r
    assert dc.wait_leader() == target["Address"]
    new = dc.leader_server()
    assert new is not old
    wait_for(lambda: etcd_raft_leader(dc.servers) is new, 10,
             "etcd's raft leadership to follow the cairn leader")
    # The raft configuration agrees, and writes still work.
    config = via.http.get("/v1/operator/raft/configuration").json()["Servers"]
    assert [p["ID"] for p in config if p["Leader"]] == [target["ID"]]
    r = via.http.request("PUT", "/v1/kv/after-transfer", body="ok")
    assert r.status == 200 and r.text == "true", r
    # Unknown IDs and the leader itself are refused.
    r = via.http.request("POST", "/v1/operator/raft/transfer-leader?id=nope")
    assert r.status == 500 and "not found" in r.text, r
    # The CLI, with no -id: any other voter.
    p = via.cli("operator", "raft", "transfer-leader")
    assert p.returncode == 0 and p.stdout.strip() == "Success", (p.stdout, p.stderr)
    assert dc.wait_leader() != target["Address"]
