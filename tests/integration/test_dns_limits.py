"""The agent's DNS limits are dns_config keys (cairn's own) and each limit
that fires is a counter in /v1/agent/metrics, in JSON and Prometheus form."""
import socket

import dns.message
import dns.query
import dns.rcode
import pytest

from dns_helpers import Upstream, ask, rcode
from harness import SLOW, wait_for


def counter(agent, name):
    m = agent.http.get("/v1/agent/metrics").json()
    return sum(c["Count"] for c in m["Counters"] if c["Name"] == name)


def prometheus_value(agent, name):
    text = agent.http.get("/v1/agent/metrics?format=prometheus").text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} missing from the Prometheus metrics")


def peer_closed(sock):
    """True once the agent closed the connection (EOF or reset)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except (BlockingIOError, socket.timeout):
        return False


@pytest.fixture
def silent_upstream():
    u = Upstream("drop")
    yield u
    u.stop()


def test_tcp_connection_cap_and_idle_timeout_are_config_and_counted(make_agent):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", "dns_config:\n  tcp_max_connections: 2\n"
                   "  tcp_idle_timeout: 300ms\n")
    a.start()
    held = [socket.create_connection(("127.0.0.1", a.dns_port), timeout=2 * SLOW) for _ in range(2)]
    try:
        # Both held connections are accepted: a query on each is answered.
        for s in held:
            q = dns.message.make_query("web-01.node.consul", "A")
            r = dns.query.send_tcp(s, q, expiration=None) and dns.query.receive_tcp(s)[0]
            assert r.rcode() == dns.rcode.NOERROR
        third = socket.create_connection(("127.0.0.1", a.dns_port), timeout=2 * SLOW)
        third.setblocking(False)
        wait_for(lambda: peer_closed(third), timeout=5, what="the agent to close the third connection")
        third.close()
        assert counter(a, "consul.dns.tcp_rejected") == 1
        assert prometheus_value(a, "consul_dns_tcp_rejected") == 1
        # The held ones go idle and are closed after tcp_idle_timeout.
        for s in held:
            s.setblocking(False)
        wait_for(lambda: all(peer_closed(s) for s in held), timeout=5,
                 what="idle connections to be closed")
        assert counter(a, "consul.dns.tcp_idle_closed") == 2
        assert prometheus_value(a, "consul_dns_tcp_idle_closed") == 2
    finally:
        for s in held:
            s.close()
    # Under the cap again: TCP answers.
    assert rcode(ask(a, "web-01.node.consul", tcp=True)) == "NOERROR"


def test_recursor_in_flight_cap_is_config_and_counted(make_agent, silent_upstream):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", f'recursors: ["{silent_upstream.addr}"]\n'
                   "dns_config:\n  recursor_timeout: 5s\n  recursor_max_in_flight: 1\n")
    a.start()
    # The first query waits on an upstream that never answers...
    first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        first.sendto(dns.message.make_query("one.example.", "A").to_wire(),
                     ("127.0.0.1", a.dns_port))
        wait_for(lambda: len(silent_upstream.queries) >= 1, timeout=5,
                 what="the first query to reach the upstream")
        # ...so the second is over the cap: SERVFAIL at once, counted.
        r = ask(a, "two.example.", "A", timeout=1.0)
        assert rcode(r) == "SERVFAIL"
        assert counter(a, "consul.dns.recursion_overload") == 1
        assert prometheus_value(a, "consul_dns_recursion_overload") == 1
        assert len(silent_upstream.queries) == 1
    finally:
        first.close()


def test_tcp_queries_in_flight_per_connection_pause_reading(make_agent, silent_upstream):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", f'recursors: ["{silent_upstream.addr}"]\n'
                   "dns_config:\n  recursor_timeout: 5s\n  tcp_max_in_flight: 1\n")
    a.start()
    with socket.create_connection(("127.0.0.1", a.dns_port), timeout=2 * SLOW) as s:
        # Two queries on one connection: the first waits on the silent
        # upstream, so the agent stops reading after it.
        for name in ("one.example.", "two.example."):
            dns.query.send_tcp(s, dns.message.make_query(name, "A"), expiration=None)
        wait_for(lambda: counter(a, "consul.dns.tcp_reads_paused") == 1, timeout=5,
                 what="the connection to pause at tcp_max_in_flight")
        assert prometheus_value(a, "consul_dns_tcp_reads_paused") == 1
        # Local names on other connections are still answered meanwhile.
        assert rcode(ask(a, "web-01.node.consul", tcp=True)) == "NOERROR"


def test_invalid_dns_limit_stops_the_agent(make_agent):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", "dns_config:\n  tcp_max_connections: 0\n")
    with pytest.raises(Exception):
        a.start()
    assert "tcp_max_connections" in a.daemon.output()
