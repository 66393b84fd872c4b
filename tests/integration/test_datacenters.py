"""Other datacenters (issue 15): a server forwards `?dc=` requests, DNS names with a datacenter
label and prepared-query failover to a server of that datacenter from the WAN pool; a client
agent sends them to its own server, which does the same."""
import json

import pytest

from dns_helpers import ask, rcode, texts
from harness import wait_for
from test_client_agents import client_of
from test_wan_gossip import server


@pytest.fixture
def federation(make_agent):
    """dc1 (server s1 and client c1) and dc2 (server s2), s1 and s2 joined over the WAN."""
    s1 = server(make_agent, "s1", "dc1")
    # Extra UDP loops hand questions for other datacenters to the agent's loop.
    s1.write_config("dns.yaml", "dns_config:\n  udp_loops: 3\n")
    s1.start()
    s2 = server(make_agent, "s2", "dc2").start()
    r = s2.cli("join", "-wan", f"127.0.0.1:{s1.serf_wan_port}")
    assert r.returncode == 0, (r.stdout, r.stderr)
    for a in (s1, s2):
        wait_for(lambda a=a: a.http.get("/v1/catalog/datacenters").json() in (["dc1", "dc2"], ["dc2", "dc1"]),
                 20, f"{a.name} to know both datacenters")
    c1 = client_of(make_agent, s1, name="c1")
    return s1, s2, c1


def register_web(agent, node, address, port=80, tags=()):
    body = {"Node": node, "Address": address,
            "Service": {"Service": "web", "ID": f"web-{node}", "Port": port, "Tags": list(tags)},
            "Check": {"CheckID": f"web-{node}", "Name": "web", "Status": "passing", "ServiceID": f"web-{node}"}}
    assert agent.http.put("/v1/catalog/register", body).status == 200


def test_dc_parameter_reaches_the_other_datacenter_from_servers_and_clients(federation):
    s1, s2, c1 = federation
    register_web(s2, "n2", "10.2.0.1")
    assert s2.http.put("/v1/kv/where", "dc2").text == "true"
    for a in (s1, c1):
        r = a.http.get("/v1/kv/where?raw&dc=dc2")
        assert r.status == 200 and r.text == "dc2", (a.name, r)
        # The headers are the other datacenter's truth.
        assert r.headers["x-consul-knownleader"] == "true"
        nodes = a.http.get("/v1/health/service/web?dc=dc2&passing").json()
        assert [n["Node"]["Node"] for n in nodes] == ["n2"], (a.name, nodes)
        assert a.http.get("/v1/catalog/service/web").json() == [], "dc1 has no web"
        # A write goes there too, and the local datacenter does not see it.
        assert a.http.put(f"/v1/kv/from-{a.name}?dc=dc2", "x").text == "true"
        assert s2.http.get(f"/v1/kv/from-{a.name}?raw").text == "x"
        assert s1.http.get(f"/v1/kv/from-{a.name}").status == 404
    # A blocking query on the other datacenter wakes on its writes.
    index = int(c1.http.get("/v1/kv/where?dc=dc2").headers["x-consul-index"])
    assert s2.http.put("/v1/kv/where", "again").text == "true"
    r = c1.http.get(f"/v1/kv/where?dc=dc2&index={index}&wait=10s", timeout=20)
    assert int(r.headers["x-consul-index"]) > index and json.loads(r.text)[0]["Value"] == "YWdhaW4="
    # Unknown datacenters are still Consul's error, on servers and clients alike.
    for a in (s1, c1):
        r = a.http.get("/v1/kv/where?dc=dc9")
        assert r.status == 500 and "No path to datacenter" in r.text, (a.name, r)


