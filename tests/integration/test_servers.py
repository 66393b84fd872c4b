"""Server mode over etcd (issue 14): real cairn servers on 127.0.0.x, each starting and
supervising its own etcd member, form one datacenter with one leader and one catalog."""
import base64
import json
import os
import threading

import pytest

from harness import Http, wait_for
from servers import Datacenter, etcd_children, kv_get_raw, kv_put, register


@pytest.fixture
def dc3(daemons, tmp_path):
    dc = Datacenter(daemons, tmp_path, 3)
    dc.start()
    return dc


def test_three_servers_elect_one_leader_and_share_one_catalog(dc3):
    s0, s1, s2 = dc3.servers
    leader = dc3.wait_leader()
    assert any(leader == f"{s.ip}:8300" for s in dc3.servers), leader
    # KV written on one server is read on the others (default consistency: the barrier).
    r = kv_put(s0, "greeting", "hello")
    assert r.status == 200 and r.text == "true", r
    assert kv_get_raw(s1, "greeting") == "hello"
    assert kv_get_raw(s2, "greeting") == "hello"
    # A service registered through one server is found through another, by HTTP and DNS.
    register(s1, "web-1", "web", "10.1.0.1", 80)
    r = s2.http.get("/v1/catalog/service/web")
    assert r.status == 200 and [e["Node"] for e in r.json()] == ["web-1"], r
    # Every server is in the catalog with its serfHealth (the leader reconciles gossip).
    def all_servers_registered():
        r = s0.http.get("/v1/catalog/nodes")
        names = {n["Node"] for n in r.json()}
        return {"s0", "s1", "s2"} <= names
    wait_for(all_servers_registered, 15, "all three servers in the catalog")
    # One Consul operation = one index, the same on every server.
    indexes = {s.http.get("/v1/kv/greeting").json()[0]["ModifyIndex"] for s in dc3.servers}
    assert len(indexes) == 1, indexes


def test_cas_races_between_servers_lose_no_update(dc3):
    """Clients on all three servers increment one counter with ?cas: every success counts."""
    assert kv_put(dc3.servers[0], "counter", "0").text == "true"
    successes = []
    errors = []

    def worker(server, n):
        http = Http("127.0.0.1", server.port)
        done = 0
        while done < n:
            r = http.get("/v1/kv/counter")
            if r.status != 200:
                errors.append(r)
                return
            entry = r.json()[0]
            value = int(base64.b64decode(entry["Value"]))
            r = http.request("PUT", f"/v1/kv/counter?cas={entry['ModifyIndex']}",
                             body=str(value + 1))
            if r.status != 200:
                errors.append(r)
                return
            if r.text == "true":
                successes.append(1)
                done += 1
        http.close()

    threads = [threading.Thread(target=worker, args=(s, 15)) for s in dc3.servers for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    assert len(successes) == 90
    for s in dc3.servers:
        assert kv_get_raw(s, "counter") == "90", s.name


def test_session_lock_is_exclusive_across_servers(dc3):
    s0, s1, _ = dc3.servers
    sessions = []
    for s in (s0, s1):
        r = s.http.put("/v1/session/create", json.dumps({"Name": f"lock-{s.name}",
                                                          "LockDelay": "1ms"}))
        assert r.status == 200, r
        sessions.append(r.json()["ID"])
    assert kv_put(s0, "lock", "a", acquire=sessions[0]).text == "true"
    assert kv_put(s1, "lock", "b", acquire=sessions[1]).text == "false"
    r = s1.http.get("/v1/kv/lock")
    assert r.json()[0]["Session"] == sessions[0]
    # Destroying the holder's session (on another server) releases the lock.
    assert s1.http.put(f"/v1/session/destroy/{sessions[0]}").status == 200
    wait_for(lambda: kv_put(s1, "lock", "b", acquire=sessions[1]).text == "true", 10,
             "the second session to acquire the released lock")


def test_writes_survive_kill9_of_a_server_and_of_the_whole_datacenter(dc3):
    s0, s1, s2 = dc3.servers
    acked = []
    for n in range(10):
        server = dc3.servers[n % 3]
        assert kv_put(server, f"acked/{n}", f"v{n}").text == "true"
        acked.append(n)
    # kill -9 of one server: its etcd member goes with it, the others keep taking writes.
    victim = dc3.leader_server()
    members = etcd_children(victim)
    assert members, "the server's etcd member runs as its child"
    victim.kill9()
    wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in members), 10,
             "the killed server's etcd member to exit with it")
    rest = [s for s in dc3.servers if s is not victim]
    def write_ok():
        return kv_put(rest[0], "after-kill", "x").text == "true"
    wait_for(write_ok, 15, "a write on a surviving server")
    # The killed server comes back with its data and catches up.
    victim.start()
    wait_for(lambda: kv_get_raw(victim, "after-kill") == "x", 20, "the restarted server to catch up")
    # The whole datacenter killed and started again keeps every acknowledged write.
    for s in dc3.servers:
        s.kill9()
    for s in dc3.servers:
        s.start()
    dc3.wait_leader(timeout=30)
    for n in acked:
        for s in dc3.servers:
            assert kv_get_raw(s, f"acked/{n}") == f"v{n}", (s.name, n)


