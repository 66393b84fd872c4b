// Rows written to etcd come back as the same rows, at etcd's revisions, and
// anything under /cairn/ that cairn cannot read is reported, never guessed.
#include <doctest/doctest.h>

#include "agent/server/etcd_rows.h"

using namespace cairn;
using namespace cairn::server;

namespace {

etcd::KeyValue stored(std::string key, std::string value, int64_t create, int64_t mod) {
  etcd::KeyValue kv;
  kv.key = std::move(key);
  kv.value = std::move(value);
  kv.create_revision = create;
  kv.mod_revision = mod;
  kv.version = 1;
  return kv;
}

template <typename Put>
Put round_trip(const std::string& key, const std::string& value) {
  state::Mutation m;
  RowStatus st = decode_row(stored(key, value, 7, 9), m);
  REQUIRE_MESSAGE(st.ok(), st.error);
  REQUIRE(std::holds_alternative<Put>(m));
  return std::get<Put>(m);
}

}  // namespace

TEST_CASE("row keys: tables, lower-case nodes, ids that contain slashes") {
  CHECK(node_row_key("Web-1") == "/cairn/node/web-1");
  CHECK(service_row_key("Web-1", "api/v2") == "/cairn/service/web-1/api/v2");
  RowKey k = parse_row_key("/cairn/service/web-1/api/v2");
  CHECK(k.table == Table::service);
  CHECK(k.node == "web-1");
  CHECK(k.id == "api/v2");
  CHECK(parse_row_key("/cairn/kv/a/b/").id == "a/b/");
  CHECK(parse_row_key("/cairn/kv/").table == Table::unknown);  // the empty key is not a row
  CHECK(parse_row_key("/cairn/check/web-1").table == Table::unknown);
  CHECK(parse_row_key("/cairn/bogus/x").table == Table::unknown);
  CHECK(parse_row_key("/other/kv/x").table == Table::unknown);
  CHECK(parse_row_key("/cairn/leader/694d7a1b2c").table == Table::leader);
}

TEST_CASE("every row type round-trips with CreateIndex and ModifyIndex from etcd") {
  state::Node n;
  n.id = "b0f3e1a2-0000-4000-8000-000000000001";
  n.name = "Web-1";
  n.address = "10.0.0.1";
  n.datacenter = "dc1";
  n.tagged_addresses = {{"lan", "10.0.0.1"}};
  n.meta = {{"consul-network-segment", ""}, {"rack", "r1"}};
  auto node = round_trip<state::PutNode>(node_row_key(n.name), encode_row(n)).node;
  CHECK(node.same_content(n));
  CHECK(node.raft.create_index == 7);
  CHECK(node.raft.modify_index == 9);

  state::Service s;
  s.node = "Web-1";
  s.id = "api/v2";
  s.name = "api";
  s.tags = {"v2", "primary"};
  s.address = "10.0.0.1";
  s.tagged_addresses = {{"lan", {"10.0.0.1", 8080}}};
  s.meta = {{"version", "2"}};
  s.port = 8080;
  s.weights = {3, 1};
  s.enable_tag_override = true;
  s.proxy_json = R"({"DestinationServiceName":"api"})";
  auto service =
      round_trip<state::PutService>(service_row_key(s.node, s.id), encode_row(s)).service;
  CHECK(service.same_content(s));
  CHECK(service.id == "api/v2");

  state::CheckDefinition def;
  def.http = "http://10.0.0.1:8080/health";
  def.header = {{"X-Probe", {"a", "b"}}};
  def.interval = 10'000'000'000;
  def.timeout = 1'000'000'000;
  def.failures_before_critical = 3;
  state::Check c;
  c.node = "Web-1";
  c.check_id = "service:api/v2";
  c.name = "api health";
  c.status = state::kWarning;
  c.output = "HTTP GET ...: 429 Too Many Requests";
  c.service_id = "api/v2";
  c.service_name = "api";
  c.service_tags = {"v2"};
  c.type = "http";
  c.definition = def;
  auto check = round_trip<state::PutCheck>(check_row_key(c.node, c.check_id), encode_row(c)).check;
  CHECK(check.same_content(c));
  CHECK(*check.definition == def);

  state::KVEntry e;
  e.key = "locks/leader";
  e.value = std::string("\0\xff binary", 9);
  e.flags = 0xffffffffffffffffull;
  e.session = "adf4238a-882b-9ddc-4a9d-5b6758e4159e";
  e.lock_index = 4;
  auto kv = round_trip<state::PutKV>(kv_row_key(e.key), encode_row(e)).entry;
  CHECK(kv.same_content(e));

  state::Session sess;
  sess.id = "adf4238a-882b-9ddc-4a9d-5b6758e4159e";
  sess.name = "leader-lock";
  sess.node = "Web-1";
  sess.behavior = state::kBehaviorDelete;
  sess.ttl = 30'000'000'000;
  sess.node_checks = {"serfHealth"};
  sess.service_checks = {{"service:api/v2", ""}};
  auto session = round_trip<state::PutSession>(session_row_key(sess.id), encode_row(sess)).session;
  CHECK(session.name == sess.name);
  CHECK(session.lock_delay == sess.lock_delay);
  CHECK(session.ttl == sess.ttl);
  CHECK(session.node_checks == sess.node_checks);
  CHECK(session.service_checks == sess.service_checks);

  state::PreparedQuery q;
  q.id = "8f246b77-f3e1-ff88-5b48-8ec93abf3e05";
  q.name = "geo-";
  q.tmpl.type = state::kTemplateNamePrefixMatch;
  q.tmpl.regexp = "^geo-(.+)$";
  q.service.service = "${match(1)}";
  q.service.failover.nearest_n = 2;
  q.service.failover.datacenters = {"dc2", "dc3"};
  q.service.only_passing = true;
  q.service.tags = {"!canary"};
  q.service.node_meta = {{"rack", "r1"}};
  q.dns_ttl = "10s";
  auto query = round_trip<state::PutPreparedQuery>(query_row_key(q.id), encode_row(q)).query;
  CHECK(query.same_content(q));
}

