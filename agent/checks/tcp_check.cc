#include "agent/checks/tcp_check.h"

namespace cairn::checks {

struct TcpRun final : DialRun {
  using DialRun::DialRun;

  void start(TcpCheck& c) {
    check = &c;
    dial(c.target_, SOCK_STREAM, "tcp");
  }

  void timed_out() {
    if (conn.is_open())
      output.assign("dial tcp ").append(conn.peer_text()).append(": i/o timeout");
    else
      output.assign("dial tcp: lookup ")
          .append(check->target_.host_port.host)
          .append(": i/o timeout");
    resolver.cancel();
    conn.close();
    end(state::kCritical);
  }

  void end(std::string_view status) override { check->run_done(status); }

  // ProbeConnection::Owner
  void on_connected() override {
    conn.close();
    output.assign("TCP connect ").append(check->target_.text).append(": Success");
    end(state::kPassing);
  }
  void on_ready() override {}
  void on_connect_failed(const std::string& error) override {
    output.assign(error);
    end(state::kCritical);
  }

  TcpCheck* check = nullptr;
};

TcpCheck::TcpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : PooledRunCheck(env, std::move(id), def), target_(def.tcp) {
  start();
}

TcpCheck::~TcpCheck() = default;

void TcpCheck::probe() {
  if (target_.host_port.port == 0) {
    finish(state::kCritical, "dial tcp " + target_.parse_error());
    return;
  }
  start_run();
}

}  // namespace cairn::checks
