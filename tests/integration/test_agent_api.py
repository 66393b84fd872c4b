"""The agent/catalog/health HTTP API against a real `cairn agent -dev`."""
import json
import socket
import threading
import time

import pytest

from harness import SLOW, wait_for

WEB = {
    "ID": "web-1", "Name": "web", "Tags": ["v1", "primary"], "Port": 8080,
    "Meta": {"team": "frontend"},
    "Check": {"TTL": "30s", "Status": "passing"},
}


def register(agent, body, params=""):
    r = agent.http.put("/v1/agent/service/register" + params, body)
    assert r.status == 200, r
    return r


def test_read_headers_on_every_read(agent):
    for path in ("/v1/catalog/services", "/v1/catalog/nodes", "/v1/health/service/nope",
                 "/v1/catalog/service/nope", "/v1/health/state/any"):
        r = agent.http.get(path)
        assert r.status == 200, (path, r)
        assert int(r.headers["x-consul-index"]) >= 1, path
        assert r.headers["x-consul-knownleader"] == "true"
        assert r.headers["x-consul-lastcontact"] == "0"
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-consul-default-acl-policy"] == "allow"


def test_register_and_read_back_everywhere(agent):
    register(agent, WEB)
    services = agent.http.get("/v1/agent/services").json()
    assert services["web-1"]["Service"] == "web"
    assert services["web-1"]["Tags"] == ["v1", "primary"]
    assert services["web-1"]["Weights"] == {"Passing": 1, "Warning": 1}
    assert services["web-1"]["Datacenter"] == "dc1"

    catalog = agent.http.get("/v1/catalog/services").json()
    assert catalog["web"] == ["v1", "primary"]
    assert "consul" in catalog and catalog["consul"] == []

    rows = agent.http.get("/v1/catalog/service/web").json()
    assert len(rows) == 1
    row = rows[0]
    for field in ("ID", "Node", "Address", "Datacenter", "TaggedAddresses", "NodeMeta",
                  "ServiceKind", "ServiceID", "ServiceName", "ServiceTags", "ServiceAddress",
                  "ServiceTaggedAddresses", "ServiceWeights", "ServiceMeta", "ServicePort",
                  "ServiceEnableTagOverride", "CreateIndex", "ModifyIndex"):
        assert field in row, field
    assert row["ServiceID"] == "web-1" and row["ServicePort"] == 8080
    assert row["ServiceMeta"] == {"team": "frontend"}

    health = agent.http.get("/v1/health/service/web?passing").json()
    assert len(health) == 1
    entry = health[0]
    assert set(entry) == {"Node", "Service", "Checks"}
    ids = sorted(c["CheckID"] for c in entry["Checks"])
    assert ids == ["serfHealth", "service:web-1"]
    svc_check = [c for c in entry["Checks"] if c["CheckID"] == "service:web-1"][0]
    assert svc_check["ServiceName"] == "web" and svc_check["ServiceTags"] == ["v1", "primary"]
    assert svc_check["Type"] == "ttl" and svc_check["Definition"]["TTL"] == "30s"
    assert svc_check["Name"] == "Service 'web' check"

    checks = agent.http.get("/v1/agent/checks").json()
    assert checks["service:web-1"]["Status"] == "passing"

    node = agent.http.get("/v1/catalog/node/agent").json()
    assert node["Node"]["Node"] == "agent"
    assert "web-1" in node["Services"]
    node_services = agent.http.get("/v1/catalog/node-services/agent").json()
    assert any(s["ID"] == "web-1" for s in node_services["Services"])
    assert agent.http.get("/v1/catalog/node-services/nobody").status == 404
    assert agent.http.get("/v1/catalog/node/nobody").text == "null"
    assert agent.http.get("/v1/health/node/agent").json()
    assert agent.http.get("/v1/health/checks/web").json()[0]["CheckID"] == "service:web-1"


