#include "agent/checks/tcp_check.h"

namespace cairn::checks {

TcpCheck::TcpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : IntervalCheck(env, std::move(id), def),
      target_(def.tcp),
      resolver_(env.loop),
      conn_(env.loop, *this) {
  std::string error;
  if (auto hp = split_host_port(target_, &error)) {
    host_port_ = *hp;
    literal_ = literal_addresses(host_port_.host, host_port_.port, addresses_);
  }
  start();
}

void TcpCheck::probe() {
  if (host_port_.port == 0) {
    std::string error;
    split_host_port(target_, &error);
    finish(state::kCritical, "dial tcp " + error);
    return;
  }
  if (literal_) {
    conn_.open(addresses_, SOCK_STREAM, nullptr);
    return;
  }
  resolver_.resolve(host_port_.host, host_port_.port, &addresses_, [this](const std::string& err) {
    if (!err.empty()) {
      finish(state::kCritical, "dial tcp: " + err);
      return;
    }
    conn_.open(addresses_, SOCK_STREAM, nullptr);
  });
}

void TcpCheck::on_connected() {
  conn_.close();
  output_.assign("TCP connect ").append(target_).append(": Success");
  finish(state::kPassing, output_);
}

void TcpCheck::on_connect_failed(const std::string& error) {
  finish(state::kCritical, error);
}

void TcpCheck::timed_out() {
  std::string msg = conn_.is_open() ? "dial tcp " + conn_.peer_text() + ": i/o timeout"
                                    : "dial tcp: lookup " + host_port_.host + ": i/o timeout";
  resolver_.cancel();
  conn_.close();
  finish(state::kCritical, msg);
}

}  // namespace cairn::checks
