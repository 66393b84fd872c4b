// The etcd gateway codec against the shapes etcd 3.4.23's gateway produced in
// the probes of shared/reference/etcd.md (§2-§6).
#include <doctest/doctest.h>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "agent/etcd/stream_lines.h"

using namespace cairn::etcd;

TEST_CASE("prefix_end increments the last byte below 0xff") {
  CHECK(prefix_end("/cairn/kv/") == "/cairn/kv0");
  CHECK(prefix_end("a\xff") == "b");
  CHECK(prefix_end("\xff\xff") == std::string(1, '\0'));
  CHECK(prefix_end("") == std::string(1, '\0'));
}

namespace {

Compare guard(std::string key, Compare::Target target, int64_t number) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.number = number;
  return c;
}

}  // namespace

TEST_CASE("requests: base64 keys, int64s as strings, zero values omitted") {
  std::string out;
  RangeRequest range;
  range.key = "/cairn/";
  range.range_end = prefix_end("/cairn/");
  range.revision = 42;
  range.serializable = true;
  encode_range(out, range);
  CHECK(out ==
        R"({"key":"L2NhaXJuLw==","range_end":"L2NhaXJuMA==","revision":"42","serializable":true})");

  out.clear();
  PutRequest put;
  put.key = "k";
  put.lease = 7587862345678901234;
  encode_put(out, put);
  CHECK(out == R"({"key":"aw==","lease":"7587862345678901234"})");

  out.clear();
  TxnRequest txn;
  txn.compare.push_back(guard("a", Compare::Target::mod, 41));
  txn.compare.push_back(guard("b", Compare::Target::create, 0));
  PutRequest put_a;
  put_a.key = "a";
  put_a.value = "v";
  txn.success.emplace_back(put_a);
  DeleteRangeRequest del_b;
  del_b.key = "b";
  txn.success.emplace_back(del_b);
  RangeRequest get_a;
  get_a.key = "a";
  txn.failure.emplace_back(get_a);
  encode_txn(out, txn);
  CHECK(
      out ==
      R"({"compare":[{"key":"YQ==","target":"MOD","result":"EQUAL","mod_revision":"41"},)"
      R"({"key":"Yg==","target":"CREATE","result":"EQUAL","create_revision":"0"}],)"
      R"("success":[{"request_put":{"key":"YQ==","value":"dg=="}},{"request_delete_range":{"key":"Yg=="}}],)"
      R"("failure":[{"request_range":{"key":"YQ=="}}]})");

  out.clear();
  WatchCreateRequest watch;
  watch.key = std::string(1, '\0');
  watch.range_end = std::string(1, '\0');
  watch.start_revision = 40;
  watch.prev_kv = true;
  watch.progress_notify = true;
  encode_watch_create(out, watch);
  CHECK(
      out ==
      R"({"create_request":{"key":"AA==","range_end":"AA==","start_revision":"40","prev_kv":true,"progress_notify":true}})");

  out.clear();
  encode_lease_keepalive(out, {1, 2});
  CHECK(out == R"({"ID":"1"}{"ID":"2"})");
}

TEST_CASE("range: kvs decoded, absent fields are zero") {
  RangeResponse r;
  auto st = decode_range(
      R"({"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"33","raft_term":"2"},)"
      R"("kvs":[{"key":"Zm9v","create_revision":"30","mod_revision":"33","version":"4","value":"YmFy"}],"count":"1"})",
      r);
  REQUIRE(st.ok());
  CHECK(r.header.cluster_id == 14841639068965178418ull);
  CHECK(r.header.revision == 33);
  REQUIRE(r.kvs.size() == 1);
  CHECK(r.kvs[0].key == "foo");
  CHECK(r.kvs[0].value == "bar");
  CHECK(r.kvs[0].version == 4);
  CHECK(r.kvs[0].lease == 0);
  CHECK_FALSE(r.more);

  REQUIRE(decode_range(R"({"header":{"revision":"5"}})", r).ok());
  CHECK(r.kvs.empty());
  CHECK(r.count == 0);
}

