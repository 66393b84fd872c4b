"""A real network partition between three cairn servers (each with its own etcd member).

Every server runs in a network namespace of its own, joined to the others by a bridge in
another namespace (see netns.py); the test cuts one server's cable, checks what each side of
the partition does, heals it, and checks that nothing a client was told had been written is
lost. It runs twice: once cutting off the cairn leader (the majority must elect a new one
while the old one may still believe it leads), once cutting off a follower (the majority
keeps its leader).

The contract checked, per write:
  200                       applied: present on every server after the heal
  500 "may or may not ..."  unknown outcome: all servers agree on whether it happened
  any other refusal         not applied: absent from every server after the heal"""
import time

import pytest

from harness import SLOW, wait_for
from netns import NetnsHttp, NetnsLab
from servers import ServerAgent, kv_get_raw

SERVER_RPC_PORT = 8300
UNKNOWN_OUTCOME = "may or may not have been applied"
# A server without quorum answers a write after ~5 s (its etcd call times out); allow slack.
REFUSAL_WITHIN = 12.0


class NsServer(ServerAgent):
    """A cairn server started inside lab.hosts[index], reachable only from that namespace."""

    def __init__(self, start_daemon, tmp_path, lab: NetnsLab, index: int, expect: int):
        self.lab, self.index, self.ip = lab, index, lab.ips[index]
        super().__init__(start_daemon, tmp_path, name=f"s{index}", dev=False,
                         extra_args=["-server", "-bootstrap-expect", str(expect),
                                     "-bind", self.ip, "-client", self.ip])
        self.http = NetnsHttp(lab.hosts[index], self.ip, self.port)
        self.server_port = SERVER_RPC_PORT  # each namespace has its own ports

    @property
    def address(self) -> str:
        return f"{self.ip}:{SERVER_RPC_PORT}"

    def args(self):
        return self.lab.exec_prefix(self.index) + super().args()



@pytest.fixture
def lab():
    with NetnsLab(3) as lab:
        yield lab


@pytest.fixture
def dc(lab, daemons, tmp_path):
    """Three servers, s1 and s2 -retry-join s0. Torn down before lab: the daemons fixture
    stops every process, then lab waits for its namespaces to be empty and deletes them."""
    servers = [NsServer(daemons, tmp_path, lab, i, 3) for i in range(3)]
    for s in servers[1:]:
        s.extra_args += ["-retry-join", f"{servers[0].ip}:{servers[0].serf_port}"]
    for s in servers:
        s.start(wait=False)
    for s in servers:
        s.wait_ready()
    yield servers
    for s in servers:
        s.http.close()


def wait_one_leader(servers, timeout, among=None):
    """The leader all of servers name, once they agree on one of among (default: them)."""
    candidates = {s.address for s in (among or servers)}

    def one_leader():
        names = {s.leader() for s in servers}
        return names.pop() if len(names) == 1 and names <= candidates else None
    return wait_for(one_leader, timeout,
                    f"one leader among {sorted(candidates)} named by all of "
                    f"{[s.name for s in servers]}")


class Ledger:
    """Every KV write the test makes, by what its answer promised."""

    def __init__(self):
        self.acked = {}  # key -> value
        self.unknown = {}  # key -> (value, response)
        self.refused = {}  # key -> (value, response)
        self.serial = 0

    def put(self, server, what: str, timeout=30):
        """Writes a fresh key through server; returns (key, response, seconds taken)."""
        self.serial += 1
        key, value = f"{what}-{self.serial}", f"{what}-{self.serial}@{server.name}"
        start = time.monotonic()
        r = server.http.request("PUT", f"/v1/kv/{key}", body=value, timeout=timeout)
        took = time.monotonic() - start
        if r.status == 200:
            assert r.text == "true", (server.name, key, r)
            self.acked[key] = value
        elif UNKNOWN_OUTCOME in r.text:
            self.unknown[key] = (value, r)
        else:
            self.refused[key] = (value, r)
        return key, r, took


