"""Client agents in a datacenter (issue 15): a client forwards the datacenter's API to a server
over the RPC (port 8300), pushes its own services and checks to the servers' catalog, and fails
over to another server when its server dies."""
import json
import threading

from harness import wait_for
from servers import Datacenter


def join(client, server):
    r = client.http.put(f"/v1/agent/join/{server.ip if hasattr(server, 'ip') else '127.0.0.1'}:"
                        f"{server.serf_port}")
    assert r.status == 200, r


def client_of(make_agent, server, name="c1"):
    c = make_agent(name=name, dev=False).start()
    join(c, server)
    wait_for(lambda: c.http.get("/v1/status/leader").status == 200
             and c.http.get("/v1/status/leader").json() != "", 20,
             f"{name} to reach a server through the RPC")
    return c


def test_a_client_forwards_kv_catalog_and_sessions_to_its_server(make_agent):
    srv = make_agent(name="srv").start()
    c = client_of(make_agent, srv)
    # The leader a client names is its server's answer.
    assert c.http.get("/v1/status/leader").json() == srv.http.get("/v1/status/leader").json()
    # KV written through the client lives on the server, and the other way round.
    assert c.http.put("/v1/kv/from-client", "1").text == "true"
    assert srv.http.get("/v1/kv/from-client?raw").text == "1"
    assert srv.http.put("/v1/kv/from-server", "2").text == "true"
    r = c.http.get("/v1/kv/from-server?raw")
    assert r.status == 200 and r.text == "2", r
    # Headers are the server's truth.
    assert int(r.headers["x-consul-index"]) >= 2 and r.headers["x-consul-knownleader"] == "true"
    # A blocking query through the client wakes on a write at the server.
    index = int(c.http.get("/v1/kv/from-server").headers["x-consul-index"])
    got = {}

    def block():
        got["r"] = c.http.get(f"/v1/kv/from-server?index={index}&wait=20s", timeout=30)
    t = threading.Thread(target=block)
    t.start()
    wait_for(lambda: srv.http.put("/v1/kv/from-server", "3").text == "true", 5, "the write")
    t.join(30)
    assert not t.is_alive(), "the blocking query through the client did not wake"
    assert int(got["r"].headers["x-consul-index"]) > index
    assert json.loads(got["r"].text)[0]["Value"] == "Mw=="
    # A session created through the client belongs to the client's node.
    sid = c.http.put("/v1/session/create", {"Name": "s"}).json()["ID"]
    assert srv.http.get(f"/v1/session/info/{sid}").json()[0]["Node"] == "c1"
    # Bad input is still the server's clear answer.
    r = c.http.get("/v1/kv/from-server?index=x")
    assert r.status == 400, r


def test_a_clients_services_reach_the_servers_catalog(make_agent):
    srv = make_agent(name="srv").start()
    c = client_of(make_agent, srv)
    svc = {"Name": "web", "ID": "web1", "Port": 8080,
           "Check": {"TTL": "30s", "CheckID": "web-ttl"}}
    assert c.http.put("/v1/agent/service/register", svc).status == 200
    wait_for(lambda: [s["Node"] for s in srv.http.get("/v1/catalog/service/web").json()] == ["c1"],
             10, "the client's service in the server's catalog")
    # The check's status changes reach the servers too, and reads through the client show them.
    assert c.http.put("/v1/agent/check/pass/web-ttl").status == 200
    wait_for(lambda: [h["Service"]["ID"] for h in
                      c.http.get("/v1/health/service/web?passing").json()] == ["web1"],
             10, "the passing instance, read through the client")
    # cairn status names the client's server and says the catalog is in sync.
    def status():
        r = c.cli("status", "-json")
        return json.loads(r.stdout)["Agent"] if r.stdout.startswith("{") else {}
    wait_for(lambda: status().get("CatalogInSync") is True, 10, "the status to show the sync done")
    assert status()["Server"] == "srv" and status()["Role"] == "client"
    assert c.http.put("/v1/agent/service/deregister/web1").status == 200
    wait_for(lambda: srv.http.get("/v1/catalog/service/web").json() == [], 10,
             "the deregistration in the server's catalog")
    # What the server owns (serfHealth) is not the client's to remove.
    wait_for(lambda: any(ch["CheckID"] == "serfHealth"
                         for ch in srv.http.get("/v1/health/node/c1").json()), 10,
             "the leader's serfHealth check for the client")


def test_a_client_without_servers_says_so(make_agent):
    c = make_agent(name="lonely", dev=False).start()
    r = c.http.get("/v1/catalog/nodes")
    assert r.status == 500 and "No known Consul servers" in r.text, r
    # Its own agent endpoints still answer locally.
    assert c.http.get("/v1/agent/self").status == 200


