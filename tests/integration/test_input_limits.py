"""Bounds on keys, identifiers and lists (issue 12, defect 3): oversized input gets a clear 400,
is counted, loses nothing, and the agent keeps answering."""
import base64
import threading
import time

import pytest

from harness import Http, prometheus_value, wait_for

KV_KEY_MAX = 8 * 1024
IDENTIFIER_MAX = 1024


@pytest.fixture
def limits_agent(make_agent):
    a = make_agent()
    a.write_config("limits.yaml", "limits:\n  http_max_conns_per_client: 1000\n")
    return a.start()


def rejections(agent, limit):
    text = agent.http.get("/v1/agent/metrics?format=prometheus").text
    return prometheus_value(text, "consul_http_limit_rejections", limit=limit)


def assert_responsive(agent, budget=2.0):
    """The loop is free: a cheap read answers quickly."""
    start = time.monotonic()
    r = agent.http.get("/v1/agent/self", timeout=budget)
    assert r.status == 200, r
    assert time.monotonic() - start < budget


def assert_400(r, *needles):
    assert r.status == 400, r
    for n in needles:
        assert n in r.text, r.text


def test_long_kv_keys_are_refused_on_every_kv_verb(limits_agent):
    a = limits_agent
    long_key = "deep/" + "k" * (60 * 1024)
    # Before the bound, this write took seconds of the loop and about 2 GB.
    r = a.http.request("PUT", f"/v1/kv/{long_key}", body="v", timeout=5)
    assert_400(r, "Invalid key", f"max size: {KV_KEY_MAX} bytes")
    assert_400(a.http.get(f"/v1/kv/{long_key}", timeout=5), "Invalid key")
    assert_400(a.http.get(f"/v1/kv/{long_key}?recurse", timeout=5), "Invalid key")
    assert_400(a.http.request("DELETE", f"/v1/kv/{long_key}", timeout=5), "Invalid key")
    assert a.http.get("/v1/kv/?recurse").status == 404  # nothing was stored
    assert rejections(a, "kv_key_bytes") == 4
    assert_responsive(a)

    # A key at the limit works, including a blocking query on it and on a prefix of it.
    at_limit = "edge/" + "e" * (KV_KEY_MAX - 5)
    assert a.http.request("PUT", f"/v1/kv/{at_limit}", body="1").text == "true"
    pair = a.http.get(f"/v1/kv/{at_limit}").json()[0]
    assert pair["Key"] == at_limit and base64.b64decode(pair["Value"]) == b"1"
    assert a.http.request("PUT", f"/v1/kv/{at_limit}x", body="1").status == 400

    # Lock acquire with an oversized session ID.
    r = a.http.request("PUT", f"/v1/kv/lock?acquire={'s' * (IDENTIFIER_MAX + 1)}", body="x")
    assert_400(r, "Session:", f"max size: {IDENTIFIER_MAX} bytes")
    assert a.http.get("/v1/kv/lock").status == 404


def test_blocking_prefix_queries_still_wake_for_long_keys(limits_agent):
    a = limits_agent
    key = "wake/" + "w" * (KV_KEY_MAX - 5)
    idx = a.http.get("/v1/kv/wake/?recurse").headers["x-consul-index"]
    result = {}

    def block(name, path):
        result[name] = Http("127.0.0.1", a.port).get(f"{path}&index={idx}&wait=10s", timeout=15)

    def watches():
        text = a.http.get("/v1/agent/metrics?format=prometheus").text
        return prometheus_value(text, "consul_catalog_watches")
    waiters = [threading.Thread(target=block, args=("prefix", "/v1/kv/wake/w?recurse")),
               threading.Thread(target=block, args=("keys", "/v1/kv/?keys")),
               threading.Thread(target=block, args=("exact", f"/v1/kv/{key}?stale"))]
    for t in waiters:
        t.start()
    wait_for(lambda: watches() >= 3, 5, "the three blocking queries to wait")
    start = time.monotonic()
    assert a.http.request("PUT", f"/v1/kv/{key}", body="1").text == "true"
    for t in waiters:
        t.join(15)
    assert time.monotonic() - start < 5, "blocking queries did not wake on the write"
    assert result["prefix"].status == 200 and result["prefix"].json()[0]["Key"] == key
    # The agent's KV was never written before: the root ?keys read (index 0) used
    # to be cached and never woke.
    assert result["keys"].json() == [key]
    assert result["exact"].status == 200


