// The server session driven through the transport seam, no sockets: a raw
// HTTP/2 client sends what a cairn client never would.
#include "agent/rpc/server_session.h"

#include <doctest/doctest.h>

#include <memory>

#include "agent/rpc/memory_transport.h"
#include "raw_client.h"
#include "test_loop.h"

namespace cairn::rpc {

namespace {

struct MemoryServer {
  test::TestLoop loop;
  Router router;
  ServerStats stats;
  MemoryTransport* transport = nullptr;  // owned by the session
  std::shared_ptr<ServerSession> session;
  test::RawClient client;

  explicit MemoryServer(ServerSettings settings = {}) {
    router.add("Echo", [](Request&& r, Responder resp) { resp.reply(std::move(r.body)); });
    auto t = std::make_unique<MemoryTransport>("192.0.2.7:4000");
    transport = t.get();
    session =
        std::make_shared<ServerSession>(loop.get(), std::move(t), settings, router, stats, nullptr);
    REQUIRE(session->start());
  }
  // Moves bytes both ways until both sides are quiet.
  void pump() {
    for (int i = 0; i < 100; ++i) {
      std::string out = client.output();
      if (!out.empty() && !transport->is_closed())
        transport->deliver(reinterpret_cast<const uint8_t*>(out.data()), out.size());
      uv_run(loop.get(), UV_RUN_NOWAIT);  // deferred flushes
      std::string back = transport->take_written();
      if (!back.empty()) client.input(back);
      if (out.empty() && back.empty()) return;
    }
  }
  const test::RawClient::Response& response(int32_t id) { return client.responses[id]; }
};

}  // namespace

TEST_CASE("a call with the right version, path and method is answered") {
  MemoryServer s;
  auto id = s.client.request(test::RawClient::rpc_headers("Echo"), "ping");
  s.pump();
  auto& r = s.response(id);
  CHECK(r.closed);
  CHECK(r.headers.at(":status") == "200");
  CHECK(r.headers.at("cairn-status") == "ok");
  CHECK(r.body == "ping");
  CHECK(s.stats.calls == 1);
}

TEST_CASE("a request is checked before any handler runs") {
  MemoryServer s;
  auto wrong_version = s.client.request(test::RawClient::rpc_headers("Echo", "2"), "x");
  auto headers = test::RawClient::rpc_headers("Echo");
  headers.pop_back();
  auto no_version = s.client.request(headers, "x");
  auto unknown = s.client.request(test::RawClient::rpc_headers("Nope"));
  auto bad_path = s.client.request(test::RawClient::rpc_headers("a/b"));
  auto get = test::RawClient::rpc_headers("Echo");
  get[0].second = "GET";
  auto not_post = s.client.request(get);
  s.pump();
  CHECK(s.response(wrong_version).headers.at("cairn-status") == "version_mismatch");
  CHECK(s.response(wrong_version).headers.at("cairn-message").find("cairn-rpc 1") !=
        std::string::npos);
  CHECK(s.response(no_version).headers.at("cairn-status") == "version_mismatch");
  CHECK(s.response(unknown).headers.at("cairn-status") == "not_found");
  CHECK(s.response(bad_path).headers.at("cairn-status") == "bad_request");
  CHECK(s.response(not_post).headers.at("cairn-status") == "bad_request");
  CHECK(s.stats.calls == 0);
  CHECK(s.stats.rejected_calls == 5);
  CHECK(s.stats.version_mismatches == 2);
  CHECK(s.stats.not_found == 1);
  // The connection still serves.
  auto ok = s.client.request(test::RawClient::rpc_headers("Echo"), "still");
  s.pump();
  CHECK(s.response(ok).body == "still");
}

TEST_CASE("a declared body over the bound is refused before it arrives") {
  ServerSettings settings;
  settings.max_message_bytes = 1000;
  MemoryServer s(settings);
  auto id = s.client.request(test::RawClient::rpc_headers("Echo"), std::string(5000, 'b'));
  s.pump();
  CHECK(s.response(id).headers.at("cairn-status") == "too_large");
  CHECK(s.stats.too_large == 1);
  CHECK(s.session->queued_bytes() == 0);
}

TEST_CASE("streams past max_concurrent_streams are refused, not queued") {
  ServerSettings settings;
  settings.max_concurrent_streams = 2;
  MemoryServer s(settings);
  std::vector<Responder> parked;
  s.router.add("Park", [&](Request&&, Responder r) { parked.push_back(std::move(r)); });
  // Sent before the server's SETTINGS arrive, as a hostile client would.
  std::vector<int32_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(s.client.request(test::RawClient::rpc_headers("Park")));
  s.pump();
  CHECK(parked.size() == 2);
  size_t refused = 0;
  for (auto id : ids)
    if (s.response(id).closed && s.response(id).error_code == NGHTTP2_REFUSED_STREAM) ++refused;
  CHECK(refused == 3);
  for (auto& r : parked) r.reply("done");
  parked.clear();
  s.pump();
  CHECK(s.session->open_calls() == 0);
  CHECK_FALSE(s.session->closed());
}

TEST_CASE("garbage closes the connection, nothing else") {
  MemoryServer s;
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  s.transport->deliver(reinterpret_cast<const uint8_t*>(junk.data()), junk.size());
  CHECK(s.session->closed());
  CHECK(s.stats.protocol_errors == 1);
}

TEST_CASE("a client reset cancels the parked call") {
  MemoryServer s;
  Responder parked;
  Status cancelled;
  bool heard = false;
  s.router.add("Park", [&](Request&&, Responder r) {
    parked = r;
    parked.on_cancel([&](const Status& st) {
      heard = true;
      cancelled = st;
    });
  });
  auto id = s.client.request(test::RawClient::rpc_headers("Park"));
  s.pump();
  REQUIRE(parked.active());
  s.client.reset(id);
  s.pump();
  CHECK(heard);
  CHECK(cancelled.code == Status::Code::cancelled);
  CHECK_FALSE(parked.active());
  parked.reply("too late");  // ignored
  s.pump();
  CHECK(s.stats.cancelled == 1);
}

TEST_CASE("a handler that drops its responder answers internal") {
  MemoryServer s;
  s.router.add("Drop", [](Request&&, Responder) {});
  auto id = s.client.request(test::RawClient::rpc_headers("Drop"));
  s.pump();
  CHECK(s.response(id).headers.at("cairn-status") == "internal");
}

TEST_CASE("a handler that throws answers internal and the connection lives") {
  MemoryServer s;
  s.router.add("Throw", [](Request&&, Responder) { throw std::runtime_error("boom"); });
  auto id = s.client.request(test::RawClient::rpc_headers("Throw"));
  auto ok = s.client.request(test::RawClient::rpc_headers("Echo"), "after");
  s.pump();
  CHECK(s.response(id).headers.at("cairn-status") == "internal");
  CHECK(s.response(id).headers.at("cairn-message") == "boom");
  CHECK(s.response(ok).body == "after");
}

TEST_CASE("a stream ends with trailers carrying its status") {
  MemoryServer s;
  s.router.add_stream("Count", [](Request&&, StreamWriter w) {
    w.send("one");
    w.send("two");
    w.close(Status(Status::Code::not_found, "gone"));
  });
  auto id = s.client.request(test::RawClient::rpc_headers("Count"));
  s.pump();
  auto& r = s.response(id);
  CHECK(r.headers.at("cairn-status") == "ok");
  CHECK(r.body == std::string("\0\0\0\3one\0\0\0\3two", 14));
  CHECK(r.trailers.at("cairn-status") == "not_found");
  CHECK(r.trailers.at("cairn-message") == "gone");
}

TEST_CASE("the peer address reaches the handler") {
  MemoryServer s;
  std::string peer;
  s.router.add("Peer", [&](Request&& r, Responder resp) {
    peer = r.peer;
    resp.reply({});
  });
  s.client.request(test::RawClient::rpc_headers("Peer"));
  s.pump();
  CHECK(peer == "192.0.2.7:4000");
}

}  // namespace cairn::rpc
