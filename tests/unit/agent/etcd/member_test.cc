// A real etcd member (Debian's etcd-server) under MemberProcess, reached
// through GatewayClient on its unix socket: the pieces server mode is built
// from, against the real thing rather than a fake store.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

#include "agent/etcd/gateway_client.h"
#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "agent/etcd/member_process.h"
#include "agent/etcd/stream_lines.h"
#include "tests/unit/agent/etcd/etcd_test_member.h"

using namespace cairn;
using namespace cairn::etcd;
using namespace cairn::etcd::testing;

TEST_CASE(
    "a managed member serves txn, range and a watch on its unix socket, and survives kill -9") {
  TempDir dir;
  uv_loop_t* loop = uv_default_loop();
  MemberConfig config = single_member(dir);
  int started = 0;
  MemberProcess::Events events;
  events.on_started = [&](int64_t) { ++started; };
  MemberProcess member(loop, config, events);
  member.start();
  REQUIRE(member.state() == MemberProcess::State::running);

  ClientEndpoint endpoint;
  endpoint.unix_socket = client_socket_path(config.run_dir);
  GatewayClient client(loop, endpoint);
  REQUIRE_MESSAGE(wait_ready(loop, client, 15000), "etcd did not become ready");

  // A guarded create, then the same create again: the second compare fails.
  TxnRequest create;
  Compare absent;
  absent.key = "/cairn/kv/a";
  absent.target = Compare::Target::create;
  absent.number = 0;
  create.compare.push_back(absent);
  PutRequest put;
  put.key = "/cairn/kv/a";
  put.value = "one";
  create.success.emplace_back(put);
  RangeRequest get;
  get.key = "/cairn/kv/a";
  create.failure.emplace_back(get);
  std::string body;
  encode_txn(body, create);
  CallResult first = call_sync(loop, client, "/v3/kv/txn", body);
  REQUIRE(first.ok());
  TxnResponse txn;
  REQUIRE(decode_txn(first.body, txn).ok());
  CHECK(txn.succeeded);
  int64_t created_at = txn.header.revision;
  CHECK(created_at > 1);

  CallResult second = call_sync(loop, client, "/v3/kv/txn", body);
  REQUIRE(decode_txn(second.body, txn).ok());
  CHECK_FALSE(txn.succeeded);
  REQUIRE(txn.responses.size() == 1);
  CHECK(std::get<RangeResponse>(txn.responses[0]).kvs.at(0).mod_revision == created_at);

  // A watch from the next revision sees a put made after it opened.
  WatchCreateRequest w;
  w.key = "/cairn/";
  w.range_end = prefix_end("/cairn/");
  w.start_revision = created_at + 1;
  std::string watch_body;
  encode_watch_create(watch_body, w);
  StreamLines lines;
  std::vector<WatchMessage> messages;
  GatewayConnection::Handlers handlers;
  handlers.on_body = [&](std::string_view bytes) {
    lines.feed(bytes, [&](std::string_view line) {
      WatchMessage m;
      if (decode_watch_message(line, m).ok()) messages.push_back(std::move(m));
    });
  };
  auto stream = client.open_stream("/v3/watch", watch_body, handlers);
  REQUIRE(run_until(
      loop, [&] { return !messages.empty(); }, 5000));
  CHECK(messages.front().created);
  put.value = "two";
  body.clear();
  encode_put(body, put);
  REQUIRE(call_sync(loop, client, "/v3/kv/put", body).ok());
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return messages.size() >= 2; }, 5000),
                  "no watch event");
  REQUIRE(messages[1].events.size() == 1);
  CHECK(messages[1].events[0].kv.value == "two");
  CHECK(messages[1].events[0].kv.mod_revision == created_at + 1);
  stream->cancel();

  // kill -9: the supervisor restarts it and the data is still there.
  member.kill_now();
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return started == 2; }, 10000),
                  "member not restarted");
  CHECK(member.restarts() == 1);
  REQUIRE(wait_ready(loop, client, 15000));
  body.clear();
  encode_range(body, get);
  RangeResponse range;
  REQUIRE(decode_range(call_sync(loop, client, "/v3/kv/range", body).body, range).ok());
  REQUIRE(range.kvs.size() == 1);
  CHECK(range.kvs[0].value == "two");

  bool stopped = false;
  member.stop([&] { stopped = true; });
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return stopped; }, 15000),
                  "member did not stop");
  CHECK(member.state() == MemberProcess::State::stopped);
  CHECK(member.pid() == 0);

  // Nobody listens any more: a call says so without claiming an outcome.
  CallResult after = call_sync(loop, client, "/v3/kv/range", body);
  CHECK(after.transport == CallResult::Transport::connect_failed);
}

