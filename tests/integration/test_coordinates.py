"""Network coordinates: /v1/coordinate and the ?near= ordering of catalog, health and query reads."""
import math

from harness import wait_for

# Positions along the first Vivaldi dimension, in seconds of RTT from the origin.
POSITIONS = {"a-far": 0.004, "c-near": 0.001, "d-mid": 0.0025}
HEIGHT = 1e-5


def coord(x, dims=8):
    return {"Vec": [x] + [0.0] * (dims - 1), "Error": 0.5, "Adjustment": 0.0, "Height": HEIGHT}


def distance(a, b):
    """Consul's coordinate.DistanceTo, truncated to nanoseconds as Go's Duration is."""
    raw = math.sqrt(sum((x - y) ** 2 for x, y in zip(a["Vec"], b["Vec"]))) + a["Height"] + b["Height"]
    adjusted = raw + a["Adjustment"] + b["Adjustment"]
    return int((adjusted if adjusted > 0 else raw) * 1e9)


def setup_nodes(agent):
    """The agent (at the origin) and four catalog nodes running "web"; b-none has no coordinate."""
    me = agent.name
    assert agent.http.put("/v1/agent/service/register", {"Name": "web", "Port": 80}).status == 200
    for node in ("a-far", "b-none", "c-near", "d-mid"):
        r = agent.http.put("/v1/catalog/register", {
            "Node": node, "Address": "10.0.0.1",
            "Service": {"Service": "web", "Port": 80},
            "Check": {"CheckID": "up", "Name": "up", "Status": "passing", "ServiceID": "web"}})
        assert r.status == 200, r
    wait_for(lambda: len(agent.http.get("/v1/catalog/service/web").json()) == 5, 10,
             "the agent's own web instance to be synced")
    for node, x in [(me, 0.0)] + list(POSITIONS.items()):
        r = agent.http.put("/v1/coordinate/update", {"Node": node, "Coord": coord(x)})
        assert r.status == 200, r
    return me


def nodes_of(rows, key):
    out = []
    for row in rows:
        node = key(row)
        if not out or out[-1] != node:
            out.append(node)
    return out


def test_near_orders_every_read_by_estimated_rtt(agent):
    me = setup_nodes(agent)
    by_rtt_from_me = [me, "c-near", "d-mid", "a-far", "b-none"]  # no coordinate: last
    by_rtt_from_far = ["a-far", "d-mid", "c-near", me, "b-none"]
    reads = {
        "/v1/catalog/nodes": lambda r: r["Node"],
        "/v1/catalog/service/web": lambda r: r["Node"],
        "/v1/health/service/web": lambda r: r["Node"]["Node"],
        "/v1/health/checks/web": lambda r: r["Node"],
    }
    for path, key in reads.items():
        plain = nodes_of(agent.http.get(path).json(), key)
        assert plain == sorted(plain), (path, plain)
        for near, want in (("_agent", by_rtt_from_me), (me, by_rtt_from_me), ("a-far", by_rtt_from_far)):
            got = nodes_of(agent.http.get(f"{path}?near={near}").json(), key)
            assert got == [n for n in want if n in plain], (path, near, got)
        # A source without a coordinate, or unknown, leaves the order alone.
        for near in ("b-none", "nobody"):
            assert nodes_of(agent.http.get(f"{path}?near={near}").json(), key) == plain, (path, near)

    states = agent.http.get("/v1/health/state/passing?near=_agent").json()
    assert nodes_of(states, lambda c: c["Node"]) == by_rtt_from_me

    # A moved coordinate changes the order at once (near reads are not served from the cache).
    agent.http.put("/v1/coordinate/update", {"Node": "a-far", "Coord": coord(0.0005)})
    got = nodes_of(agent.http.get("/v1/catalog/nodes?near=_agent").json(), lambda r: r["Node"])
    assert got == [me, "a-far", "c-near", "d-mid", "b-none"], got


