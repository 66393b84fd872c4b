#include "agent/ops/session_create.h"

#include <doctest/doctest.h>

using namespace cairn;
using namespace cairn::ops;

namespace {

const SessionDefaults kDefaults{"agent-1", 10 * kSecond};

}  // namespace

TEST_CASE("an empty request gets Consul's defaults") {
  state::Session s;
  CHECK_FALSE(validate_session_create(s, /*node_checks_given=*/false, kDefaults));
  CHECK(s.node == "agent-1");
  CHECK(s.node_checks == std::vector<std::string>{"serfHealth"});
  CHECK(s.behavior == state::kBehaviorRelease);
  CHECK(s.lock_delay == 15 * kSecond);
  CHECK(s.ttl == 0);
}

TEST_CASE("what the request gave is kept") {
  state::Session s;
  s.node = "other";
  s.behavior = state::kBehaviorDelete;
  s.lock_delay = 0;
  s.ttl = 30 * kSecond;
  s.node_checks = {"c1"};
  CHECK_FALSE(validate_session_create(s, true, kDefaults));
  CHECK(s.node == "other");
  CHECK(s.behavior == state::kBehaviorDelete);
  CHECK(s.lock_delay == 0);
  CHECK(s.node_checks == std::vector<std::string>{"c1"});
}

TEST_CASE("an explicit empty check list turns off serfHealth") {
  state::Session s;
  CHECK_FALSE(validate_session_create(s, true, kDefaults));
  CHECK(s.node_checks.empty());
}

TEST_CASE("an empty Behavior is release, an unknown one is refused") {
  state::Session s;
  s.behavior = "";
  CHECK_FALSE(validate_session_create(s, false, kDefaults));
  CHECK(s.behavior == state::kBehaviorRelease);

  state::Session bad;
  bad.behavior = "keep";
  auto e = validate_session_create(bad, false, kDefaults);
  REQUIRE(e);
  CHECK(e->code == OpErrorCode::invalid);
  CHECK(e->http_status() == 400);
  CHECK(e->message == "Invalid Behavior setting 'keep'");
}

TEST_CASE("the TTL must lie between session_ttl_min and 24h") {
  state::Session low;
  low.ttl = 5 * kSecond;
  auto e = validate_session_create(low, false, kDefaults);
  REQUIRE(e);
  CHECK(e->code == OpErrorCode::invalid);
  CHECK(e->message == "Invalid Session TTL '5s', must be between [10s=24h0m0s]");

  state::Session high;
  high.ttl = 25 * kHour;
  e = validate_session_create(high, false, kDefaults);
  REQUIRE(e);
  CHECK(e->message == "Invalid Session TTL '25h0m0s', must be between [10s=24h0m0s]");

  // The configured minimum, not Consul's 10s, is the lower bound.
  state::Session configured;
  configured.ttl = 2 * kSecond;
  CHECK_FALSE(validate_session_create(configured, false, {"agent-1", kSecond}));
  CHECK_FALSE(validate_session_create(configured, false, {"agent-1", 2 * kSecond}));

  state::Session edges;
  edges.ttl = state::kSessionTTLMax;
  CHECK_FALSE(validate_session_create(edges, false, kDefaults));
}

TEST_CASE("names, node and checks are bounded, and the limit is named") {
  state::Session name;
  name.name.assign(state::kMaxIdentifierBytes + 1, 'n');
  auto e = validate_session_create(name, false, kDefaults);
  REQUIRE(e);
  CHECK(e->code == OpErrorCode::limit);
  CHECK(e->limit == "identifier_bytes");
  CHECK(e->http_status() == 400);
  CHECK(e->message == "Name: 1025 bytes is too long, max size: 1024 bytes");

  // The default node is checked like a given one.
  state::Session node;
  e = validate_session_create(node, false, {std::string(2000, 'a'), 10 * kSecond});
  REQUIRE(e);
  CHECK(e->message == "Node: 2000 bytes is too long, max size: 1024 bytes");

  state::Session many;
  many.node_checks.assign(state::kMaxSessionChecks, "c");
  many.service_checks.push_back({"s", ""});
  e = validate_session_create(many, true, kDefaults);
  REQUIRE(e);
  CHECK(e->limit == "session_checks");
  CHECK(e->message == "Checks: 257 checks are too many for one session, max: 256");

  state::Session check_id;
  check_id.service_checks.push_back({std::string(1025, 'c'), ""});
  e = validate_session_create(check_id, true, kDefaults);
  REQUIRE(e);
  CHECK(e->message == "ServiceChecks: 1025 bytes is too long, max size: 1024 bytes");

  state::Session node_check;
  node_check.node_checks = {std::string(1025, 'c')};
  e = validate_session_create(node_check, true, kDefaults);
  REQUIRE(e);
  CHECK(e->message == "NodeChecks: 1025 bytes is too long, max size: 1024 bytes");
}

TEST_CASE("limits are checked before Behavior and TTL") {
  state::Session s;
  s.name.assign(2000, 'n');
  s.behavior = "keep";
  s.ttl = kSecond;
  auto e = validate_session_create(s, false, kDefaults);
  REQUIRE(e);
  CHECK(e->code == OpErrorCode::limit);
}