TEST_CASE("txn: a failed compare has no succeeded field") {
  TxnResponse t;
  REQUIRE(
      decode_txn(
          R"({"header":{"revision":"9"},"responses":[{"response_range":{"header":{"revision":"9"},)"
          R"("kvs":[{"key":"YQ==","mod_revision":"8","create_revision":"2","version":"3"}],"count":"1"}}]})",
          t)
          .ok());
  CHECK_FALSE(t.succeeded);
  REQUIRE(t.responses.size() == 1);
  const auto& range = std::get<RangeResponse>(t.responses[0]);
  CHECK(range.kvs.at(0).mod_revision == 8);

  REQUIRE(
      decode_txn(
          R"({"header":{"revision":"10"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"10"}}},)"
          R"({"response_delete_range":{"header":{"revision":"10"},"deleted":"1"}}]})",
          t)
          .ok());
  CHECK(t.succeeded);
  CHECK(std::get<DeleteRangeResponse>(t.responses[1]).deleted == 1);
}

TEST_CASE("watch messages: created, events, progress, cancel after compaction") {
  WatchMessage m;
  REQUIRE(
      decode_watch_message(R"({"result":{"header":{"revision":"39"},"created":true}})", m).ok());
  CHECK(m.created);
  CHECK(m.watch_id == 0);
  CHECK_FALSE(m.is_progress());

  REQUIRE(
      decode_watch_message(
          R"({"result":{"header":{"revision":"42"},"events":[{"type":"DELETE","kv":{"key":"YQ==","mod_revision":"42"},)"
          R"("prev_kv":{"key":"YQ==","create_revision":"40","mod_revision":"41","version":"2","value":"dg=="}}]}})",
          m)
          .ok());
  REQUIRE(m.events.size() == 1);
  CHECK(m.events[0].type == WatchEvent::Type::del);
  CHECK(m.events[0].kv.mod_revision == 42);
  REQUIRE(m.events[0].prev_kv);
  CHECK(m.events[0].prev_kv->value == "v");

  REQUIRE(
      decode_watch_message(R"({"result":{"header":{"revision":"50"},"watch_id":"-1"}})", m).ok());
  CHECK(m.is_progress());
  CHECK(m.header.revision == 50);

  REQUIRE(
      decode_watch_message(
          R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"44"}})", m)
          .ok());
  CHECK(m.canceled);
  CHECK(m.compact_revision == 44);
}

TEST_CASE("malformed gateway answers are errors, never silently wrong values") {
  WatchMessage m;
  CHECK(decode_watch_message("", m).code == DecodeStatus::Code::malformed);
  CHECK(decode_watch_message("[1]", m).code == DecodeStatus::Code::malformed);
  CHECK(decode_watch_message(R"({"result":{"header":{"revision":"4x"}}})", m).code ==
        DecodeStatus::Code::malformed);
  CHECK(decode_watch_message(R"({"result":{"header":{"revision":"-4"}}})", m).code ==
        DecodeStatus::Code::malformed);
  // URL-safe base64 is not what the gateway writes.
  CHECK(
      decode_watch_message(R"({"result":{"events":[{"kv":{"key":"-_8=","mod_revision":"3"}}]}})", m)
          .code == DecodeStatus::Code::malformed);
  // A catching-up watch packs several revisions into one message, in order
  // (seen on a member that started behind); out of order would misnumber rows.
  REQUIRE(decode_watch_message(R"({"result":{"events":[{"kv":{"key":"YQ==","mod_revision":"3"}},)"
                               R"({"kv":{"key":"Yg==","mod_revision":"4"}}]}})",
                               m)
              .ok());
  CHECK(m.events.size() == 2);
  CHECK(decode_watch_message(R"({"result":{"events":[{"kv":{"key":"YQ==","mod_revision":"4"}},)"
                             R"({"kv":{"key":"Yg==","mod_revision":"3"}}]}})",
                             m)
            .code == DecodeStatus::Code::malformed);
  CHECK(decode_watch_message(
            R"({"result":{"events":[{"type":"BOGUS","kv":{"key":"YQ==","mod_revision":"3"}}]}})", m)
            .code == DecodeStatus::Code::malformed);
  RangeResponse r;
  CHECK(decode_range(R"({"header":{"revision":"5"},"kvs":{"key":"YQ=="}})", r).code ==
        DecodeStatus::Code::malformed);
  CHECK(decode_range(R"({"header":{"revision":"5"},"kvs":[{"key":"YQ==")", r).code ==
        DecodeStatus::Code::malformed);
}