def test_dns_names_with_another_datacenter_are_answered_by_its_servers(federation):
    s1, s2, c1 = federation
    register_web(s2, "n2", "10.2.0.1", port=8080, tags=["v1"])
    register_web(s1, "n1", "10.1.0.1")
    for a in (s1, c1):
        wait_for(lambda a=a: texts(ask(a, "web.service.dc2.consul", "A").answer, "A") == ["10.2.0.1"], 10,
                 f"dc2's instance in DNS on {a.name}")
        # The local datacenter's answer is its own.
        assert texts(ask(a, "web.service.consul", "A").answer, "A") == ["10.1.0.1"]
        srv = ask(a, "v1.web.service.dc2.consul", "SRV", tcp=True)
        assert texts(srv.answer, "SRV") == ["1 1 8080 n2.node.dc2.consul."], srv
        assert texts(srv.additional, "A") == ["10.2.0.1"]
        assert rcode(ask(a, "v2.web.service.dc2.consul", "A")) == "NXDOMAIN"
        assert texts(ask(a, "n2.node.dc2.consul", "A").answer, "A") == ["10.2.0.1"]
        # Every question is answered, whichever UDP loop the kernel hands it to.
        for _ in range(30):
            assert texts(ask(a, "web.service.dc2.consul", "A").answer, "A") == ["10.2.0.1"]
        # A datacenter nobody knows is NXDOMAIN, as Consul answers it.
        assert rcode(ask(a, "web.service.dc9.consul", "A")) == "NXDOMAIN"
    # A check going critical in dc2 takes the instance out of dc1's answers at once.
    body = {"Node": "n2", "Address": "10.2.0.1",
            "Check": {"CheckID": "web-n2", "Name": "web", "Status": "critical", "ServiceID": "web-n2"}}
    assert s2.http.put("/v1/catalog/register", body).status == 200
    assert rcode(ask(c1, "web.service.dc2.consul", "A")) == "NXDOMAIN"


def test_a_prepared_query_fails_over_to_the_other_datacenter(federation):
    s1, s2, c1 = federation
    register_web(s1, "n1", "10.1.0.1")
    register_web(s2, "n2", "10.2.0.1")
    q = {"Name": "geo-web", "Service": {"Service": "web", "Failover": {"Datacenters": ["dc9", "dc2"]}}}
    r = s1.http.request("POST", "/v1/query", q)
    assert r.status == 200, r
    near = {"Name": "near-web", "Service": {"Service": "web", "Failover": {"NearestN": 1}}}
    assert s1.http.request("POST", "/v1/query", near).status == 200
    for a in (s1, c1):
        got = a.http.get("/v1/query/geo-web/execute").json()
        assert got["Datacenter"] == "dc1" and got["Failovers"] == 0, got
        assert [n["Node"]["Node"] for n in got["Nodes"]] == ["n1"]
        assert texts(ask(a, "geo-web.query.consul", "A").answer, "A") == ["10.1.0.1"]
    # dc1's instance goes critical: the query answers with dc2's.
    body = {"Node": "n1", "Address": "10.1.0.1",
            "Check": {"CheckID": "web-n1", "Name": "web", "Status": "critical", "ServiceID": "web-n1"}}
    assert s1.http.put("/v1/catalog/register", body).status == 200
    for a in (s1, c1):
        wait_for(lambda a=a: a.http.get("/v1/query/geo-web/execute").json()["Datacenter"] == "dc2", 10,
                 f"the query to fail over on {a.name}")
        got = a.http.get("/v1/query/geo-web/execute").json()
        # dc9 is unknown and skipped, as Consul skips it: one datacenter tried.
        assert got["Failovers"] == 1 and [n["Node"]["Node"] for n in got["Nodes"]] == ["n2"], got
        got = a.http.get("/v1/query/near-web/execute").json()
        assert got["Datacenter"] == "dc2" and got["Failovers"] == 1, got
        # DNS fails over too, with dc2's names.
        wait_for(lambda a=a: texts(ask(a, "geo-web.query.consul", "A").answer, "A") == ["10.2.0.1"], 10,
                 f"DNS on {a.name} to fail over")
        srv = ask(a, "near-web.query.consul", "SRV", tcp=True)
        assert texts(srv.answer, "SRV") == ["1 1 80 n2.node.dc2.consul."], srv
    # Both critical: nothing anywhere, and every datacenter was tried.
    body["Node"], body["Address"], body["Check"]["CheckID"], body["Check"]["ServiceID"] = \
        "n2", "10.2.0.1", "web-n2", "web-n2"
    assert s2.http.put("/v1/catalog/register", body).status == 200
    got = c1.http.get("/v1/query/geo-web/execute").json()
    assert got["Nodes"] == [] and got["Failovers"] == 1, got
    assert rcode(ask(c1, "geo-web.query.consul", "A")) == "NXDOMAIN"