def test_a_client_fails_over_when_its_server_dies(daemons, tmp_path, make_agent):
    dc = Datacenter(daemons, tmp_path, 3)
    dc.start()
    c = make_agent(name="c1", dev=False).start()
    seed = dc.servers[0]
    assert c.http.put(f"/v1/agent/join/{seed.ip}:{seed.serf_port}").status == 200
    wait_for(lambda: c.http.get("/v1/kv/x").status == 404, 20, "the client to reach a server")
    assert c.http.put("/v1/kv/x", "1").text == "true"
    # Kill every server the client has talked to so far, one at a time, while reading.
    for victim in dc.servers[:2]:
        victim.kill9()
        wait_for(lambda: c.http.get("/v1/kv/x?stale&raw").text == "1", 15,
                 f"reads through the client after {victim.name} died")
    r = c.http.get("/v1/kv/x?stale&raw")
    assert r.status == 200 and r.text == "1"


def test_a_clients_dns_answers_from_the_streamed_catalog(make_agent):
    """Services of every host, asked on a client, answered from its own memory: the server
    streams its catalog to the client; a check turning critical on one client disappears from
    DNS on another."""
    from dns_helpers import ask, texts
    srv = make_agent(name="srv").start()
    a = client_of(make_agent, srv, "ca")
    b = client_of(make_agent, srv, "cb")
    svc = {"Name": "db", "ID": "db1", "Port": 5432, "Check": {"TTL": "30s", "CheckID": "db-ttl"}}
    assert a.http.put("/v1/agent/service/register", svc).status == 200
    assert a.http.put("/v1/agent/check/pass/db-ttl").status == 200
    assert srv.http.put("/v1/catalog/register", {"Node": "ext", "Address": "10.9.9.9",
                                                 "Service": {"Service": "db", "Port": 1}}).status == 200

    def answers():
        return texts(ask(b, "db.service.consul", "A").answer, "A")
    wait_for(lambda: answers() == ["10.9.9.9", "127.0.0.1"], 10,
             "both db instances in DNS on the other client")
    # The catalog is in b's memory: the server's own DNS says the same.
    assert texts(ask(srv, "db.service.consul", "A").answer, "A") == answers()
    assert a.http.put("/v1/agent/check/fail/db-ttl").status == 200
    wait_for(lambda: answers() == ["10.9.9.9"], 10,
             "the failing instance to leave DNS on the other client")
    # The status says the local view is current.
    wait_for(lambda: json.loads(b.cli("status", "-json").stdout)["Agent"].get("LocalView")
             == "current", 10, "the status to call the view current")


def test_a_client_answers_health_reads_from_its_streamed_view(make_agent):
    """Health and catalog service reads on a client come from its own memory: blocking queries wake
    from the stream, and when the servers are gone the client still answers, with
    X-Consul-LastContact saying how old its view is."""
    srv = make_agent(name="srv").start()
    c = client_of(make_agent, srv, "cv")
    body = {"Node": "ext", "Address": "10.9.9.9", "Service": {"Service": "api", "Port": 7}}
    assert srv.http.put("/v1/catalog/register", body).status == 200
    wait_for(lambda: [h["Node"]["Node"] for h in c.http.get("/v1/health/service/api").json()] == ["ext"],
             10, "the instance in the client's view")
    r = c.http.get("/v1/health/service/api")
    assert r.headers["x-consul-knownleader"] == "true" and r.headers["x-consul-lastcontact"] == "0"
    index = int(r.headers["x-consul-index"])
    got = {}

    def block():
        got["r"] = c.http.get(f"/v1/health/service/api?index={index}&wait=20s", timeout=30)
    t = threading.Thread(target=block)
    t.start()
    # The server's RPC counters show the read never reached it: only the stream and pushes did.
    body["Service"]["Port"] = 8
    assert srv.http.put("/v1/catalog/register", body).status == 200
    t.join(30)
    assert not t.is_alive(), "the blocking query on the client did not wake from the stream"
    assert got["r"].json()[0]["Service"]["Port"] == 8
    assert int(got["r"].headers["x-consul-index"]) > index
    # ?consistent still goes to the server, with its own headers.
    assert c.http.get("/v1/health/service/api?consistent").json()[0]["Service"]["Port"] == 8
    # The server dies: the client keeps answering from what it knew, saying how old it is.
    srv.kill9()
    wait_for(lambda: c.http.get("/v1/health/service/api").headers["x-consul-knownleader"] == "false",
             10, "the client to notice its view is no longer current")
    wait_for(lambda: int(c.http.get("/v1/health/service/api").headers["x-consul-lastcontact"]) > 0, 10,
             "LastContact to tell the view's age")
    r = c.http.get("/v1/health/service/api")
    assert r.status == 200 and r.json()[0]["Service"]["Port"] == 8
    assert c.http.get("/v1/kv/x").status == 500, "KV has no local view: it needs a server"
