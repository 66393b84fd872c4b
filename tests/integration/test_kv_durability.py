"""KV, sessions and prepared queries across restarts of a non-dev agent (issue 12, defect 4).

A write answered 200 must survive kill -9. Servers keep these tables in etcd (issue 14); a
client agent holds none of them: it forwards them to a server (issue 15,
test_client_agents.py), so it has nothing to lose and no longer warns."""
import json

import pytest

from harness import free_port, wait_for

NON_DEV_MODES = {
    "client": [],
    "server-bootstrap-expect-1": ["-server", "-bootstrap-expect", "1"],
}
ROUNDS = 20
WARNING = "KV, sessions and prepared queries are kept in memory only"


def write_round(agent, n):
    """One KV put, one session and one prepared query, each answered 200; returns their IDs."""
    r = agent.http.request("PUT", f"/v1/kv/durable/{n}", body=f"value-{n}")
    assert r.status == 200 and r.text == "true", r
    r = agent.http.put("/v1/session/create", {"Name": f"s{n}", "NodeChecks": []})
    assert r.status == 200, r
    session = r.json()["ID"]
    r = agent.http.request("POST", "/v1/query",
                           body=json.dumps({"Name": f"q{n}", "Service": {"Service": "web"}}))
    assert r.status == 200, r
    return session, r.json()["ID"]


def assert_round_kept(agent, n, session, query):
    r = agent.http.get(f"/v1/kv/durable/{n}?raw")
    assert r.status == 200 and r.body == f"value-{n}".encode(), f"KV durable/{n} lost: {r}"
    r = agent.http.get(f"/v1/session/info/{session}")
    assert r.status == 200 and r.json(), f"session {session} (round {n}) lost: {r}"
    r = agent.http.get(f"/v1/query/{query}")
    assert r.status == 200 and r.json()[0]["Name"] == f"q{n}", f"query {query} (round {n}) lost: {r}"


def wait_writable(agent, mode):
    """A server answers writes once its etcd member runs and its cache is loaded."""
    if mode == "client":
        return
    wait_for(lambda: agent.http.get("/v1/status/leader").json() != "", 20,
             f"{agent.name} to know a leader")
    wait_for(lambda: agent.http.get(f"/v1/catalog/node/{agent.name}").status == 200
             and agent.http.get(f"/v1/catalog/node/{agent.name}").json(), 20,
             f"{agent.name}'s own node in the catalog")


@pytest.mark.parametrize("mode", ["server-bootstrap-expect-1"])
def test_writes_answered_200_survive_kill9(make_agent, mode):
    env = {"CAIRN_ETCD_UNSAFE_NO_FSYNC": "1"}  # a process kill loses nothing without fsync
    a = make_agent(name=f"durable-{mode}", dev=False, extra_args=NON_DEV_MODES[mode])
    # Not etcd's default peer port: another server on the machine may hold it.
    a.write_config("etcd.yaml", f"ports:\n  etcd_peer: {free_port()}\n")
    a.start(env=env)
    wait_writable(a, mode)
    written = []
    for n in range(ROUNDS):
        written.append((n, *write_round(a, n)))
        a.kill9()  # right after the 200s: nothing gets a chance to flush
        a.start(env=env)
        wait_writable(a, mode)
        for args in written:
            assert_round_kept(a, *args)


def test_client_agent_does_not_warn_it_forwards_them(make_agent):
    a = make_agent(name="warn-client", dev=False).start()
    wait_for(lambda: "agent: started" in a.daemon.output(), 10, "the client's start line")
    assert WARNING not in a.daemon.output()
    r = a.http.put("/v1/kv/k", "v")  # no server known: refused, never kept locally
    assert r.status == 500 and "No known Consul servers" in r.text, r


def test_server_does_not_warn(make_agent):
    a = make_agent(name="warn-server", dev=False, extra_args=NON_DEV_MODES["server-bootstrap-expect-1"])
    a.write_config("etcd.yaml", f"ports:\n  etcd_peer: {free_port()}\n")
    a.start(env={"CAIRN_ETCD_UNSAFE_NO_FSYNC": "1"})
    wait_for(lambda: "agent: started" in a.daemon.output(), 10, "the server's start line")
    assert WARNING not in a.daemon.output()


def test_dev_agent_does_not_warn(make_agent):
    a = make_agent(name="warn-dev").start()
    wait_for(lambda: "agent: started" in a.daemon.output(), 10, "the dev agent's start line")
    assert WARNING not in a.daemon.output()
