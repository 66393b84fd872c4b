// The datacenter's autopilot configuration (Consul's
// /v1/operator/autopilot/configuration): one replicated row, on servers in
// etcd like every other row, in -dev in the store. cairn stores what
// operators set and answers it back; what each setting does in cairn is in
// docs/compatibility.md (etcd does the consensus, so most knobs tune a raft
// cairn does not run).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/state/rows.h"
#include "common/duration.h"

namespace cairn::state {

inline constexpr std::string_view kAutopilotTable = "autopilot";

struct AutopilotConfig {
  // Consul's defaults (api.NewAutopilotConfiguration).
  bool cleanup_dead_servers = true;
  Nanos last_contact_threshold = 200 * kMillisecond;
  uint64_t max_trailing_logs = 250;
  uint64_t min_quorum = 0;
  Nanos server_stabilization_time = 10 * kSecond;
  std::string redundancy_zone_tag;
  bool disable_upgrade_migration = false;
  std::string upgrade_version_tag;
  RaftIndex raft;  // 0/0 until first written
};

// Replaces the configuration, or, with cas, only if its ModifyIndex is still
// cas (0: only if never written), as Consul's AutopilotSetConfiguration does.
struct PutAutopilotConfig {
  AutopilotConfig config;
};

}  // namespace cairn::state
