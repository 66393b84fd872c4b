// UvTransport's inbound stream limits on a real loop and loopback sockets.
#include "agent/gossip/uv_transport.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/gossip/messages.h"

using namespace cairn::gossip;

namespace {

struct RecordingHandler : PacketHandler {
  std::vector<std::string> streams;
  void on_packet(const Address&, Bytes, Time) override {}
  std::string on_stream(const Address&, Bytes msg) override {
    streams.emplace_back(as_view(msg));
    return {};
  }
};

// A transport on 127.0.0.1 with its own loop.
struct TransportFixture {
  uv_loop_t loop{};
  RecordingHandler handler;
  std::unique_ptr<UvTransport> transport;
  std::vector<int> fds;

  explicit TransportFixture(const StreamLimits& limits,
                            Duration timeout = std::chrono::seconds(10)) {
    uv_loop_init(&loop);
    transport = std::make_unique<UvTransport>(&loop, &handler);
    transport->set_stream_limits(limits);
    transport->set_stream_timeout(timeout);
    REQUIRE(transport->bind(Address{0x7f000001, 0}) == 0);
  }
  ~TransportFixture() {
    for (int fd : fds) ::close(fd);
    transport.reset();
    uv_run(&loop, UV_RUN_DEFAULT);  // every handle closes; then nothing is left
    CHECK(uv_loop_close(&loop) == 0);
  }

  // A blocking client socket from 127.0.0.<host> (connected by the backlog).
  int connect_from(uint8_t host) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    fds.push_back(fd);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000000u | host);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(transport->bound_port());
    dst.sin_addr.s_addr = htonl(0x7f000001u);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0);
    return fd;
  }

  void send(int fd, const std::string& data) {
    REQUIRE(::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == ssize_t(data.size()));
  }

  // Runs the loop until cond holds (at most 3 s).
  bool run_until(const std::function<bool()>& cond) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!cond()) {
      if (std::chrono::steady_clock::now() > end) return false;
      uv_run(&loop, UV_RUN_NOWAIT);
      ::usleep(1000);
    }
    return true;
  }

  const StreamStats& stats() const { return transport->stream_stats(); }
};

}  // namespace

TEST_CASE("inbound streams are capped in total and per source address") {
  StreamLimits limits;
  limits.max_streams = 3;
  limits.max_streams_per_source = 2;
  TransportFixture f(limits);
  f.connect_from(1);
  f.connect_from(1);
  f.connect_from(1);  // a third from 127.0.0.1
  REQUIRE(f.run_until([&] { return f.stats().accepted + f.stats().refused_per_source == 3; }));
  CHECK(f.stats().accepted == 2);
  CHECK(f.stats().refused_per_source == 1);
  f.connect_from(2);
  f.connect_from(3);  // over the total
  REQUIRE(f.run_until([&] { return f.stats().refused_total == 1; }));
  CHECK(f.stats().accepted == 3);
  CHECK(f.stats().open == 3);
  // A refused connection is closed at once: the client reads end of stream.
  char b;
  CHECK(::recv(f.fds[4], &b, 1, 0) <= 0);
  // Closing one frees its slot, and its source's.
  ::close(f.fds[0]);
  f.fds[0] = -1;
  REQUIRE(f.run_until([&] { return f.stats().open == 2; }));
  f.connect_from(1);
  REQUIRE(f.run_until([&] { return f.stats().accepted == 4; }));
  CHECK(f.stats().refused_total + f.stats().refused_per_source == 2);
}

TEST_CASE("a stream over the message bound or the buffer budget is closed and counted") {
  StreamLimits limits;
  limits.max_message_bytes = 100 * 1024;
  limits.max_buffered_bytes = 160 * 1024;
  TransportFixture f(limits);
  SUBCASE("a huge encrypted length prefix") {
    const int fd = f.connect_from(1);
    f.send(fd, std::string("\x0a\x7f\xff\xff\xff", 5));
    REQUIRE(f.run_until([&] { return f.stats().oversized == 1; }));
    CHECK(f.stats().open == 0);
    CHECK(f.stats().buffered_bytes == 0);
  }
  SUBCASE("many streams' buffers together") {
    // Three user messages of 60 KB each, sent but for the last byte: each is
    // under the message bound, together they are over the budget.
    std::string user;
    encode(UserMsgHeader{60 * 1024}, user);
    user = "\x08" + user + std::string(60 * 1024 - 1, 'u');
    std::vector<int> senders;
    for (uint8_t host = 1; host <= 3; ++host) {
      senders.push_back(f.connect_from(host));
      f.send(senders.back(), user);
    }
    REQUIRE(f.run_until([&] {
      return f.stats().over_budget >= 1 && f.stats().open + f.stats().over_budget == 3 &&
             f.stats().buffered_bytes >= f.stats().open * user.size();
    }));
    CHECK(f.stats().buffered_bytes <= limits.max_buffered_bytes);
    // Those still open are served once whole, and give their bytes back.
    const size_t open = f.stats().open;
    for (int fd : senders) ::send(fd, "u", 1, MSG_NOSIGNAL);
    REQUIRE(f.run_until([&] { return f.handler.streams.size() == open; }));
    CHECK(f.handler.streams[0].size() == user.size() + 1);
    REQUIRE(f.run_until([&] { return f.stats().buffered_bytes == 0 && f.stats().open == 0; }));
  }
}

TEST_CASE("a trickled stream arrives whole; one that never completes times out and is counted") {
  TransportFixture f(StreamLimits{}, std::chrono::milliseconds(300));
  std::string ping;
  encode(PingMsg{1, "n", {}, 0, {}}, ping);
  const int fd = f.connect_from(1);
  for (char c : ping) {
    f.send(fd, std::string(1, c));
    uv_run(&f.loop, UV_RUN_NOWAIT);
  }
  REQUIRE(f.run_until([&] { return f.handler.streams.size() == 1; }));
  CHECK(f.handler.streams[0] == ping);
  const int slow = f.connect_from(1);
  f.send(slow, ping.substr(0, 3));
  REQUIRE(f.run_until([&] { return f.stats().timed_out == 1; }));
  CHECK(f.handler.streams.size() == 1);
  CHECK(f.stats().open == 0);
}