def test_tag_and_passing_filters(agent):
    register(agent, WEB)
    register(agent, {"ID": "web-2", "Name": "web", "Tags": ["v2"], "Port": 8081,
                     "Check": {"TTL": "30s"}})
    assert len(agent.http.get("/v1/catalog/service/web").json()) == 2
    assert [r["ServiceID"] for r in agent.http.get("/v1/catalog/service/web?tag=V1").json()] == ["web-1"]
    assert agent.http.get("/v1/catalog/service/web?tag=v1&tag=v2").json() == []
    # web-2's check starts critical: ?passing drops it; without it both are there.
    assert len(agent.http.get("/v1/health/service/web").json()) == 2
    passing = agent.http.get("/v1/health/service/web?passing=true").json()
    assert [e["Service"]["ID"] for e in passing] == ["web-1"]
    assert agent.http.get("/v1/health/service/web?passing=maybe").status == 400
    crit = agent.http.get("/v1/health/state/critical").json()
    assert [c["CheckID"] for c in crit] == ["service:web-2"]
    assert agent.http.get("/v1/health/state/bogus").status == 400


def test_ttl_pass_warn_fail_and_the_500_text_clients_match(agent):
    register(agent, {"Name": "job", "Check": {"CheckID": "job-ttl", "TTL": "10s"}})
    assert agent.http.get("/v1/agent/checks").json()["job-ttl"]["Status"] == "critical"
    assert agent.http.put("/v1/agent/check/pass/job-ttl?note=fine").status == 200
    c = agent.http.get("/v1/agent/checks").json()["job-ttl"]
    assert (c["Status"], c["Output"]) == ("passing", "fine")
    assert agent.http.put("/v1/agent/check/warn/job-ttl").status == 200
    assert agent.http.get("/v1/health/checks/job").json()[0]["Status"] == "warning"
    r = agent.http.put("/v1/agent/check/update/job-ttl", {"Status": "critical", "Output": "down"})
    assert r.status == 200
    assert agent.http.get("/v1/health/checks/job").json()[0]["Output"] == "down"
    r = agent.http.put("/v1/agent/check/pass/nope")
    assert r.status == 500
    assert r.text == 'CheckID "nope" does not have associated TTL'
    assert agent.http.get("/v1/agent/check/pass/job-ttl").status == 405
    r = agent.http.put("/v1/agent/check/update/job-ttl", {"Status": "bogus"})
    assert r.status == 400


def test_ttl_expiry_turns_critical(agent):
    register(agent, {"Name": "short", "Check": {"CheckID": "short-ttl", "TTL": "1s",
                                                "Status": "passing"}})
    wait_for(lambda: agent.http.get("/v1/agent/checks").json()["short-ttl"]["Status"] == "critical",
             5, "the TTL check to expire")
    assert agent.http.get("/v1/agent/checks").json()["short-ttl"]["Output"] == "TTL expired"


def test_deregister(agent):
    register(agent, WEB)
    r = agent.http.put("/v1/agent/service/deregister/web-1")
    assert r.status == 200 and r.body == b""
    assert "web" not in agent.http.get("/v1/catalog/services").json()
    assert agent.http.get("/v1/agent/checks").json() == {}
    r = agent.http.put("/v1/agent/service/deregister/web-1")
    assert r.status == 404 and "Unknown service ID" in r.text


def test_check_register_and_deregister(agent):
    register(agent, WEB)
    r = agent.http.put("/v1/agent/check/register",
                       {"Name": "disk", "TTL": "60s", "Notes": "root fs"})
    assert r.status == 200, r
    r = agent.http.put("/v1/agent/check/register",
                       {"Name": "web extra", "ServiceID": "web-1", "TTL": "60s"})
    assert r.status == 200, r
    checks = agent.http.get("/v1/health/node/agent").json()
    assert {"disk", "web extra"} <= {c["CheckID"] for c in checks}
    r = agent.http.put("/v1/agent/check/register", {"Name": "x", "ServiceID": "nope", "TTL": "5s"})
    assert r.status == 400 and "nope" in r.text
    assert agent.http.put("/v1/agent/check/deregister/disk").status == 200
    assert "disk" not in agent.http.get("/v1/agent/checks").json()


