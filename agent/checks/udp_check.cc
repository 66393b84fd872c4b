#include "agent/checks/udp_check.h"

#include "agent/checks/probe_connection.h"

namespace cairn::checks {

struct UdpCheck::Run : RunPool::Item, private ProbeConnection::Owner {
  explicit Run(CheckEnv& env) : resolver(env.loop), conn(env.sockets, *this) {}

  void start(UdpCheck& c) {
    check = &c;
    if (c.literal_) {
      conn.open(c.addresses_, SOCK_DGRAM, nullptr);
      return;
    }
    resolver.resolve(c.host_port_.host, c.host_port_.port, &addresses,
                     [this](const std::string& err) {
                       if (!err.empty()) {
                         output.assign("dial udp: ").append(err);
                         check->run_done(state::kCritical);
                         return;
                       }
                       conn.open(addresses, SOCK_DGRAM, nullptr);
                     });
  }

  void pass() {
    conn.close();
    output.assign("UDP connect ").append(check->target_).append(": Success");
    check->run_done(state::kPassing);
  }

  void fail_with_error() {
    output.assign(conn.error());
    conn.close();
    check->run_done(state::kCritical);
  }

  void timed_out() {
    if (!conn.connected()) {
      // Still resolving: silence from DNS is no answer from the service.
      resolver.cancel();
      conn.close();
      output.assign("dial udp: lookup ").append(check->host_port_.host).append(": i/o timeout");
      check->run_done(state::kCritical);
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
    check->run_done(state::kCritical);
  }

  UdpCheck* check = nullptr;
  HostResolver resolver;
  ProbeConnection conn;
  AddressList addresses;
  std::string output;
};

UdpCheck::UdpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : IntervalCheck(env, std::move(id), def), target_(def.udp) {
  std::string error;
  if (auto hp = split_host_port(target_, &error)) {
    host_port_ = *hp;
    literal_ = literal_addresses(host_port_.host, host_port_.port, addresses_);
    addresses_.shrink_to_fit();
  }
  start();
}

UdpCheck::~UdpCheck() = default;

void UdpCheck::probe() {
  if (host_port_.port == 0) {
    std::string error;
    split_host_port(target_, &error);
    finish(state::kCritical, "dial udp " + error);
    return;
  }
  run_ = env_.runs.take<Run>(env_);
  run_->start(*this);
}

void UdpCheck::timed_out() {
  if (run_) run_->timed_out();
}

void UdpCheck::run_done(std::string_view status) {
  std::unique_ptr<Run> run = std::move(run_);
  run->check = nullptr;
  CheckEnv& env = env_;
  finish();
  report(status, run->output);  // last use of this: the sink may reach far
  env.runs.give(std::move(run));
}

}  // namespace cairn::checks
