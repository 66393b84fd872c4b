// The watch feed against a real etcd member: a snapshot of /cairn/, then one
// batch per revision, progress for quiet revisions, a resumed stream after
// the member dies, and a new snapshot after compaction.
#include <doctest/doctest.h>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/member_process.h"
#include "agent/server/watch_feed.h"
#include "tests/unit/agent/etcd/etcd_test_member.h"

using namespace cairn;
using namespace cairn::etcd;
using namespace cairn::etcd::testing;
using namespace cairn::server;

namespace {

int64_t put_row(uv_loop_t* loop, GatewayClient& client, std::string key, std::string value) {
  PutRequest put;
  put.key = std::move(key);
  put.value = std::move(value);
  std::string body;
  encode_put(body, put);
  CallResult r = call_sync(loop, client, "/v3/kv/put", body);
  REQUIRE_MESSAGE(r.ok(), r.detail, r.body);
  PutResponse resp;
  REQUIRE(decode_put(r.body, resp).ok());
  return resp.header.revision;
}

std::string kv_value(const std::string& v) {
  state::KVEntry e;
  e.value = v;
  return encode_row(e);
}

struct Received {
  std::vector<std::pair<int64_t, size_t>> snapshots;  // revision, rows
  std::vector<std::pair<int64_t, state::Batch>> batches;
  int64_t progress = 0;
};

}  // namespace

TEST_CASE("the watch feed lists, then delivers each revision once, across a member restart") {
  uv_loop_t* loop = uv_default_loop();
  RunningMember etcd_member(loop);
  MemberProcess& member = etcd_member.member;
  GatewayClient& client = etcd_member.client;
  int& started = etcd_member.started;

  // More rows than one list page, a foreign key, and a row cairn cannot read.
  for (int i = 0; i < WatchFeed::kListPage + 5; ++i)
    put_row(loop, client, kv_row_key("k/" + std::to_string(i)), kv_value("v"));
  put_row(loop, client, "/not-cairn/x", "whatever");
  int64_t listed_at = put_row(loop, client, kv_row_key("bad"), "not json");

  Received got;
  WatchFeed::Sink sink;
  sink.on_snapshot = [&](int64_t rev, std::vector<state::Mutation> rows) {
    got.snapshots.emplace_back(rev, rows.size());
  };
  sink.on_batch = [&](int64_t rev, state::Batch b) { got.batches.emplace_back(rev, std::move(b)); };
  sink.on_progress = [&](int64_t rev) { got.progress = rev; };
  WatchFeed feed(loop, client, sink);
  feed.start();
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return feed.watching(); }, 10000),
                  "no watch");
  REQUIRE(got.snapshots.size() == 1);
  CHECK(got.snapshots[0].first == listed_at);
  CHECK(got.snapshots[0].second == static_cast<size_t>(WatchFeed::kListPage + 5));
  CHECK(feed.counters().malformed_rows == 1);

  // One batch per revision, at that revision; a foreign write is an empty batch.
  int64_t r1 = put_row(loop, client, kv_row_key("k/new"), kv_value("x"));
  int64_t r2 = put_row(loop, client, "/not-cairn/y", "z");
  REQUIRE(run_until(
      loop, [&] { return feed.revision() >= r2; }, 5000));
  REQUIRE(got.batches.size() == 2);
  CHECK(got.batches[0].first == r1);
  REQUIRE(got.batches[0].second.size() == 1);
  const auto& put = std::get<state::PutKV>(got.batches[0].second[0]);
  CHECK(put.entry.key == "k/new");
  CHECK(put.entry.value == "x");
  CHECK(put.entry.raft.modify_index == static_cast<uint64_t>(r1));
  CHECK(got.batches[1].first == r2);
  CHECK(got.batches[1].second.empty());

  // A quiet stream still reports progress (the member sends it every second).
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return got.progress >= r2; }, 5000),
                  "no progress");

  // kill -9 of the member: the feed resumes after the restart without a new
  // list, and nothing is delivered twice or lost.
  member.kill_now();
  REQUIRE(run_until(
      loop, [&] { return started == 2; }, 10000));
  REQUIRE(wait_ready(loop, client, 15000));
  int64_t r3 = put_row(loop, client, kv_row_key("k/after"), kv_value("y"));
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return feed.revision() >= r3; }, 15000),
                  "no event after the restart");
  CHECK(got.snapshots.size() == 1);
  CHECK(got.batches.back().first == r3);
  for (size_t i = 1; i < got.batches.size(); ++i)
    CHECK(got.batches[i].first > got.batches[i - 1].first);
  CHECK(feed.counters().stream_restarts >= 1);

  // Compaction past the feed while it is not watching: it lists again.
  feed.stop();
  int64_t r4 = put_row(loop, client, kv_row_key("k/gone"), kv_value("z"));
  int64_t r5 = put_row(loop, client, kv_row_key("k/gone2"), kv_value("z"));
  std::string compact = R"({"revision":")" + std::to_string(r5) + R"(","physical":true})";
  REQUIRE(call_sync(loop, client, "/v3/kv/compaction", compact).ok());
  CHECK(r4 > feed.revision());
  feed.start();
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return got.snapshots.size() == 2 && feed.watching(); }, 10000),
                  "no new snapshot after compaction");
  CHECK(got.snapshots[1].first >= r5);
  CHECK(feed.counters().compactions == 1);

  feed.stop();
}
