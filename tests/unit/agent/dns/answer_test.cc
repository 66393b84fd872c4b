#include "agent/dns/answer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>

#include "tests/unit/agent/dns/dns_test_util.h"

using namespace cairn;
using namespace cairn::dns;
using state::Batch;

namespace {

state::Node node(std::string name, std::string addr, std::map<std::string, std::string> meta = {}) {
  state::Node n;
  n.name = std::move(name);
  n.address = std::move(addr);
  n.datacenter = "dc1";
  n.meta = std::move(meta);
  return n;
}

state::Service service(std::string node, std::string id, std::string name, int port,
                       std::vector<std::string> tags = {}, std::string address = "") {
  state::Service s;
  s.node = std::move(node);
  s.id = std::move(id);
  s.name = std::move(name);
  s.port = port;
  s.tags = std::move(tags);
  s.address = std::move(address);
  return s;
}

state::Check check(std::string node, std::string id, std::string status,
                   std::string service_id = "", std::string service_name = "") {
  state::Check c;
  c.node = std::move(node);
  c.check_id = std::move(id);
  c.name = c.check_id;
  c.status = std::move(status);
  c.service_id = std::move(service_id);
  c.service_name = std::move(service_name);
  return c;
}

struct AnswerFixture {
  state::Store store;
  config::Config cfg;
  Settings settings;
  AnswerBuilder builder{42};
  std::vector<uint8_t> out = std::vector<uint8_t>(kMaxMessage);
  Outcome last;
  std::unique_ptr<test::Response> resp;

  AnswerFixture() {
    cfg.node_name = "web-01";
    cfg.dns_config.node_ttl = 30 * kSecond;
    cfg.dns_config.service_ttl = {{"*", 5 * kSecond}, {"db", 10 * kSecond}};
    Batch b;
    b.push_back(state::PutNode{node("web-01", "10.0.0.5", {{"rack", "r1"}})});
    b.push_back(state::PutNode{node("web-02", "10.0.0.6")});
    b.push_back(state::PutNode{node("db-01", "2001:db8::1")});
    b.push_back(state::PutService{service("web-01", "web1", "web", 8080, {"v1", "Primary"})});
    b.push_back(state::PutService{service("web-02", "web2", "web", 8081, {"v2"}, "10.0.0.7")});
    b.push_back(state::PutService{service("db-01", "db1", "db", 5432)});
    b.push_back(state::PutService{service("web-01", "consul", "consul", 8300)});
    for (const char* n : {"web-01", "web-02", "db-01"})
      b.push_back(state::PutCheck{check(n, "serfHealth", state::kPassing)});
    store.apply(b, 1);
    apply_settings();
  }
  void apply_settings() {
    REQUIRE(make_settings(cfg, settings) == "");
    builder.set_settings(settings);
  }
  void put(state::Mutation m) {
    Batch b{std::move(m)};
    store.apply(b, store.index() + 1);
  }

