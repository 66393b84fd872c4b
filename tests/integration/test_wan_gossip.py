"""The WAN pool: servers of several datacenters gossiping on serf_wan as "<node>.<dc>"."""
import signal

from harness import wait_for

# Consul's gossip_wan keys, shortened so a crash is seen within seconds.
FAST_WAN = """
gossip_wan:
  probe_interval: 200ms
  probe_timeout: 100ms
  gossip_interval: 100ms
  suspicion_mult: 2
"""


def wan_members(agent):
    return {m["Name"]: m for m in agent.http.get("/v1/agent/members?wan=1").json()}


def server(make_agent, name, dc, extra=(), config=FAST_WAN):
    a = make_agent(name=name, extra_args=["-datacenter", dc, *extra])
    a.write_config("wan.yaml", config)
    return a


def test_servers_of_two_datacenters_federate_over_the_wan(make_agent):
    s1 = server(make_agent, "s1", "dc1").start()
    s2 = server(make_agent, "s2", "dc2").start()
    r = s2.cli("join", "-wan", f"127.0.0.1:{s1.serf_wan_port}")
    assert r.returncode == 0 and "Successfully joined" in r.stdout, (r.stdout, r.stderr)
    for a in (s1, s2):
        wait_for(lambda a=a: set(wan_members(a)) == {"s1.dc1", "s2.dc2"}, 20, f"{a.name} to see both servers on the WAN")
    m = wan_members(s1)["s2.dc2"]
    assert m["Tags"]["role"] == "consul" and m["Tags"]["dc"] == "dc2" and m["Status"] == 1
    assert m["Port"] == s2.serf_wan_port and "segment" not in m["Tags"]
    # The LAN pools stay apart; the WAN tells each server the other datacenter.
    assert set(a["Name"] for a in s1.http.get("/v1/agent/members").json()) == {"s1"}
    assert s1.http.get("/v1/catalog/datacenters").json() == ["dc1", "dc2"]
    assert s2.http.get("/v1/catalog/datacenters").json() == ["dc2", "dc1"]
    r = s1.cli("members", "-wan")
    assert r.returncode == 0 and "s2.dc2" in r.stdout and "dc2" in r.stdout, r.stdout

    def coordinates():
        return {d["Datacenter"]: [c["Node"] for c in d["Coordinates"]]
                for d in s1.http.get("/v1/coordinate/datacenters").json()}
    wait_for(lambda: coordinates().get("dc2") == ["s2.dc2"] and coordinates().get("dc1") == ["s1.dc1"],
             20, "WAN coordinates of both datacenters' servers")
    r = s1.cli("rtt", "-wan", "s2.dc2")
    assert r.returncode == 0 and "s2.dc2 <-> s1.dc1 rtt:" in r.stdout and "WAN coordinates" in r.stdout, \
        (r.stdout, r.stderr)

    # kill -9: failed on the WAN and gone from the datacenter list.
    s2.kill9()
    wait_for(lambda: wan_members(s1)["s2.dc2"]["Status"] == 4, 20, "s2.dc2 to be seen as failed on the WAN")
    assert s1.http.get("/v1/catalog/datacenters").json() == ["dc1"]

    # Restarted with retry_join_wan, it comes back by itself.
    s2b = server(make_agent, "s2", "dc2", config=FAST_WAN + f"retry_join_wan: ['127.0.0.1:{s1.serf_wan_port}']\n")
    s2b.serf_wan_port = s2.serf_wan_port
    s2b.start()
    wait_for(lambda: wan_members(s1)["s2.dc2"]["Status"] == 1, 20, "s2.dc2 to rejoin the WAN")
    wait_for(lambda: s1.http.get("/v1/catalog/datacenters").json() == ["dc1", "dc2"], 10,
             "dc2 to be listed again")
    s2b.daemon.signal(signal.SIGTERM)


def test_clients_have_no_wan_pool(make_agent):
    s1 = server(make_agent, "s1", "dc1").start()
    c1 = make_agent(name="c1", dev=False).start()
    r = c1.http.put(f"/v1/agent/join/127.0.0.1:{s1.serf_wan_port}?wan=1")
    assert r.status == 500 and r.text == "Must be a server to join WAN cluster", r
    assert c1.http.get("/v1/agent/members?wan=1").json() == []
    assert [m["Name"] for m in s1.http.get("/v1/agent/members?wan=1").json()] == ["s1.dc1"]
    r = s1.http.put("/v1/agent/join/127.0.0.1:1?wan=1")
    assert r.status == 500 and r.text.startswith("Failed to join 127.0.0.1:1"), r


def test_gossip_tuning_is_validated(make_agent):
    a = make_agent(name="bad")
    a.write_config("wan.yaml", "gossip_wan:\n  probe_interval: -1s\n")
    a.start(wait=False)
    assert a.daemon.proc.wait(timeout=10) == 1
    out = a.daemon.output()
    assert "probe_interval" in out and "must be positive" in out, out


def test_an_encrypted_server_keeps_a_wan_ring_too(make_agent):
    key = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
    s1 = server(make_agent, "s1", "dc1", extra=["-encrypt", key]).start()
    rings = s1.http.get("/v1/operator/keyring").json()
    assert [(r["WAN"], list(r["Keys"])) for r in rings] == [(True, [key]), (False, [key])]
    r = s1.cli("keyring", "-list")
    assert r.returncode == 0 and "WAN:" in r.stdout and "dc1 (LAN):" in r.stdout, r.stdout
