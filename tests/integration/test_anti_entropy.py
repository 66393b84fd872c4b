"""Anti-entropy rules as Consul's (issue 15): a check's status change reaches the servers'
catalog at once, an output-only change waits for check_update_interval (half of it plus a
random part of up to all of it), and a change of check results travels as a small
Catalog.SyncChecks call, not the whole local state."""
import json
import time

from harness import wait_for


def put(agent, path, body=None):
    r = agent.http.put(path, body)
    assert r.status == 200, (path, r)
    return r


def catalog_check(agent, node, check_id):
    for c in agent.http.get(f"/v1/health/node/{node}").json():
        if c["CheckID"] == check_id:
            return c
    return None


def pushes(client):
    rpc = client.http.get("/v1/agent/self").json()["Stats"]["rpc"]
    return int(rpc["catalog_full_pushes"]), int(rpc["catalog_check_pushes"])


def client_with(make_agent, server, name, config=None):
    c = make_agent(name=name, dev=False)
    if config:
        c.write_config("anti-entropy.json", json.dumps(config))
    c.start()
    assert c.http.put(f"/v1/agent/join/127.0.0.1:{server.serf_port}").status == 200
    wait_for(lambda: c.http.get("/v1/status/leader").status == 200, 20,
             f"{name} to reach a server through the RPC")
    return c


def register_ttl(agent, server, node):
    put(agent, "/v1/agent/service/register",
        {"Name": "web", "ID": "web1", "Port": 80, "Check": {"TTL": "300s", "CheckID": "web-ttl"}})
    put(agent, "/v1/agent/check/pass/web-ttl?note=start")
    wait_for(lambda: (catalog_check(server, node, "web-ttl") or {}).get("Output") == "start", 10,
             "the passing check in the server's catalog")


def test_a_clients_output_only_change_waits_for_check_update_interval(make_agent):
    srv = make_agent(name="srv").start()
    c = client_with(make_agent, srv, "c1", {"check_update_interval": "4s"})
    register_ttl(c, srv, "c1")
    full0, checks0 = pushes(c)

    # Output only: visible locally at once, in the catalog only after 2 s (4s/2) to 6 s.
    started = time.monotonic()
    put(c, "/v1/agent/check/pass/web-ttl?note=churn")
    assert c.http.get("/v1/agent/checks").json()["web-ttl"]["Output"] == "churn"
    wait_for(lambda: catalog_check(srv, "c1", "web-ttl")["Output"] == "churn", 10,
             "the deferred output in the server's catalog")
    waited = time.monotonic() - started
    assert waited >= 1.9, f"the output reached the catalog after {waited:.2f}s, before 2s"
    # It went out as a check push, not a full sync.
    assert pushes(c) == (full0, checks0 + 1)

    # A status change goes out at once, well inside the 2 s an output change waits.
    started = time.monotonic()
    put(c, "/v1/agent/check/fail/web-ttl?note=down")
    wait_for(lambda: catalog_check(srv, "c1", "web-ttl")["Status"] == "critical", 10,
             "the critical status in the server's catalog")
    waited = time.monotonic() - started
    assert waited < 1.9, f"the status change took {waited:.2f}s"
    # With its output, in one check push.
    assert catalog_check(srv, "c1", "web-ttl")["Output"] == "down"
    assert pushes(c) == (full0, checks0 + 2)
    # Service registration is still a full sync, and the leader's serfHealth stays.
    assert catalog_check(srv, "c1", "serfHealth") is not None


def test_a_client_with_the_default_interval_does_not_push_output_churn(make_agent):
    srv = make_agent(name="srv").start()
    c = client_with(make_agent, srv, "c1")
    register_ttl(c, srv, "c1")
    full0, checks0 = pushes(c)
    for i in range(20):
        put(c, f"/v1/agent/check/pass/web-ttl?note=run-{i}")
    assert c.http.get("/v1/agent/checks").json()["web-ttl"]["Output"] == "run-19"
    # A status change afterwards is pushed at once; pushes are sent one after the other, so
    # once it has arrived, any push of the churn before it would have too.
    put(c, "/v1/agent/check/warn/web-ttl?note=slow")
    wait_for(lambda: catalog_check(srv, "c1", "web-ttl")["Status"] == "warning", 10,
             "the warning status in the server's catalog")
    assert pushes(c) == (full0, checks0 + 1), "output churn was pushed to the servers"


