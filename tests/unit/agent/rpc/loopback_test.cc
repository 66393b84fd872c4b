// Client Connection against Server over real loopback sockets, one loop.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/rpc/connection.h"
#include "agent/rpc/server.h"
#include "common/net/address.h"
#include "test_loop.h"

namespace cairn::rpc {

namespace {

using Code = Status::Code;

// What one unary call came back with.
struct Answer {
  bool done = false;
  Status status;
  std::string body;
  Connection::CallCallback callback() {
    return [this](Status s, std::string b) {
      done = true;
      status = std::move(s);
      body = std::move(b);
    };
  }
};

// What one stream delivered.
struct Received {
  std::vector<std::string> messages;
  std::optional<Status> end;
  Connection::MessageCallback on_message() {
    return [this](std::string_view m) { messages.emplace_back(m); };
  }
  Connection::EndCallback on_end() {
    return [this](Status s) { end = std::move(s); };
  }
};

struct Loopback {
  test::TestLoop loop;  // first: destroyed last
  std::unique_ptr<Server> server;
  std::unique_ptr<Connection> conn;

  explicit Loopback(ServerSettings settings = {}) {
    server = std::make_unique<Server>(loop.get(), settings);
    server->handle("Echo", [](Request&& r, Responder resp) { resp.reply(std::move(r.body)); });
  }
  ~Loopback() {
    conn.reset();
    server.reset();
  }
  net::Endpoint endpoint() const { return *net::endpoint_of("127.0.0.1", server->port()); }
  Connection& connect(ConnectionSettings settings = {}) {
    if (server->port() == 0) REQUIRE(server->listen("127.0.0.1", 0).ok());
    conn = std::make_unique<Connection>(loop.get(), endpoint(), settings);
    return *conn;
  }
  bool wait(const std::function<bool()>& done, uint64_t ms = 10'000) {
    return loop.run_until(done, ms);
  }
};

// A port nothing listens on (bound once, then released).
uint16_t free_port(uv_loop_t* loop) {
  Server probe(loop);
  REQUIRE(probe.listen("127.0.0.1", 0).ok());
  return probe.port();
}

}  // namespace

TEST_CASE("1,000 concurrent calls over one connection are all answered") {
  Loopback t;
  Connection& conn = t.connect();
  std::vector<Answer> answers(1000);
  for (size_t i = 0; i < answers.size(); ++i)
    conn.call("Echo", "call " + std::to_string(i), 10'000, answers[i].callback());
  REQUIRE(t.wait([&] {
    for (auto& a : answers)
      if (!a.done) return false;
    return true;
  }));
  for (size_t i = 0; i < answers.size(); ++i) {
    CHECK(answers[i].status.ok());
    CHECK(answers[i].body == "call " + std::to_string(i));
  }
  CHECK(t.server->stats().connections_accepted == 1);
  CHECK(t.server->stats().calls == 1000);
  CHECK(conn.pending_calls() == 0);
}

TEST_CASE("an async handler answers later, and the callback never runs inside call()") {
  Loopback t;
  Timer later(t.loop.get());
  t.server->handle("Slow", [&](Request&& r, Responder resp) {
    later.start(50, 0, [resp, body = std::move(r.body)]() mutable { resp.reply("late " + body); });
  });
  Connection& conn = t.connect();
  Answer a;
  conn.call("Slow", "x", 5'000, a.callback());
  CHECK_FALSE(a.done);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(t.wait([&] { return a.done; }));
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(45));
  CHECK(a.status.ok());
  CHECK(a.body == "late x");
}

TEST_CASE("a stream delivers many messages in order, then its end") {
  Loopback t;
  constexpr int kCount = 20'000;
  t.server->handle_stream("Count", [](Request&&, StreamWriter w) {
    for (int i = 0; i < kCount; ++i) w.send("m" + std::to_string(i));
    w.close();
  });
  Connection& conn = t.connect();
  Received got;
  Stream s = conn.open_stream("Count", {}, got.on_message(), got.on_end());
  REQUIRE(t.wait([&] { return got.end.has_value(); }));
  CHECK(got.end->ok());
  REQUIRE(got.messages.size() == kCount);
  bool in_order = true;
  for (int i = 0; i < kCount; ++i)
    in_order = in_order && got.messages[i] == "m" + std::to_string(i);
  CHECK(in_order);
  CHECK_FALSE(s.active());
}

TEST_CASE("a stream's end status comes from the writer") {
  Loopback t;
  t.server->handle_stream("Fail", [](Request&&, StreamWriter w) {
    w.send("partial");
    w.close(Status(Code::permission_denied, "token lacks service:read"));
  });
  t.server->handle_stream("Refuse", [](Request&&, StreamWriter w) {
    w.close(Status(Code::bad_request, "no such service"));
  });
  Connection& conn = t.connect();
  Received fail, refuse;
  Stream a = conn.open_stream("Fail", {}, fail.on_message(), fail.on_end());
  Stream b = conn.open_stream("Refuse", {}, refuse.on_message(), refuse.on_end());
  REQUIRE(t.wait([&] { return fail.end && refuse.end; }));
  CHECK(fail.messages == std::vector<std::string>{"partial"});
  CHECK(fail.end->code == Code::permission_denied);
  CHECK(fail.end->message == "token lacks service:read");
  CHECK(refuse.messages.empty());
  CHECK(refuse.end->code == Code::bad_request);
}

TEST_CASE("cancelling a stream from the client reaches the server's on_cancel") {
  Loopback t;
  StreamWriter writer;
  std::optional<Status> cancelled;
  t.server->handle_stream("Watch", [&](Request&&, StreamWriter w) {
    writer = w;
    writer.on_cancel([&](const Status& s) { cancelled = s; });
    writer.send("snapshot");
  });
  Connection& conn = t.connect();
  Received got;
  {
    Stream s = conn.open_stream("Watch", {}, got.on_message(), got.on_end());
    REQUIRE(t.wait([&] { return got.messages.size() == 1; }));
    CHECK(s.active());
  }  // dropped: cancelled
  REQUIRE(t.wait([&] { return cancelled.has_value(); }));
  CHECK(cancelled->code == Code::cancelled);
  CHECK_FALSE(writer.open());
  CHECK(writer.send("more") == 0);
  CHECK_FALSE(got.end.has_value());  // the caller cancelled: no on_end
  // The connection carries on.
  Answer a;
  conn.call("Echo", "after", 5'000, a.callback());
  REQUIRE(t.wait([&] { return a.done; }));
  CHECK(a.body == "after");
}

TEST_CASE("an oversized request is too_large and the connection lives") {
  ServerSettings settings;
  settings.max_message_bytes = 64 * 1024;
  Loopback t(settings);
  Connection& conn = t.connect();
  Answer big, small;
  conn.call("Echo", std::string(100 * 1024, 'z'), 5'000, big.callback());
  conn.call("Echo", "small", 5'000, small.callback());
  REQUIRE(t.wait([&] { return big.done && small.done; }));
  CHECK(big.status.code == Code::too_large);
  CHECK(small.status.ok());
  CHECK(t.server->stats().too_large == 1);
  CHECK(t.server->stats().connections_accepted == 1);
  Answer again;
  conn.call("Echo", "again", 5'000, again.callback());
  REQUIRE(t.wait([&] { return again.done; }));
  CHECK(again.body == "again");
}

TEST_CASE("an answer over the client's bound is too_large") {
  Loopback t;
  t.server->handle("Big", [](Request&&, Responder r) { r.reply(std::string(200 * 1024, 'a')); });
  ConnectionSettings settings;
  settings.max_message_bytes = 100 * 1024;
  Connection& conn = t.connect(settings);
  Answer a, b;
  conn.call("Big", {}, 5'000, a.callback());
  REQUIRE(t.wait([&] { return a.done; }));
  CHECK(a.status.code == Code::too_large);
  conn.call("Echo", "fine", 5'000, b.callback());
  REQUIRE(t.wait([&] { return b.done; }));
  CHECK(b.status.ok());
}

TEST_CASE("an unknown method is not_found") {
  Loopback t;
  Connection& conn = t.connect();
  Answer a;
  conn.call("No.Such", "x", 5'000, a.callback());
  REQUIRE(t.wait([&] { return a.done; }));
  CHECK(a.status.code == Code::not_found);
  CHECK(a.status.message == "no method No.Such");
}

TEST_CASE("the token reaches the handler") {
  Loopback t;
  t.server->handle("Who", [](Request&& r, Responder resp) { resp.reply(r.token); });
  Connection& conn = t.connect();
  Answer a;
  conn.call("Who", {}, 5'000, a.callback(), "secret-token");
  REQUIRE(t.wait([&] { return a.done; }));
  CHECK(a.body == "secret-token");
}

TEST_CASE("a server closed mid-call: written calls unknown_outcome, unwritten unavailable") {
  ServerSettings settings;
  settings.max_concurrent_streams = 1;  // the second call waits in the client, unwritten
  Loopback t(settings);
  std::vector<Responder> parked;
  t.server->handle("Park", [&](Request&&, Responder r) { parked.push_back(r); });
  Connection& conn = t.connect();
  Answer sent, unsent;
  conn.call("Park", "a", 0, sent.callback());
  REQUIRE(t.wait([&] { return parked.size() == 1; }));
  conn.call("Park", "b", 0, unsent.callback());
  t.loop.run_for(50);
  CHECK(parked.size() == 1);
  t.server->close();
  REQUIRE(t.wait([&] { return sent.done && unsent.done; }));
  CHECK(sent.status.code == Code::unknown_outcome);
  CHECK(unsent.status.code == Code::unavailable);
  CHECK_FALSE(parked[0].active());
}

TEST_CASE("no server: unavailable") {
  test::TestLoop loop;
  uint16_t port = free_port(loop.get());
  Connection conn(loop.get(), *net::endpoint_of("127.0.0.1", port));
  Answer a;
  conn.call("Echo", "x", 5'000, a.callback());
  REQUIRE(loop.run_until([&] { return a.done; }));
  CHECK(a.status.code == Code::unavailable);
  CHECK(a.status.message.find("connection refused") != std::string::npos);
}

TEST_CASE("deadlines: timeout before the request is written, unknown_outcome after") {
  Loopback t;
  std::vector<Responder> parked;
  std::optional<Status> server_saw;
  t.server->handle("Park", [&](Request&&, Responder r) {
    r.on_cancel([&](const Status& s) { server_saw = s; });
    parked.push_back(r);
  });
  Connection& conn = t.connect();
  Answer a;
  conn.call("Park", "x", 100, a.callback());
  REQUIRE(t.wait([&] { return a.done; }));
  CHECK(a.status.code == Code::unknown_outcome);
  REQUIRE(t.wait([&] { return server_saw.has_value(); }));  // the RST_STREAM reached it

  // A dial that never completes: the request is never written.
  test::TestLoop loop;
  Dialer never = [](uv_loop_t*, DialCallback) { return std::make_shared<int>(0); };
  Connection stuck(loop.get(), "nowhere", never);
  Answer b;
  stuck.call("Echo", "x", 100, b.callback());
  REQUIRE(loop.run_until([&] { return b.done; }));
  CHECK(b.status.code == Code::timeout);
  CHECK(b.status.not_sent());
}

TEST_CASE("3 MiB bodies both ways under flow control") {
  Loopback t;
  Connection& conn = t.connect();
  std::string body(3 * 1024 * 1024, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + i / 4096);
  std::vector<Answer> answers(4);
  for (auto& a : answers) conn.call("Echo", body, 20'000, a.callback());
  REQUIRE(t.wait([&] {
    for (auto& a : answers)
      if (!a.done) return false;
    return true;
  }));
  for (auto& a : answers) {
    CHECK(a.status.ok());
    CHECK(a.body == body);
  }
}

TEST_CASE("a paused consumer: the writer sees its queue grow, then drain") {
  Loopback t;
  StreamWriter writer;
  t.server->handle_stream("Flood", [&](Request&&, StreamWriter w) { writer = w; });
  Connection& conn = t.connect();
  Received got;
  Stream s = conn.open_stream("Flood", {}, got.on_message(), got.on_end());
  s.pause();
  REQUIRE(t.wait([&] { return writer.open(); }));
  int writable = 0;
  writer.on_writable([&] { ++writable; });
  const std::string chunk(64 * 1024, 'f');
  constexpr int kChunks = 48;  // 3 MiB against a 1 MiB stream window
  size_t queued = 0;
  for (int i = 0; i < kChunks; ++i) queued = writer.send(chunk);
  CHECK(queued > 2 * 1024 * 1024);
  t.loop.run_for(200);
  // The client holds at most its window; the rest stays queued at the server.
  CHECK(writer.queued_bytes() >= 3 * 1024 * 1024 - 1024 * 1024 - 64 * 1024);
  CHECK(got.messages.empty());
  CHECK(writable == 0);
  s.resume();
  REQUIRE(t.wait([&] { return got.messages.size() == kChunks; }));
  CHECK(writer.queued_bytes() == 0);
  CHECK(writable >= 1);
  writer.close();
  REQUIRE(t.wait([&] { return got.end.has_value(); }));
  CHECK(got.end->ok());
}

TEST_CASE(
    "a client that never reads: the stream ends exhausted, the server's memory stays bounded") {
  ServerSettings settings;
  settings.max_stream_queued_bytes = 256 * 1024;
  Loopback t(settings);
  StreamWriter writer;
  std::optional<Status> cancelled;
  t.server->handle_stream("Flood", [&](Request&&, StreamWriter w) {
    writer = w;
    writer.on_cancel([&](const Status& s) { cancelled = s; });
  });
  Connection& conn = t.connect();
  Received got;
  Stream s = conn.open_stream("Flood", {}, got.on_message(), got.on_end());
  s.pause();
  REQUIRE(t.wait([&] { return writer.open(); }));
  const std::string chunk(64 * 1024, 'f');
  int sent = 0;
  while (writer.send(chunk) > 0 && sent < 1000) ++sent;
  CHECK(sent < 40);  // window (1 MiB) is not sent yet: all of it is queued here
  REQUIRE(cancelled.has_value());
  CHECK(cancelled->code == Code::exhausted);
  CHECK(t.server->stats().streams_exhausted == 1);
  REQUIRE(t.wait([&] { return got.end.has_value(); }));
  CHECK(got.end->code == Code::exhausted);
}

TEST_CASE("a silent server is noticed by the keepalive") {
  test::TestLoop loop;
  // Accepts and reads, never answers.
  UvHandle<uv_tcp_t> listener;
  uv_tcp_init(loop.get(), listener.get());
  listener.mark_initialized();
  auto any = *net::endpoint_of("127.0.0.1", 0);
  REQUIRE(uv_tcp_bind(listener.get(), any.sa(), 0) == 0);
  std::vector<std::unique_ptr<UvHandle<uv_tcp_t>>> accepted;
  listener.get()->data = &accepted;
  REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(listener.get()), 8, [](uv_stream_t* l, int) {
            auto* list = static_cast<std::vector<std::unique_ptr<UvHandle<uv_tcp_t>>>*>(l->data);
            auto c = std::make_unique<UvHandle<uv_tcp_t>>();
            uv_tcp_init(l->loop, c->get());
            c->mark_initialized();
            uv_accept(l, reinterpret_cast<uv_stream_t*>(c->get()));
            uv_read_start(
                reinterpret_cast<uv_stream_t*>(c->get()),
                [](uv_handle_t*, size_t, uv_buf_t* b) {
                  static char sink[65536];
                  *b = uv_buf_init(sink, sizeof sink);
                },
                [](uv_stream_t*, ssize_t, const uv_buf_t*) {});
            list->push_back(std::move(c));
          }) == 0);
  net::Endpoint at;
  int len = sizeof at.addr;
  uv_tcp_getsockname(listener.get(), reinterpret_cast<sockaddr*>(&at.addr), &len);

  ConnectionSettings settings;
  settings.keepalive_interval_ms = 100;
  settings.keepalive_timeout_ms = 200;
  Connection conn(loop.get(), at, settings);
  Answer a;
  conn.call("Echo", "x", 0, a.callback());
  auto start = std::chrono::steady_clock::now();
  REQUIRE(loop.run_until([&] { return a.done; }, 5'000));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(a.status.code == Code::unknown_outcome);
  CHECK(a.status.message.find("keepalive") != std::string::npos);
  CHECK(took >= std::chrono::milliseconds(250));
  CHECK(took < std::chrono::milliseconds(1500));
}

TEST_CASE("graceful shutdown: streams end unavailable, calls in flight answer, then done") {
  Loopback t;
  Responder parked;
  t.server->handle("Park", [&](Request&&, Responder r) { parked = r; });
  StreamWriter writer;
  std::optional<Status> writer_heard;
  t.server->handle_stream("Watch", [&](Request&&, StreamWriter w) {
    writer = w;
    writer.on_cancel([&](const Status& s) { writer_heard = s; });
  });
  Connection& conn = t.connect();
  Answer in_flight;
  conn.call("Park", "x", 0, in_flight.callback());
  Received sub;
  Stream s = conn.open_stream("Watch", {}, sub.on_message(), sub.on_end());
  REQUIRE(t.wait([&] { return parked.active() && writer.open(); }));
  bool done = false;
  t.server->shutdown([&] { done = true; });
  REQUIRE(t.wait([&] { return sub.end.has_value(); }));
  CHECK(sub.end->code == Code::unavailable);
  CHECK(writer_heard.has_value());
  CHECK_FALSE(done);
  CHECK_FALSE(in_flight.done);
  parked.reply("finished");
  REQUIRE(t.wait([&] { return in_flight.done && done; }));
  CHECK(in_flight.status.ok());
  CHECK(in_flight.body == "finished");
  CHECK(t.server->connections() == 0);
  // Nobody listens any more.
  Answer after;
  conn.call("Echo", "x", 5'000, after.callback());
  REQUIRE(t.wait([&] { return after.done; }));
  CHECK(after.status.code == Code::unavailable);
}

TEST_CASE("listening on a port in use names the problem") {
  Loopback t;
  REQUIRE(t.server->listen("127.0.0.1", 0).ok());
  Server other(t.loop.get());
  Status st = other.listen("127.0.0.1", t.server->port());
  CHECK(st.code == Code::unavailable);
  CHECK(st.message ==
        "listen 127.0.0.1:" + std::to_string(t.server->port()) + ": address already in use");
  CHECK(other.listen("not-an-ip", 1).code == Code::bad_request);
}

TEST_CASE("past max_connections a client is told nothing ran (unavailable)") {
  ServerSettings settings;
  settings.max_connections = 1;
  Loopback t(settings);
  Connection& first = t.connect();
  Answer a;
  first.call("Echo", "1", 5'000, a.callback());
  REQUIRE(t.wait([&] { return a.done; }));
  CHECK(a.status.ok());
  Connection second(t.loop.get(), t.endpoint());
  Answer b;
  second.call("Echo", "2", 5'000, b.callback());
  REQUIRE(t.wait([&] { return b.done; }));
  INFO(b.status.to_string());
  CHECK(b.status.code == Code::unavailable);
  CHECK(t.server->stats().connections_rejected == 1);
}

TEST_CASE("after the server restarts, the next call reconnects") {
  Loopback t;
  Connection& conn = t.connect();
  uint16_t port = t.server->port();
  Answer a;
  conn.call("Echo", "1", 5'000, a.callback());
  REQUIRE(t.wait([&] { return a.done; }));
  CHECK(conn.connected());
  CHECK(conn.last_contact_ms() > 0);
  t.server.reset();
  REQUIRE(t.wait([&] { return !conn.connected(); }));
  t.server = std::make_unique<Server>(t.loop.get());
  t.server->handle("Echo", [](Request&& r, Responder resp) { resp.reply(std::move(r.body)); });
  REQUIRE(t.server->listen("127.0.0.1", port).ok());
  Answer b;
  conn.call("Echo", "2", 5'000, b.callback());
  REQUIRE(t.wait([&] { return b.done; }));
  CHECK(b.status.ok());
  CHECK(b.body == "2");
}

TEST_CASE("destroying the connection runs no callbacks; the server hears the cancel") {
  Loopback t;
  std::optional<Status> server_saw;
  std::vector<Responder> parked;
  t.server->handle("Park", [&](Request&&, Responder r) {
    r.on_cancel([&](const Status& s) { server_saw = s; });
    parked.push_back(r);
  });
  t.connect();
  Answer a;
  t.conn->call("Park", "x", 0, a.callback());
  REQUIRE(t.wait([&] { return t.server->stats().calls == 1; }));
  t.conn.reset();
  REQUIRE(t.wait([&] { return server_saw.has_value(); }));
  CHECK_FALSE(a.done);
}

}  // namespace cairn::rpc
