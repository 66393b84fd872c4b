// Where DNS gets names of other datacenters: `web.service.dc2.consul` is
// answered from the rows (instances, their nodes and checks) that a server
// of dc2 holds for it, fetched over the server RPC when asked (Consul's DNS
// does an RPC to that datacenter per question, too). The agent supplies the
// fetcher; the DNS server only sees this interface.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/state/mutation.h"

namespace cairn::dns {

// failover: a prepared query of this datacenter with no healthy instance
// here, run in the other datacenters its Failover names (Consul's rules).
enum class RemoteKind : uint8_t { none = 0, service = 1, node = 2, query = 3, failover = 4 };

struct RemoteQuestion {
  std::string datacenter;  // lower-cased, as asked; failover: this datacenter
  RemoteKind kind = RemoteKind::none;
  std::string name;  // service, node or prepared query name, lower-cased
};

struct RemoteRows {
  enum class Result : uint8_t { found, no_path, failed };
  Result result = Result::failed;
  std::string datacenter;  // whose rows these are (the failover's answer)
  state::Batch rows;       // Result::found: rows to answer from
};

class RemoteRecords {
 public:
  virtual ~RemoteRecords() = default;
  // Calls done exactly once, on the agent's loop (possibly before returning).
  virtual void fetch(const RemoteQuestion& question, std::function<void(RemoteRows)> done) = 0;
};

}  // namespace cairn::dns
