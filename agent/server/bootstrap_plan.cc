#include "agent/server/bootstrap_plan.h"

#include <algorithm>
#include <map>

namespace cairn::server {

namespace {

BootstrapPlan make(BootstrapPlan::Action action, std::string reason) {
  BootstrapPlan p;
  p.action = action;
  p.reason = std::move(reason);
  return p;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

BootstrapPlan plan_bootstrap(const LocalServer& self, const std::vector<SeenServer>& seen) {
  using Action = BootstrapPlan::Action;
  if (self.has_member_data)
    return make(Action::restart_existing, "restarting the etcd member in the data dir");

  // The datacenter's live servers, this one included, by name.
  std::map<std::string, const SeenServer*> peers;
  std::vector<std::string> other_dcs;
  for (const auto& s : seen) {
    if (!s.alive || s.name == self.name) continue;
    if (s.datacenter != self.datacenter) {
      other_dcs.push_back(s.name + " (" + s.datacenter + ")");
      continue;
    }
    peers.emplace(s.name, &s);
  }

  for (const auto& [name, s] : peers) {
    if (s->expect != 0 && self.expect != 0 && s->expect != self.expect)
      return make(Action::refuse, "server " + name + " expects " + std::to_string(s->expect) +
                                      " servers and this one " + std::to_string(self.expect) +
                                      ": every server of a datacenter needs the same "
                                      "-bootstrap-expect; not forming a cluster");
  }

  std::vector<std::string> running;
  for (const auto& [name, s] : peers)
    if (s->member_running) running.push_back(name);
  if (!running.empty()) {
    BootstrapPlan p =
        make(Action::join, "joining the running cluster through " + join_names(running));
    p.join_via = std::move(running);
    return p;
  }

  std::string ignored =
      other_dcs.empty() ? "" : "; ignoring servers of other datacenters: " + join_names(other_dcs);
  if (self.expect <= 0)
    return make(Action::wait,
                "no -bootstrap-expect: waiting for a running cluster to join" + ignored);

  std::vector<std::pair<std::string, std::string>> members;
  members.emplace_back(self.name, self.peer_url);
  for (const auto& [name, s] : peers) members.emplace_back(name, s->peer_url);
  std::sort(members.begin(), members.end());
  size_t expect = static_cast<size_t>(self.expect);
  if (members.size() < expect) {
    std::vector<std::string> names;
    for (const auto& m : members) names.push_back(m.first);
    return make(Action::wait, "waiting for " + std::to_string(expect - members.size()) +
                                  " more server(s) of " + self.datacenter + " (bootstrap-expect " +
                                  std::to_string(expect) + ", seen " + join_names(names) + ")" +
                                  ignored);
  }
  members.resize(expect);
  bool included = std::any_of(members.begin(), members.end(),
                              [&](const auto& m) { return m.first == self.name; });
  if (!included)
    return make(Action::wait, "more servers than bootstrap-expect: the first " +
                                  std::to_string(expect) +
                                  " by name form the cluster; this one joins it once it runs");
  for (const auto& m : members)
    if (m.second.empty())
      return make(Action::wait, "waiting for server " + m.first + " to announce its etcd peer URL");
  BootstrapPlan p = make(Action::form, "forming the datacenter's etcd cluster");
  p.initial_cluster = std::move(members);
  return p;
}

}  // namespace cairn::server