TEST_CASE("a missing etcd binary fails at once with the reason, and is not restarted") {
  TempDir dir;
  uv_loop_t* loop = uv_default_loop();
  MemberConfig config = single_member(dir);
  config.etcd_binary = "/nonexistent/etcd";
  std::string why;
  MemberProcess::Events events;
  events.on_failed = [&](const std::string& w) { why = w; };
  MemberProcess member(loop, config, events);
  member.start();
  CHECK(member.state() == MemberProcess::State::failed);
  CHECK(why.find("/nonexistent/etcd") != std::string::npos);
  CHECK(why.find("etcd-server") != std::string::npos);
}

TEST_CASE("a bad flag is reported as fatal, not restarted in a loop") {
  CHECK(classify_member_log_line("flag provided but not defined: -bogus") == MemberFatal::bad_flag);
  CHECK(classify_member_log_line("the member has been permanently removed from the cluster") ==
        MemberFatal::removed_from_cluster);
  CHECK(classify_member_log_line("lost TCP streaming connection with remote peer") ==
        MemberFatal::none);
}

TEST_CASE("zap lines become cairn log lines; anything else is relayed at error") {
  auto line = parse_member_log_line(
      R"({"level":"warn","ts":"2026-12-06T00:43:31.975Z","caller":"rafthttp/stream.go:436","msg":"lost TCP streaming connection","remote-peer-id":"a1"})");
  CHECK(line.level == log::Level::warn);
  CHECK(line.message == "lost TCP streaming connection");
  REQUIRE(line.fields.size() == 2);
  CHECK(line.fields[0].first == "caller");
  CHECK(line.fields[1].second == "a1");
  auto raw = parse_member_log_line("panic: runtime error");
  CHECK(raw.level == log::Level::error);
  CHECK(raw.message == "panic: runtime error");
}

TEST_CASE("the command line: unix client socket, peer URL on the LAN, the tuned timings") {
  MemberConfig c;
  c.name = "s1";
  c.data_dir = "/var/lib/cairn/etcd";
  c.run_dir = "/var/lib/cairn";
  c.peer_url = "http://10.0.0.1:8380";
  c.initial_cluster = {{"s1", "http://10.0.0.1:8380"}, {"s2", "http://10.0.0.2:8380"}};
  c.cluster_token = "cairn-dc1";
  auto args = member_command_line(c);
  auto value_of = [&](std::string_view flag) {
    for (size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == flag) return args[i + 1];
    return std::string();
  };
  CHECK(value_of("--listen-client-urls") == "unix://etcd-client.sock:0");
  CHECK(value_of("--listen-peer-urls") == "http://10.0.0.1:8380");
  CHECK(value_of("--initial-cluster") == "s1=http://10.0.0.1:8380,s2=http://10.0.0.2:8380");
  CHECK(value_of("--initial-cluster-state") == "new");
  CHECK(value_of("--election-timeout") == "500");
  // A snapshot restore is one transaction of every row (server/etcd_restore.h).
  CHECK(value_of("--max-txn-ops") == std::to_string(kMemberMaxTxnOps));
  CHECK(client_socket_path("/var/lib/cairn") == "/var/lib/cairn/etcd-client.sock:0");
}
