#include "agent/forward/node_sync.h"

#include <doctest/doctest.h>

#include "agent/forward/wire_bytes.h"

using namespace cairn;
using namespace cairn::forward;

namespace {

local::NodeIdentity ident() {
  local::NodeIdentity n;
  n.id = "8c3c3f2b-6d5e-4f1a-9b7c-1d2e3f4a5b6c";
  n.name = "c1";
  n.address = "127.0.0.1";
  n.datacenter = "dc1";
  return n;
}

local::LocalState sample_state() {
  local::LocalState local("c1");
  local::LocalService s;
  s.service.id = "web1";
  s.service.name = "web";
  s.service.port = 8080;
  local.put_service(s);
  for (const char* id : {"web-ttl", "disk"}) {
    local::LocalCheck c;
    c.check.check_id = id;
    c.check.name = id;
    c.check.status = state::kPassing;
    c.check.output = std::string("out of ") + id;
    if (std::string(id) == "web-ttl") c.check.service_id = "web1";
    local.put_check(c);
  }
  return local;
}

}  // namespace

TEST_CASE("a full node sync carries every row and the checks whose output waits") {
  local::LocalState local = sample_state();
  std::string bytes;
  encode_node_sync(ident(), local, bytes, [](const std::string& id) { return id == "disk"; });
  CHECK(static_cast<uint8_t>(bytes[0]) == kNodeSyncVersion);
  NodeSync got;
  REQUIRE(decode_node_sync(bytes, got).ok());
  CHECK(got.node.name == "c1");
  CHECK(got.node.id == ident().id);
  CHECK(got.local.services().size() == 1);
  REQUIRE(got.local.check("web-ttl") != nullptr);
  CHECK(got.local.check("web-ttl")->check.output == "out of web-ttl");
  CHECK(got.deferred_outputs == std::set<std::string>{"disk"});

  // Without a predicate nothing waits.
  std::string plain;
  encode_node_sync(ident(), local, plain);
  NodeSync none;
  REQUIRE(decode_node_sync(plain, none).ok());
  CHECK(none.deferred_outputs.empty());
}

TEST_CASE("a version 1 node sync (no deferred section) is still accepted") {
  std::string v2;
  encode_node_sync(ident(), sample_state(), v2);
  // v2 ends with an empty deferred section (u32 0): v1 is the same bytes without it.
  std::string v1 = v2.substr(0, v2.size() - 4);
  v1[0] = 1;
  NodeSync got;
  REQUIRE(decode_node_sync(v1, got).ok());
  CHECK(got.local.checks().size() == 2);
  CHECK(got.deferred_outputs.empty());
  // And v1 must not carry one.
  v2[0] = 1;
  NodeSync bad;
  CHECK(decode_node_sync(v2, bad).code == EnvelopeStatus::Code::bad_field);
}

TEST_CASE("a node sync refuses bad versions, truncation and deferred checks it does not carry") {
  std::string bytes;
  encode_node_sync(ident(), sample_state(), bytes, [](const std::string&) { return true; });
  NodeSync got;
  std::string v3 = bytes;
  v3[0] = 3;
  CHECK(decode_node_sync(v3, got).code == EnvelopeStatus::Code::bad_version);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    NodeSync part;
    INFO("cut at " << cut);
    CHECK_FALSE(decode_node_sync(std::string_view(bytes).substr(0, cut), part).ok());
  }
  // A deferred ID that is not one of the sync's checks.
  std::string stray;
  encode_node_sync(ident(), sample_state(), stray);
  stray.resize(stray.size() - 4);
  wire::put_be(stray, 1, 4);
  wire::put_str(stray, "someone-elses");
  NodeSync s;
  CHECK(decode_node_sync(stray, s).code == EnvelopeStatus::Code::bad_field);
}

TEST_CASE("a check sync carries only the named checks' results") {
  local::LocalState local = sample_state();
  std::string bytes;
  REQUIRE(encode_check_sync("c1", local, {"disk", "gone"}, bytes));
  CheckSync got;
  REQUIRE(decode_check_sync(bytes, got).ok());
  CHECK(got.node == "c1");
  REQUIRE(got.updates.size() == 1);  // "gone" is no longer local: not sent
  CHECK(got.updates[0].check_id == "disk");
  CHECK(got.updates[0].status == state::kPassing);
  CHECK(got.updates[0].output == "out of disk");
  // Its size does not depend on the other checks.
  CHECK(bytes.size() < 64);
  std::string nothing;
  CHECK_FALSE(encode_check_sync("c1", local, {"gone"}, nothing));
  CHECK(nothing.empty());
}

TEST_CASE("a check sync refuses what a peer could make up") {
  local::LocalState local = sample_state();
  std::string good;
  REQUIRE(encode_check_sync("c1", local, {"disk", "web-ttl"}, good));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    CheckSync part;
    INFO("cut at " << cut);
    CHECK_FALSE(decode_check_sync(std::string_view(good).substr(0, cut), part).ok());
  }
  CheckSync got;
  std::string v2 = good;
  v2[0] = 2;
  CHECK(decode_check_sync(v2, got).code == EnvelopeStatus::Code::bad_version);
  CHECK(decode_check_sync(good + "x", got).code == EnvelopeStatus::Code::bad_field);

  auto one = [](std::string_view node, std::string_view id, std::string_view status) {
    std::string b(1, static_cast<char>(kCheckSyncVersion));
    wire::put_str(b, node);
    wire::put_be(b, 1, 4);
    wire::put_str(b, id);
    wire::put_str(b, status);
    wire::put_str(b, "");
    return b;
  };
  CheckSync ok;
  CHECK(decode_check_sync(one("c1", "x", "warning"), ok).ok());
  CheckSync bad;
  CHECK(decode_check_sync(one("c1", "x", "bogus"), bad).code == EnvelopeStatus::Code::bad_field);
  CHECK(decode_check_sync(one("", "x", "passing"), bad).code == EnvelopeStatus::Code::bad_field);
  CHECK(decode_check_sync(one("c1", "", "passing"), bad).code == EnvelopeStatus::Code::bad_field);
  // A count larger than the bytes could hold is refused before anything is reserved.
  std::string huge(1, static_cast<char>(kCheckSyncVersion));
  wire::put_str(huge, "c1");
  wire::put_be(huge, kMaxSyncRows, 4);
  CHECK(decode_check_sync(huge, bad).code == EnvelopeStatus::Code::bad_field);
}
