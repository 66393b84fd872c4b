// A server's way to other datacenters: one Forwarder per datacenter, over
// the servers that datacenter has in the WAN pool (Consul's router for
// forwardDC). Requests for another datacenter (`?dc=`, DNS names with a
// datacenter label, prepared-query failover) go to one of its servers over
// the server RPC, which answers them as its own; a server that fails a call
// moves to the end of that datacenter's list, as within a datacenter.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/forward/forwarder.h"

namespace cairn::forward {

class RemoteDatacenters {
 public:
  RemoteDatacenters(uv_loop_t* loop, std::string local_datacenter, std::string origin_node);

  // Every other datacenter's alive servers as the WAN pool sees them now.
  // Datacenters with none left are forgotten (their connections close).
  void update(std::map<std::string, std::vector<ServerEntry>> servers_by_datacenter);
  // The way to datacenter, or null when no server of it is known.
  Forwarder* find(std::string_view datacenter);

 private:
  uv_loop_t* loop_;
  std::string local_datacenter_;
  std::string origin_node_;
  std::map<std::string, std::unique_ptr<Forwarder>, std::less<>> forwarders_;
};

}  // namespace cairn::forward
