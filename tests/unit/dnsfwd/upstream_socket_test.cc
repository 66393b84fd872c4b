// The upstream's UDP sockets on a real loop: an ICMP port unreachable (the
// upstream not running for a moment) must not stop a socket being read.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>

#include "common/metrics.h"
#include "dnsfwd/upstream.h"

using namespace cairn;
using namespace cairn::dnsfwd;

namespace {

struct RecordingHandler : UpstreamHandler {
  int answers = 0;
  int errors = 0;
  int last_error = 0;
  void on_udp_answer(Upstream&, uint32_t, uint8_t*, size_t, bool) override { ++answers; }
  void on_udp_error(Upstream&, uint32_t, int err) override {
    ++errors;
    last_error = err;
  }
  void on_tcp_answer(Upstream&, uint64_t, uint8_t*, size_t) override {}
  void on_tcp_error(Upstream&, uint64_t, int) override {}
};

// A UDP socket on 127.0.0.1 that echoes each datagram back with QR set.
struct EchoServer {
  int fd = -1;
  explicit EchoServer(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~EchoServer() { ::close(fd); }
  void serve() {
    uint8_t buf[512];
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    ssize_t n;
    while ((n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len)) > 2) {
      buf[2] |= 0x80;
      ::sendto(fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer), len);
      len = sizeof peer;
    }
  }
};

uint16_t unused_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // nothing listens there now: sends get a port unreachable
  return ntohs(a.sin_port);
}

// Runs the loop until done() or about two seconds have passed.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done) {
  uv_timer_t tick;
  uv_timer_init(loop, &tick);
  uv_timer_start(
      &tick, [](uv_timer_t*) {}, 5, 5);  // UV_RUN_ONCE returns at least this often
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  bool ok = false;
  while (!(ok = done()) && std::chrono::steady_clock::now() < deadline) uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return ok;
}

constexpr uint8_t kQuery[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0,
                              0,    0,    0,    0,    0, 2, 0, 1};  // ". NS"

}  // namespace

TEST_CASE("a socket keeps being read after an ICMP port unreachable, without rotation") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    uint16_t port = unused_udp_port();
    auto ep = parse_endpoint("127.0.0.1:" + std::to_string(port), 53);
    REQUIRE(ep);
    Group rules;
    rules.udp_sockets = 1;  // every query on the same socket
    rules.rotate_after = 0;
    MetricsRegistry metrics;
    RecordingHandler handler;
    Upstream up(&loop, *ep, rules, "test", &handler, metrics);

    int err = 0;
    uint32_t serial = 0;
    for (int round = 1; round <= 2; ++round) {
      CAPTURE(round);
      // Nothing listens: the kernel reports the port unreachable on the socket.
      serial = up.send_udp(kQuery, sizeof kQuery, err);
      REQUIRE(serial != 0);
      REQUIRE(run_until(&loop, [&] { return handler.errors == round; }));
      CHECK(handler.last_error == ECONNREFUSED);
      CHECK(up.stats().socket_errors.value == static_cast<uint64_t>(round));
      CHECK(up.stats().errors.value == static_cast<uint64_t>(round));

      // The upstream is back on the same port: the same socket reads its answer.
      EchoServer server(port);
      CHECK(up.send_udp(kQuery, sizeof kQuery, err) == serial);
      CHECK(run_until(&loop, [&] {
        server.serve();
        return handler.answers == round;
      }));
      CHECK(handler.errors == round);
    }
    CHECK(up.stats().sockets_replaced.value == 0);
    up.shutdown();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
