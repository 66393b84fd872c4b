// TCP check: passing when a connection to host:port opens within the timeout,
// critical otherwise, with Consul's output texts ("TCP connect <addr>:
// Success", or Go's dial error). All resolved addresses are tried in turn.
// The socket of a run is borrowed from the agent's RunPool.
#pragma once

#include <memory>
#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/interval_check.h"

namespace cairn::checks {

class TcpCheck : public IntervalCheck {
 public:
  TcpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);
  ~TcpCheck() override;

 private:
  struct Run;
  friend struct Run;

  // IntervalCheck
  void probe() override;
  void timed_out() override;
  void run_done(std::string_view status);

  std::string target_;  // as configured, for the output
  HostPort host_port_;
  bool literal_ = false;  // addresses_ computed once; no lookup per run
  AddressList addresses_;
  std::unique_ptr<Run> run_;
};

}  // namespace cairn::checks
