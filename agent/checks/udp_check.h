// UDP check, with Consul's semantics: send a datagram to host:port; a reply,
// or silence until the timeout, is passing ("UDP connect <addr>: Success");
// an error on the socket (an ICMP port unreachable arrives as
// ECONNREFUSED) is critical, with Go's error text. The socket of a run is
// borrowed from the agent's RunPool.
#pragma once

#include "agent/checks/dial_run.h"
#include "agent/checks/pooled_run_check.h"

namespace cairn::checks {

struct UdpRun;

class UdpCheck : public PooledRunCheck<UdpCheck, UdpRun> {
 public:
  UdpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);
  ~UdpCheck() override;

 private:
  friend struct UdpRun;

  // IntervalCheck
  void probe() override;

  DialTarget target_;
};

}  // namespace cairn::checks
