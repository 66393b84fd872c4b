"""The DNS interface of a real `cairn agent -dev`, with real packets (dnspython)."""
import signal
import struct
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from dns_helpers import ask, raw_udp, rcode, records, texts
from harness import SLOW, wait_for

DNS_CONFIG = """
dns_config:
  node_ttl: 30s
  service_ttl:
    "*": 5s
    "db": 10s
"""


def register_node(agent, node, address, services=(), meta=None, checks=()):
    """Catalog registration of another node, with (name, id, port, address, tags) services."""
    for svc in services or [None]:
        body = {"Node": node, "Address": address, "NodeMeta": meta or {}}
        if svc:
            name, sid, port, saddr, tags = svc
            body["Service"] = {"Service": name, "ID": sid, "Port": port, "Address": saddr,
                               "Tags": list(tags)}
        r = agent.http.put("/v1/catalog/register", body)
        assert r.status == 200, r
    for check in checks:
        r = agent.http.put("/v1/catalog/register",
                           {"Node": node, "Address": address, "SkipNodeUpdate": True,
                            "Check": check})
        assert r.status == 200, r


@pytest.fixture
def catalog(make_agent):
    """An agent with a small catalog: web on two nodes (one with a service address), db on IPv6."""
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", DNS_CONFIG)
    a.start()
    r = a.http.put("/v1/agent/service/register", {"Name": "web", "ID": "web1", "Port": 8080,
                                                  "Tags": ["v1", "Primary"]})
    assert r.status == 200
    register_node(a, "web-02", "10.0.0.6", [("web", "web2", 8081, "10.0.0.7", ["v2"])],
                  meta={"rack": "r2"})
    register_node(a, "db-01", "2001:db8::1", [("db", "db1", 5432, "", [])])
    return a


def test_service_a_and_srv(catalog):
    r = ask(catalog, "web.service.consul", "A")
    assert rcode(r) == "NOERROR"
    assert r.flags & dns.flags.AA and r.flags & dns.flags.QR
    assert not r.flags & dns.flags.RA  # no recursors configured
    assert texts(r.answer) == ["10.0.0.7", "127.0.0.1"]
    assert {ttl for _, ttl, _, _ in records(r.answer)} == {5}

    r = ask(catalog, "web.service.consul", "SRV")
    assert texts(r.answer) == ["1 1 8080 web-01.node.dc1.consul.",
                               "1 1 8081 0a000007.addr.dc1.consul."]
    extra = records(r.additional)
    assert ("0a000007.addr.dc1.consul.", 5, "A", "10.0.0.7") in extra
    assert ("web-01.node.dc1.consul.", 5, "A", "127.0.0.1") in extra
    assert r.authority == []


def test_rfc2782_tags_and_case(catalog):
    r = ask(catalog, "_web._tcp.service.consul", "SRV")
    assert len(r.answer[0]) == 2
    r = ask(catalog, "_web._v2.service.consul", "SRV")
    assert texts(r.answer) == ["1 1 8081 0a000007.addr.dc1.consul."]
    r = ask(catalog, "_web._tcp.consul", "SRV")  # .service is optional for SRV
    assert len(r.answer[0]) == 2
    r = ask(catalog, "PRIMARY.Web.Service.CONSUL", "A")
    assert texts(r.answer) == ["127.0.0.1"]
    assert r.answer[0].name.to_text() == "PRIMARY.Web.Service.CONSUL."  # case as asked
    r = ask(catalog, "v1.web.service.dc1.consul", "A")
    assert texts(r.answer) == ["127.0.0.1"]


def test_nxdomain_and_nodata_carry_the_soa(catalog):
    for name in ("nope.service.consul", "web.service.dc2.consul", "what.consul", "x.node.consul"):
        r = ask(catalog, name, "A")
        assert rcode(r) == "NXDOMAIN", name
        soa = records(r.authority)
        assert len(soa) == 1 and soa[0][0] == "consul." and soa[0][2] == "SOA"
        assert soa[0][3].startswith("ns.consul. hostmaster.consul. ")
        assert soa[0][3].endswith(" 3600 600 86400 0")
    r = ask(catalog, "web.service.consul", "AAAA")  # instances, but none with IPv6
    assert rcode(r) == "NOERROR" and r.answer == []
    assert records(r.authority)[0][2] == "SOA"
    r = ask(catalog, "db.service.consul", "AAAA")
    assert records(r.answer) == [("db.service.consul.", 10, "AAAA", "2001:db8::1")]


