// The etcd command line a cairn server runs its member with, and the reading
// of the member's log lines. Pure: the supervisor (member_process.h) spawns.
//
// The flags follow shared/reference/etcd.md §1.1 and §1.6: zap JSON logs on
// stderr (one object per line, relayed into cairn's log), the client endpoint
// on a unix socket in the member's run directory (several servers on one
// machine never clash, and nothing off the host can reach it), only the peer
// URL on the LAN, and heartbeat 100 ms / election 500 ms with pre-vote: the
// reference measured a 0.55 s median failover on loopback with those timings
// (1.7 s at etcd's 1000 ms); pre-vote keeps a member that was cut off from
// disturbing the leader when it returns. performance.raft_multiplier scales both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.h"

namespace cairn::etcd {

// etcd 3.4 takes unix://HOST:PORT only, and makes HOST:PORT a socket file
// relative to its working directory: the supervisor starts it in run_dir.
inline constexpr std::string_view kClientSocketName = "etcd-client.sock:0";

inline constexpr int kHeartbeatMs = 100;
inline constexpr int kElectionMs = 500;
// --max-txn-ops: a snapshot restore replaces every row in one transaction
// (agent/server/etcd_restore.h), so no reader sees half of it. etcd only
// compares the count; cairn's own writes stay within 128 (etcd_txn.h), and
// etcd's request-size cap still bounds the transaction's bytes.
inline constexpr int kMemberMaxTxnOps = 1 << 20;

struct MemberConfig {
  std::string etcd_binary = "etcd";
  std::string name;      // the server's node name: stable for the member's life
  std::string data_dir;  // <data-dir>/etcd
  std::string run_dir;   // the working directory; holds the client socket
  std::string peer_url;  // http://<bind>:<peer port>
  int client_port = 0;   // 0: the unix socket in run_dir; >0: http://127.0.0.1:<port>
  // name=peer URL of every member of the initial cluster, this one included.
  std::vector<std::pair<std::string, std::string>> initial_cluster;
  bool join_existing = false;  // --initial-cluster-state existing (added later)
  std::string cluster_token;   // per datacenter: cairn-<dc>
  int heartbeat_ms = kHeartbeatMs;
  int election_ms = kElectionMs;
  bool pre_vote = true;
  int64_t quota_backend_bytes = 0;  // 0: etcd's 2 GiB
  bool unsafe_no_fsync = false;     // tests and benchmarks only
  // Run the member through util-linux's setpriv with a parent-death signal, so
  // that a cairn killed with SIGKILL takes its member with it (libuv cannot set
  // PR_SET_PDEATHSIG itself): a restarted cairn then finds the data dir free.
  bool die_with_parent = false;
};

std::vector<std::string> member_command_line(const MemberConfig& c);

// The path of the client socket for a run directory.
std::string client_socket_path(std::string_view run_dir);

// One line of the member's zap output, ready for cairn's log.
struct MemberLogLine {
  log::Level level = log::Level::info;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;  // caller and the rest, as text
};

// Non-JSON lines (a Go panic, flag errors) come through as they are, at error.
MemberLogLine parse_member_log_line(std::string_view line);

// Lines that mean restarting the member will not help (reference §1.4, §1.7).
// Takes the raw line: the cause is often in a field, not in the message.
enum class MemberFatal : uint8_t { none, bad_flag, removed_from_cluster, data_dir_locked };
MemberFatal classify_member_log_line(std::string_view message);

}  // namespace cairn::etcd
