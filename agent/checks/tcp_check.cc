#include "agent/checks/tcp_check.h"

#include "agent/checks/probe_connection.h"

namespace cairn::checks {

struct TcpCheck::Run : RunPool::Item, private ProbeConnection::Owner {
  explicit Run(CheckEnv& env) : resolver(env.loop), conn(env.sockets, *this) {}

  void start(TcpCheck& c) {
    check = &c;
    if (c.literal_) {
      conn.open(c.addresses_, SOCK_STREAM, nullptr);
      return;
    }
    resolver.resolve(c.host_port_.host, c.host_port_.port, &addresses,
                     [this](const std::string& err) {
                       if (!err.empty()) {
                         output.assign("dial tcp: ").append(err);
                         check->run_done(state::kCritical);
                         return;
                       }
                       conn.open(addresses, SOCK_STREAM, nullptr);
                     });
  }

  void timed_out() {
    if (conn.is_open())
      output.assign("dial tcp ").append(conn.peer_text()).append(": i/o timeout");
    else
      output.assign("dial tcp: lookup ").append(check->host_port_.host).append(": i/o timeout");
    resolver.cancel();
    conn.close();
    check->run_done(state::kCritical);
  }

  // ProbeConnection::Owner
  void on_connected() override {
    conn.close();
    output.assign("TCP connect ").append(check->target_).append(": Success");
    check->run_done(state::kPassing);
  }
  void on_ready() override {}
  void on_connect_failed(const std::string& error) override {
    output.assign(error);
    check->run_done(state::kCritical);
  }

  TcpCheck* check = nullptr;
  HostResolver resolver;
  ProbeConnection conn;
  AddressList addresses;
  std::string output;
};

TcpCheck::TcpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : IntervalCheck(env, std::move(id), def), target_(def.tcp) {
  std::string error;
  if (auto hp = split_host_port(target_, &error)) {
    host_port_ = *hp;
    literal_ = literal_addresses(host_port_.host, host_port_.port, addresses_);
    addresses_.shrink_to_fit();
  }
  start();
}

TcpCheck::~TcpCheck() = default;

void TcpCheck::probe() {
  if (host_port_.port == 0) {
    std::string error;
    split_host_port(target_, &error);
    finish(state::kCritical, "dial tcp " + error);
    return;
  }
  run_ = env_.runs.take<Run>(env_);
  run_->start(*this);
}

void TcpCheck::timed_out() {
  if (run_) run_->timed_out();
}

void TcpCheck::run_done(std::string_view status) {
  std::unique_ptr<Run> run = std::move(run_);
  run->check = nullptr;
  CheckEnv& env = env_;
  finish();
  report(status, run->output);  // last use of this: the sink may reach far
  env.runs.give(std::move(run));
}

}  // namespace cairn::checks