def test_node_lookups(catalog):
    r = ask(catalog, "web-02.node.consul", "A")
    assert records(r.answer) == [("web-02.node.consul.", 30, "A", "10.0.0.6")]
    assert records(r.additional) == [("web-02.node.consul.", 30, "TXT", '"rack=r2"')]
    r = ask(catalog, "web-02.node.dc1.consul", "TXT")
    assert records(r.answer) == [("web-02.node.dc1.consul.", 30, "TXT", '"rack=r2"')]
    r = ask(catalog, "web-02.node.consul", "ANY")
    assert sorted(t for _, _, t, _ in records(r.answer)) == ["A", "TXT"]
    r = ask(catalog, "db-01.node.consul", "AAAA")
    assert texts(r.answer) == ["2001:db8::1"]
    r = ask(catalog, "db-01.node.consul", "A")
    assert rcode(r) == "NOERROR" and r.answer == []


def test_addr_ptr_soa_ns(catalog):
    r = ask(catalog, "0a000007.addr.dc1.consul", "A")
    assert records(r.answer) == [("0a000007.addr.dc1.consul.", 30, "A", "10.0.0.7")]
    r = ask(catalog, "20010db8000000000000000000000001.addr.consul", "AAAA")
    assert texts(r.answer) == ["2001:db8::1"]

    r = ask(catalog, "6.0.0.10.in-addr.arpa", "PTR")
    assert records(r.answer) == [("6.0.0.10.in-addr.arpa.", 0, "PTR", "web-02.node.dc1.consul.")]
    assert r.flags & dns.flags.AA
    r = ask(catalog, "7.0.0.10.in-addr.arpa", "PTR")
    assert texts(r.answer) == ["web.service.dc1.consul."]
    r = ask(catalog, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR")
    assert texts(r.answer) == ["db-01.node.dc1.consul."]

    r = ask(catalog, "consul", "SOA")
    (soa,) = records(r.answer)
    assert soa[0] == "consul." and soa[2] == "SOA"
    serial = int(soa[3].split()[2])
    assert abs(serial - time.time()) < 60
    assert texts(r.authority) == ["web-01.node.dc1.consul."]  # the dev server
    assert texts(r.additional) == ["127.0.0.1"]
    r = ask(catalog, "consul", "NS")
    assert records(r.answer) == [("consul.", 30, "NS", "web-01.node.dc1.consul.")]


def test_unknown_ptr_without_recursors_is_servfail_and_logged(catalog):
    r = ask(catalog, "9.9.9.10.in-addr.arpa", "PTR")
    assert rcode(r) == "SERVFAIL"
    wait_for(lambda: "dns: all resolvers failed for question from client" in catalog.daemon.output(),
             5, "the all-resolvers-failed log line")
    r = ask(catalog, "example.com", "A")  # not ours and nobody to ask
    assert rcode(r) == "REFUSED"


def test_health_filtering_follows_checks(make_agent):
    a = make_agent(name="web-01")
    a.start()
    for i in (1, 2):
        r = a.http.put("/v1/agent/service/register", {
            "Name": "api", "ID": f"api{i}", "Port": 9000 + i, "Address": f"10.9.0.{i}",
            "Weights": {"Passing": 10, "Warning": 2},
            "Check": {"CheckID": f"ttl{i}", "TTL": "60s", "Status": "passing"}})
        assert r.status == 200
    assert texts(ask(a, "api.service.consul").answer) == ["10.9.0.1", "10.9.0.2"]

    assert a.http.put("/v1/agent/check/warn/ttl2").status == 200
    assert texts(ask(a, "api.service.consul").answer) == ["10.9.0.1", "10.9.0.2"]
    srv = texts(ask(a, "api.service.consul", "SRV").answer)
    assert "2 9002 0a090002.addr.dc1.consul." in " ".join(srv)  # Warning weight
    assert "1 10 9001 0a090001.addr.dc1.consul." in srv

    assert a.http.put("/v1/agent/check/fail/ttl2").status == 200
    assert texts(ask(a, "api.service.consul").answer) == ["10.9.0.1"]

    assert a.http.put("/v1/agent/service/maintenance/api1?enable=true").status == 200
    r = ask(a, "api.service.consul")
    assert rcode(r) == "NXDOMAIN"

    assert a.http.put("/v1/agent/service/maintenance/api1?enable=false").status == 200
    assert a.http.put("/v1/agent/check/pass/ttl2").status == 200
    assert texts(ask(a, "api.service.consul").answer) == ["10.9.0.1", "10.9.0.2"]
    assert a.http.put("/v1/agent/maintenance?enable=true").status == 200  # the whole node
    assert rcode(ask(a, "api.service.consul")) == "NXDOMAIN"


def test_only_passing_drops_warning(make_agent):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", "dns_config:\n  only_passing: true\n")
    a.start()
    for i in (1, 2):
        a.http.put("/v1/agent/service/register", {
            "Name": "api", "ID": f"api{i}", "Port": 9000, "Address": f"10.9.0.{i}",
            "Check": {"CheckID": f"ttl{i}", "TTL": "60s", "Status": "passing"}})
    a.http.put("/v1/agent/check/warn/ttl1")
    assert texts(ask(a, "api.service.consul").answer) == ["10.9.0.2"]


def many_instances(agent, n=20):
    for i in range(n):
        register_node(agent, f"big-{i:02d}", f"10.2.0.{i + 1}", [("big", "big", 7000 + i, "", [])],
                      meta={"zone": f"z{i}"})


def test_truncation_over_udp_and_the_full_set_over_tcp(make_agent):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", "dns_config:\n  enable_truncate: true\n  udp_answer_limit: 3\n")
    a.start()
    many_instances(a, 20)

    firsts = set()
    for _ in range(20):
        r = ask(a, "big.service.consul", "A")  # no EDNS: udp_answer_limit
        assert len(r.answer[0]) == 3
        assert r.flags & dns.flags.TC
        firsts.add(texts(r.answer)[0])
    assert len(firsts) > 3  # shuffled on every answer

    r = ask(a, "big.service.consul", "SRV")
    assert len(r.answer[0]) == 3 and r.flags & dns.flags.TC
    assert len(records(r.additional)) == 3  # one address per remaining target

    r = ask(a, "big.service.consul", "SRV", tcp=True)
    assert len(r.answer[0]) == 20
    assert not r.flags & dns.flags.TC
    assert len(records(r.additional, "A")) == 20 and len(records(r.additional, "TXT")) == 20

    r = ask(a, "big.service.consul", "A", edns=4096)  # EDNS: only the size counts
    assert len(r.answer[0]) == 20 and not r.flags & dns.flags.TC
    assert r.edns == 0 and r.payload == 4096

    r = ask(a, "big.service.consul", "SRV", edns=700)
    assert 3 < len(r.answer[0]) < 20 and r.flags & dns.flags.TC
    assert len(r.to_wire()) <= 700


def test_truncation_without_enable_truncate_keeps_tc_clear(make_agent):
    a = make_agent(name="web-01")
    a.start()
    many_instances(a, 6)
    r = ask(a, "big.service.consul", "A")
    assert len(r.answer[0]) == 3 and not r.flags & dns.flags.TC  # Consul's default


def test_alt_domain_and_ttl_reload(make_agent):
    a = make_agent(name="web-01")
    a.write_config("dns.yaml", 'alt_domain: "cairn.example"\ndns_config:\n  service_ttl:\n    "*": 5s\n')
    a.start()
    a.http.put("/v1/agent/service/register", {"Name": "web", "Port": 80})
    r = ask(a, "web.service.cairn.example", "SRV")
    assert texts(r.answer) == ["1 1 80 web-01.node.dc1.cairn.example."]
    r = ask(a, "nope.service.cairn.example", "A")
    assert records(r.authority)[0][0] == "cairn.example."
    assert records(ask(a, "web.service.consul").answer)[0][1] == 5

    a.write_config("dns.yaml", 'alt_domain: "cairn.example"\ndns_config:\n  service_ttl:\n    "web": 42s\n')
    a.daemon.signal(signal.SIGHUP)
    wait_for(lambda: records(ask(a, "web.service.consul").answer)[0][1] == 42, 5, "the new TTL")


def test_bad_packets_are_answered_or_dropped_and_counted(catalog):
    good = ask(catalog, "web.service.consul").to_wire()

    assert raw_udp(catalog, b"\x01\x02\x03") is None  # shorter than a header
    resp = bytearray(good)
    resp[2] |= 0x80
    assert raw_udp(catalog, bytes(resp)) is None  # a response: never answered

    def reply_rcode(payload):
        out = raw_udp(catalog, payload)
        assert out is not None and len(out) >= 12
        return out[3] & 0x0F

    q = dns_query_bytes("web.service.consul", 1)
    assert reply_rcode(q[:4] + b"\x00\x00" + q[6:]) == 1  # QDCOUNT 0: FORMERR
    assert reply_rcode(q[:4] + b"\x00\x02" + q[6:]) == 1  # QDCOUNT 2: FORMERR
    assert reply_rcode(q[:-3]) == 1  # truncated question
    loop = q[:12] + b"\xc0\x0c" + b"\x00\x01\x00\x01"  # compression pointer onto itself
    assert reply_rcode(loop) == 1
    badlabel = q[:12] + b"\x45abc" + q[16:]
    assert reply_rcode(badlabel) == 1
    notify = bytearray(q)
    notify[2] = (notify[2] & 0x87) | (4 << 3)
    assert reply_rcode(bytes(notify)) == 4  # NOTIMP
    chaos = q[:-2] + b"\x00\x03"
    assert reply_rcode(chaos) == 5  # REFUSED

    # Over TCP a malformed message closes the connection; the agent lives on.
    assert catalog.daemon.alive()
    assert rcode(ask(catalog, "web.service.consul", tcp=True)) == "NOERROR"
    m = catalog.http.get("/v1/agent/metrics").json()
    counters = {c["Name"]: c["Count"] for c in m["Counters"] if not c.get("Labels")}
    assert counters["consul.dns.malformed"] >= 8


def dns_query_bytes(name, qtype, qid=0x4242):
    out = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00" + struct.pack("!HH", qtype, 1)


def test_dns_counters_in_metrics(catalog):
    ask(catalog, "web.service.consul", "SRV")
    ask(catalog, "nope.service.consul", "A")
    text = catalog.http.get("/v1/agent/metrics?format=prometheus").text
    for needle in ('consul_dns_queries{type="SRV"}', 'consul_dns_responses{rcode="NXDOMAIN"}',
                   "consul_dns_domain_query_count", "consul_dns_truncated",
                   "consul_dns_recursor_failures", "consul_dns_malformed"):
        assert needle in text, needle
    line = [l for l in text.splitlines() if l.startswith('consul_dns_responses{rcode="NXDOMAIN"}')][0]
    assert int(line.split()[-1]) >= 1


def edns1_query(name):
    """A query with an EDNS version 1 OPT record. Not make_query(use_edns=1):
    dnspython 2.3 on Python 3.11 then clears the whole EDNS flags word (its
    want_dnssec(False) masks with ~DO, which IntFlag makes 0), version included,
    and sends version 0."""
    q = dns.message.make_query(name, "A")
    q.use_edns(1, payload=1232)
    wire = q.to_wire()
    assert wire[-5] == 1, "the OPT record must carry version 1"  # TTL: ext-rcode, version, flags(2); rdlen(2)
    return q


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_edns_version_1_is_answered_badvers(catalog, tcp):
    """RFC 6891 §6.1.3: an EDNS version the server does not implement gets
    BADVERS (extended RCODE 16) with an OPT record of version 0, no answer."""
    q = edns1_query("web.service.consul")
    if tcp:
        r = dns.query.tcp(q, "127.0.0.1", port=catalog.dns_port, timeout=2.0 * SLOW)
    else:
        r = dns.query.udp(q, "127.0.0.1", port=catalog.dns_port, timeout=2.0 * SLOW)
    assert r.rcode() == dns.rcode.BADVERS, dns.rcode.to_text(r.rcode())
    assert r.edns == 0  # the version we do speak
    assert r.id == q.id and not r.answer
    # Version 0 still gets a real answer.
    ok = ask(catalog, "web.service.consul", "A", tcp=tcp, edns=1232)
    assert rcode(ok) == "NOERROR" and texts(ok.answer) == ["10.0.0.7", "127.0.0.1"]
