"""What Consul's own clients' test suites tripped on (issue 16, items 6, 7 and 10), with raw
HTTP: /v1/agent/self's shape, Locality, consul-version, the members filter, catalog operations
in /v1/txn, ?cached, the event list index, Go's duration errors, and blocking KV reads that keep
up with a writer on a server."""
import base64
import json
import os
import selectors
import signal
import socket
import time

import pytest

from harness import Http, wait_for
from servers import etcd_children

SERVER_ARGS = ["-server", "-bootstrap-expect", "1"]


def event_index(event_id: str) -> int:
    """Consul's api.Event.IDToIndex: the XOR of the UUID's two 64-bit halves."""
    lower = int(event_id[0:8] + event_id[9:13] + event_id[14:18], 16)
    upper = int(event_id[19:23] + event_id[24:36], 16)
    return lower ^ upper


def start_server(make_agent, name):
    a = make_agent(name=name, dev=False, extra_args=SERVER_ARGS).start()
    wait_for(lambda: a.http.get("/v1/status/leader").json() != "", 30, f"{name} to know a leader")
    wait_for(lambda: a.http.get(f"/v1/catalog/node/{name}").status == 200
             and a.http.get(f"/v1/catalog/node/{name}").json(), 30,
             f"{name}'s own node in the catalog (its etcd member running)")
    return a


# ---------------------------------------------------------------------------
# Item 6: /v1/agent/self


def test_agent_self_debug_config_has_the_addresses_clients_join_and_dial(agent):
    self_ = agent.http.get("/v1/agent/self").json()
    dc = self_["DebugConfig"]
    assert dc["SerfAdvertiseAddrLAN"] == f"tcp://127.0.0.1:{agent.serf_port}"
    assert dc["SerfPortLAN"] == agent.serf_port
    assert dc["AdvertiseAddrLAN"] == "127.0.0.1"
    assert dc["BindAddr"] == "127.0.0.1"
    assert dc["ClientAddrs"] == ["127.0.0.1"]
    assert dc["HTTPAddrs"] == [f"tcp://127.0.0.1:{agent.port}"]
    assert dc["EnableDebug"] is False and dc["ServerMode"] is True
    assert dc["RPCAdvertiseAddr"].startswith("tcp://127.0.0.1:")
    # The Go client's TestAPI_AgentJoin joins itself at that address, "tcp://" stripped.
    addr = dc["SerfAdvertiseAddrLAN"][len("tcp://"):]
    r = agent.http.put(f"/v1/agent/join/{addr}")
    assert r.status == 200, r


def test_agent_self_member_is_the_members_entry_and_coord_is_set(agent):
    self_ = agent.http.get("/v1/agent/self").json()
    members = agent.http.get("/v1/agent/members").json()
    mine = next(m for m in members if m["Name"] == agent.name)
    assert self_["Member"]["Tags"] == mine["Tags"]
    assert self_["Member"]["Tags"]["acls"] == "0"  # Consul's "ACLs disabled"
    assert self_["Member"] == mine
    coord = self_["Coord"]
    assert coord is not None and len(coord["Vec"]) == 8 and coord["Height"] > 0


def test_agent_self_with_gossip_off_still_has_a_coord_and_the_same_member(make_agent):
    a = make_agent(name="quiet", extra_args=["-serf-lan-port", "-1", "-serf-wan-port", "-1"])
    a.start()
    self_ = a.http.get("/v1/agent/self").json()
    assert self_["Coord"] == {"Vec": [0] * 8, "Error": 1.5, "Adjustment": 0, "Height": 1e-05}
    assert self_["Member"] == a.http.get("/v1/agent/members").json()[0]
    assert self_["Member"]["Tags"]["acls"] == "0"
    assert "wan_join_port" not in self_["Member"]["Tags"]


