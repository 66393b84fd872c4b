// /v1/txn bodies: every kind of operation decodes, with Consul's field names.
#include "agent/http/txn_body.h"

#include <doctest/doctest.h>

using namespace cairn;
using namespace cairn::http_api;

TEST_CASE("Node, Service and Check operations decode beside KV ones") {
  TxnBody body;
  ops::OpError err;
  REQUIRE(parse_txn_body(
      R"([{"KV":{"Verb":"get","Key":"k"}},
          {"Node":{"Verb":"cas","Node":{"ID":"","Node":"foo","Address":"2.2.2.2",
                   "TaggedAddresses":null,"Meta":{"rack":"r1"},"ModifyIndex":7}}},
          {"Service":{"Verb":"set","Node":"foo","Service":{"ID":"foo1","Service":"foo",
                      "Tags":["a"],"Port":80,"Weights":{"Passing":0,"Warning":0},
                      "Locality":{"Region":"us"},"ModifyIndex":0}}},
          {"Check":{"Verb":"delete-cas","Check":{"Node":"foo","CheckID":"bar","Status":"passing",
                    "ServiceID":"foo1","Definition":{"TCP":"1.1.1.1:80","Interval":"5s"},
                    "ModifyIndex":9}}}])",
      body, err, "dc1"));
  REQUIRE(body.ops.size() == 4);
  CHECK_FALSE(body.read_only);
  const auto& node = std::get<state::NodeTxnOp>(body.ops[1]);
  CHECK(node.verb == state::CatalogVerb::cas);
  CHECK(node.node.name == "foo");
  CHECK(node.node.datacenter == "dc1");  // the agent's, when the client gives none
  CHECK(node.node.meta.at("rack") == "r1");
  CHECK(node.node.raft.modify_index == 7);
  const auto& svc = std::get<state::ServiceTxnOp>(body.ops[2]);
  CHECK(svc.node == "foo");
  CHECK(svc.service.name == "foo");
  CHECK(svc.service.port == 80);
  CHECK(svc.service.locality.region == "us");
  const auto& check = std::get<state::CheckTxnOp>(body.ops[3]);
  CHECK(check.verb == state::CatalogVerb::delete_cas);
  CHECK(check.check.check_id == "bar");
  CHECK(check.check.type == "tcp");
  CHECK(check.check.definition->interval == 5 * kSecond);
  CHECK(check.check.raft.modify_index == 9);
}

TEST_CASE("a read-only transaction of gets; unknown verbs are refused") {
  TxnBody body;
  ops::OpError err;
  REQUIRE(parse_txn_body(R"([{"Node":{"Verb":"get","Node":{"Node":"a"}}}])", body, err));
  CHECK(body.read_only);
  TxnBody bad;
  CHECK_FALSE(parse_txn_body(R"([{"Service":{"Verb":"get-tree","Node":"a"}}])", bad, err));
  CHECK(err.http_status() == 400);
  CHECK(err.message.find("unknown Service verb \"get-tree\"") != std::string::npos);
}

TEST_CASE("the limits of a registration apply to catalog operations") {
  TxnBody body;
  ops::OpError err;
  std::string long_name(state::kMaxIdentifierBytes + 1, 'x');
  CHECK_FALSE(parse_txn_body(
      R"([{"Node":{"Verb":"set","Node":{"Node":")" + long_name + R"(","Address":"1.1.1.1"}}}])",
      body, err));
  CHECK(err.code == ops::OpErrorCode::limit);
  CHECK(err.message.rfind("Operation 0: ", 0) == 0);
}