def test_a_servers_own_output_only_change_waits_too(make_agent):
    """On -dev (and servers) anti-entropy writes the catalog in-process: the same rules."""
    a = make_agent(name="dev1")
    a.write_config("anti-entropy.json", json.dumps({"check_update_interval": "4s"}))
    a.start()
    put(a, "/v1/agent/check/register", {"Name": "job", "TTL": "300s"})
    put(a, "/v1/agent/check/pass/job?note=start")
    assert catalog_check(a, "dev1", "job")["Output"] == "start"  # a status change: at once
    started = time.monotonic()
    put(a, "/v1/agent/check/pass/job?note=churn")
    assert catalog_check(a, "dev1", "job")["Output"] == "start"
    wait_for(lambda: catalog_check(a, "dev1", "job")["Output"] == "churn", 10,
             "the deferred output in the catalog")
    assert time.monotonic() - started >= 1.9


def test_a_dev_agent_with_the_default_interval_keeps_output_churn_out_of_the_catalog(make_agent):
    a = make_agent(name="dev1").start()
    put(a, "/v1/agent/check/register", {"Name": "job", "TTL": "300s"})
    put(a, "/v1/agent/check/pass/job?note=start")
    for i in range(5):
        put(a, f"/v1/agent/check/pass/job?note=run-{i}")
    # -dev writes in-process before the API answers: nothing was written for the churn.
    assert catalog_check(a, "dev1", "job")["Output"] == "start"
    assert a.http.get("/v1/agent/checks").json()["job"]["Output"] == "run-4"
    put(a, "/v1/agent/check/warn/job?note=slow")
    assert catalog_check(a, "dev1", "job")["Output"] == "slow"


def test_check_update_interval_zero_syncs_every_output_change(make_agent):
    srv = make_agent(name="srv").start()
    c = client_with(make_agent, srv, "c1", {"check_update_interval": "0s"})
    register_ttl(c, srv, "c1")
    full0, checks0 = pushes(c)
    put(c, "/v1/agent/check/pass/web-ttl?note=now")
    wait_for(lambda: catalog_check(srv, "c1", "web-ttl")["Output"] == "now", 5,
             "the output in the server's catalog")
    assert pushes(c)[0] == full0 and pushes(c)[1] > checks0


def test_check_pushes_reach_an_etcd_backed_servers_catalog(daemons, tmp_path, make_agent):
    """Catalog.SyncChecks through a real server's writer (etcd), and the full sync after a
    server the client talks to is gone."""
    from servers import Datacenter
    dc = Datacenter(daemons, tmp_path, 1)
    dc.start()
    srv = dc.servers[0]
    c = make_agent(name="c1", dev=False)
    c.write_config("anti-entropy.json", json.dumps({"check_update_interval": "4s"}))
    c.start()
    assert c.http.put(f"/v1/agent/join/{srv.ip}:{srv.serf_port}").status == 200
    wait_for(lambda: c.http.get("/v1/kv/x").status == 404, 30, "the client to reach the server")
    register_ttl(c, srv, "c1")
    full0, checks0 = pushes(c)
    put(c, "/v1/agent/check/fail/web-ttl?note=down")
    wait_for(lambda: catalog_check(srv, "c1", "web-ttl")["Status"] == "critical", 10,
             "the critical status in the etcd-backed catalog")
    assert pushes(c) == (full0, checks0 + 1)
    # The leader's serfHealth for the client is untouched by the client's pushes.
    wait_for(lambda: (catalog_check(srv, "c1", "serfHealth") or {}).get("Status") == "passing",
             10, "the leader's serfHealth for the client")
    # A check the servers lost (removed behind the client's back) comes back with the next
    # result: the check push answers not_found and the client sends its whole state.
    r = srv.http.put("/v1/catalog/deregister", {"Node": "c1", "CheckID": "web-ttl"})
    assert r.status == 200, r
    put(c, "/v1/agent/check/pass/web-ttl?note=back")
    wait_for(lambda: (catalog_check(srv, "c1", "web-ttl") or {}).get("Status") == "passing", 10,
             "the check restored by a full sync")
    assert pushes(c)[0] == full0 + 1
