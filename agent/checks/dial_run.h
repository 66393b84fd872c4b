// What one run of a TCP or UDP check needs: a lookup when the target is a
// name (IP literals and localhost were turned into addresses once, at
// registration), then a ProbeConnection to the addresses.
#pragma once

#include <string>
#include <string_view>

#include "agent/checks/check_runner.h"
#include "agent/checks/check_target.h"
#include "agent/checks/probe_connection.h"
#include "agent/checks/run_pool.h"

namespace cairn::checks {

// A check's "host:port", parsed once.
struct DialTarget {
  explicit DialTarget(std::string configured);

  std::string text;      // as configured, for outputs
  HostPort host_port;    // port 0 when text does not parse
  bool literal = false;  // addresses hold the target; no lookup per run
  AddressList addresses;
  // Go's text for a target that does not parse, after "dial <network> ".
  std::string parse_error() const;
};

class DialRun : public RunPool::Item, protected ProbeConnection::Owner {
 public:
  explicit DialRun(CheckEnv& env) : resolver(env.loop), conn(env.sockets, *this) {}

  std::string output;

 protected:
  // network is "tcp" or "udp", for Go's error texts.
  void dial(const DialTarget& target, int socktype, std::string_view network);
  // The run's verdict, with output set: hands it to the check.
  virtual void end(std::string_view status) = 0;

  HostResolver resolver;
  ProbeConnection conn;
  AddressList addresses;  // a name's lookup result for this run
};

}  // namespace cairn::checks