def test_agent_self_stats_consul_as_consul_reports_it(agent, make_agent):
    stats = agent.http.get("/v1/agent/self").json()["Stats"]["consul"]
    assert stats["server"] == "true" and stats["leader"] == "true"
    assert stats["leader_addr"] and stats["bootstrap"] == "true"
    assert stats["known_datacenters"] == "1" and stats["acl"] == "disabled"
    # A client agent has no leader of its own: it counts the servers it knows.
    client = make_agent(name="client", dev=False).start()
    stats = client.http.get("/v1/agent/self").json()["Stats"]["consul"]
    assert stats == {"acl": "disabled", "known_servers": "0", "server": "false"}


# ---------------------------------------------------------------------------
# Item 7


LOCALITY = {"Region": "us-east-1", "Zone": "us-east-1a"}


def test_service_locality_is_stored_returned_and_persisted(agent):
    r = agent.http.put("/v1/agent/service/register",
                       {"Name": "web", "ID": "web-1", "Port": 80, "Locality": LOCALITY})
    assert r.status == 200, r
    assert agent.http.get("/v1/agent/service/web-1").json()["Locality"] == LOCALITY
    assert agent.http.get("/v1/agent/services").json()["web-1"]["Locality"] == LOCALITY
    wait_for(lambda: agent.http.get("/v1/catalog/service/web").json(), 10, "web in the catalog")
    assert agent.http.get("/v1/catalog/service/web").json()[0]["ServiceLocality"] == LOCALITY
    assert agent.http.get("/v1/health/service/web").json()[0]["Service"]["Locality"] == LOCALITY
    # Catalog registrations carry it too; a service without one has none.
    r = agent.http.put("/v1/catalog/register", {
        "Node": "ext", "Address": "10.0.0.9",
        "Service": {"Service": "db", "Locality": {"Region": "eu-west-1"}}})
    assert r.status == 200, r
    node = agent.http.get("/v1/catalog/node/ext").json()
    assert node["Services"]["db"]["Locality"] == {"Region": "eu-west-1"}
    agent.http.put("/v1/agent/service/register", {"Name": "plain"})
    assert "Locality" not in agent.http.get("/v1/agent/service/plain").json()
    # A restart reads it back from the data dir.
    agent.kill9()
    agent.start()
    assert agent.http.get("/v1/agent/service/web-1").json()["Locality"] == LOCALITY


def test_service_locality_in_a_service_definition_file(make_agent):
    a = make_agent(name="loc")
    a.write_config("web.json", json.dumps(
        {"service": {"name": "web", "port": 80, "locality": {"region": "r1", "zone": "z1"}}}))
    a.start()
    assert a.http.get("/v1/agent/service/web").json()["Locality"] == {"Region": "r1", "Zone": "z1"}


def test_service_locality_through_etcd(make_agent):
    a = start_server(make_agent, "loc-server")
    r = a.http.put("/v1/catalog/register", {
        "Node": "ext", "Address": "10.0.0.9", "Service": {"Service": "db", "Locality": LOCALITY}})
    assert r.status == 200, r
    assert a.http.get("/v1/catalog/service/db").json()[0]["ServiceLocality"] == LOCALITY


def test_the_agents_node_meta_has_consul_version(agent):
    version = agent.http.get("/v1/agent/self").json()["Config"]["Version"]
    assert agent.http.get("/v1/agent/self").json()["Meta"]["consul-version"] == version
    wait_for(lambda: agent.http.get(f"/v1/catalog/node/{agent.name}").json(), 10, "own node")
    meta = agent.http.get(f"/v1/catalog/node/{agent.name}").json()["Node"]["Meta"]
    assert meta == {"consul-network-segment": "", "consul-version": version}


def test_members_filter_applies_on_lan_and_wan(agent):
    assert [m["Name"] for m in agent.http.get(
        f"/v1/agent/members?filter=Name%20%3D%3D%20%22{agent.name}%22").json()] == [agent.name]
    assert agent.http.get("/v1/agent/members?filter=Name%20%3D%3D%20%22nobody%22").json() == []
    wan = agent.http.get("/v1/agent/members?wan=1").json()
    assert [m["Name"] for m in wan] == [f"{agent.name}.dc1"]
    assert agent.http.get(
        "/v1/agent/members?wan=1&filter=Name%20%3D%3D%20%22nobody%22").json() == []
    r = agent.http.get("/v1/agent/members?filter=Name%20%3D%3D")
    assert r.status == 400, r


