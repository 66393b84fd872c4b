"""Issue 15's acceptance: three servers over etcd and client agents on 127.0.0.x. What a client
registers (by a YAML file in its config dir and by the API) is found from another client by HTTP
and DNS within a second; a critical check or a deregistration takes it out; kill -9 of a client
marks its services critical everywhere and frees its session's locks; KV and locks work from
clients, through the loss of the server a client was using."""
import time

from dns_helpers import ask, texts
from harness import SLOW, wait_for
from servers import Datacenter
from test_client_agents import join

WEB_YAML = """\
service:
  name: web
  id: web-a
  port: 8080
  check:
    id: web-ttl
    ttl: 60s
    status: passing
"""


def client(make_agent, dc, name, ip, config=None):
    c = make_agent(name=name, dev=False, extra_args=["-bind", ip])
    if config:
        c.write_config("web.yaml", config)
    c.start()
    join(c, dc.servers[0])
    wait_for(lambda: c.http.get("/v1/status/leader").status == 200
             and c.http.get("/v1/status/leader").json() != "", 20, f"{name} to reach a server")
    return c


def test_clients_of_a_three_server_datacenter(daemons, tmp_path, make_agent):
    dc = Datacenter(daemons, tmp_path, 3)
    dc.start()
    a = client(make_agent, dc, "ca", "127.0.0.21", WEB_YAML)
    b = client(make_agent, dc, "cb", "127.0.0.22")

    def dns_web():
        return texts(ask(b, "web.service.consul", "A").answer, "A")

    # The YAML service of client A, from client B by HTTP and DNS, within a second of B's start.
    wait_for(lambda: [h["Node"]["Node"] for h in
                      b.http.get("/v1/health/service/web?passing").json()] == ["ca"], 1,
             "A's YAML service, passing, in B's HTTP answers")
    wait_for(lambda: dns_web() == ["127.0.0.21"], 1, "A's service in B's DNS")
    # One registered through the API, timed from the answer of the registration.
    t0 = time.monotonic()
    body = {"Name": "api", "ID": "api-a", "Port": 9000, "Check": {"TTL": "60s", "Status": "passing"}}
    assert a.http.put("/v1/agent/service/register", body).status == 200
    wait_for(lambda: texts(ask(b, "api.service.consul", "A").answer, "A") == ["127.0.0.21"], 5,
             "A's API service in B's DNS")
    api_ms = (time.monotonic() - t0) * 1000
    assert api_ms < 1000 * SLOW, f"{api_ms:.0f} ms from registration on A to B's DNS"
    # Its check going critical takes it out of B's DNS; passing brings it back.
    assert a.http.put("/v1/agent/check/fail/web-ttl").status == 200
    wait_for(lambda: dns_web() == [], 1, "the critical instance to leave B's DNS within a second")
    assert a.http.put("/v1/agent/check/pass/web-ttl").status == 200
    wait_for(lambda: dns_web() == ["127.0.0.21"], 1, "the passing instance back in B's DNS")
    # Deregistering removes it everywhere.
    assert a.http.put("/v1/agent/service/deregister/api-a").status == 200
    wait_for(lambda: b.http.get("/v1/catalog/service/api").json() == [], 1,
             "the deregistered service gone from B's view")
    for s in dc.servers:
        wait_for(lambda s=s: s.http.get("/v1/catalog/service/api?stale").json() == [], 5,
                 f"the deregistered service gone from {s.name}")

    # KV and a lock from the clients: A holds the lock with a session on its node, which
    # needs the node's serfHealth (the leader adds it once gossip shows the node: Consul's
    # rule too).
    for node in ("ca", "cb"):
        wait_for(lambda node=node: any(c["CheckID"] == "serfHealth"
                                       for c in b.http.get(f"/v1/health/node/{node}").json()), 10,
                 f"{node}'s serfHealth in the catalog")
    sid = a.http.put("/v1/session/create", {"Name": "lock", "LockDelay": "1s"}).json()["ID"]
    assert a.http.put(f"/v1/kv/locks/leader?acquire={sid}", "ca").text == "true"
    other = b.http.put("/v1/session/create", {"Name": "wait", "LockDelay": "1s"}).json()["ID"]
    assert b.http.put(f"/v1/kv/locks/leader?acquire={other}", "cb").text == "false"
    assert b.http.get("/v1/kv/locks/leader").json()[0]["Session"] == sid
    assert b.http.get(f"/v1/session/info/{sid}").json()[0]["Node"] == "ca"

    # kill -9 of client A: its services go critical on every server (serfHealth), its
    # session is invalidated, and after the lock-delay B takes the lock.
    a.kill9()

    def web_critical_everywhere():
        for s in dc.alive():
            checks = s.http.get("/v1/health/node/ca?stale").json()
            if not any(c["CheckID"] == "serfHealth" and c["Status"] == "critical" for c in checks):
                return False
        return True
    wait_for(web_critical_everywhere, 30, "A's serfHealth to be critical on every server")
    assert b.http.get("/v1/health/service/web?passing").json() == []
    wait_for(lambda: dns_web() == [], 5, "A's service out of B's DNS")
    wait_for(lambda: b.http.get(f"/v1/session/info/{sid}").json() in ([], None), 10,
             "A's session to be invalidated")
    wait_for(lambda: b.http.put(f"/v1/kv/locks/leader?acquire={other}", "cb").text == "true", 10,
             "B to take the lock once A's lock-delay ends")

    # B keeps working through the loss of the server it uses.
    stats = b.http.get("/v1/agent/self").json()["Stats"]["rpc"]
    used, snapshots, resumes = stats["server"], stats["view_snapshots"], int(stats["view_resumes"])
    victim = next(s for s in dc.servers if s.name == used)
    victim.kill9()
    wait_for(lambda: b.http.put("/v1/kv/after-failover", "ok").status == 200, 20,
             "a write through B after its server died")
    assert b.http.get("/v1/kv/after-failover?raw").text == "ok"
    # B's view resumed on another server from its index: nothing was sent again whole.
    wait_for(lambda: int(b.http.get("/v1/agent/self").json()["Stats"]["rpc"]["view_resumes"])
             > resumes, 20, "B's view to resume on another server")
    assert b.http.get("/v1/agent/self").json()["Stats"]["rpc"]["view_snapshots"] == snapshots
