"""Regular expressions from clients and from gossip never stall an agent (issue 12, defect 0).

Every entry point gets the pattern of the issue, `^([0-9a-f]|[0-9a-f])*z`, against a subject
of 32 or more hex characters: a backtracking engine (libstdc++'s, which cairn used before RE2)
tries 2^32 ways before failing, so the agent's only loop stopped answering anything. With RE2
each match is linear; the test asserts that every request answers, and that the agent keeps
answering HTTP and DNS, within a few seconds.
"""
import socket
import struct
import time
from urllib.parse import quote, urlencode

import dns.rcode

from harness import SLOW, Http, dns_query, free_port, prometheus_value, wait_for

HEX_NODE = "0123456789abcdef0123456789abcdef"  # a node name such as a machine ID
NODE_ID = "01234567-89ab-4cde-8f01-23456789abcd"
EVIL = "^([0-9a-f]|[0-9a-f])*z"
EVIL_ID = "^([0-9a-f-]|[0-9a-f-])*z"  # the same against the 36-character node ID tag
BOUND = 5  # seconds an answer may take (scaled by SLOW); the old code took hours


def quick(agent):
    """An HTTP client for the agent that gives up after BOUND seconds."""
    return Http("127.0.0.1", agent.port, timeout=BOUND)


def assert_answering(agent, what):
    """The agent answers HTTP and DNS promptly."""
    t0 = time.monotonic()
    r = quick(agent).get("/v1/agent/self")
    assert r.status == 200, f"HTTP after {what}: {r}"
    a = dns_query(agent.dns_port, "web.service.consul", "A", timeout=BOUND)
    assert dns.rcode.to_text(a.rcode()) == "NOERROR", f"DNS after {what}: {a}"
    assert time.monotonic() - t0 < 2 * BOUND * SLOW


def register_hex_service(agent):
    """A service whose ID and tag are long hex strings: subjects for the service and tag filters."""
    r = agent.http.put("/v1/agent/service/register",
                       {"ID": HEX_NODE, "Name": "web", "Tags": [HEX_NODE], "Port": 80})
    assert r.status == 200, r


def event_names(agent):
    return [e["Name"] for e in quick(agent).get("/v1/event/list").json()]


def test_event_fire_with_pathological_filters(make_agent):
    agent = make_agent(name=HEX_NODE, extra_args=["-node-id", NODE_ID]).start()
    register_hex_service(agent)
    http = quick(agent)
    for name, params in [("by-node", {"node": EVIL}),
                         ("by-service", {"service": EVIL}),
                         ("by-tag", {"service": ".", "tag": EVIL})]:
        t0 = time.monotonic()
        r = http.put(f"/v1/event/fire/{name}?{urlencode(params)}", "x")
        assert r.status == 200, r
        assert time.monotonic() - t0 < BOUND * SLOW, f"fire {name} took too long"
        assert_answering(agent, f"fire {name}")
    # None matched this agent, so none was delivered here; a matching one is.
    match = {"node": "^[0-9a-f]{32}$", "service": "^[0-9a-f]+$", "tag": "(?i)^[A-F0-9]+$"}
    r = http.put(f"/v1/event/fire/match?{urlencode(match)}", "x")
    assert r.status == 200, r
    wait_for(lambda: "match" in event_names(agent), 5, "the matching event to be recorded")
    assert not {"by-node", "by-service", "by-tag"} & set(event_names(agent))