def test_catalog_register_and_deregister(agent):
    body = {"Node": "ext-db", "Address": "192.0.2.7", "NodeMeta": {"external": "true"},
            "Service": {"ID": "db1", "Service": "db", "Tags": ["primary"], "Port": 5432},
            "Check": {"CheckID": "db-alive", "Name": "db alive", "Status": "passing",
                      "ServiceID": "db1"}}
    r = agent.http.put("/v1/catalog/register", body)
    assert (r.status, r.text) == (200, "true")
    nodes = {n["Node"]: n for n in agent.http.get("/v1/catalog/nodes").json()}
    assert nodes["ext-db"]["Meta"] == {"external": "true"}
    assert [n["Node"] for n in agent.http.get("/v1/catalog/nodes?node-meta=external:true").json()] == ["ext-db"]
    entry = agent.http.get("/v1/health/service/db").json()[0]
    assert entry["Checks"][0]["Status"] == "passing"
    r = agent.http.put("/v1/catalog/register", {"Node": "x"})
    assert r.status == 500 and "Must provide address" in r.text
    r = agent.http.put("/v1/catalog/deregister", {"Node": "ext-db", "ServiceID": "db1"})
    assert r.text == "true"
    assert agent.http.get("/v1/catalog/service/db").json() == []
    assert agent.http.put("/v1/catalog/deregister", {"Node": "ext-db"}).text == "true"
    assert "ext-db" not in [n["Node"] for n in agent.http.get("/v1/catalog/nodes").json()]


def test_agent_self_members_and_status(agent):
    self_ = agent.http.get("/v1/agent/self").json()
    assert self_["Config"]["Datacenter"] == "dc1"
    assert self_["Config"]["NodeName"] == "agent"
    assert self_["Config"]["Server"] is True
    members = agent.http.get("/v1/agent/members").json()
    assert members[0]["Name"] == "agent" and members[0]["Status"] == 1
    assert members[0]["Tags"]["role"] == "consul"
    assert agent.http.get("/v1/status/leader").json().endswith(f":{agent.server_port}")
    assert len(agent.http.get("/v1/status/peers").json()) == 1
    assert agent.http.get("/v1/catalog/datacenters").json() == ["dc1"]


def test_agent_health_endpoints_codes(agent):
    register(agent, WEB)
    r = agent.http.get("/v1/agent/health/service/name/web")
    assert r.status == 200 and r.json()[0]["AggregatedStatus"] == "passing"
    assert agent.http.get("/v1/agent/health/service/id/web-1?format=text").text == "passing"
    agent.http.put("/v1/agent/check/warn/service:web-1")
    assert agent.http.get("/v1/agent/health/service/id/web-1").status == 429
    agent.http.put("/v1/agent/check/fail/service:web-1")
    assert agent.http.get("/v1/agent/health/service/name/web").status == 503
    assert agent.http.get("/v1/agent/health/service/name/nope").status == 404


def test_maintenance_hides_instances(agent):
    register(agent, WEB)
    assert agent.http.put("/v1/agent/service/maintenance/web-1?enable=true&reason=deploy").status == 200
    assert agent.http.get("/v1/health/service/web?passing").json() == []
    checks = agent.http.get("/v1/agent/checks").json()
    assert checks["_service_maintenance:web-1"]["Notes"] == "deploy"
    assert agent.http.get("/v1/agent/health/service/id/web-1").json()["AggregatedStatus"] == "maintenance"
    assert agent.http.put("/v1/agent/service/maintenance/web-1?enable=false").status == 200
    assert len(agent.http.get("/v1/health/service/web?passing").json()) == 1
    assert agent.http.put("/v1/agent/maintenance?enable=true").status == 200
    assert agent.http.get("/v1/health/service/web?passing").json() == []
    assert agent.http.put("/v1/agent/maintenance").status == 400
    assert agent.http.put("/v1/agent/maintenance?enable=perhaps").status == 400
    assert agent.http.put("/v1/agent/service/maintenance/nope?enable=true").status == 404


def test_pretty_and_errors_are_plain_text(agent):
    r = agent.http.get("/v1/catalog/datacenters?pretty")
    assert r.text == '[\n    "dc1"\n]\n'
    r = agent.http.get("/v1/nope")
    assert r.status == 404
    r = agent.http.request("DELETE", "/v1/agent/service/register")
    assert r.status == 405 and r.headers["allow"] == "PUT"
    assert r.text == "method DELETE not allowed"
    assert agent.http.get("/v1/catalog/services?index=abc").status == 400
    assert agent.http.get("/v1/catalog/services?wait=forever").text == "Invalid wait time"
    r = agent.http.get("/v1/catalog/services?stale&consistent")
    assert r.status == 400 and "conflicting" in r.text
    r = agent.http.get("/v1/catalog/services?dc=elsewhere")
    assert (r.status, r.text) == (500, "No path to datacenter")


