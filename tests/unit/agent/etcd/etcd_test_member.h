// Test helpers: a real etcd member in a temporary directory, and a libuv loop
// run until a condition holds (bounded).
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>

#include "agent/etcd/gateway_client.h"
#include "agent/etcd/gateway_encode.h"
#include "agent/etcd/member_command.h"
#include "agent/etcd/member_process.h"
#include "common/uv_handle.h"

namespace cairn::etcd::testing {

inline uint16_t free_tcp_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Runs the loop until done() holds or timeout_ms pass; false on timeout.
inline bool run_until(uv_loop_t* loop, const std::function<bool()>& done, uint64_t timeout_ms) {
  Timer tick(loop);
  tick.start(10, 10, [] {});
  uint64_t deadline = uv_now(loop) + timeout_ms;
  while (!done()) {
    if (uv_now(loop) > deadline) return false;
    uv_run(loop, UV_RUN_ONCE);
  }
  return true;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/cairn-etcd-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

inline MemberConfig single_member(const TempDir& dir) {
  MemberConfig c;
  c.name = "s1";
  c.data_dir = (dir.path / "etcd").string();
  c.run_dir = dir.path.string();
  c.peer_url = "http://127.0.0.1:" + std::to_string(free_tcp_port());
  c.initial_cluster = {{c.name, c.peer_url}};
  c.cluster_token = "cairn-test";
  c.unsafe_no_fsync = true;
  return c;
}

// One unary call, run to its end.
inline CallResult call_sync(uv_loop_t* loop, GatewayClient& client, std::string path,
                            std::string body) {
  std::optional<CallResult> result;
  client.call(std::move(path), std::move(body), 3000, [&](CallResult r) { result = std::move(r); });
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return result.has_value(); }, 5000),
                  "no answer from etcd");
  return std::move(*result);
}

inline bool wait_ready(uv_loop_t* loop, GatewayClient& client, uint64_t timeout_ms) {
  uint64_t deadline = uv_now(loop) + timeout_ms;
  while (uv_now(loop) < deadline) {
    // The range needs a leader: this is "ready to serve", not only "process up".
    RangeRequest probe;
    probe.key = "/cairn/ready";
    std::string body;
    encode_range(body, probe);
    if (call_sync(loop, client, "/v3/kv/range", body).ok()) return true;
    run_until(
        loop, [] { return false; }, 50);
  }
  return false;
}

// A single-member etcd started under MemberProcess, ready to serve, with a
// client on its socket; stopped (SIGTERM, awaited) at the end of the test.
struct RunningMember {
  uv_loop_t* loop;
  TempDir dir;
  MemberConfig config;
  int started = 0;
  MemberProcess member;
  GatewayClient client;

  explicit RunningMember(uv_loop_t* l)
      : loop(l),
        config(single_member(dir)),
        member(l, config, counting_starts()),
        client(l, endpoint_of(config)) {
    member.start();
    REQUIRE(member.state() == MemberProcess::State::running);
    REQUIRE_MESSAGE(wait_ready(loop, client, 15000), "etcd did not become ready");
  }

  ~RunningMember() {
    bool stopped = false;
    member.stop([&] { stopped = true; });
    run_until(
        loop, [&] { return stopped; }, 15000);
  }

  static ClientEndpoint endpoint_of(const MemberConfig& c) {
    ClientEndpoint e;
    e.unix_socket = client_socket_path(c.run_dir);
    return e;
  }

 private:
  MemberProcess::Events counting_starts() {
    MemberProcess::Events events;
    events.on_started = [this](int64_t) { ++started; };
    return events;
  }
};

}  // namespace cairn::etcd::testing
