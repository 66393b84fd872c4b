#include "agent/http/autopilot_health.h"

#include <ctime>

namespace cairn::http_api {

int64_t StableSinceTracker::since(const std::string& id, bool healthy, int64_t now_unix_ms) {
  auto [it, inserted] = seen_.try_emplace(id, healthy, now_unix_ms);
  if (!inserted && it->second.first != healthy) it->second = {healthy, now_unix_ms};
  return it->second.second;
}

HealthReport assess_servers(std::vector<ServerFacts> servers, bool has_leader,
                            StableSinceTracker& tracker, int64_t now_unix_ms) {
  HealthReport r;
  int voters = 0;
  int healthy_voters = 0;
  r.healthy = has_leader && !servers.empty();
  for (auto& f : servers) {
    ServerHealth h;
    h.healthy = has_leader && f.serf_status == "alive" && !f.contact_known_stale;
    h.stable_since_unix_ms = tracker.since(f.id, h.healthy, now_unix_ms);
    if (f.leader) r.leader_id = f.id;
    if (f.voter) {
      ++voters;
      if (h.healthy) ++healthy_voters;
    }
    if (!h.healthy) r.healthy = false;
    h.facts = std::move(f);
    r.servers.push_back(std::move(h));
  }
  // Consul: how many healthy voters can fail before the quorum is lost.
  int quorum = voters / 2 + 1;
  r.failure_tolerance = healthy_voters > quorum ? healthy_voters - quorum : 0;
  return r;
}

std::string format_go_time(int64_t unix_ms, bool round_to_second) {
  if (round_to_second) unix_ms = (unix_ms + 500) / 1000 * 1000;
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  std::string out = buf;
  if (int ms = static_cast<int>(unix_ms % 1000); ms != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", ms);
    std::string f = frac;
    while (f.back() == '0') f.pop_back();  // Go trims trailing zeros (RFC3339Nano)
    out += f;
  }
  out += 'Z';
  return out;
}

void write_health_reply(JsonWriter& w, const HealthReport& r) {
  w.begin_object();
  w.field("Healthy", r.healthy);
  w.field("FailureTolerance", r.failure_tolerance);
  w.key("Servers");
  w.begin_array();
  for (const auto& s : r.servers) {
    const ServerFacts& f = s.facts;
    w.begin_object();
    w.field("ID", f.id);
    w.field("Name", f.name);
    w.field("Address", f.address);
    w.field("SerfStatus", f.serf_status);
    w.field("Version", f.version);
    w.field("Leader", f.leader);
    w.field("LastContact", format_duration(f.last_contact));
    w.field("LastTerm", f.last_term);
    w.field("LastIndex", f.last_index);
    w.field("Healthy", s.healthy);
    w.field("Voter", f.voter);
    w.field("StableSince", format_go_time(s.stable_since_unix_ms, true));
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_autopilot_state(JsonWriter& w, const HealthReport& r) {
  w.begin_object();
  w.field("Healthy", r.healthy);
  w.field("FailureTolerance", r.failure_tolerance);
  w.field("OptimisticFailureTolerance", r.failure_tolerance);
  w.key("Servers");
  w.begin_object();
  for (const auto& s : r.servers) {
    const ServerFacts& f = s.facts;
    w.key(f.id);
    w.begin_object();
    w.field("ID", f.id);
    w.field("Name", f.name);
    w.field("Address", f.address);
    w.field("NodeStatus", f.serf_status);
    w.field("Version", f.version);
    w.field("LastContact", format_duration(f.last_contact));
    w.field("LastTerm", f.last_term);
    w.field("LastIndex", f.last_index);
    w.field("Healthy", s.healthy);
    w.field("StableSince", format_go_time(s.stable_since_unix_ms, false));
    w.field("ReadReplica", false);
    w.field("Status", f.leader ? "leader" : (f.voter ? "voter" : "non-voter"));
    w.key("Meta");
    w.begin_object();
    for (const auto& [k, v] : f.meta) w.field(k, v);
    w.end_object();
    w.field("NodeType", "voter");
    w.end_object();
  }
  w.end_object();
  w.field("Leader", r.leader_id);
  w.key("Voters");
  w.begin_array();
  for (const auto& s : r.servers)
    if (s.facts.voter) w.string(s.facts.id);
  w.end_array();
  w.end_object();
}

}  // namespace cairn::http_api