@pytest.mark.parametrize("body,field", [
    ('{"Name": "x", "Port": "http"}', "Port"),
    ('{"Name": "x", "Tags": "v1"}', "Tags"),
    ('{"Name": "x", "Check": {"TTL": "soon"}}', "TTL"),
    ('{"Name": "x", "Check": {"HTTP": "http://x", "Interval": "often"}}', "Interval"),
    ('{"Name": "x", "Check": {"Notes": "no type"}}', "exactly one of"),
    ('{"Name": "x", "Check": {"HTTP": "http://x"}}', "Interval"),
    ('{"Name": "x", "Meta": {"bad key!": "v"}}', "Meta"),
    ('{"Name": "x", "Weights": {"Passing": 0}}', "Invalid Weights: Passing must be greater than 0"),
    ('{"Port": 80}', "Missing service name"),
    ('{"Name": "x", "Port": 99999}', "Port"),
    ('{"Name": "x",', "Request decode failed"),
    ('[1,2]', "Request decode failed"),
    ('', "Request decode failed"),
    ('{"Name": "x", "Check": {"Args": ["/bin/true"], "Interval": "10s"}}', "Scripts are disabled"),
])
def test_bad_registrations_are_400_and_change_nothing(agent, body, field):
    before = agent.http.get("/v1/agent/services").json()
    index = agent.http.get("/v1/catalog/services").headers["x-consul-index"]
    r = agent.http.request("PUT", "/v1/agent/service/register", body=body)
    assert r.status == 400, r
    assert field in r.text, r.text
    assert agent.http.get("/v1/agent/services").json() == before
    assert agent.http.get("/v1/catalog/services").headers["x-consul-index"] == index


def test_oversized_body_is_rejected(agent):
    big = json.dumps({"Name": "x", "Meta": {"k": "v" * (5 * 1024 * 1024)}})
    r = agent.http.request("PUT", "/v1/agent/service/register", body=big)
    assert r.status == 413
    assert agent.http.get("/v1/agent/services").json() == {}


def test_blocking_query_returns_on_change(agent):
    r = agent.http.get("/v1/health/service/web")
    index = int(r.headers["x-consul-index"])
    result = {}

    def block():
        from harness import Http
        c = Http("127.0.0.1", agent.port, timeout=30)
        start = time.monotonic()
        resp = c.get(f"/v1/health/service/web?index={index}&wait=20s")
        result["elapsed"] = time.monotonic() - start
        result["resp"] = resp
        c.close()

    t = threading.Thread(target=block)
    t.start()
    agent.wait_parked()
    assert "resp" not in result, "blocking query returned before any change"
    register(agent, WEB)
    t.join(timeout=10 * SLOW)
    assert not t.is_alive(), "blocking query did not return after the change"
    assert agent.metric("consul.rpc.queries_blocking") == 0, "an answered query still counts"
    resp = result["resp"]
    assert int(resp.headers["x-consul-index"]) > index
    assert resp.json()[0]["Service"]["ID"] == "web-1"
    assert result["elapsed"] < 5 * SLOW


def test_blocking_query_times_out_on_silence(agent):
    r = agent.http.get("/v1/catalog/services")
    index = r.headers["x-consul-index"]
    start = time.monotonic()
    r = agent.http.get(f"/v1/catalog/services?index={index}&wait=1s", timeout=10)
    elapsed = time.monotonic() - start
    assert r.status == 200
    assert r.headers["x-consul-index"] == index
    assert 1.0 <= elapsed < 1.0 + 1 / 16 + 1.5 * SLOW


def test_blocking_query_ignores_unrelated_services(agent):
    register(agent, WEB)
    index = agent.http.get("/v1/health/service/web").headers["x-consul-index"]
    start = time.monotonic()
    result = {}

    def block():
        from harness import Http
        c = Http("127.0.0.1", agent.port, timeout=30)
        result["resp"] = c.get(f"/v1/health/service/web?index={index}&wait=2s")
        result["elapsed"] = time.monotonic() - start
        c.close()

    t = threading.Thread(target=block)
    t.start()
    agent.wait_parked()
    register(agent, {"Name": "other", "Port": 1})
    t.join(timeout=10 * SLOW)
    assert result["resp"].headers["x-consul-index"] == index
    assert result["elapsed"] >= 2.0, "an unrelated change woke the query"