def txn(agent, ops):
    r = agent.http.put("/v1/txn", ops)
    assert r.status in (200, 409), r
    return r.status, r.json()


def test_txn_node_service_and_check_operations_as_the_go_clients_test(agent):
    """The flow of the Go client's TestAPI_ClientTxn."""
    r = agent.http.put("/v1/catalog/register", {
        "ID": "b0f3e1a2-0000-4000-8000-00000000000f", "Node": "foo", "Address": "2.2.2.2",
        "Service": {"ID": "foo1", "Service": "foo"},
        "Checks": [{"CheckID": "bar", "Status": "critical",
                    "Definition": {"TCP": "1.1.1.1", "Interval": "5s", "Timeout": "10s"}}]})
    assert r.status == 200, r
    session = agent.http.put("/v1/session/create", {"NodeChecks": []}).json()["ID"]
    ops = [{"KV": {"Verb": "lock", "Key": "test/key", "Value": "dGVzdA=="}},
           {"KV": {"Verb": "get", "Key": "test/key"}},
           {"Node": {"Verb": "get", "Node": {"Node": "foo"}}},
           {"Service": {"Verb": "get", "Node": "foo", "Service": {"ID": "foo1"}}},
           {"Check": {"Verb": "get", "Check": {"Node": "foo", "CheckID": "bar"}}}]
    status, body = txn(agent, ops)
    assert status == 409 and body["Results"] is None
    assert [e["OpIndex"] for e in body["Errors"]] == [0, 1]
    assert "missing session" in body["Errors"][0]["What"]
    assert "doesn't exist" in body["Errors"][1]["What"]

    ops[0]["KV"]["Session"] = session
    status, body = txn(agent, ops)
    assert status == 200 and body["Errors"] is None and len(body["Results"]) == 5
    results = body["Results"]
    assert results[0]["KV"]["Session"] == session and results[0]["KV"]["Value"] is None
    assert results[1]["KV"]["Value"] == "dGVzdA=="
    node = results[2]["Node"]
    assert node["ID"] == "b0f3e1a2-0000-4000-8000-00000000000f" and node["Address"] == "2.2.2.2"
    assert node["TaggedAddresses"] is None and node["Meta"] is None  # nil, as Consul's store
    assert results[3]["Service"]["ID"] == "foo1"
    check = results[4]["Check"]
    assert check["CheckID"] == "bar" and check["Type"] == "tcp"
    assert check["Definition"]["Interval"] == "5s" and check["ServiceTags"] is None

    # A read-only transaction: the agent's own node, with its meta.
    status, body = txn(agent, [{"Node": {"Verb": "get", "Node": {"Node": agent.name}}}])
    assert status == 200
    assert body["Results"][0]["Node"]["Meta"]["consul-version"]


def test_txn_catalog_writes_are_all_or_nothing(agent):
    status, body = txn(agent, [
        {"Node": {"Verb": "set", "Node": {"Node": "db-1", "Address": "10.0.0.2"}}},
        {"Service": {"Verb": "set", "Node": "db-1",
                     "Service": {"Service": "db", "Port": 5432,
                                 "Weights": {"Passing": 0, "Warning": 0}}}},
        {"Check": {"Verb": "set", "Check": {"Node": "db-1", "CheckID": "db-ok",
                                            "Status": "passing", "ServiceID": "db"}}}])
    assert status == 200, body
    svc = agent.http.get("/v1/catalog/service/db").json()[0]
    assert svc["Node"] == "db-1" and svc["ServicePort"] == 5432
    assert svc["ServiceWeights"] == {"Passing": 1, "Warning": 1}
    health = agent.http.get("/v1/health/service/db?passing").json()
    assert [c["CheckID"] for c in health[0]["Checks"]] == ["db-ok"]
    index = svc["ModifyIndex"]

    # A stale cas fails the whole transaction: the KV write beside it is not applied.
    status, body = txn(agent, [
        {"KV": {"Verb": "set", "Key": "x", "Value": "eA=="}},
        {"Service": {"Verb": "cas", "Node": "db-1",
                     "Service": {"ID": "db", "Service": "db", "ModifyIndex": index + 100}}}])
    assert status == 409
    assert body["Errors"] == [{"OpIndex": 1, "What":
                               'failed to set service "db" on node "db-1", index is stale'}]
    assert agent.http.get("/v1/kv/x").status == 404

    status, body = txn(agent, [
        {"Service": {"Verb": "delete-cas", "Node": "db-1",
                     "Service": {"ID": "db", "ModifyIndex": index}}},
        {"Node": {"Verb": "delete", "Node": {"Node": "db-1"}}}])
    assert status == 200, body
    assert agent.http.get("/v1/catalog/service/db").json() == []
    assert agent.http.get("/v1/catalog/node/db-1").json() is None


