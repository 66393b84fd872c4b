"""dns_config.udp_loops: extra loops on the DNS port (SO_REUSEPORT), each with
its own replica of the catalog, must answer exactly as the agent's own loop.
Every query goes out from a fresh socket (a new source port), so the kernel
spreads them over all the loops: 24 queries all landing on one of 3 loops has
a chance of 3^-23."""
import signal

from dns_helpers import ask, records, texts
from harness import prometheus_value, wait_for

LOOPS = 3
QUERIES = 24


def answers(agent, name, rdtype="A"):
    return [ask(agent, name, rdtype) for _ in range(QUERIES)]


def all_answer(agent, name, want, rdtype="A"):
    return all(sorted(texts(r.answer)) == want for r in answers(agent, name, rdtype))


def test_every_loop_answers_from_a_replica_kept_current(make_agent):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", f"dns_config:\n  udp_loops: {LOOPS}\n  service_ttl:\n    '*': 5s\n")
    a.write_config("svc.yaml", "services:\n  - name: boot\n    port: 1\n")
    a.start()
    assert "extra UDP loops answering" in a.daemon.output()
    # Seeded: what the agent had when the loops started.
    assert all_answer(a, "boot.service.consul", ["127.0.0.1"])

    # Replicated: a registration after start reaches every loop.
    a.http.put("/v1/agent/service/register", {
        "Name": "api", "Port": 8080, "Check": {"CheckID": "api-ttl", "TTL": "60s", "Status": "passing"}})
    wait_for(lambda: all_answer(a, "api.service.consul", ["1 1 8080 web-01.node.dc1.consul."], "SRV"),
             10, "every loop to answer for the new service")
    # Health: critical leaves every loop's answers at once.
    assert a.http.put("/v1/agent/check/fail/api-ttl").status == 200
    wait_for(lambda: all(not r.answer for r in answers(a, "api.service.consul")), 10,
             "every loop to drop the critical instance")
    assert a.http.put("/v1/agent/check/pass/api-ttl").status == 200
    # A catalog node registered through the API, and a deregistration.
    a.http.put("/v1/catalog/register", {"Node": "db-1", "Address": "10.1.2.3"})
    wait_for(lambda: all_answer(a, "db-1.node.consul", ["10.1.2.3"]), 10, "the node on every loop")
    a.http.put("/v1/catalog/deregister", {"Node": "db-1"})
    wait_for(lambda: all(not r.answer for r in answers(a, "db-1.node.consul")), 10,
             "the deregistration on every loop")

    # Reload: new TTLs reach every loop.
    assert {records(r.answer)[0][1] for r in answers(a, "boot.service.consul")} == {5}
    a.write_config("dns.yaml", f"dns_config:\n  udp_loops: {LOOPS}\n  service_ttl:\n    '*': 42s\n")
    a.daemon.signal(signal.SIGHUP)
    wait_for(lambda: {records(r.answer)[0][1] for r in answers(a, "boot.service.consul")} == {42}, 10,
             "the new TTL on every loop")

    # Metrics add up every loop's counters (published once a second).
    before = prometheus_value(a.http.get("/v1/agent/metrics?format=prometheus").text,
                              "consul_dns_queries", type="A")
    answers(a, "boot.service.consul")
    wait_for(lambda: prometheus_value(a.http.get("/v1/agent/metrics?format=prometheus").text,
                                      "consul_dns_queries", type="A") >= before + QUERIES,
             5, "the DNS counters of every loop in /v1/agent/metrics")

    # TCP stays on the agent's loop and still answers; SIGTERM stops every loop.
    assert texts(ask(a, "boot.service.consul", tcp=True).answer) == ["127.0.0.1"]
    a.daemon.signal(signal.SIGTERM)
    assert a.daemon.proc.wait(timeout=10) == 0


def test_udp_loops_out_of_range_is_a_clear_error(make_agent):
    a = make_agent(name="bad")
    a.write_config("dns.yaml", "dns_config:\n  udp_loops: 0\n")
    a.start(wait=False)
    assert a.daemon.proc.wait(timeout=10) == 1
    assert "udp_loops" in a.daemon.output()
