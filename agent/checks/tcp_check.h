// TCP check: passing when a connection to host:port opens within the timeout,
// critical otherwise, with Consul's output texts ("TCP connect <addr>:
// Success", or Go's dial error). All resolved addresses are tried in turn.
// The socket of a run is borrowed from the agent's RunPool.
#pragma once

#include "agent/checks/dial_run.h"
#include "agent/checks/pooled_run_check.h"

namespace cairn::checks {

struct TcpRun;

class TcpCheck : public PooledRunCheck<TcpCheck, TcpRun> {
 public:
  TcpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);
  ~TcpCheck() override;

 private:
  friend struct TcpRun;

  // IntervalCheck
  void probe() override;

  DialTarget target_;
};

}  // namespace cairn::checks
