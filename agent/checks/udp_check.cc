#include "agent/checks/udp_check.h"

namespace cairn::checks {

UdpCheck::UdpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : IntervalCheck(env, std::move(id), def),
      target_(def.udp),
      resolver_(env.loop),
      conn_(env.loop, *this) {
  std::string error;
  if (auto hp = split_host_port(target_, &error)) {
    host_port_ = *hp;
    literal_ = literal_addresses(host_port_.host, host_port_.port, addresses_);
  }
  output_.assign("UDP connect ").append(target_).append(": Success");
  start();
}

void UdpCheck::probe() {
  if (host_port_.port == 0) {
    std::string error;
    split_host_port(target_, &error);
    finish(state::kCritical, "dial udp " + error);
    return;
  }
  if (literal_) {
    conn_.open(addresses_, SOCK_DGRAM, nullptr);
    return;
  }
  resolver_.resolve(host_port_.host, host_port_.port, &addresses_, [this](const std::string& err) {
    if (!err.empty()) {
      finish(state::kCritical, "dial udp: " + err);
      return;
    }
    conn_.open(addresses_, SOCK_DGRAM, nullptr);
  });
}

void UdpCheck::on_connected() {
  // Consul writes its (empty) message: a zero-length datagram.
  ssize_t n = conn_.write("", 0);
  if (n == ProbeConnection::kFailed) {
    std::string err = conn_.error();
    conn_.close();
    finish(state::kCritical, err);
    return;
  }
  conn_.want(true, false);
}

void UdpCheck::on_ready() {
  char byte;
  ssize_t n = conn_.read(&byte, 1);
  if (n == ProbeConnection::kWouldBlock) return;
  if (n == ProbeConnection::kFailed) {
    std::string err = conn_.error();
    conn_.close();
    finish(state::kCritical, err);
    return;
  }
  pass();  // any reply, even an empty datagram
}

void UdpCheck::on_connect_failed(const std::string& error) {
  finish(state::kCritical, error);
}

void UdpCheck::pass() {
  conn_.close();
  finish(state::kPassing, output_);
}

void UdpCheck::timed_out() {
  if (!conn_.connected()) {
    // Still resolving: silence from DNS is no answer from the service.
    resolver_.cancel();
    conn_.close();
    finish(state::kCritical, "dial udp: lookup " + host_port_.host + ": i/o timeout");
    return;
  }
  pass();  // silence until the timeout: Consul counts it as passing
}

}  // namespace cairn::checks