def test_txn_with_a_huge_key_is_refused_not_fatal(limits_agent):
    a = limits_agent
    b64 = base64.b64encode(b"v").decode()
    ops = [{"KV": {"Verb": "set", "Key": "ok", "Value": b64}},
           {"KV": {"Verb": "set", "Key": "t/" + "x" * (100 * 1024), "Value": b64}}]
    # Before the bound, this one request aborted the agent.
    r = a.http.put("/v1/txn", ops, timeout=10)
    assert_400(r, "Operation 1", "Invalid key", f"max size: {KV_KEY_MAX} bytes")
    assert a.daemon.alive()
    assert a.http.get("/v1/kv/ok").status == 404  # all or nothing
    r = a.http.put("/v1/txn", [{"KV": {"Verb": "lock", "Key": "l", "Value": b64,
                                       "Session": "s" * (IDENTIFIER_MAX + 1)}}])
    assert_400(r, "Operation 0", "Session:")
    assert rejections(a, "kv_key_bytes") == 1
    assert rejections(a, "identifier_bytes") == 1
    assert_responsive(a)


def test_agent_service_registration_bounds(limits_agent):
    a = limits_agent
    cases = [
        ({"Name": "web", "Tags": [f"t{i}" for i in range(100_000)]}, "Tags: 100000 tags are too many"),
        ({"Name": "web", "Tags": ["x" * (8 * 1024 + 1)]}, "Tags: a tag"),
        ({"Name": "web", "ID": "i" * (3 * 1024 * 1024)}, "ID: 3145728 bytes is too long"),
        ({"Name": "n" * (IDENTIFIER_MAX + 1)}, "Name: 1025 bytes is too long"),
        ({"Name": "web", "Checks": [{"TTL": "10s"}] * 10_000},
         "Checks: 10000 checks in one registration are too many"),
        ({"Name": "web", "Checks": [{"TTL": "10s", "CheckID": "c" * (IDENTIFIER_MAX + 1)}]},
         "Checks[0].CheckID"),
        ({"Name": "web", "Meta": {f"k{i}": "v" for i in range(65)}}, "Meta: at most 64 pairs"),
        ({"Name": "web", "Meta": {"k": "v" * 513}}, "longer than 512 characters"),
    ]
    for body, needle in cases:
        r = a.http.put("/v1/agent/service/register", body, timeout=10)
        assert_400(r, needle)
    assert a.http.get("/v1/agent/services").json() == {}
    assert a.http.get("/v1/agent/checks").json() == {}
    r = a.http.put("/v1/agent/check/register", {"Name": "c", "ID": "c" * (IDENTIFIER_MAX + 1),
                                                "TTL": "10s"})
    assert_400(r, "CheckID: 1025 bytes is too long")
    assert rejections(a, "tags") == 1 and rejections(a, "checks") == 1
    # Within the limits, a large but sane registration is accepted.
    ok = {"Name": "web", "Tags": [f"t{i}" for i in range(1024)],
          "Meta": {f"k{i}": "v" * 512 for i in range(64)}, "Checks": [{"TTL": "10s"}] * 256}
    assert a.http.put("/v1/agent/service/register", ok, timeout=10).status == 200
    assert len(a.http.get("/v1/agent/checks").json()) == 256
    assert_responsive(a)


def test_catalog_register_bounds(limits_agent):
    a = limits_agent
    base = {"Node": "ext", "Address": "10.0.0.9"}
    cases = [
        ({**base, "Node": "n" * (IDENTIFIER_MAX + 1)}, "Node: 1025 bytes is too long"),
        ({**base, "NodeMeta": {f"k{i}": "v" for i in range(65)}}, "NodeMeta: at most 64 pairs"),
        ({**base, "NodeMeta": {"k": "v" * 513}}, "NodeMeta: value of \"k\""),
        ({**base, "Service": {"Service": "s", "Tags": ["t"] * 100_000}}, "Service.Tags"),
        ({**base, "Service": {"Service": "s", "Meta": {f"k{i}": "v" for i in range(65)}}},
         "Service.Meta: at most 64 pairs"),
        ({**base, "Service": {"Service": "s", "ID": "i" * (3 * 1024 * 1024)}}, "Service.ID"),
        ({**base, "Checks": [{"CheckID": f"c{i}", "Name": "c"} for i in range(10_000)]},
         "Checks: 10000 checks"),
        ({**base, "Check": {"CheckID": "c" * (IDENTIFIER_MAX + 1), "Name": "c"}},
         "Checks[0].CheckID"),
    ]
    for body, needle in cases:
        assert_400(a.http.put("/v1/catalog/register", body, timeout=10), needle)
    assert a.http.get("/v1/catalog/node/ext").json() is None
    assert_responsive(a)


def test_session_bounds(limits_agent):
    a = limits_agent
    r = a.http.put("/v1/session/create", {"Name": "n" * (IDENTIFIER_MAX + 1)})
    assert_400(r, "Name: 1025 bytes is too long")
    r = a.http.put("/v1/session/create", {"NodeChecks": [f"c{i}" for i in range(10_000)]})
    assert_400(r, "Checks: 10000 checks are too many for one session")
    assert a.http.get("/v1/session/list").json() == []
    assert_responsive(a)