def test_cached_reads_report_a_hit_where_consul_caches(agent):
    agent.http.put("/v1/agent/service/register", {"Name": "web"})
    for path in ("/v1/health/service/web?cached", "/v1/catalog/services?cached",
                 "/v1/catalog/service/web?cached"):
        r = agent.http.get(path)
        assert r.status == 200, (path, r)
        assert r.headers.get("x-cache") == "HIT" and r.headers.get("age") == "0", (path, r.headers)
    assert "x-cache" not in agent.http.get("/v1/health/service/web").headers
    assert "x-cache" not in agent.http.get("/v1/kv/missing?cached").headers
    assert "x-cache" not in agent.http.get("/v1/catalog/nodes?cached").headers


def test_event_list_index_is_consuls_xor_of_the_event_id(agent):
    assert agent.http.get("/v1/event/list").headers["x-consul-index"] == "1"
    first = agent.http.put("/v1/event/fire/deploy", body="v1").json()
    second = agent.http.put("/v1/event/fire/restart").json()
    r = agent.http.get("/v1/event/list")
    assert int(r.headers["x-consul-index"]) == event_index(second["ID"])
    # With ?name=, the index is that of the last event listed.
    r = agent.http.get("/v1/event/list?name=deploy")
    assert int(r.headers["x-consul-index"]) == event_index(first["ID"])
    # A blocking list on that index is not woken by an event of another name.
    start = time.monotonic()
    r = agent.http.get(f"/v1/event/list?name=deploy&index={event_index(first['ID'])}&wait=300ms")
    assert time.monotonic() - start >= 0.25 and len(r.json()) == 1


def test_bad_durations_are_refused_in_gos_words(agent):
    r = agent.http.put("/v1/agent/check/register", {"Name": "t", "TTL": "x"})
    assert r.status == 400 and 'time: invalid duration "x"' in r.text, r
    r = agent.http.put("/v1/agent/check/register", {"Name": "t", "TTL": "10"})
    assert r.status == 400 and 'time: missing unit in duration "10"' in r.text, r
    r = agent.http.put("/v1/agent/service/register",
                       {"Name": "s", "Check": {"TTL": "5d"}})
    assert r.status == 400 and 'time: unknown unit "d" in duration "5d"' in r.text, r
    r = agent.http.put("/v1/session/create", {"TTL": "soon"})
    assert r.status == 400 and 'time: invalid duration "soon"' in r.text, r
    r = agent.http.put("/v1/session/create", {"LockDelay": "1q"})
    assert r.status == 400 and 'time: unknown unit "q" in duration "1q"' in r.text, r
    # ?wait= keeps Consul's own text, which its clients match.
    assert agent.http.get("/v1/kv/a?index=1&wait=x").text == "Invalid wait time"


# ---------------------------------------------------------------------------
# Item 10: blocking KV reads keep up with a writer on a server over etcd


def etcd_member_pid(server):
    pids = etcd_children(server)
    if not pids:
        raise AssertionError(f"no etcd member for {server.name}")
    return pids[0]


