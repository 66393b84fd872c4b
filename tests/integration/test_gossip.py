"""Gossip on real sockets: cairn-gossip-peer processes on 127.0.0.x.

Each node speaks memberlist + Serf on its own loopback address (same port
everywhere, as a real fleet would). Timings are shortened (probe every
200 ms, like Consul's -dev) so a failure is detected in about a second, and
every wait is scaled for sanitizer builds.
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

from harness import BUILD, ROOT, SLOW, free_port, wait_for

PEER = BUILD / "agent" / "gossip" / "cairn-gossip-peer"
FAST = ["-config", "local", "-probe-interval", "200ms", "-probe-timeout", "100ms",
        "-gossip-interval", "50ms", "-pushpull-interval", "5s"]
KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # 32 bytes: AES-256
KEY_B = "HxwdHhsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA="


class Peer:
    """One gossip node and the JSON lines it printed."""

    def __init__(self, daemon, name, addr):
        self.daemon, self.name, self.addr = daemon, name, addr

    def events(self, kind=None):
        out = []
        for line in self.daemon.output().splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if kind is None or ev.get("event") == kind:
                out.append(ev)
        return out

    def seen(self, kind, node, status=None, after=0):
        return any(e.get("node") == node and e["t"] >= after and
                   (status is None or e.get("status") == status) for e in self.events(kind))

    def last_status(self, node):
        """Latest join/leave view of node: 'alive', 'failed', 'left' or None."""
        st = None
        for e in self.events():
            if e.get("node") != node or e["event"] not in ("join", "leave"):
                continue
            st = "alive" if e["event"] == "join" else e.get("status", "failed")
        return st

    def members(self):
        before = len(self.events("members"))
        self.daemon.signal(signal.SIGUSR1)
        wait_for(lambda: len(self.events("members")) > before, 5, f"{self.name} members")
        return self.events("members")[-1]


def peer_args(name, ip, port, *extra, seeds=(), binary=PEER, mode="serf"):
    args = [binary, "-name", name, "-bind", ip, "-port", str(port), "-mode", mode,
            "-exit-after", "300s", "-debug-events"]
    if seeds:
        args += ["-join", ",".join(seeds)]
    return args + list(extra)


def start_cluster(daemons, n, port, *extra, first_ip=20, key=None):
    peers = []
    seed = f"127.0.0.{first_ip}:{port}"
    for i in range(n):
        ip = f"127.0.0.{first_ip + i}"
        args = list(FAST) + list(extra) + (["-key", key] if key else [])
        args += ["-tags", f"role=node,dc=dc1,idx={i}"]
        d = daemons(peer_args(f"n{i}", ip, port, *args, seeds=[seed] if i else ()), name=f"n{i}")
        peers.append(Peer(d, f"n{i}", f"{ip}:{port}"))
        if i == 0:
            wait_for(lambda: peers[0].events("start"), 10, "seed start")
    return peers


def wait_converged(peers, names, timeout=15):
    def ok():
        return all(p.last_status(n) == "alive" for p in peers for n in names)
    wait_for(ok, timeout, f"{len(peers)} nodes to see {len(names)} alive members")


@pytest.fixture(autouse=True)
def _need_peer():
    if not PEER.exists():
        pytest.skip(f"{PEER} not built")


def test_ten_nodes_converge_detect_a_crash_and_take_back_a_restart(daemons):
    port = free_port()
    peers = start_cluster(daemons, 10, port)
    names = [p.name for p in peers]
    wait_converged(peers, names)
    m = peers[3].members()
    assert m["count"] == 10
    by_name = {x["name"]: x for x in m["members"]}
    assert by_name["n7"]["tags"] == {"role": "node", "dc": "dc1", "idx": "7"}
    assert by_name["n7"]["vsn"] == [1, 5, 2, 2, 5, 4]

    # kill -9: every survivor sees it failed, within the suspicion bound.
    victim = peers[5]
    t_kill = time.time() * 1000
    victim.daemon.kill9()
    survivors = [p for p in peers if p is not victim]
    wait_for(lambda: all(p.seen("leave", "n5", "failed", after=t_kill) for p in survivors),
             15, "all survivors to see n5 failed")
    worst = max(min(e["t"] for e in p.events("leave") if e["node"] == "n5") - t_kill
                for p in survivors)
    # probe interval 0.2 s, 9 peers, suspicion min 0.6 s: ~1-2 s expected.
    assert worst < 10000 * SLOW, f"detection took {worst:.0f} ms"
    # Nobody else was declared failed.
    for p in survivors:
        for e in p.events("leave"):
            assert e["node"] == "n5", f"{p.name} saw {e['node']} leave"

    # Restart with the same name and address: it rejoins and refutes the
    # death it learns about, so it comes back with a higher incarnation.
    t_back = time.time() * 1000
    d = daemons(peer_args("n5", "127.0.0.25", port, *FAST, "-tags", "role=node,dc=dc1,idx=5",
                          seeds=[peers[0].addr]), name="n5-again")
    reborn = Peer(d, "n5", "127.0.0.25:%d" % port)
    wait_for(lambda: all(p.seen("join", "n5", after=t_back) for p in survivors), 15,
             "survivors to see n5 again")
    wait_converged([reborn], names)
    assert reborn.members()["incarnation"] > 1


def test_graceful_leave_is_seen_as_left(daemons):
    port = free_port()
    peers = start_cluster(daemons, 4, port, first_ip=40)
    wait_converged(peers, [p.name for p in peers])
    t0 = time.time() * 1000
    peers[3].daemon.signal(signal.SIGTERM)
    wait_for(lambda: all(p.seen("leave", "n3", "left", after=t0) for p in peers[:3]), 15,
             "others to see n3 left")
    assert peers[3].daemon.proc.wait(timeout=15 * SLOW) == 0
    assert peers[3].events("exit")


def test_wrong_key_keeps_a_node_out(daemons):
    port = free_port()
    peers = start_cluster(daemons, 3, port, first_ip=50, key=KEY_A)
    wait_converged(peers, [p.name for p in peers])
    d = daemons(peer_args("intruder", "127.0.0.59", port, *FAST, "-key", KEY_B, "-join-retry", "1s",
                          seeds=[peers[0].addr]), name="intruder")
    intruder = Peer(d, "intruder", f"127.0.0.59:{port}")
    wait_for(lambda: intruder.events("join-failed"), 15, "the join with the wrong key to fail")
    time.sleep(1.0)
    for p in peers:
        assert not p.seen("join", "intruder"), f"{p.name} let the intruder in"
    assert all(e["node"] == "intruder" for e in intruder.events("join"))
    # The right key gets in.
    d2 = daemons(peer_args("friend", "127.0.0.58", port, *FAST, "-key", KEY_A,
                           seeds=[peers[0].addr]), name="friend")
    friend = Peer(d2, "friend", f"127.0.0.58:{port}")
    wait_converged(peers + [friend], [p.name for p in peers] + ["friend"])


def test_labels_separate_pools(daemons):
    port = free_port()
    peers = start_cluster(daemons, 2, port, "-label", "dc1", first_ip=60)
    wait_converged(peers, ["n0", "n1"])
    d = daemons(peer_args("other", "127.0.0.69", port, *FAST, "-label", "dc2", "-join-retry", "1s",
                          seeds=[peers[0].addr]), name="other")
    other = Peer(d, "other", f"127.0.0.69:{port}")
    wait_for(lambda: other.events("join-failed"), 15, "a join across labels to fail")
    assert not any(p.seen("join", "other") for p in peers)


def test_garbage_packets_are_dropped_and_counted(daemons):
    import socket
    port = free_port()
    peers = start_cluster(daemons, 2, port, first_ip=70)
    wait_converged(peers, ["n0", "n1"])
    target = ("127.0.0.70", port)
    junk = [b"", b"\x07\xff", b"\x09\x82\xa4Algo\x00\xa3Buf\xa2zz", b"\x0c\x00\x00\x00\x00\x00",
            b"\x04\xdf\xff\xff\xff\xff", bytes(range(256)), b"\x08\x04\xc1"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for j in junk * 20:
            s.sendto(j, target)
    for j in junk:  # and as TCP streams
        with socket.create_connection(target, timeout=2) as c:
            c.sendall(j)
            c.shutdown(socket.SHUT_WR)
            try:
                c.recv(100)
            except OSError:
                pass
    stats = peers[0].members()["stats"]
    assert stats["bad_message"] + stats["bad_stream"] > 0
    wait_converged(peers, ["n0", "n1"])
    assert peers[0].daemon.alive()


# ---------------------------------------------------------------------------
# Interop with HashiCorp's memberlist + Serf (Debian's Go packages)

@pytest.fixture(scope="session")
def go_peer():
    shared = ROOT.parent / "shared" / "tools" / "memberlist-peer"
    prebuilt = os.environ.get("MEMBERLIST_PEER_BIN")
    if prebuilt and pathlib.Path(prebuilt).exists():
        return prebuilt
    if not (shared / "build.sh").exists():
        pytest.skip(f"reference peer sources not found at {shared}")
    if shutil.which("go") is None:
        pytest.skip("Go toolchain (golang-go) not installed: cannot build the reference peer")
    # Built once per checkout (.cache is git-ignored), with a kept Go build
    # cache: the normal and the sanitizer runs share it.
    out = ROOT / ".cache" / "mlpeer"
    binary = out / "memberlist-peer"
    if binary.exists() and binary.stat().st_mtime >= (shared / "main.go").stat().st_mtime:
        return str(binary)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MEMBERLIST_PEER_OUT=str(out), GOCACHE=str(out / "go-cache"))
    r = subprocess.run(["bash", str(shared / "build.sh")], env=env, capture_output=True, text=True,
                       timeout=900)
    if r.returncode != 0 or not binary.exists():
        pytest.skip("reference peer did not build (needs golang-github-hashicorp-memberlist-dev "
                    "and -serf-dev): " + (r.stderr or r.stdout)[-500:])
    return str(binary)


@pytest.mark.parametrize("key", [None, KEY_A], ids=["plain", "encrypted"])
def test_mixed_cluster_with_the_go_reference_peer(daemons, go_peer, key):
    port = free_port()
    peers = []
    for i in range(6):
        ip = f"127.0.0.{80 + i}"
        binary = go_peer if i % 2 == 0 else PEER
        extra = list(FAST) + ["-tags", f"role=node,dc=dc1,impl={'go' if i % 2 == 0 else 'cairn'}"]
        if key:
            extra += ["-key", key]
        seeds = [f"127.0.0.80:{port}"] if i else ()
        d = daemons(peer_args(f"m{i}", ip, port, *extra, seeds=seeds, binary=binary), name=f"m{i}")
        peers.append(Peer(d, f"m{i}", f"{ip}:{port}"))
        if i == 0:
            wait_for(lambda: peers[0].events("start"), 10, "go seed start")
    names = [p.name for p in peers]
    wait_converged(peers, names, timeout=20)
    # Go sees cairn's tags, protocol versions and Vivaldi coordinates.
    go_view = {m["name"]: m for m in peers[0].members()["members"]}
    assert go_view["m1"]["tags"]["impl"] == "cairn"
    assert go_view["m1"]["vsn"] == [1, 5, 2, 2, 5, 4]
    cairn_view = {m["name"]: m for m in peers[1].members()["members"]}
    assert cairn_view["m2"]["tags"]["impl"] == "go"

    # Graceful leaves first, one at a time, while everyone else is up (a
    # leave intent gossiped only to members that are gone is lost, and then
    # the leaver is seen as failed, in Serf as in cairn): a cairn node, then
    # a Go node, each seen as left by both kinds.
    for leaver in (peers[5], peers[2]):
        t0 = time.time() * 1000
        leaver.daemon.signal(signal.SIGTERM)
        watchers = [p for p in peers if p.name in ("m0", "m1", "m3", "m4")]
        wait_for(lambda: all(p.seen("leave", leaver.name, "left", after=t0) for p in watchers),
                 20, f"{leaver.name} seen as left")

    # A cairn victim and a Go victim: both sides detect both.
    t_kill = time.time() * 1000
    peers[3].daemon.kill9()
    peers[4].daemon.kill9()
    survivors = [peers[0], peers[1]]
    wait_for(lambda: all(p.seen("leave", v, "failed", after=t_kill)
                         for p in survivors for v in ("m3", "m4")),
             20, "m0 (go) and m1 (cairn) to see m3 (cairn) and m4 (go) failed")