TEST_CASE("deletes become the store's delete mutations") {
  state::Mutation m;
  REQUIRE(decode_row_delete("/cairn/service/web-1/api/v2", m).ok());
  auto del = std::get<state::DeleteService>(m);
  CHECK(del.node == "web-1");
  CHECK(del.id == "api/v2");
  REQUIRE(decode_row_delete("/cairn/kv/a/b", m).ok());
  CHECK(std::get<state::DeleteKV>(m).key == "a/b");
  CHECK(decode_row_delete("/cairn/leader/694d7a1b2c", m).code == RowStatus::Code::ignored);
  CHECK(decode_row_delete("/elsewhere/x", m).code == RowStatus::Code::ignored);
  CHECK(decode_row_delete("/cairn/bogus/x", m).code == RowStatus::Code::malformed);
}

TEST_CASE("rows cairn cannot read are malformed, with the key named") {
  state::Mutation m;
  auto bad = [&](std::string key, std::string value) {
    RowStatus st = decode_row(stored(key, std::move(value), 3, 3), m);
    CHECK_MESSAGE(st.code == RowStatus::Code::malformed, key);
    CHECK(st.error.find(key) != std::string::npos);
  };
  bad("/cairn/node/web-1", "not json");
  bad("/cairn/node/web-1", R"({"Node":"other"})");  // a row that names another node
  bad("/cairn/service/web-1/api", R"({"Node":"web-1","Service":"api","Port":true})");
  bad("/cairn/service/web-1/api", R"({"Node":"web-1","Port":99999999999})");
  bad("/cairn/check/web-1/c", R"({"Node":"web-1","Status":"sideways"})");
  bad("/cairn/kv/k", R"({"Value":"***"})");
  bad("/cairn/session/s", R"({"Node":"web-1","Behavior":"explode"})");
  bad("/cairn/unknown/x", "{}");
  // Revisions that etcd never writes.
  CHECK(decode_row(stored("/cairn/kv/k", "{}", 0, 0), m).code == RowStatus::Code::malformed);
  CHECK(decode_row(stored("/cairn/kv/k", "{}", 5, 4), m).code == RowStatus::Code::malformed);
  // Keys outside /cairn/ and the leader's are not rows.
  CHECK(decode_row(stored("/other/x", "{}", 3, 3), m).code == RowStatus::Code::ignored);
  CHECK(decode_row(stored("/cairn/leader/694d", "", 3, 3), m).code == RowStatus::Code::ignored);
  // A lock-delay marker is read back as the store's lock delay; a broken one is malformed.
  REQUIRE(decode_row(stored("/cairn/lockdelay/a/b", encode_lock_delay_row(1234), 3, 3), m).ok());
  REQUIRE(std::holds_alternative<state::SetLockDelay>(m));
  CHECK(std::get<state::SetLockDelay>(m).key == "a/b");
  CHECK(std::get<state::SetLockDelay>(m).until_unix_ms == 1234);
  CHECK(decode_row(stored("/cairn/lockdelay/k", "", 3, 3), m).code == RowStatus::Code::malformed);
}

