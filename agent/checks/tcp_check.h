// TCP check: passing when a connection to host:port opens within the timeout,
// critical otherwise, with Consul's output texts ("TCP connect <addr>:
// Success", or Go's dial error). All resolved addresses are tried in turn.
#pragma once

#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/interval_check.h"
#include "agent/checks/probe_connection.h"

namespace cairn::checks {

class TcpCheck : public IntervalCheck, private ProbeConnection::Owner {
 public:
  TcpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);

 private:
  // IntervalCheck
  void probe() override;
  void timed_out() override;
  // ProbeConnection::Owner
  void on_connected() override;
  void on_ready() override {}
  void on_connect_failed(const std::string& error) override;

  std::string target_;  // as configured, for the output
  HostPort host_port_;
  bool literal_ = false;  // addresses_ computed once; no lookup per run
  AddressList addresses_;
  HostResolver resolver_;
  ProbeConnection conn_;
  std::string output_;
};

}  // namespace cairn::checks
