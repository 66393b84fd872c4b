// What the leader keeps in the catalog on its own: each member's serfHealth
// check and the `consul` service of every server. Until gossip exists the
// leader knows one member, itself.
#pragma once

#include <string>

#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::server {

inline constexpr const char* kSerfCheckID = "serfHealth";
inline constexpr const char* kSerfCheckName = "Serf Health Status";
inline constexpr const char* kSerfAliveOutput = "Agent alive and reachable";
inline constexpr const char* kSerfDeadOutput = "Agent not live or unreachable";
inline constexpr const char* kConsulServiceID = "consul";

struct ServerMember {
  std::string node;
  std::string address;
  int server_port = 8300;
  bool alive = true;
  std::string version;
};

// Plans serfHealth for the member and, for a server, the consul service.
// The node row itself comes from the member's own anti-entropy.
std::string plan_member_health(const state::Store& store, const ServerMember& m, bool is_server,
                               state::Batch& out);

}  // namespace cairn::server