  test::Response* ask(const std::string& name, uint16_t qtype, const test::QueryOptions& o = {},
                      Transport t = Transport::udp, IpAddr client = {}) {
    auto p = test::make_query(name, qtype, o);
    last = builder.answer(p, t, client, store, 1700000000, out);
    REQUIRE(last.action == Outcome::Action::reply);
    REQUIRE(last.size > 0);
    resp = std::make_unique<test::Response>(out.data(), last.size);
    REQUIRE(resp->ok());
    CHECK(resp->id() == o.id);
    return resp.get();
  }
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE_FIXTURE(AnswerFixture, "service A lookup returns every healthy instance with the service TTL") {
  auto* r = ask("web.service.consul", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_NOERROR);
  CHECK(r->aa());
  CHECK_FALSE(r->ra());
  CHECK(sorted(r->answer()) == std::vector<std::string>{
                                   "web.service.consul. 5 IN A 10.0.0.5",
                                   "web.service.consul. 5 IN A 10.0.0.7",
                               });
  CHECK(r->authority().empty());
  CHECK(last.zone == Outcome::Zone::domain);
}

TEST_CASE_FIXTURE(AnswerFixture,
                  "the answer keeps the question's case and names compare case-insensitively") {
  auto* r = ask("WEB.Service.CONSUL", kTypeA);
  REQUIRE(r->answer().size() == 2);
  CHECK(r->answer()[0].rfind("WEB.Service.CONSUL. 5 IN A", 0) == 0);
}

TEST_CASE_FIXTURE(AnswerFixture, "SRV: node targets, addr targets and additional records") {
  auto* r = ask("_web._tcp.service.consul", kTypeSRV);
  CHECK(sorted(r->answer()) ==
        std::vector<std::string>{
            "_web._tcp.service.consul. 5 IN SRV 1 1 8080 web-01.node.dc1.consul.",
            "_web._tcp.service.consul. 5 IN SRV 1 1 8081 0a000007.addr.dc1.consul.",
        });
  CHECK(sorted(r->additional()) == std::vector<std::string>{
                                       "0a000007.addr.dc1.consul. 5 IN A 10.0.0.7",
                                       "web-01.node.dc1.consul. 5 IN A 10.0.0.5",
                                       "web-01.node.dc1.consul. 5 IN TXT \"rack=r1\"",
                                   });
}

TEST_CASE_FIXTURE(AnswerFixture, "tags filter case-insensitively, in both name forms") {
  auto* r = ask("primary.web.service.consul", kTypeA);
  CHECK(r->answer() == std::vector<std::string>{"primary.web.service.consul. 5 IN A 10.0.0.5"});
  r = ask("_web._v2.service.consul", kTypeSRV);
  REQUIRE(r->answer().size() == 1);
  CHECK(r->answer()[0].find("0a000007.addr") != std::string::npos);
  r = ask("nope.web.service.consul", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE_FIXTURE(AnswerFixture,
                  "health: critical never, warning unless only_passing, maintenance is critical") {
  put(state::PutCheck{check("web-02", "svc", state::kWarning, "web2", "web")});
  CHECK(ask("web.service.consul", kTypeA)->answer().size() == 2);
  // A warning instance gets its Warning weight.
  state::Service w2 = *store.service("web-02", "web2");
  w2.weights = {10, 3};
  put(state::PutService{w2});
  auto* r = ask("web.service.consul", kTypeSRV);
  for (const auto& a : r->answer())
    if (a.find("0a000007") != std::string::npos) CHECK(a.find("SRV 1 3 8081") != std::string::npos);

  cfg.dns_config.only_passing = true;
  apply_settings();
  CHECK(ask("web.service.consul", kTypeA)->answer().size() == 1);

  cfg.dns_config.only_passing = false;
  apply_settings();
  put(state::PutCheck{check("web-02", "svc", state::kCritical, "web2", "web")});
  CHECK(ask("web.service.consul", kTypeA)->answer() ==
        std::vector<std::string>{"web.service.consul. 5 IN A 10.0.0.5"});

  put(state::PutCheck{check("web-01", "_node_maintenance", state::kCritical)});
  r = ask("web.service.consul", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_NXDOMAIN);
  REQUIRE(r->authority().size() == 1);
  CHECK(r->authority()[0].rfind(
            "consul. 0 IN SOA ns.consul. hostmaster.consul. 1700000000 3600 600 86400 0", 0) == 0);
}

TEST_CASE_FIXTURE(AnswerFixture, "NODATA: instances without an address of the asked type") {
  auto* r = ask("web.service.consul", kTypeAAAA);
  CHECK(r->rcode() == LDNS_RCODE_NOERROR);
  CHECK(r->answer().empty());
  REQUIRE(r->authority().size() == 1);
  CHECK(r->authority()[0].find("IN SOA") != std::string::npos);
  r = ask("db.service.consul", kTypeAAAA);
  CHECK(r->answer() == std::vector<std::string>{"db.service.consul. 10 IN AAAA 2001:db8::1"});
}

TEST_CASE_FIXTURE(AnswerFixture, "node lookups: A, AAAA, TXT, ANY, other types and unknown nodes") {
  auto* r = ask("web-01.node.consul", kTypeA);
  CHECK(r->answer() == std::vector<std::string>{"web-01.node.consul. 30 IN A 10.0.0.5"});
  CHECK(r->additional() == std::vector<std::string>{"web-01.node.consul. 30 IN TXT \"rack=r1\""});
  r = ask("web-01.node.dc1.consul", kTypeTXT);
  CHECK(r->answer() == std::vector<std::string>{"web-01.node.dc1.consul. 30 IN TXT \"rack=r1\""});
  r = ask("web-01.node.consul", kTypeANY);
  CHECK(r->answer().size() == 2);
  r = ask("db-01.node.consul", kTypeAAAA);
  CHECK(r->answer() == std::vector<std::string>{"db-01.node.consul. 30 IN AAAA 2001:db8::1"});
  r = ask("db-01.node.consul", kTypeA);  // IPv6-only node: NOERROR, nothing, no SOA
  CHECK(r->rcode() == LDNS_RCODE_NOERROR);
  CHECK(r->answer().empty());
  CHECK(r->authority().empty());
  r = ask("web-01.node.consul", kTypeMX);
  CHECK(r->rcode() == LDNS_RCODE_NOERROR);
  CHECK(r->answer().empty());
  r = ask("nobody.node.consul", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_NXDOMAIN);
  CHECK(r->authority().size() == 1);
  r = ask("web-01.node.dc9.consul", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE_FIXTURE(AnswerFixture, "node meta TXT follows RFC 1464") {
  put(state::PutNode{node("web-01", "10.0.0.5", {{"a=b", " v`"}, {"rfc1035-raw", "x y"}})});
  auto* r = ask("web-01.node.consul", kTypeTXT);
  CHECK(sorted(r->answer()) == std::vector<std::string>{
                                   "web-01.node.consul. 30 IN TXT \"a`=b= v``\"",
                                   "web-01.node.consul. 30 IN TXT \"x y\"",
                               });
}

TEST_CASE_FIXTURE(AnswerFixture, "addr names") {
  auto* r = ask("0a000007.addr.dc1.consul", kTypeA);
  CHECK(r->answer() == std::vector<std::string>{"0a000007.addr.dc1.consul. 30 IN A 10.0.0.7"});
  r = ask("20010db8000000000000000000000001.addr.consul", kTypeAAAA);
  CHECK(r->answer() == std::vector<std::string>{
                           "20010db8000000000000000000000001.addr.consul. 30 IN AAAA 2001:db8::1"});
  r = ask("0a000007.addr.consul", kTypeSRV);  // other types get it as an additional record
  CHECK(r->answer().empty());
  CHECK(r->additional().size() == 1);
  r = ask("0a00000z.addr.consul", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE_FIXTURE(AnswerFixture, "PTR for node and service addresses") {
  auto* r = ask("5.0.0.10.in-addr.arpa", kTypePTR);
  CHECK(r->answer() ==
        std::vector<std::string>{"5.0.0.10.in-addr.arpa. 0 IN PTR web-01.node.dc1.consul."});
  CHECK(r->aa());
  r = ask("7.0.0.10.in-addr.arpa", kTypePTR);
  CHECK(r->answer() ==
        std::vector<std::string>{"7.0.0.10.in-addr.arpa. 0 IN PTR web.service.dc1.consul."});
  r = ask("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", kTypePTR);
  REQUIRE(r->answer().size() == 1);
  CHECK(r->answer()[0].find("PTR db-01.node.dc1.consul.") != std::string::npos);

  // Unknown, without recursors: SERVFAIL, flagged for the log line.
  r = ask("9.9.9.10.in-addr.arpa", kTypePTR);
  CHECK(r->rcode() == LDNS_RCODE_SERVFAIL);
  CHECK(last.no_recursors);
  // With recursors, the shell forwards it.
  cfg.recursors = {"127.0.0.1:5353"};
  apply_settings();
  auto p = test::make_query("9.9.9.10.in-addr.arpa", kTypePTR);
  CHECK(builder.answer(p, Transport::udp, {}, store, 0, out).action == Outcome::Action::recurse);
}

TEST_CASE_FIXTURE(AnswerFixture,
                  "names outside the domain: REFUSED without recursors, recursion with them") {
  auto* r = ask("example.com", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_REFUSED);
  CHECK_FALSE(r->aa());
  cfg.recursors = {"127.0.0.1"};
  apply_settings();
  auto p = test::make_query("example.com", kTypeA);
  Outcome o = builder.answer(p, Transport::udp, {}, store, 0, out);
  CHECK(o.action == Outcome::Action::recurse);
  size_t n = builder.recursion_failed(p, out);
  test::Response fail(out.data(), n);
  CHECK(fail.rcode() == LDNS_RCODE_SERVFAIL);
  CHECK(fail.ra());
  r = ask("web.service.consul", kTypeA);
  CHECK(r->ra());
}

TEST_CASE_FIXTURE(AnswerFixture, "SOA and NS questions") {
  auto* r = ask("consul", kTypeSOA);
  REQUIRE(r->answer().size() == 1);
  CHECK(r->answer()[0] ==
        "consul. 0 IN SOA ns.consul. hostmaster.consul. 1700000000 3600 600 86400 0");
  CHECK(r->authority() == std::vector<std::string>{"consul. 30 IN NS web-01.node.dc1.consul."});
  CHECK(r->additional() == std::vector<std::string>{"web-01.node.dc1.consul. 30 IN A 10.0.0.5"});
  r = ask("web.service.consul", kTypeNS);
  CHECK(r->answer() == std::vector<std::string>{"consul. 30 IN NS web-01.node.dc1.consul."});
  r = ask("consul", kTypeAXFR);
  CHECK(r->rcode() == LDNS_RCODE_NOTIMPL);
  r = ask("consul", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE_FIXTURE(AnswerFixture, "alt_domain answers with its own names") {
  cfg.alt_domain = "cairn.example.";
  apply_settings();
  auto* r = ask("web.service.cairn.example", kTypeSRV);
  for (const auto& a : r->answer()) CHECK(a.find("dc1.cairn.example.") != std::string::npos);
  r = ask("nope.service.cairn.example", kTypeA);
  REQUIRE(r->authority().size() == 1);
  CHECK(r->authority()[0].rfind("cairn.example. 0 IN SOA ns.cairn.example.", 0) == 0);
}

TEST_CASE_FIXTURE(AnswerFixture, "unknown class, opcode and garbage") {
  test::QueryOptions o;
  o.qclass = 3;  // CHAOS
  auto* r = ask("version.bind", kTypeTXT, o);
  CHECK(r->rcode() == LDNS_RCODE_REFUSED);
  CHECK(last.malformed);

  auto p = test::make_query("web.service.consul", kTypeA);
  p[2] = static_cast<uint8_t>(p[2] | (4 << 3));  // NOTIFY
  Outcome out_notimp = builder.answer(p, Transport::udp, {}, store, 0, out);
  test::Response notimp(out.data(), out_notimp.size);
  CHECK(notimp.rcode() == LDNS_RCODE_NOTIMPL);

  std::vector<uint8_t> junk = {1, 2, 3};
  CHECK(builder.answer(junk, Transport::udp, {}, store, 0, out).action == Outcome::Action::drop);

  p = test::make_query("web.service.consul", kTypeA);
  p[5] = 0;  // QDCOUNT 0
  Outcome o2 = builder.answer(p, Transport::udp, {}, store, 0, out);
  test::Response formerr(out.data(), o2.size);
  CHECK(formerr.rcode() == LDNS_RCODE_FORMERR);
}

TEST_CASE_FIXTURE(AnswerFixture, "EDNS: the OPT record is echoed; BADVERS for version 1") {
  test::QueryOptions o;
  o.edns_size = 1232;
  auto* r = ask("web.service.consul", kTypeA, o);
  CHECK(ldns_pkt_edns(r->pkt));
  CHECK(ldns_pkt_edns_udp_size(r->pkt) == 1232);
  o.edns_version = 1;
  auto p = test::make_query("web.service.consul", kTypeA, o);
  Outcome bad = builder.answer(p, Transport::udp, {}, store, 0, out);
  test::Response b(out.data(), bad.size);
  REQUIRE(b.ok());
  CHECK(ldns_pkt_edns_extended_rcode(b.pkt) == 1);
}

namespace {

void add_many(AnswerFixture& f, int n) {
  Batch b;
  for (int i = 0; i < n; ++i) {
    std::string name = "big-" + std::to_string(i);
    b.push_back(state::PutNode{
        node(name, "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
             {{"zone", "z" + std::to_string(i)}})});
    b.push_back(state::PutService{service(name, "big", "big", 9000 + i)});
  }
  f.store.apply(b, f.store.index() + 1);
}

}  // namespace

TEST_CASE_FIXTURE(
    AnswerFixture, "UDP without EDNS: udp_answer_limit answers, shuffled, TC only with enable_truncate") {
  add_many(*this, 20);
  std::set<std::string> firsts;
  for (int i = 0; i < 40; ++i) {
    auto* r = ask("big.service.consul", kTypeA);
    REQUIRE(r->answer().size() == 3);
    CHECK_FALSE(r->tc());
    CHECK(last.truncated);
    firsts.insert(r->answer()[0]);
  }
  CHECK(firsts.size() > 5);  // shuffled on every answer

  auto* r = ask("big.service.consul", kTypeSRV);
  CHECK(r->answer().size() == 3);
  // Additional records: one per remaining target, the TXT records are dropped (Consul's syncExtra).
  CHECK(r->additional().size() == 3);

  cfg.dns_config.enable_truncate = true;
  apply_settings();
  r = ask("big.service.consul", kTypeA);
  CHECK(r->tc());

  // EDNS: no count limit, only the size.
  test::QueryOptions o;
  o.edns_size = 4096;
  r = ask("big.service.consul", kTypeA, o);
  CHECK(r->answer().size() == 20);
  CHECK_FALSE(r->tc());
}

TEST_CASE_FIXTURE(AnswerFixture, "size trimming: UDP fits the EDNS size, TCP gets everything") {
  add_many(*this, 200);
  cfg.dns_config.enable_truncate = true;
  apply_settings();
  test::QueryOptions o;
  o.edns_size = 1232;
  auto* r = ask("big.service.consul", kTypeSRV, o);
  CHECK(last.size <= 1232 - 8);
  CHECK(r->tc());
  size_t n = r->answer().size();
  CHECK(n > 5);
  CHECK(n < 200);
  // Every remaining SRV target has its address record.
  CHECK(r->additional().size() == n);

  r = ask("big.service.consul", kTypeSRV, {}, Transport::tcp);
  CHECK(r->answer().size() == 200);
  CHECK_FALSE(r->tc());
  CHECK(r->additional().size() == 400);  // A and TXT for each node
  r = ask("big.service.consul", kTypeA, {}, Transport::tcp);
  CHECK(r->answer().size() == 200);
}

TEST_CASE_FIXTURE(AnswerFixture, "a_record_limit caps A answers") {
  add_many(*this, 10);
  cfg.dns_config.a_record_limit = 2;
  apply_settings();
  test::QueryOptions o;
  o.edns_size = 4096;
  CHECK(ask("big.service.consul", kTypeA, o)->answer().size() == 2);
}

TEST_CASE_FIXTURE(AnswerFixture, "answers follow the store as it changes") {
  CHECK(ask("web.service.consul", kTypeA)->answer().size() == 2);
  put(state::DeleteService{"web-02", "web2"});
  CHECK(ask("web.service.consul", kTypeA)->answer().size() == 1);
  put(state::PutService{service("web-02", "web3", "web", 80)});
  CHECK(ask("web.service.consul", kTypeA)->answer().size() == 2);
}

TEST_CASE_FIXTURE(AnswerFixture, "services on hostnames get CNAMEs, SRV targets them") {
  put(state::PutService{service("web-02", "ext", "ext", 443, {}, "api.example.com")});
  auto* r = ask("ext.service.consul", kTypeA);
  CHECK(r->answer() == std::vector<std::string>{"ext.service.consul. 5 IN CNAME api.example.com."});
  r = ask("ext.service.consul", kTypeSRV);
  CHECK(r->answer() ==
        std::vector<std::string>{"ext.service.consul. 5 IN SRV 1 1 443 api.example.com."});
}

TEST_CASE_FIXTURE(AnswerFixture, "prepared queries resolve by name, template and ID, with their TTL") {
  state::PreparedQuery q;
  q.id = "7c2d1d2a-0000-4000-8000-000000000001";
  q.name = "primary-web";
  q.service.service = "web";
  q.service.tags = {"primary"};
  q.dns_ttl = "15s";
  put(state::PutPreparedQuery{q});
  auto* r = ask("primary-web.query.consul", kTypeA);
  CHECK(r->answer() == std::vector<std::string>{"primary-web.query.consul. 15 IN A 10.0.0.5"});
  r = ask(q.id + ".query.consul", kTypeA);
  CHECK(r->answer().size() == 1);
  r = ask("_primary-web._tcp.query.consul", kTypeSRV);
  CHECK(r->answer() ==
        std::vector<std::string>{
            "_primary-web._tcp.query.consul. 15 IN SRV 1 1 8080 web-01.node.dc1.consul."});

  state::PreparedQuery t;
  t.id = "7c2d1d2a-0000-4000-8000-000000000002";
  t.name = "geo-";
  t.tmpl.type = state::kTemplateNamePrefixMatch;
  t.service.service = "${name.suffix}";
  put(state::PutPreparedQuery{t});
  r = ask("geo-db.query.consul", kTypeAAAA);
  CHECK(r->answer() == std::vector<std::string>{"geo-db.query.consul. 10 IN AAAA 2001:db8::1"});
  r = ask("nothing.query.consul", kTypeA);
  CHECK(r->rcode() == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE_FIXTURE(AnswerFixture,
                  "prepared query Near _agent puts the agent's node first; ECS scope follows") {
  add_many(*this, 6);
  put(state::PutService{service("web-01", "big-local", "big", 7000)});
  state::PreparedQuery q;
  q.id = "7c2d1d2a-0000-4000-8000-000000000003";
  q.name = "near";
  q.service.service = "big";
  q.service.near = "_agent";
  put(state::PutPreparedQuery{q});
  test::QueryOptions o;
  o.edns_size = 4096;
  o.ecs = std::vector<uint8_t>{0, 1, 24, 0, 10, 9, 9};
  for (int i = 0; i < 10; ++i) {
    auto* r = ask("near.query.consul", kTypeSRV, o);
    REQUIRE(!r->answer().empty());
    CHECK(r->answer()[0].find("web-01.node.dc1.consul.") != std::string::npos);
  }
  // The answer depends on the client: ECS scope = source prefix.
  ldns_rdf* data = ldns_pkt_edns_data(resp->pkt);
  REQUIRE(data);
  const uint8_t* d = ldns_rdf_data(data);
  CHECK(d[7] == 24);
}

TEST_CASE_FIXTURE(AnswerFixture, "names of another datacenter go to the shell, then answer from its rows") {
  // Without a way to other datacenters: NXDOMAIN, as for no path.
  CHECK(ask("web.service.dc2.consul", kTypeA)->rcode() == LDNS_RCODE_NXDOMAIN);
  builder.set_remote_enabled(true);
  auto p = test::make_query("v1.web.service.dc2.consul", kTypeSRV, {});
  Outcome o = builder.answer(p, Transport::udp, {}, store, 1700000000, out);
  REQUIRE(o.action == Outcome::Action::remote);
  CHECK(builder.remote_question().datacenter == "dc2");
  CHECK(builder.remote_question().kind == RemoteKind::service);
  CHECK(builder.remote_question().name == "web");
  // The local datacenter still answers at once.
  CHECK(ask("web.service.dc1.consul", kTypeA)->answer().size() == 2);

  // dc2's rows, answered with dc2's names.
  state::Store there;
  Batch b;
  b.push_back(state::PutNode{node("far-01", "10.2.0.1")});
  b.push_back(state::PutService{service("far-01", "web1", "web", 9090, {"v1"})});
  there.apply(b, 1);
  o = AnswerBuilder::answer_remote(settings, "dc2", p, Transport::udp, {}, there, 1700000000, out);
  REQUIRE(o.action == Outcome::Action::reply);
  test::Response r(out.data(), o.size);
  CHECK(r.answer() == std::vector<std::string>{
                          "v1.web.service.dc2.consul. 5 IN SRV 1 1 9090 far-01.node.dc2.consul."});
  // No path: NXDOMAIN with the SOA; no answer from there: SERVFAIL.
  o = builder.remote_failed(p, Transport::udp, true, 1700000000, out);
  CHECK(test::Response(out.data(), o.size).rcode() == LDNS_RCODE_NXDOMAIN);
  CHECK(test::Response(out.data(), o.size).authority().size() == 1);
  o = builder.remote_failed(p, Transport::udp, false, 1700000000, out);
  CHECK(test::Response(out.data(), o.size).rcode() == LDNS_RCODE_SERVFAIL);
}
