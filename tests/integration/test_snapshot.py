"""Snapshots (issue 16): GET /v1/snapshot and `cairn snapshot save|restore|inspect` with real
binaries, in -dev and on a three-server datacenter over etcd. A restore brings back every
replicated table at once, moves indexes forward, and refuses a damaged file without changing
anything."""
import base64
import json
import re
import threading

import consul
import pytest

from harness import Http, wait_for
from servers import Datacenter, kv_get_raw, kv_put, register


def kv_value(agent, key):
    r = agent.http.get(f"/v1/kv/{key}?raw")
    return r.body.decode() if r.status == 200 else None


def catalog_services(agent):
    return agent.http.get("/v1/catalog/services").json()


def fill(agent):
    """KV (one value binary), an external node with a service, and a session."""
    assert kv_put(agent, "app/config", "v1").text == "true"
    assert agent.http.put("/v1/kv/app/blob", body=b"\x00\xffbinary").status == 200
    register(agent, "ext-1", "db", "10.9.0.1", 5432)
    r = agent.http.put("/v1/session/create", json.dumps({"Name": "keeper", "Node": "ext-1",
                                                         "Checks": []}))
    assert r.status == 200, r
    return r.json()["ID"]


def change(agent, session):
    assert kv_put(agent, "app/config", "v2").text == "true"
    assert agent.http.request("DELETE", "/v1/kv/app/blob").status == 200
    assert kv_put(agent, "app/new", "x").text == "true"
    assert agent.http.put(f"/v1/session/destroy/{session}").status == 200
    r = agent.http.put("/v1/catalog/deregister", json.dumps({"Node": "ext-1"}))
    assert r.status == 200, r


def assert_restored(agent, session):
    assert kv_value(agent, "app/config") == "v1"
    r = agent.http.get("/v1/kv/app/blob?raw")
    assert r.status == 200 and r.body == b"\x00\xffbinary", r
    assert agent.http.get("/v1/kv/app/new").status == 404
    assert "db" in catalog_services(agent)
    nodes = [e["Node"] for e in agent.http.get("/v1/catalog/service/db").json()]
    assert nodes == ["ext-1"], nodes
    r = agent.http.get(f"/v1/session/info/{session}")
    assert r.status == 200 and [s["Name"] for s in r.json()] == ["keeper"], r


def save(agent, path):
    p = agent.cli("snapshot", "save", path, check=True)
    m = re.search(r"Saved and verified snapshot to index (\d+)", p.stdout)
    assert m, p.stdout
    # Not a terminal: no progress lines.
    assert p.stderr == "", p.stderr
    return int(m.group(1))


def test_dev_save_change_restore(agent, tmp_path):
    session = fill(agent)
    path = tmp_path / "backup.snap"
    index = save(agent, path)
    assert index > 1
    assert not list(tmp_path.glob("backup.snap.*")), "a temp file was left behind"

    p = agent.cli("snapshot", "inspect", path, check=True)
    assert re.search(rf"^ Index\s+{index}$", p.stdout, re.M), p.stdout
    assert re.search(r"^ Version\s+1$", p.stdout, re.M), p.stdout
    assert re.search(r"^ kv\s+2\s+\d+$", p.stdout, re.M), p.stdout
    assert re.search(r"^ session\s+1\s+\d+$", p.stdout, re.M), p.stdout
    assert re.search(rf"^ Size\s+{path.stat().st_size}$", p.stdout, re.M), p.stdout

    change(agent, session)
    assert kv_value(agent, "app/config") == "v2"
    before = int(agent.http.get("/v1/kv/app/config").headers["x-consul-index"])

    # A blocking query parked on the key wakes when the restore lands.
    woke = {}

    def block():
        woke["r"] = Http("127.0.0.1", agent.port).get(f"/v1/kv/app/config?index={before}&wait=30s")

    t = threading.Thread(target=block)
    t.start()
    agent.wait_parked()
    p = agent.cli("snapshot", "restore", path, check=True)
    assert p.stdout.strip() == "Restored snapshot", p.stdout
    t.join(30)
    assert not t.is_alive()
    assert woke["r"].status == 200
    assert int(woke["r"].headers["x-consul-index"]) > before
    assert base64.b64decode(woke["r"].json()[0]["Value"]) == b"v1"

    assert_restored(agent, session)
    # Indexes moved forward, never back.
    r = agent.http.get("/v1/kv/app/config")
    assert int(r.headers["x-consul-index"]) > before
    assert r.json()[0]["ModifyIndex"] > before
    # The agent's own node comes back through anti-entropy (it was in the snapshot anyway).
    wait_for(lambda: agent.name in [n["Node"] for n in agent.http.get("/v1/catalog/nodes").json()],
             10, "the agent's node in the catalog")