def test_event_fire_refuses_invalid_filters_as_consul(agent):
    r = agent.http.put("/v1/event/fire/bad?node=" + quote("("), "x")
    assert r.status == 500
    assert r.text == "Invalid node filter: error parsing regexp: missing closing ): `(`"
    r = agent.http.put("/v1/event/fire/bad?service=" + quote("a**"), "x")
    assert r.status == 500
    assert r.text == "Invalid service filter: error parsing regexp: invalid nested repetition operator: `**`"
    r = agent.http.put("/v1/event/fire/bad?" + urlencode({"service": ".", "tag": "(?=x)"}), "x")
    assert r.status == 500
    assert r.text == "Invalid tag filter: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"
    r = agent.http.put("/v1/event/fire/bad?node=" + quote(".{1000}"), "x")
    assert r.status == 500 and "expression too large" in r.text
    assert all(e["Name"] != "bad" for e in agent.http.get("/v1/event/list").json())
    m = agent.http.get("/v1/agent/metrics?format=prometheus").text
    assert prometheus_value(m, "cairn_regex_refused", reason="syntax") >= 3
    assert prometheus_value(m, "cairn_regex_refused", reason="too_large") >= 1


def members(agent):
    return {m["Name"] for m in quick(agent).get("/v1/agent/members").json()}


def test_gossiped_event_with_pathological_filter(make_agent):
    """The event is fired on an agent it cannot hurt and reaches, by gossip, one it could."""
    sender = make_agent(name="sender").start()
    target = make_agent(name=HEX_NODE, dev=False, extra_args=["-bind", "127.0.0.2"]).start()
    register_hex_service(target)
    assert target.http.put(f"/v1/agent/join/127.0.0.1:{sender.serf_port}").status == 200
    wait_for(lambda: members(sender) == {"sender", HEX_NODE}, 20, "the two agents to join")
    # A client's DNS answers from the catalog its server streams: wait for its own service.
    wait_for(lambda: dns.rcode.to_text(dns_query(target.dns_port, "web.service.consul", "A",
                                                 timeout=BOUND).rcode()) == "NOERROR",
             10, "the target's service in its DNS")
    r = quick(sender).put("/v1/event/fire/evil?node=" + quote(EVIL), "x")
    assert r.status == 200, r
    r = quick(sender).put("/v1/event/fire/evil-svc?service=" + quote(EVIL), "x")
    assert r.status == 200, r
    # A later event that does match arrives: the target handled the two before it.
    r = quick(sender).put("/v1/event/fire/after?node=" + quote("^[0-9a-f]{32}$"), "x")
    assert r.status == 200, r
    wait_for(lambda: "after" in event_names(target), 10, "the matching event to reach the target")
    assert not {"evil", "evil-svc"} & set(event_names(target))
    assert_answering(target, "the gossiped events")
    assert members(target) == {"sender", HEX_NODE}


# A Serf query, as any gossip member may send one: memberlist user message (8), Serf query (4),
# msgpack body. Encoded here by hand (no msgpack module in the test environment).

def mp(v) -> bytes:
    if v is None:
        return b"\xc0"
    if isinstance(v, bool):
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, int):
        if v < 128:
            return bytes([v])
        for code, fmt in ((0xcc, ">B"), (0xcd, ">H"), (0xce, ">I"), (0xcf, ">Q")):
            if v < 1 << (8 * struct.calcsize(fmt)):
                return bytes([code]) + struct.pack(fmt, v)
    if isinstance(v, str):
        b = v.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else bytes([0xd9, len(b)])) + b
    if isinstance(v, bytes):
        return bytes([0xc4, len(v)]) + v
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)


def serf_query(ltime, qid, reply_port, tag, expr) -> bytes:
    tag_filter = b"\x01" + mp({"Tag": tag, "Expr": expr})
    body = {"LTime": ltime, "ID": qid, "Addr": socket.inet_aton("127.0.0.1"), "Port": reply_port,
            "SourceNode": "prober", "Filters": [tag_filter], "Flags": 1 | 2, "RelayFactor": 0,
            "Timeout": 5_000_000_000, "Name": "probe", "Payload": b""}
    return b"\x08\x04" + mp(body)


