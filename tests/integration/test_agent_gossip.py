"""Agents gossiping with each other: members, join, leave, failure, user events, keyring."""
import json
import signal
import subprocess

from harness import binary, wait_for


def members(agent):
    return {m["Name"]: m for m in agent.http.get("/v1/agent/members").json()}


def test_agents_join_fail_and_leave(make_agent, tmp_path):
    server = make_agent(name="srv").start()
    c1 = make_agent(name="c1", dev=False).start()
    c2 = make_agent(name="c2", dev=False).start()
    r = c1.cli("join", f"127.0.0.1:{server.serf_port}")
    assert r.returncode == 0 and "Successfully joined" in r.stdout, r.stderr
    assert c2.http.put(f"/v1/agent/join/127.0.0.1:{server.serf_port}").status == 200
    for a in (server, c1, c2):
        wait_for(lambda a=a: set(members(a)) == {"srv", "c1", "c2"}, 20, f"{a.name} to see all members")
    m = members(server)
    assert m["srv"]["Tags"]["role"] == "consul" and m["c1"]["Tags"]["role"] == "node"
    assert m["c1"]["Status"] == 1 and m["c1"]["Tags"]["dc"] == "dc1"
    # The leader registers members in the catalog with serfHealth.
    wait_for(lambda: {n["Node"] for n in server.http.get("/v1/catalog/nodes").json()} >= {"srv", "c1", "c2"},
             10, "the leader to register the members")
    serf = [c for c in server.http.get("/v1/health/node/c1").json() if c["CheckID"] == "serfHealth"]
    assert serf and serf[0]["Status"] == "passing"

    # kill -9: failed, and serfHealth critical on the leader.
    c2.kill9()
    wait_for(lambda: members(server)["c2"]["Status"] == 4, 30, "c2 to be seen as failed")
    wait_for(lambda: any(c["CheckID"] == "serfHealth" and c["Status"] == "critical"
                         for c in server.http.get("/v1/health/node/c2").json()),
             10, "serfHealth of c2 to turn critical")

    # SIGTERM on a client leaves gracefully (leave_on_terminate defaults to true for clients).
    c1.daemon.signal(signal.SIGTERM)
    wait_for(lambda: members(server).get("c1", {}).get("Status") == 3, 20, "c1 to be seen as left")
    wait_for(lambda: "c1" not in {n["Node"] for n in server.http.get("/v1/catalog/nodes").json()},
             10, "the leader to deregister c1")


def test_user_events_reach_other_agents(make_agent):
    a = make_agent(name="a").start()
    b = make_agent(name="b", dev=False).start()
    assert b.http.put(f"/v1/agent/join/127.0.0.1:{a.serf_port}").status == 200
    wait_for(lambda: len(members(a)) == 2, 20, "the two agents to see each other")
    idx = b.http.get("/v1/event/list").headers["x-consul-index"]
    r = a.cli("event", "-name", "deploy", "v42")
    assert r.returncode == 0 and "Event ID:" in r.stdout
    got = b.http.get(f"/v1/event/list?index={idx}&wait=10s", timeout=20).json()
    assert [(e["Name"], e["Payload"]) for e in got] == [("deploy", "djQy")]
    # A node filter that does not match this agent keeps the event away from it.
    a.http.put("/v1/event/fire/private?node=^a$", "x")
    wait_for(lambda: any(e["Name"] == "private" for e in a.http.get("/v1/event/list").json()),
             5, "the sender to record its own event")
    assert all(e["Name"] != "private" for e in b.http.get("/v1/event/list").json())


def test_encrypted_pool_keeps_wrong_key_out(make_agent):
    key = subprocess.run([binary("cairn"), "keygen"], capture_output=True, text=True).stdout.strip()
    other = subprocess.run([binary("cairn"), "keygen"], capture_output=True, text=True).stdout.strip()
    assert len(key) == 44 and key != other
    a = make_agent(name="ka", extra_args=["-encrypt", key]).start()
    b = make_agent(name="kb", dev=False, extra_args=["-encrypt", key]).start()
    bad = make_agent(name="kbad", dev=False, extra_args=["-encrypt", other]).start()
    assert b.http.put(f"/v1/agent/join/127.0.0.1:{a.serf_port}").status == 200
    wait_for(lambda: set(members(a)) == {"ka", "kb"}, 20, "the keyed agents to join")
    r = bad.http.put(f"/v1/agent/join/127.0.0.1:{a.serf_port}")
    assert r.status == 500
    assert "kbad" not in members(a)
    ring = a.http.get("/v1/operator/keyring").json()
    assert list(ring[0]["Keys"]) == [key]
    assert "[2/2]" in a.cli("keyring", "-list").stdout or key in a.cli("keyring", "-list").stdout
