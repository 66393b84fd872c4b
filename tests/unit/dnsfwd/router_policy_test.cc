#include <doctest/doctest.h>

#include <map>

#include "common/dns/name.h"
#include "dnsfwd/client_acl.h"
#include "dnsfwd/health.h"
#include "dnsfwd/policy.h"
#include "dnsfwd/router.h"
#include "dnsfwd/token_bucket.h"

using namespace cairn::dnsfwd;

namespace {
std::vector<uint8_t> w(const char* text) {
  std::vector<uint8_t> out;
  std::string err;
  REQUIRE(cairn::dns::from_text(text, out, err));
  return out;
}
uint32_t route(const Router& r, const char* name) {
  auto n = w(name);
  return r.route(n.data(), n.size());
}
std::string zone_text(const std::vector<uint8_t>& z) {
  return cairn::dns::to_text(z.data(), z.size());
}
}  // namespace

TEST_CASE("longest whole-label suffix wins") {
  Router r;
  CHECK(route(r, "anything.example.") == kDefaultGroup);
  r.add(w("consul."), 1);
  r.add(w("db.service.consul."), 2);
  r.add(w("10.in-addr.arpa."), 3);
  CHECK(route(r, "web.service.consul.") == 1);
  CHECK(route(r, "consul.") == 1);
  CHECK(route(r, "primary.db.service.consul.") == 2);
  CHECK(route(r, "db.service.consul.") == 2);
  CHECK(route(r, "xdb.service.consul.") == 1);
  CHECK(route(r, "notconsul.") == kDefaultGroup);
  CHECK(route(r, "consul.example.") == kDefaultGroup);
  CHECK(route(r, "4.3.2.10.in-addr.arpa.") == 3);
  CHECK(route(r, ".") == kDefaultGroup);
}

TEST_CASE("reverse zones for networks") {
  auto z = reverse_zones(*parse_cidr("10.0.0.0/8"));
  REQUIRE(z.size() == 1);
  CHECK(zone_text(z[0]) == "10.in-addr.arpa.");
  z = reverse_zones(*parse_cidr("192.168.1.0/24"));
  CHECK(zone_text(z[0]) == "1.168.192.in-addr.arpa.");
  z = reverse_zones(*parse_cidr("172.16.0.0/12"));
  REQUIRE(z.size() == 16);
  CHECK(zone_text(z.front()) == "16.172.in-addr.arpa.");
  CHECK(zone_text(z.back()) == "31.172.in-addr.arpa.");
  z = reverse_zones(*parse_cidr("fd00::/8"));
  REQUIRE(z.size() == 1);
  CHECK(zone_text(z[0]) == "d.f.ip6.arpa.");
  z = reverse_zones(*parse_cidr("2001:db8::/30"));
  CHECK(z.size() == 4);
}

TEST_CASE("addresses and the client rule") {
  auto e = parse_endpoint("127.0.0.1:8600", 53);
  REQUIRE(e);
  CHECK(e->port() == 8600);
  CHECK(e->loopback());
  CHECK(e->to_string() == "127.0.0.1:8600");
  CHECK(parse_endpoint("10.0.0.2", 53)->port() == 53);
  CHECK(parse_endpoint("10.0.0.2#5353", 53)->port() == 5353);
  CHECK(parse_endpoint("[::1]:53", 53)->to_string() == "[::1]:53");
  CHECK(parse_endpoint("fd00::1", 53)->port() == 53);
  CHECK_FALSE(parse_endpoint("example.com", 53));
  CHECK_FALSE(parse_endpoint("1.2.3.4:0", 53));
  CHECK_FALSE(parse_endpoint("1.2.3.4:99999", 53));

  ClientAcl local;
  CHECK(local.allows(parse_endpoint("127.0.0.1", 1)->sa()));
  CHECK(local.allows(parse_endpoint("127.5.6.7", 1)->sa()));
  CHECK(local.allows(parse_endpoint("::1", 1)->sa()));
  CHECK(local.allows(parse_endpoint("::ffff:127.0.0.1", 1)->sa()));
  CHECK_FALSE(local.allows(parse_endpoint("10.1.2.3", 1)->sa()));
  CHECK_FALSE(local.allows(parse_endpoint("fd00::1", 1)->sa()));
  ClientAcl bridge({*parse_cidr("172.17.0.0/16")}, true);
  CHECK(bridge.allows(parse_endpoint("172.17.0.5", 1)->sa()));
  CHECK_FALSE(bridge.allows(parse_endpoint("172.18.0.5", 1)->sa()));
  ClientAcl only2({*parse_cidr("127.0.0.2/32")}, false);
  CHECK(only2.allows(parse_endpoint("127.0.0.2", 1)->sa()));
  CHECK_FALSE(only2.allows(parse_endpoint("127.0.0.1", 1)->sa()));
  CHECK(parse_cidr("10.1.2.3/8")->to_string() == "10.0.0.0/8");
}