def test_minority_server_refuses_writes_and_serves_stale_reads(dc3):
    s0, s1, s2 = dc3.servers
    assert kv_put(s0, "before", "1").text == "true"
    wait_for(lambda: kv_get_raw(s2, "before", stale=True) == "1", 10, "s2 to see the key")
    s0.kill9()
    s1.kill9()
    r = kv_put(s2, "minority", "x")
    assert r.status == 500, r
    r = s2.http.get("/v1/kv/before?stale")
    assert r.status == 200, r
    assert int(r.headers.get("x-consul-lastcontact", "-1")) >= 0
    assert s2.http.get("/v1/kv/before").status == 500  # the default read needs a quorum
    # Cut off from the quorum, it no longer names a leader (it cannot know one).
    wait_for(lambda: s2.leader() == "", 10, "the minority server to stop naming a leader")
    r = s2.http.get("/v1/kv/before?stale")
    assert r.headers.get("x-consul-knownleader") == "false", r.headers


def test_bootstrap_expect_waits_for_enough_servers(daemons, tmp_path):
    dc = Datacenter(daemons, tmp_path, 2, expect=3)
    for s in dc.servers:
        s.start()
    s0 = dc.servers[0]
    wait_for(lambda: "not forming a cluster yet" in s0.daemon.output(), 15,
             "s0 to say why it waits")
    assert s0.leader() == ""
    r = kv_put(s0, "k", "v")
    assert r.status == 500 and "No cluster leader" in r.text, r
    assert not etcd_children(s0), "no etcd member may start before 3 servers are seen"
    # `cairn status` says why.
    out = s0.cli("status", "-json")
    agent = json.loads(out.stdout)["Agent"]
    assert agent["EtcdMember"] == "waiting", agent
    assert "bootstrap-expect 3" in agent["WaitingFor"], agent
    text = s0.cli("status").stdout
    assert "waiting" in text and "bootstrap-expect 3" in text, text


def test_peers_and_raft_configuration_show_the_etcd_members(dc3):
    s0 = dc3.servers[0]
    expected = sorted(f"{s.ip}:8300" for s in dc3.servers)
    r = s0.http.get("/v1/status/peers")
    assert r.status == 200 and sorted(r.json()) == expected, r
    r = dc3.servers[2].http.get("/v1/operator/raft/configuration")
    assert r.status == 200, r
    servers = r.json()["Servers"]
    assert sorted(s["Node"] for s in servers) == ["s0", "s1", "s2"]
    assert all(s["Voter"] for s in servers)
    leaders = [s["Address"] for s in servers if s["Leader"]]
    assert leaders == [dc3.wait_leader()]
    out = s0.cli("operator", "raft", "list-peers", check=True)
    assert "leader" in out.stdout and "s1" in out.stdout, out.stdout


def test_a_server_that_leaves_is_removed_from_the_etcd_cluster(dc3):
    s0, s1, s2 = dc3.servers
    out = s2.cli("leave", check=True)
    wait_for(lambda: not s2.daemon.alive(), 20, "s2 to exit after leave")
    def two_peers():
        r = s0.http.get("/v1/status/peers")
        return r.status == 200 and sorted(r.json()) == sorted([f"{s0.ip}:8300", f"{s1.ip}:8300"])
    wait_for(two_peers, 15, "the etcd cluster to shrink to two members")
    # Two of two members: writes still have a quorum.
    assert kv_put(s1, "after-leave", "ok").text == "true"
    assert out.returncode == 0