TEST_CASE("the gateway's error objects become rpc_error with the gRPC code") {
  TxnResponse t;
  auto st = decode_txn(
      R"({"error":"etcdserver: mvcc: database space exceeded","message":"etcdserver: mvcc: database space exceeded","code":8})",
      t);
  CHECK(st.code == DecodeStatus::Code::rpc_error);
  CHECK(st.grpc_code == grpc_code::resource_exhausted);
  CHECK(st.message == "etcdserver: mvcc: database space exceeded");

  WatchMessage m;
  st = decode_watch_message(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})",
      m);
  CHECK(st.code == DecodeStatus::Code::rpc_error);
  CHECK(st.grpc_code == grpc_code::unavailable);
}

TEST_CASE("lease keepalive: an unknown lease has no TTL; member list") {
  LeaseKeepAliveResponse k;
  REQUIRE(decode_lease_keepalive(
              R"({"result":{"header":{"revision":"3"},"ID":"7587862345678901234"}})", k)
              .ok());
  CHECK(k.id == 7587862345678901234);
  CHECK(k.ttl == 0);

  MemberListResponse ml;
  REQUIRE(
      decode_member_list(
          R"({"header":{"raft_term":"2"},"members":[{"ID":"4670982876248546972","peerURLs":["http://127.0.0.2:8380"],)"
          R"("isLearner":true},{"ID":"1","name":"s1","peerURLs":["http://127.0.0.1:8380"],"clientURLs":["http://127.0.0.1:2379"]}]})",
          ml)
          .ok());
  REQUIRE(ml.members.size() == 2);
  CHECK(ml.members[0].id == 4670982876248546972ull);
  CHECK(ml.members[0].is_learner);
  CHECK(ml.members[0].name.empty());
  CHECK(ml.members[1].client_urls.at(0) == "http://127.0.0.1:2379");
}

TEST_CASE("maintenance answers: the NOSPACE alarm and the member's space") {
  // As the probe saw them (reference §7, pitfall 12): no alarm is {} without a header.
  AlarmResponse none;
  REQUIRE(decode_alarm("{}", none).ok());
  CHECK(none.alarms.empty());
  AlarmResponse raised;
  REQUIRE(
      decode_alarm(
          R"({"header":{"revision":"9"},"alarms":[{"memberID":"10276657743932975437","alarm":"NOSPACE"}]})",
          raised)
          .ok());
  REQUIRE(raised.alarms.size() == 1);
  CHECK(raised.alarms[0].member_id == 10276657743932975437ull);
  CHECK(raised.alarms[0].alarm == "NOSPACE");
  StatusResponse st;
  REQUIRE(decode_status(
              R"({"header":{"revision":"9"},"version":"3.4.23","dbSize":"5505024","leader":"7",)"
              R"("dbSizeInUse":"20480","errors":["memberID:7 alarm:NOSPACE "]})",
              st)
              .ok());
  CHECK(st.db_size == 5505024);
  CHECK(st.db_size_in_use == 20480);
  CHECK(st.errors.size() == 1);
  CHECK_FALSE(decode_status(R"({"dbSize":"-1"})", st).ok());
  std::string body;
  encode_alarm_disarm(body, 7, "NOSPACE");
  CHECK(body == R"({"action":"DEACTIVATE","memberID":"7","alarm":"NOSPACE"})");
}

TEST_CASE("stream lines: messages split across reads, several in one read, bounded") {
  StreamLines lines(16);
  std::vector<std::string> got;
  auto collect = [&](std::string_view l) { got.emplace_back(l); };
  CHECK(lines.feed("{\"a\":1}\n{\"b\"", collect));
  CHECK(got == std::vector<std::string>{"{\"a\":1}"});
  CHECK(lines.feed(":2}\n\n{}\n", collect));
  CHECK(got == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{}"});
  CHECK(lines.buffered() == 0);

  CHECK(lines.feed("0123456789", collect));
  CHECK_FALSE(lines.feed("0123456789", collect));
  CHECK(lines.overflowed());
  CHECK(lines.buffered() == 0);
  CHECK_FALSE(lines.feed("{}\n", collect));  // a dropped stream stays dropped
  CHECK(got.size() == 3);
}
