// UDP check, with Consul's semantics: send a datagram to host:port; a reply,
// or silence until the timeout, is passing ("UDP connect <addr>: Success");
// an error on the socket (an ICMP port unreachable arrives as
// ECONNREFUSED) is critical, with Go's error text. The socket of a run is
// borrowed from the agent's RunPool.
#pragma once

#include <memory>
#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/interval_check.h"

namespace cairn::checks {

class UdpCheck : public IntervalCheck {
 public:
  UdpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);
  ~UdpCheck() override;

 private:
  struct Run;
  friend struct Run;

  // IntervalCheck
  void probe() override;
  void timed_out() override;
  void run_done(std::string_view status);

  std::string target_;
  HostPort host_port_;
  bool literal_ = false;
  AddressList addresses_;
  std::unique_ptr<Run> run_;
};

}  // namespace cairn::checks
