#include "agent/forward/datacenter_rows.h"

#include <doctest/doctest.h>

#include "agent/forward/query_failover.h"

using namespace cairn;
using dns::RemoteKind;
using dns::RemoteQuestion;
using dns::RemoteRows;

namespace {

state::Store catalog() {
  state::Store store;
  state::Batch b;
  state::Node n1;
  n1.name = "n1";
  n1.address = "10.0.0.1";
  state::Node n2 = n1;
  n2.name = "n2";
  n2.address = "10.0.0.2";
  b.push_back(state::PutNode{n1});
  b.push_back(state::PutNode{n2});
  for (const char* node : {"n1", "n2"}) {
    state::Service s;
    s.node = node;
    s.id = "web";
    s.name = "web";
    s.port = 80;
    b.push_back(state::PutService{s});
    state::Check c;
    c.node = node;
    c.check_id = "web-check";
    c.service_id = "web";
    c.status = node == std::string("n1") ? state::kPassing : state::kCritical;
    b.push_back(state::PutCheck{c});
  }
  state::Service db;
  db.node = "n2";
  db.id = "db";
  db.name = "db";
  b.push_back(state::PutService{db});
  store.apply(b, 1);
  return store;
}

template <typename T>
size_t count(const state::Batch& rows) {
  size_t n = 0;
  for (const auto& m : rows) n += std::holds_alternative<T>(m) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("a question and its answer round-trip and refuse what is out of bounds") {
  RemoteQuestion q{"dc2", RemoteKind::service, "web"};
  std::string wire;
  forward::encode_rows_question(q, wire);
  RemoteQuestion back;
  REQUIRE(forward::decode_rows_question(wire, back).ok());
  CHECK(back.datacenter == "dc2");
  CHECK(back.kind == RemoteKind::service);
  CHECK(back.name == "web");
  for (size_t cut = 0; cut < wire.size(); ++cut)
    CHECK_FALSE(forward::decode_rows_question(std::string_view(wire).substr(0, cut), back).ok());
  std::string bad = wire;
  bad[0] = 2;
  CHECK(forward::decode_rows_question(bad, back).code ==
        forward::EnvelopeStatus::Code::bad_version);
  bad = wire;
  bad[1] = 9;
  CHECK_FALSE(forward::decode_rows_question(bad, back).ok());
  CHECK_FALSE(forward::decode_rows_question(wire + "x", back).ok());
  RemoteQuestion long_name{"dc2", RemoteKind::node, std::string(300, 'a')};
  std::string long_wire;
  forward::encode_rows_question(long_name, long_wire);
  CHECK_FALSE(forward::decode_rows_question(long_wire, back).ok());

  state::Store store = catalog();
  RemoteRows rows{RemoteRows::Result::found, "dc2", forward::rows_for(store, q)};
  std::string answer;
  forward::encode_rows_answer(rows, store.index(), answer);
  RemoteRows got;
  REQUIRE(forward::decode_rows_answer(answer, got).ok());
  CHECK(got.result == RemoteRows::Result::found);
  CHECK(got.datacenter == "dc2");
  CHECK(got.rows.size() == rows.rows.size());
  std::string no_path;
  forward::encode_rows_answer({RemoteRows::Result::no_path, {}, {}}, 0, no_path);
  REQUIRE(forward::decode_rows_answer(no_path, got).ok());
  CHECK(got.result == RemoteRows::Result::no_path);
  for (size_t cut = 0; cut < answer.size(); ++cut)
    CHECK_FALSE(forward::decode_rows_answer(std::string_view(answer).substr(0, cut), got).ok());
}

TEST_CASE("the rows of a name are what DNS needs to answer it there") {
  state::Store store = catalog();
  state::Batch web = forward::rows_for(store, {"dc2", RemoteKind::service, "web"});
  CHECK(count<state::PutNode>(web) == 2);
  CHECK(count<state::PutService>(web) == 2);
  CHECK(count<state::PutCheck>(web) == 2);
  state::Batch node = forward::rows_for(store, {"dc2", RemoteKind::node, "n2"});
  CHECK(count<state::PutNode>(node) == 1);
  CHECK(count<state::PutService>(node) == 2);  // web and db
  CHECK(forward::rows_for(store, {"dc2", RemoteKind::service, "nope"}).empty());
  CHECK(forward::rows_for(store, {"dc2", RemoteKind::query, "nope"}).empty());
  // Loaded into a store of their own, they describe the same instances.
  state::Store there;
  there.apply(web, 1);
  CHECK(there.service_instances("web").size() == 2);
}

TEST_CASE("a remote query carries its definition and answers only healthy instances") {
  state::PreparedQuery q;
  q.id = "4b3e6f0a-0000-0000-0000-000000000001";
  q.name = "geo";
  q.service.service = "web";
  q.service.failover.datacenters = {"dc2"};
  std::string wire;
  forward::encode_remote_query(q, 5, wire);
  state::PreparedQuery back;
  uint32_t limit = 0;
  REQUIRE(forward::decode_remote_query(wire, back, limit).ok());
  CHECK(limit == 5);
  CHECK(back.service.service == "web");
  CHECK(back.service.failover.datacenters == std::vector<std::string>{"dc2"});
  for (size_t cut = 0; cut < wire.size(); ++cut)
    CHECK_FALSE(
        forward::decode_remote_query(std::string_view(wire).substr(0, cut), back, limit).ok());

  state::Store store = catalog();
  state::Batch rows = forward::query_result_rows(store, q.service, 0);
  CHECK(count<state::PutService>(rows) == 1);  // n2's web is critical
  CHECK(count<state::PutNode>(rows) == 1);
  state::Store there;
  there.apply(rows, 1);
  CHECK(state::execute_query(there, q.service).size() == 1);
}

TEST_CASE("failover tries the nearest N, then the listed datacenters that are known, once each") {
  std::vector<std::string> known = {"dc3", "dc2", "dc4"};  // nearest first
  CHECK(forward::plan_failover(known, 0, {"dc2", "dc9", "dc4"}) ==
        std::vector<std::string>{"dc2", "dc4"});
  CHECK(forward::plan_failover(known, 2, {"dc2", "dc4"}) ==
        std::vector<std::string>{"dc3", "dc2", "dc4"});
  CHECK(forward::plan_failover(known, 10, {}) == known);
  CHECK(forward::plan_failover({}, 3, {"dc2"}).empty());
}