def kv_index(http, key):
    r = http.get(f"/v1/kv/{key}")
    return int(r.headers["x-consul-index"])


def test_a_blocking_read_behind_the_cache_answers_without_waiting_for_etcd(make_agent):
    """A client whose index is older than what the server already holds gets its answer from
    the server's cache at once, not after a barrier queued behind etcd's writes: even with
    the etcd member frozen for a moment."""
    a = start_server(make_agent, "block-server")
    assert a.http.put("/v1/kv/k", body="1").text == "true"
    old = kv_index(a.http, "k")
    assert a.http.put("/v1/kv/k", body="2").text == "true"
    etcd = etcd_member_pid(a)
    os.kill(etcd, signal.SIGSTOP)
    try:
        start = time.monotonic()
        r = a.http.get(f"/v1/kv/k?index={old}&wait=5s", timeout=10)
        took = time.monotonic() - start
    finally:
        os.kill(etcd, signal.SIGCONT)
    assert r.status == 200, r
    assert base64.b64decode(r.json()[0]["Value"]) == b"2"
    assert took < 0.5, f"a read behind the cache took {took:.2f}s"


class LoopConnection:
    """One keep-alive HTTP/1.1 connection driven by a single-threaded event loop, as
    node-consul's client is: a request is sent at once, its answer handled when complete."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.buf = b""

    def send(self, method, path, body=b""):
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.sock.sendall(head + body)

    def answer(self):
        """(status, headers, body) once a whole answer is buffered, else None."""
        try:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("connection closed")
            self.buf += chunk
        except BlockingIOError:
            pass
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = self.buf[:end].decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        size = int(headers.get("content-length", "0"))
        if len(self.buf) < end + 4 + size:
            return None
        body = self.buf[end + 4:end + 4 + size]
        self.buf = self.buf[end + 4 + size:]
        return int(lines[0].split()[1]), headers, body


def test_a_watch_with_a_short_wait_sees_every_value_a_writer_puts(make_agent):
    """node-consul's watch test against a server: in one event loop, a watch on a key with
    wait=1ms and a writer that puts values one after the other, each as soon as the last was
    acknowledged; the watch must see every value. Each put waits for etcd's fsync; the watch's
    requests must not (they used to take a barrier each, queued behind those fsyncs, and fell
    behind the writer). (In -dev a put is applied the moment it arrives, so a watch whose
    1 ms wait runs out just then can miss a value with Consul's own -dev too: not tested.)"""
    a = start_server(make_agent, "watch-server")
    writes = 200
    watch, writer = LoopConnection(a.port), LoopConnection(a.port)
    sel = selectors.DefaultSelector()
    sel.register(watch.sock, selectors.EVENT_READ, watch)
    sel.register(writer.sock, selectors.EVENT_READ, writer)
    index, seen, written = 0, [], 0
    watch.send("GET", "/v1/kv/watched?index=0&wait=1ms")
    writer.send("PUT", "/v1/kv/watched", b"0")
    deadline = time.monotonic() + 30
    while (written < writes or not seen or seen[-1] != str(writes - 1)) \
            and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            conn = key.data
            got = conn.answer()
            while got is not None:
                status, headers, body = got
                if conn is writer:
                    assert status == 200 and body == b"true", (status, body)
                    written += 1
                    if written < writes:
                        writer.send("PUT", "/v1/kv/watched", str(written).encode())
                else:
                    new = int(headers["x-consul-index"])
                    if new != index:
                        index = new
                        seen.append(base64.b64decode(json.loads(body)[0]["Value"]).decode()
                                    if status == 200 else None)
                    watch.send("GET", f"/v1/kv/watched?index={index}&wait=1ms")
                got = conn.answer() if conn.buf else None
    for c in (watch, writer):
        sel.unregister(c.sock)
        c.sock.close()
    assert written == writes
    missed = [str(n) for n in range(writes) if str(n) not in seen]
    assert not missed, f"the watch missed {missed} of {writes} values (saw {seen})"
