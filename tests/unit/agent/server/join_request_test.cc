#include "agent/server/join_request.h"

#include <doctest/doctest.h>

using namespace cairn::server;

TEST_CASE("a join request and its answer survive the round trip") {
  JoinRequest req{"s3", "dc1", "http://127.0.0.5:8380"};
  JoinRequest back;
  REQUIRE(decode_join_request(encode_join_request(req), back) == "");
  CHECK(back.name == "s3");
  CHECK(back.datacenter == "dc1");
  CHECK(back.peer_url == "http://127.0.0.5:8380");

  JoinAnswer a;
  a.initial_cluster = {{"s0", "http://127.0.0.2:8380"}, {"s3", "http://127.0.0.5:8380"}};
  JoinAnswer a2;
  REQUIRE(decode_join_answer(encode_join_answer(a), a2) == "");
  CHECK(a2.initial_cluster == a.initial_cluster);
  CHECK(a2.error.empty());

  JoinAnswer refused;
  refused.error = "etcdserver: unhealthy cluster";
  REQUIRE(decode_join_answer(encode_join_answer(refused), a2) == "");
  CHECK(a2.error == "etcdserver: unhealthy cluster");
}

TEST_CASE("malformed join payloads are refused with a reason") {
  JoinRequest r;
  CHECK(decode_join_request("", r) != "");
  CHECK(decode_join_request("[]", r) != "");
  CHECK(decode_join_request(R"({"Name":"s3","PeerURL":"127.0.0.5:8380"})", r) != "");
  CHECK(decode_join_request(R"({"PeerURL":"http://127.0.0.5:8380"})", r) == "Name is missing");
  CHECK(decode_join_request(R"({"Name":3,"PeerURL":"http://x:1"})", r) != "");
  JoinAnswer a;
  CHECK(decode_join_answer(R"({"Members":[]})", a) != "");
  CHECK(decode_join_answer(R"({"Members":[{"Name":"s0"}]})", a) != "");
  CHECK(decode_join_answer(R"({"Members":"s0"})", a) != "");
}