def read_all(server, keys, stale=False):
    return {k: kv_get_raw(server, k, stale=stale) for k in keys}


@pytest.mark.parametrize("cut", ["leader", "follower"])
def test_partitioned_server_refuses_writes_and_nothing_acknowledged_is_lost(lab, dc, cut):
    ledger = Ledger()
    old_leader = wait_one_leader(dc, 30)
    leader = next(s for s in dc if s.address == old_leader)
    minority = leader if cut == "leader" else next(s for s in dc if s is not leader)
    majority = [s for s in dc if s is not minority]

    # Before: one write through every server, each acknowledged.
    for s in dc:
        key, r, _ = ledger.put(s, f"before/{s.name}")
        assert r.status == 200, (s.name, r)
    before = dict(ledger.acked)

    lab.isolate(minority.index)

    # The minority refuses a write at once (it may still believe it leads)...
    key, r, took = ledger.put(minority, "minority/early")
    assert r.status != 200, f"{minority.name} (cut off) acknowledged {key}: {r}"
    assert took < REFUSAL_WITHIN * SLOW, f"refusal of {key} took {took:.1f}s: {r}"
    # ...serves what it had with ?stale, and no default (linearizable) read.
    assert read_all(minority, before, stale=True) == before
    r = minority.http.get(f"/v1/kv/{next(iter(before))}", timeout=30)
    assert r.status != 200, f"{minority.name} (cut off) answered a default read: {r}"

    # The majority has a leader among itself (a new one once the old leader's lease ran
    # out, or the one it had) and takes writes.
    new_leader = wait_one_leader(majority, 30)
    if cut == "follower":
        assert new_leader == old_leader, "losing a follower must not depose the leader"
    wait_for(lambda: ledger.put(majority[0], "majority/first")[1].status == 200, 15,
             f"{majority[0].name} (majority) to acknowledge a write")
    for s in majority:
        for _ in range(3):
            key, r, _ = ledger.put(s, f"majority/{s.name}")
            assert r.status == 200, (s.name, key, r)
    majority_keys = {k: v for k, v in ledger.acked.items() if k.startswith("majority/")}
    for s in majority:
        assert read_all(s, majority_keys) == majority_keys, s.name

    # Cut off from the quorum, the minority cannot know who leads: it names none.
    wait_for(lambda: minority.leader() == "", 10, f"{minority.name} to stop naming a leader")

    # Long after its etcd member lost the leader, the minority still refuses.
    key, r, took = ledger.put(minority, "minority/late")
    assert r.status != 200, f"{minority.name} (cut off) acknowledged {key}: {r}"
    assert took < REFUSAL_WITHIN * SLOW, f"refusal of {key} took {took:.1f}s: {r}"
    assert read_all(minority, before, stale=True) == before

    lab.heal(minority.index)

    # The minority catches up: a default read there sees the majority's writes.
    wait_for(lambda: read_all(minority, majority_keys) == majority_keys, 30,
             f"{minority.name} to read the majority's writes after the heal")
    wait_one_leader(dc, 30)

    # Nothing acknowledged is lost, on any server, by default or ?stale reads.
    for s in dc:
        assert read_all(s, ledger.acked) == ledger.acked, f"{s.name} lost acknowledged writes"
        wait_for(lambda s=s: read_all(s, ledger.acked, stale=True) == ledger.acked, 10,
                 f"{s.name}'s cache to hold every acknowledged write")
    # A write refused as not applied was not applied; an unknown outcome is one outcome.
    for s in dc:
        for key, (value, r) in ledger.refused.items():
            got = kv_get_raw(s, key)
            assert got is None, f"{key} was refused ({r}) but {s.name} has {got!r}"
    for key, (value, r) in ledger.unknown.items():
        seen = {s.name: kv_get_raw(s, key) for s in dc}
        assert len(set(seen.values())) == 1 and set(seen.values()) <= {None, value}, \
            f"{key} (unknown outcome: {r}) reads differently: {seen}"
