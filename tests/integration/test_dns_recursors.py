"""Names outside the domain go to the recursors: a test upstream on loopback
started by each test, over UDP and TCP, with failover and the all-fail case."""
import time

import dns.flags
import pytest

from dns_helpers import Upstream, ask, closed_port, rcode, texts
from harness import SLOW, wait_for


@pytest.fixture
def upstreams():
    started = []

    def make(mode="answer", **kw):
        u = Upstream(mode, **kw)
        started.append(u)
        return u

    yield make
    for u in started:
        u.stop()


def agent_with(make_agent, recursors, timeout="300ms", strategy=None):
    a = make_agent(name="web-01")
    cfg = "recursors:\n" + "".join(f'  - "{r}"\n' for r in recursors)
    cfg += f"dns_config:\n  recursor_timeout: {timeout}\n"
    if strategy:
        cfg += f"  recursor_strategy: {strategy}\n"
    a.write_config("dns.yaml", cfg)
    return a.start()


def test_forwarded_over_udp_and_tcp(make_agent, upstreams):
    up = upstreams("answer")
    a = agent_with(make_agent, [up.addr])
    r = ask(a, "www.example.com", "A")
    assert rcode(r) == "NOERROR"
    assert texts(r.answer) == ["192.0.2.1"]
    assert r.flags & dns.flags.RA
    r = ask(a, "www.example.com", "A", tcp=True)
    assert texts(r.answer) == ["192.0.2.1"]
    assert ("www.example.com.", "udp") in up.queries and ("www.example.com.", "tcp") in up.queries
    # In-domain answers now say recursion is available too.
    a.http.put("/v1/agent/service/register", {"Name": "web", "Port": 80})
    assert ask(a, "web.service.consul").flags & dns.flags.RA
    # Unknown reverse names are forwarded as well.
    ask(a, "9.9.9.10.in-addr.arpa", "PTR")
    assert ("9.9.9.10.in-addr.arpa.", "udp") in up.queries


def test_failover_in_order_and_nxdomain_is_final(make_agent, upstreams):
    bad = upstreams("servfail")
    refusing = upstreams("refused")
    good = upstreams("answer", address="192.0.2.7")
    a = agent_with(make_agent, [bad.addr, f"127.0.0.1:{closed_port()}", refusing.addr, good.addr])
    r = ask(a, "failover.example", "A")
    assert texts(r.answer) == ["192.0.2.7"]
    assert bad.queries and refusing.queries and good.queries

    nx = upstreams("nxdomain")
    never = upstreams("answer")
    b = make_agent(name="other")
    b.write_config("dns.yaml", f'recursors: ["{nx.addr}", "{never.addr}"]\n')
    b.start()
    r = ask(b, "missing.example", "A")
    assert rcode(r) == "NXDOMAIN"
    assert never.queries == []  # NXDOMAIN is an answer: not retried elsewhere


def test_all_recursors_failing_is_servfail_and_logged(make_agent, upstreams):
    silent = upstreams("drop")
    broken = upstreams("servfail")
    a = agent_with(make_agent, [silent.addr, f"127.0.0.1:{closed_port()}", broken.addr],
                   timeout="200ms")
    t0 = time.monotonic()
    r = ask(a, "nobody.example", "A", timeout=5)
    assert rcode(r) == "SERVFAIL"
    assert r.flags & dns.flags.RA
    assert time.monotonic() - t0 < 3 * SLOW  # each upstream gets recursor_timeout, no more
    wait_for(lambda: "dns: all resolvers failed for question from client" in a.daemon.output(),
             5, "the all-resolvers-failed log line")
    out = a.daemon.output()
    assert 'question="nobody.example. IN A"' in out and "client=127.0.0.1:" in out
    assert "dns: recurse failed" in out

    r = ask(a, "nobody.example", "A", tcp=True, timeout=5)
    assert rcode(r) == "SERVFAIL"
    assert "client_network=tcp" in a.daemon.output()

    m = a.http.get("/v1/agent/metrics").json()
    counters = {c["Name"]: c["Count"] for c in m["Counters"] if not c.get("Labels")}
    assert counters["consul.dns.recursor_all_failed"] >= 2
    assert counters["consul.dns.recursor_failures"] >= 6


def test_random_strategy_still_finds_the_good_one(make_agent, upstreams):
    bad = upstreams("servfail")
    good = upstreams("answer")
    a = agent_with(make_agent, [bad.addr, good.addr], strategy="random")
    for _ in range(5):
        assert texts(ask(a, "r.example", "A").answer) == ["192.0.2.1"]


def test_invalid_recursor_stops_the_agent(make_agent):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", 'recursors: ["not an address"]\n')
    a.start(wait=False)
    wait_for(lambda: not a.daemon.alive(), 10, "the agent to refuse the config")
    assert "invalid recursor address" in a.daemon.output()