TEST_CASE("a session's lease comes from its UUID and lasts twice its TTL") {
  int64_t a = session_lease_id("adf4238a-882b-9ddc-4a9d-5b6758e4159e");
  CHECK(a == static_cast<int64_t>(0x2df4238a882b9ddcULL));  // first 63 bits of the hex digits
  CHECK(a == session_lease_id("ADF4238A-882B-9DDC-4A9D-5B6758E4159E"));
  CHECK(a != session_lease_id("adf4238a-882b-9ddd-4a9d-5b6758e4159e"));
  CHECK(session_lease_id("00000000-0000-0000-0000-000000000000") == 1);  // never etcd's "no lease"
  CHECK(session_lease_ttl_seconds(10'000'000'000) == 20);
  CHECK(session_lease_ttl_seconds(1'500'000'000) == 3);
}

TEST_CASE("a service's Locality round-trips, and rows from before Locality still read") {
  state::Service s;
  s.node = "web-1";
  s.id = "api";
  s.name = "api";
  s.locality = {"us-east-1", "us-east-1a"};
  std::string row = encode_row(s);
  auto service = round_trip<state::PutService>(service_row_key(s.node, s.id), row).service;
  CHECK(service.locality == s.locality);
  CHECK(service.same_content(s));

  // Only a region: the zone stays out of the row, as Consul's omitempty.
  s.locality = {"eu-west-1", ""};
  row = encode_row(s);
  CHECK(row.find("Zone") == std::string::npos);
  CHECK(round_trip<state::PutService>(service_row_key(s.node, s.id), row).service.locality ==
        s.locality);

  // A service without one writes the row exactly as before Locality existed,
  // and such a row (written by an older cairn) reads back with none.
  s.locality = {};
  row = encode_row(s);
  CHECK(row == R"({"Node":"web-1","Service":"api"})");
  CHECK(round_trip<state::PutService>(service_row_key(s.node, s.id), row).service.locality.empty());
}

TEST_CASE("the autopilot configuration round-trips; the handoff marker is not a store row") {
  state::AutopilotConfig c;
  c.cleanup_dead_servers = false;
  c.last_contact_threshold = 750 * kMillisecond;
  c.max_trailing_logs = 1000;
  c.min_quorum = 3;
  c.server_stabilization_time = 30 * kSecond;
  c.redundancy_zone_tag = "zone";
  c.disable_upgrade_migration = true;
  c.upgrade_version_tag = "build";
  CHECK(autopilot_row_key() == "/cairn/autopilot/config");
  state::Mutation m;
  REQUIRE(decode_row(stored(autopilot_row_key(), encode_row(c), 4, 9), m).ok());
  const auto& put = std::get<state::PutAutopilotConfig>(m).config;
  CHECK(put.cleanup_dead_servers == false);
  CHECK(put.last_contact_threshold == 750 * kMillisecond);
  CHECK(put.max_trailing_logs == 1000);
  CHECK(put.min_quorum == 3);
  CHECK(put.server_stabilization_time == 30 * kSecond);
  CHECK(put.redundancy_zone_tag == "zone");
  CHECK(put.disable_upgrade_migration);
  CHECK(put.upgrade_version_tag == "build");
  CHECK(put.raft.create_index == 4);
  CHECK(put.raft.modify_index == 9);
  CHECK(decode_row(stored(autopilot_row_key(), "[]", 4, 9), m).code == RowStatus::Code::malformed);
  CHECK(decode_row(stored("/cairn/autopilot/other", "{}", 4, 9), m).code ==
        RowStatus::Code::malformed);
  CHECK(decode_row(stored("/cairn/handoff/leader", "{}", 4, 9), m).code ==
        RowStatus::Code::ignored);
  CHECK(decode_row_delete("/cairn/autopilot/config", m).code == RowStatus::Code::ignored);
}
