// When and how a server's etcd member starts, decided from what gossip shows.
//
// Pure: the server feeds it what it sees of the datacenter's servers (their
// gossip tags) and acts on the plan. The rules, after shared/reference/
// etcd.md §1.2-§1.3:
// - a data dir that already holds a member restarts it: etcd ignores
//   --initial-cluster then, and the membership is etcd's;
// - servers of other datacenters are never counted (two datacenters on one
//   LAN do not merge), and servers whose -bootstrap-expect differs from ours
//   stop the bootstrap with the reason: neither side may form a cluster that
//   the other would not;
// - once any server of the datacenter runs a member of a formed cluster,
//   a server without data joins it (as a learner, then promoted) instead of
//   forming anything;
// - otherwise a new cluster forms only when exactly -bootstrap-expect
//   servers are seen, with one initial cluster that every one of them
//   computes the same way (sorted by name). With more servers than expected
//   the first ones by name form it and the others join it afterwards; the
//   caller waits for the set to stay the same for a moment before forming,
//   since gossip reaches servers at slightly different times.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cairn::server {

struct SeenServer {
  std::string name;
  std::string datacenter;
  int expect = 0;               // its -bootstrap-expect; 0 when it has none
  std::string peer_url;         // its etcd peer URL (gossip tag)
  bool member_running = false;  // its member belongs to a formed cluster (gossip tag)
  bool alive = true;
  std::string address;  // its gossip IP: also where its RPC listens
  int rpc_port = 8300;  // its "port" tag
};

struct LocalServer {
  std::string name;
  std::string datacenter;
  int expect = 0;
  std::string peer_url;
  bool has_member_data = false;  // the data dir already holds an etcd member
};

struct BootstrapPlan {
  enum class Action { wait, restart_existing, form, join, refuse };
  Action action = Action::wait;
  // wait / refuse: one line for the log and `cairn status`.
  std::string reason;
  // form: name=peer URL of every initial member, this server included.
  std::vector<std::pair<std::string, std::string>> initial_cluster;
  // join: running servers to ask to add this one, by name.
  std::vector<std::string> join_via;
};

BootstrapPlan plan_bootstrap(const LocalServer& self, const std::vector<SeenServer>& seen);

}  // namespace cairn::server
