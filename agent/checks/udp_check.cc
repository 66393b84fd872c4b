#include "agent/checks/udp_check.h"

namespace cairn::checks {

struct UdpRun final : DialRun {
  using DialRun::DialRun;

  void start(UdpCheck& c) {
    check = &c;
    dial(c.target_, SOCK_DGRAM, "udp");
  }

  void end(std::string_view status) override { check->run_done(status); }

  void pass() {
    conn.close();
    output.assign("UDP connect ").append(check->target_.text).append(": Success");
    end(state::kPassing);
  }

  void fail_with_error() {
    output.assign(conn.error());
    conn.close();
    end(state::kCritical);
  }

  void timed_out() {
    if (!conn.connected()) {
      // Still resolving: silence from DNS is no answer from the service.
      resolver.cancel();
      conn.close();
      output.assign("dial udp: lookup ")
          .append(check->target_.host_port.host)
          .append(": i/o timeout");
      end(state::kCritical);
      return;
    }
    pass();  // silence until the timeout: Consul counts it as passing
  }

  // ProbeConnection::Owner
  void on_connected() override {
    // Consul writes its (empty) message: a zero-length datagram.
    if (conn.write("", 0) == ProbeConnection::kFailed) {
      fail_with_error();
      return;
    }
    conn.watch();
  }
  void on_ready() override {
    char byte;
    ssize_t n = conn.read(&byte, 1);
    if (n == ProbeConnection::kWouldBlock) return;
    if (n == ProbeConnection::kFailed) {
      fail_with_error();
      return;
    }
    pass();  // any reply, even an empty datagram
  }
  void on_connect_failed(const std::string& error) override {
    output.assign(error);
    end(state::kCritical);
  }

  UdpCheck* check = nullptr;
};

UdpCheck::UdpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : PooledRunCheck(env, std::move(id), def), target_(def.udp) {
  start();
}

UdpCheck::~UdpCheck() = default;

void UdpCheck::probe() {
  if (target_.host_port.port == 0) {
    finish(state::kCritical, "dial udp " + target_.parse_error());
    return;
  }
  start_run();
}

}  // namespace cairn::checks