def test_a_fourth_server_joins_the_running_datacenter(daemons, tmp_path):
    dc = Datacenter(daemons, tmp_path, 4, expect=3)
    for s in dc.servers[:3]:
        s.start()
    dc.wait_leader(servers=dc.servers[:3])
    s0, s3 = dc.servers[0], dc.servers[3]
    assert kv_put(s0, "before-join", "1").text == "true"
    s3.start()
    # It asks the leader over gossip, starts its member as a learner, and is promoted.
    def four_voters():
        r = s0.http.get("/v1/operator/raft/configuration")
        servers = r.json()["Servers"] if r.status == 200 else []
        return len(servers) == 4 and all(s["Voter"] for s in servers)
    wait_for(four_voters, 40, "s3 to join the etcd cluster and be promoted")
    # A learner cannot serve reads: s3's cache loads once it is a voter.
    wait_for(lambda: kv_get_raw(s3, "before-join") == "1", 10, "s3's cache to load")
    assert kv_put(s3, "after-join", "2").text == "true"
    assert kv_get_raw(s0, "after-join") == "2"
    assert dc.wait_leader() == dc.wait_leader(servers=[s3])


def test_session_ttl_is_an_etcd_lease_renewed_on_any_server(daemons, tmp_path):
    """A session with a TTL lives on an etcd lease (2 x TTL): renewals through any server keep
    it; when they stop, it expires and the leader releases its locks, seen on every server."""
    dc = Datacenter(daemons, tmp_path, 3)
    for s in dc.servers:
        s.write_config("session.yaml", "session_ttl_min: 2s\n")
    dc.start()
    s0, s1, s2 = dc.servers
    r = s0.http.put("/v1/session/create", json.dumps({"Name": "ttl", "TTL": "2s",
                                                      "LockDelay": "1ms"}))
    assert r.status == 200, r
    sid = r.json()["ID"]
    assert kv_put(s0, "ttl-lock", "held", acquire=sid).text == "true"
    # Renewed through s1 and s2 for three times the lease: it stays.
    import time
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        server = s1 if int(time.monotonic()) % 2 else s2
        r = server.http.put(f"/v1/session/renew/{sid}")
        assert r.status == 200 and r.json()[0]["ID"] == sid, r
        time.sleep(1)  # a client's renewal period (TTL/2), not a wait for a condition
    assert s2.http.get(f"/v1/session/info/{sid}").json(), "a renewed session expired"
    # No more renewals: the lease runs out, the session goes, the lock is released.
    wait_for(lambda: s2.http.get(f"/v1/session/info/{sid}").json() == [], 15,
             "the session to expire")
    wait_for(lambda: "Session" not in s1.http.get("/v1/kv/ttl-lock").json()[0], 10,
             "the leader to release the expired session's lock")
    assert s2.http.put(f"/v1/session/renew/{sid}").status == 404


def test_kill9_of_the_etcd_raft_leader_mid_writes_loses_no_acknowledged_write(dc3):
    """Writers keep writing through every server while the server whose etcd member leads
    raft is killed: every write answered 200 is present afterwards, and writes resume."""
    from servers import etcd_raft_leader
    victim = wait_for(lambda: etcd_raft_leader(dc3.servers), 10, "etcd's raft leader")
    acked, stop = [], threading.Event()

    def writer(server, tag):
        http = Http("127.0.0.1", server.port, timeout=10)
        n = 0
        while not stop.is_set():
            n += 1
            key = f"mid/{tag}/{n}"
            try:
                r = http.request("PUT", f"/v1/kv/{key}", body=key)
            except OSError:
                continue  # its server was killed
            if r.status == 200 and r.text == "true":
                acked.append((key, server))
        http.close()

    threads = [threading.Thread(target=writer, args=(s, s.name)) for s in dc3.servers]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= 30, 20, "writes before the kill")
    victim.kill9()
    before = len(acked)
    survivors = [s for s in dc3.servers if s is not victim]
    wait_for(lambda: sum(1 for _, s in acked[before:] if s is not victim) >= 20, 20,
             "writes to resume on the surviving servers")
    stop.set()
    for t in threads:
        t.join(timeout=30)
    for key, _ in acked:
        for s in survivors:
            assert kv_get_raw(s, key, stale=False) == key, (s.name, key)


def test_five_servers_keep_writing_with_two_killed(daemons, tmp_path):
    dc = Datacenter(daemons, tmp_path, 5)
    leader = dc.start(timeout=40)
    assert leader in {f"{s.ip}:8300" for s in dc.servers}
    r = dc.servers[4].http.get("/v1/status/peers")
    assert r.status == 200 and len(r.json()) == 5, r
    assert kv_put(dc.servers[3], "five/before", "1").text == "true"
    # Two of five may fail: the other three still have a quorum and one leader.
    victims = dc.servers[:2]
    for s in victims:
        s.kill9()
    rest = dc.servers[2:]
    wait_for(lambda: kv_put(rest[0], "five/during", "2").text == "true", 20,
             "a write with two of five servers down")
    dc.wait_leader(timeout=30, servers=rest)
    for s in rest:
        assert kv_get_raw(s, "five/during") == "2"
    # They come back with their data and catch up.
    for s in victims:
        s.start()
    for s in victims:
        wait_for(lambda s=s: kv_get_raw(s, "five/during") == "2", 20, f"{s.name} to catch up")
    dc.wait_leader(timeout=30)


