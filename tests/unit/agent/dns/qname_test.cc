#include "agent/dns/qname.h"

#include <doctest/doctest.h>

#include "tests/unit/agent/dns/dns_test_util.h"

using namespace cairn::dns;

namespace {

struct QnameFixture {
  Settings settings;
  Query q;
  ParsedName name;
  QnameFixture() {
    cairn::config::Config cfg;
    cfg.alt_domain = "cairn.example";
    REQUIRE(make_settings(cfg, settings) == "");
  }
  const ParsedName& parse(const std::string& n, uint16_t qtype = kTypeA) {
    auto p = test::make_query(n, qtype);
    REQUIRE(parse_query(p, q) == ParseStatus::ok);
    parse_qname(q, settings, name);
    return name;
  }
};

}  // namespace

TEST_CASE_FIXTURE(QnameFixture, "service names, with tags and datacenters") {
  auto& n = parse("Web.Service.Consul");
  CHECK(n.kind == NameKind::service);
  CHECK(n.service == "web");
  CHECK(n.tag.empty());
  CHECK(n.domain == 0);

  parse("primary.db.service.dc1.consul");
  CHECK(name.service == "db");
  CHECK(name.tag == "primary");
  CHECK(name.datacenter == "dc1");

  parse("a.b.db.service.consul");
  CHECK(name.tag == "a.b");  // everything left of the service is the tag

  parse("db.service.dc2.dc.consul");
  CHECK(name.datacenter == "dc2");

  parse("db.service.x.peer.consul");
  CHECK(name.peer);

  parse("db.service.a.b.c.consul");
  CHECK(name.kind == NameKind::invalid);

  parse("web.service.cairn.example");
  CHECK(name.kind == NameKind::service);
  CHECK(name.domain == 1);
}

TEST_CASE_FIXTURE(QnameFixture, "RFC 2782 names") {
  parse("_web._tcp.service.consul", kTypeSRV);
  CHECK(name.kind == NameKind::service);
  CHECK(name.service == "web");
  CHECK(name.tag.empty());  // _tcp means any tag

  parse("_web._udp.service.consul", kTypeSRV);
  CHECK(name.tag == "udp");

  parse("_web._tcp.consul", kTypeSRV);  // .service is optional for SRV
  CHECK(name.kind == NameKind::service);
  CHECK(name.service == "web");

  parse("_web._tcp.dc1.consul", kTypeSRV);
  CHECK(name.service == "web");
  CHECK(name.datacenter == "dc1");

  parse("_web._tcp.consul", kTypeA);  // only SRV questions get that shortcut
  CHECK(name.kind == NameKind::invalid);
}

TEST_CASE_FIXTURE(QnameFixture, "node, query and addr names") {
  parse("web-01.node.consul");
  CHECK(name.kind == NameKind::node);
  CHECK(name.node == "web-01");
  parse("host.example.node.dc1.consul");
  CHECK(name.node == "host.example");
  CHECK(name.datacenter == "dc1");

  parse("geo.db.query.consul");
  CHECK(name.kind == NameKind::query);
  CHECK(name.query == "geo.db");
  parse("_geo.db._tcp.query.consul", kTypeSRV);
  CHECK(name.query == "geo.db");
  parse("db.query.dc1.dc.consul");
  CHECK(name.kind == NameKind::invalid);  // query takes a bare datacenter only

  parse("0a000001.addr.dc1.consul");
  CHECK(name.kind == NameKind::addr);
  CHECK(name.hex == "0a000001");
  parse("a.0a000001.addr.consul");
  CHECK(name.kind == NameKind::invalid);
}

TEST_CASE_FIXTURE(QnameFixture, "outside the domain, reverse names and the apex") {
  CHECK(parse("example.com").kind == NameKind::outside);
  CHECK(parse("consul.example.com").kind == NameKind::outside);
  CHECK(parse("1.0.0.10.in-addr.arpa").kind == NameKind::arpa);
  CHECK(parse("consul").kind == NameKind::invalid);
  CHECK(parse("foo.consul").kind == NameKind::invalid);
  CHECK(parse("node.consul").kind == NameKind::invalid);  // kind label without a name
}

TEST_CASE("service_ttl: exact name, then the longest prefix, then the catch-all") {
  cairn::config::Config cfg;
  cfg.dns_config.service_ttl = {{"*", 5 * cairn::kSecond},
                                {"db*", 10 * cairn::kSecond},
                                {"db-primary*", 20 * cairn::kSecond},
                                {"Web", 30 * cairn::kSecond}};
  Settings s;
  REQUIRE(make_settings(cfg, s) == "");
  CHECK(s.service_ttl("web") == 30);
  CHECK(s.service_ttl("db") == 10);
  CHECK(s.service_ttl("db-primary-2") == 20);
  CHECK(s.service_ttl("api") == 5);
  cfg.dns_config.service_ttl.clear();
  REQUIRE(make_settings(cfg, s) == "");
  CHECK(s.service_ttl("api") == 0);
}

TEST_CASE("settings reject a domain that is not a DNS name") {
  cairn::config::Config cfg;
  Settings s;
  cfg.domain = "a..b";
  CHECK(make_settings(cfg, s).find("not a valid DNS domain") != std::string::npos);
  cfg.domain = "Consul";
  REQUIRE(make_settings(cfg, s) == "");
  CHECK(s.domains_text[0] == "consul.");
}