def test_damaged_snapshots_are_refused_and_change_nothing(agent, tmp_path):
    fill(agent)
    good = agent.http.get("/v1/snapshot")
    assert good.status == 200
    assert good.headers["content-type"] == "application/octet-stream"
    data = good.body
    assert kv_put(agent, "app/config", "current").text == "true"
    index = agent.http.get("/v1/kv/app/config").headers["x-consul-index"]

    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    newer = bytearray(data)
    newer[11] = 2
    cases = {
        "truncated": (data[:-10], "checksum"),
        "flipped": (bytes(flipped), "checksum"),
        "newer version": (bytes(newer), "version 2 is not supported"),
        "foreign": (b'{"not": "a snapshot"}', "not a cairn snapshot"),
        "empty": (b"", "not a cairn snapshot"),
    }
    for name, (body, why) in cases.items():
        r = agent.http.put("/v1/snapshot", body=body)
        assert r.status == 400, (name, r)
        assert why in r.text, (name, r.text)

    path = tmp_path / "bad.snap"
    path.write_bytes(bytes(flipped))
    p = agent.cli("snapshot", "restore", path)
    assert p.returncode != 0 and "checksum" in p.stderr, p.stderr
    p = agent.cli("snapshot", "inspect", path)
    assert p.returncode != 0 and "checksum" in p.stderr, p.stderr

    # Nothing changed: same value, same index.
    assert kv_value(agent, "app/config") == "current"
    assert agent.http.get("/v1/kv/app/config").headers["x-consul-index"] == index


def test_raw_http_with_python_consul_data(agent):
    """python-consul (0.7) has no snapshot API: the data goes in through it, the snapshot
    through raw HTTP, as Consul's API clients treat it (opaque bytes)."""
    c = consul.Consul(host="127.0.0.1", port=agent.port)
    assert c.kv.put("pc/key", "before")
    r = agent.http.get("/v1/snapshot?stale")
    assert r.status == 200, r
    assert int(r.headers["x-consul-index"]) >= 1
    assert r.body[:8] == b"CAIRNSNP"
    snap = r.body
    assert c.kv.put("pc/key", "after")
    assert c.kv.put("pc/other", "x")
    r = agent.http.put("/v1/snapshot", body=snap)
    assert r.status == 200, r
    _, entry = c.kv.get("pc/key")
    assert entry["Value"] == b"before"
    _, entry = c.kv.get("pc/other")
    assert entry is None


@pytest.fixture
def dc3(daemons, tmp_path):
    dc = Datacenter(daemons, tmp_path, 3)
    dc.start()
    return dc


def test_three_servers_save_on_one_restore_read_on_another(dc3, tmp_path):
    s0, s1, s2 = dc3.servers
    dc3.wait_leader()
    session = fill(s0)
    path = tmp_path / "dc.snap"
    index = save(s0, path)
    assert index > 1

    change(s1, session)
    assert kv_get_raw(s2, "app/config") == "v2"
    before = int(s2.http.get("/v1/kv/app/config").headers["x-consul-index"])

    p = s1.cli("snapshot", "restore", path, check=True)
    assert p.stdout.strip() == "Restored snapshot", p.stdout
    # Default consistency on another server sees the restore at once.
    assert_restored(s2, session)
    r = s2.http.get("/v1/kv/app/config")
    assert int(r.headers["x-consul-index"]) > before
    # The same index everywhere: the restore is one etcd revision.
    indexes = {s.http.get("/v1/kv/app/config").json()[0]["ModifyIndex"] for s in dc3.servers}
    assert len(indexes) == 1, indexes

    # A damaged file is refused on a server too, and changes nothing.
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xff
    r = s2.http.put("/v1/snapshot", body=bytes(data))
    assert r.status == 400 and "checksum" in r.text, r
    assert kv_get_raw(s0, "app/config") == "v1"


def test_a_client_agent_forwards_snapshots_to_its_server(make_agent, tmp_path):
    """Consul's client agents forward /v1/snapshot to a server; so do cairn's (binary bytes
    through the RPC envelope, both ways)."""
    from test_client_agents import client_of
    srv = make_agent(name="srv").start()
    c = client_of(make_agent, srv)
    session = fill(srv)
    path = tmp_path / "via-client.snap"
    index = save(c, path)
    assert index > 1
    change(srv, session)
    p = c.cli("snapshot", "restore", path, check=True)
    assert p.stdout.strip() == "Restored snapshot", p.stdout
    assert_restored(srv, session)
