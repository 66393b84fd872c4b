// Moving the cairn leadership to a chosen server (Consul's
// `operator raft transfer-leader`).
//
// The cairn leader is the campaigner whose election key has the lowest create
// revision (leader_election.h); a server that resigns and campaigns again
// goes to the back of the line. So a handoff to T is: every server whose key
// is ahead of T's steps back, the leader last (only once T is next in line,
// so no third server leads in between). Servers learn of a handoff from a
// marker row, /cairn/handoff/leader, that any server may write and every
// server's watch delivers with the election keys; it names the target and
// expires, so a handoff whose target died is forgotten. The etcd member that
// leads etcd's raft also moves that leadership to the target's member
// (maintenance/transfer-leadership), so the cairn leader's writes commit
// without a hop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/server/watch_feed.h"

namespace cairn::server {

inline constexpr std::string_view kHandoffKey = "/cairn/handoff/leader";
inline constexpr std::string_view kHandoffPrefix = "/cairn/handoff/";

struct Handoff {
  std::string target;          // the target's leader value (what /v1/status/leader shows)
  uint64_t target_member = 0;  // its etcd member ID
  int64_t until_unix_ms = 0;   // ignored after this
};

std::string encode_handoff(const Handoff& h);
// nullopt when the row is not a handoff cairn can read.
std::optional<Handoff> decode_handoff(std::string_view json);

enum class HandoffStep : uint8_t {
  none,       // nothing for this server to do (it is the target, or already behind it)
  step_back,  // resign and campaign again
  wait,       // this server leads, but others are still ahead of the target
};

// What this server (campaigning with value self) does for a handoff to
// target, given the election keys.
HandoffStep handoff_step(const std::vector<LeaderRow>& rows, std::string_view self,
                         std::string_view target);

}  // namespace cairn::server