def test_serf_query_with_pathological_tag_filter(make_agent):
    target = make_agent(name=HEX_NODE, extra_args=["-node-id", NODE_ID]).start()
    register_hex_service(target)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.5)
        port = s.getsockname()[1]
        # The node ID tag against the pattern: no match, so no ack; then one that matches.
        s.sendto(serf_query(10, 1001, port, "id", EVIL_ID), ("127.0.0.1", target.serf_port))
        s.sendto(serf_query(11, 1002, port, "id", "^[0-9a-f-]{36}$"),
                 ("127.0.0.1", target.serf_port))

        def acked():
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                return False
            return data[:2] == b"\x08\x05" and mp("ID") + mp(1002) in data
        wait_for(acked, 10, "the ack of the matching query")
    assert_answering(target, "the Serf queries")


def test_prepared_query_template_with_pathological_regexp(agent):
    register_hex_service(agent)
    r = agent.http.request("POST", "/v1/query", {
        "Name": "geo-", "Template": {"Type": "name_prefix_match", "Regexp": "^geo-" + EVIL[1:],
                                     "RemoveEmptyTags": True},
        "Service": {"Service": "web", "Tags": ["${match(1)}"]}})
    assert r.status == 200, r
    name = "geo-" + HEX_NODE + HEX_NODE[:20]  # 52 hex characters after the prefix
    t0 = time.monotonic()
    a = dns_query(agent.dns_port, f"{name}.query.consul", "A", timeout=BOUND)
    assert dns.rcode.to_text(a.rcode()) == "NOERROR" and a.answer, a
    r = quick(agent).get(f"/v1/query/{name}/execute")
    assert r.status == 200 and [n["Service"]["ID"] for n in r.json()["Nodes"]] == [HEX_NODE], r
    r = quick(agent).get(f"/v1/query/{name}/explain")
    assert r.status == 200 and r.json()["Query"]["Service"]["Tags"] == [], r  # no match
    assert time.monotonic() - t0 < 3 * BOUND * SLOW
    assert_answering(agent, "the template lookups")


def test_prepared_query_regexp_is_go_syntax(agent):
    register_hex_service(agent)
    r = agent.http.request("POST", "/v1/query", {
        "Name": "bad-", "Template": {"Type": "name_prefix_match", "Regexp": "^bad-(?=x)"},
        "Service": {"Service": "web"}})
    assert r.status == 500
    assert r.text == ("Invalid prepared query: Bad Regexp: error parsing regexp: "
                      "invalid or unsupported Perl syntax: `(?=`")
    # Go's classes and named groups (both spellings) work in templates.
    r = agent.http.request("POST", "/v1/query", {
        "Name": "v-", "Template": {"Type": "name_prefix_match",
                                   "Regexp": r"(?i)^v-(?P<major>\d+)-(?<zone>\pL+)$"},
        "Service": {"Service": "web", "Tags": ["${match(1)}", "${match(2)}"]}})
    assert r.status == 200, r
    r = agent.http.get("/v1/query/V-12-East/explain")
    assert r.status == 200 and r.json()["Query"]["Service"]["Tags"] == ["12", "East"], r


def test_filter_matches_with_pathological_pattern(agent):
    register_hex_service(agent)
    t0 = time.monotonic()
    for path in ("/v1/agent/services", "/v1/catalog/service/web", "/v1/health/service/web"):
        field = "ID" if path == "/v1/agent/services" else ("ServiceID" if "catalog" in path
                                                          else "Service.ID")
        r = quick(agent).get(f"{path}?" + urlencode({"filter": f'{field} matches "{EVIL}"'}))
        assert r.status == 200 and len(r.json()) == 0, (path, r)
        r = quick(agent).get(f"{path}?" + urlencode({"filter": f'{field} not matches "{EVIL}"'}))
        assert r.status == 200 and len(r.json()) == 1, (path, r)
    assert time.monotonic() - t0 < 2 * BOUND * SLOW
    r = agent.http.get("/v1/agent/services?" + urlencode({"filter": 'ID matches "("'}))
    assert r.status == 400
    assert r.text == ('Failed to create boolean expression evaluator: Failed to compile regular '
                      'expression "(": error parsing regexp: missing closing ): `(`')
    assert_answering(agent, "the filters")
