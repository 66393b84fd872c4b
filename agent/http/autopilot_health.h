// The servers' health as Consul's autopilot reports it
// (/v1/operator/autopilot/health and /state), from what cairn knows: the
// etcd members (the raft configuration), gossip (each server's Serf status
// and version) and this server's own contact with etcd's quorum.
//
// cairn runs no autopilot of its own: etcd does the consensus. A server is
// healthy when gossip sees it alive and the datacenter has a leader, and
// this server (whose contact with the quorum it can measure) has heard from
// the quorum recently. Consul's per-server LastContact, LastTerm and
// LastIndex are the leader's view of each follower's raft log; cairn reports
// the etcd term and this server's applied index for every server.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/json_writer.h"

namespace cairn::http_api {

struct ServerFacts {
  std::string id;  // the raft configuration's ID
  std::string name;
  std::string address;
  std::string serf_status;  // "alive", "failed", "left", "none" (not in gossip)
  std::string version;
  bool leader = false;
  bool voter = true;
  Nanos last_contact = 0;
  bool contact_known_stale = false;  // this server lost touch with the quorum
  uint64_t last_term = 0;
  uint64_t last_index = 0;
  std::map<std::string, std::string> meta;
};

struct ServerHealth {
  ServerFacts facts;
  bool healthy = false;
  int64_t stable_since_unix_ms = 0;
};

struct HealthReport {
  bool healthy = false;
  int failure_tolerance = 0;
  std::string leader_id;
  std::vector<ServerHealth> servers;
};

// When each server's Healthy last changed (Consul's StableSince). Lives on
// the loop thread with the API.
class StableSinceTracker {
 public:
  int64_t since(const std::string& id, bool healthy, int64_t now_unix_ms);

 private:
  std::map<std::string, std::pair<bool, int64_t>> seen_;
};

// has_leader: the datacenter has a leader now.
HealthReport assess_servers(std::vector<ServerFacts> servers, bool has_leader,
                            StableSinceTracker& tracker, int64_t now_unix_ms);

// Go's time.Time in JSON (RFC 3339, UTC); round_to_second as /health does.
std::string format_go_time(int64_t unix_ms, bool round_to_second);

// The bodies of /v1/operator/autopilot/health and /state.
void write_health_reply(JsonWriter& w, const HealthReport& r);
void write_autopilot_state(JsonWriter& w, const HealthReport& r);

}  // namespace cairn::http_api