TEST_CASE("policies") {
  std::vector<Candidate> c(3);
  SUBCASE("sequential prefers order, skips tried and down, fails back") {
    CHECK(pick_upstream(Policy::sequential, c, 0, 0, 0) == 0);
    CHECK(pick_upstream(Policy::sequential, c, 1, 0, 0) == 1);
    c[0].up = false;
    CHECK(pick_upstream(Policy::sequential, c, 0, 0, 0) == 1);
    c[0].up = true;  // healthy again: back to the first
    CHECK(pick_upstream(Policy::sequential, c, 0, 0, 0) == 0);
    CHECK(pick_upstream(Policy::sequential, c, 7, 0, 0) == -1);
  }
  SUBCASE("all down: still tried, in order") {
    for (auto& x : c) x.up = false;
    CHECK(pick_upstream(Policy::sequential, c, 0, 0, 0) == 0);
    CHECK(pick_upstream(Policy::sequential, c, 1, 0, 0) == 1);
  }
  SUBCASE("down ones come after every healthy one") {
    c[0].up = false;
    CHECK(pick_upstream(Policy::sequential, c, 0b110, 0, 0) == 0);
    CHECK(pick_upstream(Policy::sequential, c, 0b010, 0, 0) == 2);
  }
  SUBCASE("rate-limited upstreams are skipped") {
    c[0].can_send = false;
    CHECK(pick_upstream(Policy::sequential, c, 0, 0, 0) == 1);
  }
  SUBCASE("round robin rotates the start") {
    std::map<int, int> seen;
    for (uint32_t q = 0; q < 30; ++q) seen[pick_upstream(Policy::round_robin, c, 0, q, 0)]++;
    CHECK(seen[0] == 10);
    CHECK(seen[1] == 10);
    CHECK(seen[2] == 10);
    CHECK(pick_upstream(Policy::round_robin, c, 0b010, 1, 0) == 2);
  }
  SUBCASE("random spreads over healthy ones") {
    c[1].up = false;
    std::map<int, int> seen;
    for (uint64_t r = 0; r < 100; ++r) seen[pick_upstream(Policy::random, c, 0, 0, r)]++;
    CHECK(seen[1] == 0);
    CHECK(seen[0] == 50);
    CHECK(seen[2] == 50);
  }
  SUBCASE("fastest picks the lowest RTT, unmeasured first") {
    c[0].srtt_us = 900;
    c[1].srtt_us = 300;
    c[2].srtt_us = 500;
    CHECK(pick_upstream(Policy::fastest, c, 0, 0, 0) == 1);
    CHECK(pick_upstream(Policy::fastest, c, 0b010, 0, 0) == 2);
    c[0].srtt_us = 0;
    CHECK(pick_upstream(Policy::fastest, c, 0, 0, 0) == 0);
  }
  Policy p;
  CHECK(parse_policy("round_robin", p));
  CHECK(p == Policy::round_robin);
  CHECK_FALSE(parse_policy("fastes", p));
}

TEST_CASE("health: consecutive failures, recovery, RTT-based timeouts") {
  HealthRules rules;
  rules.max_fails = 2;
  rules.probe_interval_ms = 500;
  Timeouts t;
  Health h(rules, t);
  CHECK(h.up());
  CHECK(h.attempt_timeout_ms() == 400);  // nothing measured yet
  CHECK(h.on_failure() == HealthChange::none);
  CHECK(h.on_answer(1000) == HealthChange::none);  // resets the count
  CHECK(h.on_failure() == HealthChange::none);
  CHECK(h.on_failure() == HealthChange::went_down);
  CHECK_FALSE(h.up());
  CHECK(h.probe_due(0));
  h.probe_sent(1000);
  CHECK_FALSE(h.probe_due(1200));
  CHECK(h.probe_due(1500));
  CHECK(h.on_answer(2000) == HealthChange::came_up);
  CHECK(h.up());

  Health fast(rules, t);
  for (int i = 0; i < 20; ++i) fast.on_answer(100);  // 100 µs: loopback
  CHECK(fast.attempt_timeout_ms() == 50);            // clamped to min
  Health slow(rules, t);
  for (int i = 0; i < 20; ++i) slow.on_answer(1'600'000);
  CHECK(slow.attempt_timeout_ms() == 1500);  // clamped to max
  Health mid(rules, t);
  for (int i = 0; i < 50; ++i) mid.on_answer(100'000);
  CHECK(mid.attempt_timeout_ms() >= 100);
  CHECK(mid.attempt_timeout_ms() <= 110);
  mid.on_failure();
  CHECK(mid.attempt_timeout_ms() >= 200);  // backoff after a timeout
}

TEST_CASE("token bucket") {
  TokenBucket unlimited;
  for (int i = 0; i < 1000; ++i) CHECK(unlimited.take(0));
  TokenBucket b(10);
  int ok = 0;
  for (int i = 0; i < 50; ++i) ok += b.take(1000);
  CHECK(ok == 10);
  CHECK_FALSE(b.take(1000));
  CHECK(b.take(1100));  // 100 ms at 10/s = one token
  CHECK_FALSE(b.take(1100));
}