def test_prepared_query_near_sorts_then_puts_the_source_first(agent):
    me = setup_nodes(agent)
    r = agent.http.request("POST", "/v1/query", {"Name": "web-near", "Service": {"Service": "web", "Near": "_agent"}})
    assert r.status == 200, r
    for _ in range(5):  # shuffled first, so the sort must hold every time
        got = [n["Node"]["Node"] for n in agent.http.get("/v1/query/web-near/execute").json()["Nodes"]]
        assert got == [me, "c-near", "d-mid", "a-far", "b-none"], got
    got = [n["Node"]["Node"] for n in agent.http.get("/v1/query/web-near/execute?near=d-mid").json()["Nodes"]]
    assert got[:4] == ["d-mid", "c-near", "a-far", me] or got[:4] == ["d-mid", "a-far", "c-near", me], got
    assert got[4] == "b-none"


def test_coordinate_endpoints_read_update_and_reject(agent):
    me = setup_nodes(agent)
    listed = {c["Node"]: c for c in agent.http.get("/v1/coordinate/nodes").json()}
    assert set(listed) == {me, "a-far", "c-near", "d-mid"}
    assert listed["c-near"]["Coord"]["Vec"][0] == 0.001 and len(listed["c-near"]["Coord"]["Vec"]) == 8
    assert listed["c-near"]["Segment"] == ""
    one = agent.http.get("/v1/coordinate/node/d-mid").json()
    assert len(one) == 1 and one[0]["Coord"]["Height"] == HEIGHT
    assert agent.http.get("/v1/coordinate/node/b-none").status == 404

    # Consul's errors: a coordinate of the wrong dimensionality, none at all, a broken body.
    r = agent.http.put("/v1/coordinate/update", {"Node": "c-near", "Coord": coord(0.1, dims=3)})
    assert r.status == 500 and r.text.startswith("rejected bad coordinate: &{[0.1 0 0]"), r
    r = agent.http.put("/v1/coordinate/update", {"Node": "c-near"})
    assert r.status == 500 and "invalid coordinate" in r.text, r
    r = agent.http.put("/v1/coordinate/update", '{"Node": "c-near", "Coord": {"Vec": "x"}}')
    assert r.status == 400 and r.text.startswith("Request decode failed"), r
    r = agent.http.put("/v1/coordinate/update?dc=elsewhere", {"Node": "c-near", "Coord": coord(0.1)})
    assert r.status == 500 and "No path to datacenter" in r.text, r
    assert agent.http.get("/v1/coordinate/node/c-near").json()[0]["Coord"]["Vec"][0] == 0.001
    # A node the catalog does not know: accepted and dropped, as Consul's state store does.
    assert agent.http.put("/v1/coordinate/update", {"Node": "ghost", "Coord": coord(0.1)}).status == 200
    assert agent.http.get("/v1/coordinate/node/ghost").status == 404
    # A deregistered node's coordinate goes with the next update: the table
    # never outgrows the catalog.
    assert agent.http.put("/v1/catalog/deregister", {"Node": "c-near"}).status == 200
    assert agent.http.put("/v1/coordinate/update", {"Node": "d-mid", "Coord": coord(0.002)}).status == 200
    assert agent.http.get("/v1/coordinate/node/c-near").status == 404


def test_gossip_coordinates_order_a_real_cluster(make_agent):
    srv = make_agent(name="srv").start()
    others = [make_agent(name=f"c{i}", dev=False).start() for i in (1, 2)]
    for a in others:
        assert a.http.put(f"/v1/agent/join/127.0.0.1:{srv.serf_port}").status == 200
    names = {"srv", "c1", "c2"}

    def coords():
        return {c["Node"]: c["Coord"] for c in srv.http.get("/v1/coordinate/nodes").json()}
    wait_for(lambda: set(coords()) >= names, 30, "Vivaldi coordinates for every member (from probes)")

    # The order ?near= gives must be the stable sort of the coordinates read
    # just before and unchanged just after (probes keep moving them).
    def consistent():
        before = coords()
        got = [n["Node"] for n in srv.http.get("/v1/catalog/nodes?near=c1").json()]
        if coords() != before or set(got) != names:
            return False
        want = sorted(sorted(names), key=lambda n: distance(before["c1"], before[n]))
        assert got == want, (got, want, before)
        return True
    wait_for(consistent, 20, "a ?near= read between two coordinate updates")
