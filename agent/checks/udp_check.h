// UDP check, with Consul's semantics: send a datagram to host:port; a reply,
// or silence until the timeout, is passing ("UDP connect <addr>: Success");
// an error on the socket (an ICMP port unreachable arrives as
// ECONNREFUSED) is critical, with Go's error text.
#pragma once

#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/interval_check.h"
#include "agent/checks/probe_connection.h"

namespace cairn::checks {

class UdpCheck : public IntervalCheck, private ProbeConnection::Owner {
 public:
  UdpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);

 private:
  // IntervalCheck
  void probe() override;
  void timed_out() override;
  // ProbeConnection::Owner
  void on_connected() override;
  void on_ready() override;
  void on_connect_failed(const std::string& error) override;

  void pass();

  std::string target_;
  HostPort host_port_;
  bool literal_ = false;
  AddressList addresses_;
  HostResolver resolver_;
  ProbeConnection conn_;
  std::string output_;
};

}  // namespace cairn::checks