def test_index_never_zero_and_agent_service_hash_blocking(agent):
    register(agent, WEB)
    r = agent.http.get("/v1/agent/service/web-1")
    assert r.status == 200
    h = r.headers["x-consul-contenthash"]
    assert r.json()["ContentHash"] == h
    start = time.monotonic()
    r2 = agent.http.get(f"/v1/agent/service/web-1?hash={h}&wait=1s", timeout=10)
    assert time.monotonic() - start >= 1.0
    assert r2.headers["x-consul-contenthash"] == h
    assert agent.http.get("/v1/agent/service/nope").status == 404


def test_keepalive_and_pipelining_answer_in_order(agent):
    register(agent, WEB)
    s = socket.create_connection(("127.0.0.1", agent.port))
    reqs = b"".join(
        f"GET /v1/catalog/service/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        for name in ("web", "nope", "consul", "web"))
    s.sendall(reqs)
    data = b""
    s.settimeout(5 * SLOW)
    while data.count(b"HTTP/1.1 200 OK") < 4 or not data.rstrip().endswith(b"]"):
        chunk = s.recv(65536)
        assert chunk, "connection closed early"
        data += chunk
        if data.count(b"HTTP/1.1") == 4 and data.endswith(b"]"):
            break
    s.close()
    bodies = [part.split(b"\r\n\r\n", 1)[1] for part in data.split(b"HTTP/1.1 ")[1:]]
    assert b'"web-1"' in bodies[0]
    assert bodies[1].startswith(b"[]")
    assert b'"consul"' in bodies[2]
    assert b'"web-1"' in bodies[3]


def test_chunked_request_body(agent):
    s = socket.create_connection(("127.0.0.1", agent.port))
    body = json.dumps({"Name": "chunky", "Port": 1}).encode()
    half = len(body) // 2
    req = (b"PUT /v1/agent/service/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           + f"{half:x}\r\n".encode() + body[:half] + b"\r\n"
           + f"{len(body) - half:x}\r\n".encode() + body[half:] + b"\r\n0\r\n\r\n")
    s.sendall(req)
    s.settimeout(5 * SLOW)
    resp = s.recv(4096)
    s.close()
    assert resp.startswith(b"HTTP/1.1 200"), resp
    assert "chunky" in agent.http.get("/v1/agent/services").json()


def test_malformed_http_and_huge_headers(agent):
    s = socket.create_connection(("127.0.0.1", agent.port))
    s.sendall(b"GARBAGE\r\n\r\n")
    s.settimeout(5 * SLOW)
    assert s.recv(4096).startswith(b"HTTP/1.1 400")
    s.close()
    s = socket.create_connection(("127.0.0.1", agent.port))
    s.sendall(b"GET /v1/agent/self HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    data = s.recv(4096)
    assert data.startswith(b"HTTP/1.1 431"), data[:100]
    s.close()
    assert agent.http.get("/v1/agent/self").status == 200


def test_metrics_json_and_prometheus(agent):
    r = agent.http.get("/v1/agent/metrics")
    assert r.status == 200
    m = r.json()
    assert {"Timestamp", "Gauges", "Counters", "Samples"} <= set(m)
    r = agent.http.get("/v1/agent/metrics?format=prometheus")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "consul_http_requests" in r.text


def test_filter_expressions(agent):
    register(agent, WEB)
    register(agent, {"ID": "web-2", "Name": "web", "Tags": ["v2"], "Port": 9090,
                     "Meta": {"team": "edge"}})
    rows = agent.http.get('/v1/catalog/service/web?filter=ServicePort%20%3D%3D%209090').json()
    assert [r["ServiceID"] for r in rows] == ["web-2"]
    rows = agent.http.get('/v1/catalog/service/web?filter=%22v1%22%20in%20ServiceTags').json()
    assert [r["ServiceID"] for r in rows] == ["web-1"]
    got = agent.http.get('/v1/agent/services?filter=Meta.team%20%3D%3D%20frontend').json()
    assert list(got) == ["web-1"]
    health = agent.http.get('/v1/health/service/web?filter=Service.Meta.team%20%3D%3D%20edge').json()
    assert [e["Service"]["ID"] for e in health] == ["web-2"]
    services = agent.http.get('/v1/catalog/services?filter=ServiceName%20%3D%3D%20web').json()
    assert list(services) == ["web"]
    r = agent.http.get('/v1/catalog/nodes?filter=Node%20%3D%3D')
    assert r.status == 400 and r.text.startswith("Failed to create boolean expression evaluator")