def test_servers_expecting_different_counts_refuse_to_form(daemons, tmp_path):
    dc = Datacenter(daemons, tmp_path, 2, expect=2)
    dc.servers[1].extra_args[dc.servers[1].extra_args.index("-bootstrap-expect") + 1] = "3"
    for s in dc.servers:
        s.start()
    for s in dc.servers:
        wait_for(lambda s=s: "not forming a cluster" in s.daemon.output()
                 and "expects" in s.daemon.output(), 15, f"{s.name} to refuse with the reason")
        assert not etcd_children(s), f"{s.name} started an etcd member"
        assert s.leader() == ""


def test_every_dns_loop_of_a_server_answers_from_the_replicated_catalog(daemons, tmp_path):
    """dns_config.udp_loops on a server: the extra loops' replicas are seeded by the watch
    cache's first list (a snapshot, not a batch) and follow later changes."""
    from harness import dns_query
    dc = Datacenter(daemons, tmp_path, 1)
    s0 = dc.servers[0]
    s0.write_config("dns.yaml", "dns_config:\n  udp_loops: 2\n")
    dc.start()
    register(s0, "db-1", "db", "10.9.0.1", 5432)
    # After a restart the row arrives only in the first list (a snapshot).
    s0.kill9()
    s0.start()

    def every_loop_answers():
        # New sockets, new source ports: SO_REUSEPORT spreads them over both loops.
        answers = set()
        for _ in range(24):
            r = dns_query(s0.dns_port, "db.service.consul")
            answers.add(tuple(sorted(a.address for rr in r.answer for a in rr)))
        return answers == {("10.9.0.1",)}
    wait_for(every_loop_answers, 10, "every DNS loop to answer db.service.consul")


def test_a_full_store_refuses_writes_naming_the_cause_and_keeps_reads(daemons, tmp_path):
    """Disk full on the etcd data dir, as etcd's NOSPACE alarm (quota 16 MiB): writes answer a
    500 that names the cause, nothing acknowledged is lost, and reads keep working."""
    dc = Datacenter(daemons, tmp_path, 1)
    dc.servers[0].write_config("quota.yaml", "etcd:\n  quota_backend_bytes: 16777216\n")
    dc.start()
    s0 = dc.servers[0]
    value = "v" * (500 * 1024)
    acknowledged = []
    refused = None
    for i in range(200):  # each put keeps a revision of ~0.5 MiB: far past 16 MiB
        r = kv_put(s0, f"big/{i % 4}", value)
        if r.status != 200:
            refused = r
            break
        assert r.text == "true", r
        acknowledged.append(f"big/{i % 4}")
    assert refused is not None, "200 puts of 0.5 MiB into a 16 MiB store were all accepted"
    assert refused.status == 500, refused
    assert "NOSPACE" in refused.text and "store is full" in refused.text, refused.text
    # Reads keep working, default (barrier) and stale, and hold the last acknowledged value.
    for stale in (False, True):
        for key in set(acknowledged):
            assert kv_get_raw(s0, key, stale=stale) == value, key
    r = s0.http.get("/v1/catalog/nodes")
    assert r.status == 200 and len(r.json()) == 1, r
    # A small write is refused the same way (the alarm is sticky until disarmed).
    r = kv_put(s0, "small", "1")
    assert r.status == 500 and "NOSPACE" in r.text, r
    wait_for(lambda: s0.http.get("/v1/agent/self").json()["Stats"]["etcd"]["alarm"] == "NOSPACE",
             10, "/v1/agent/self to report the NOSPACE alarm")
    # Deleting frees space: the servers compact, defragment and disarm; writes resume.
    r = s0.http.request("DELETE", "/v1/kv/big?recurse")
    assert r.status == 200 and r.text == "true", r
    wait_for(lambda: kv_put(s0, "small", "1").status == 200, 30,
             "writes to resume once the space is freed")
    assert kv_get_raw(s0, "small") == "1"
    wait_for(lambda: s0.http.get("/v1/agent/self").json()["Stats"]["etcd"]["alarm"] == "",
             10, "/v1/agent/self to report the alarm cleared")
