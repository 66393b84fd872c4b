// Changes to the etcd cluster's membership, as the cairn servers make them.
//
// After shared/reference/etcd.md §1.3-§1.4: a server that arrives after the
// datacenter formed is added as a learner (it does not count for quorum
// while it catches up), started with --initial-cluster-state existing and
// every current member plus itself, then promoted. etcd refuses an add for
// about 5 s after the cluster or a peer link comes up ("unhealthy cluster")
// and a promotion until the learner is in sync: both are retried here, a
// bounded number of times, so the caller sees one outcome.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/etcd/gateway_client.h"
#include "agent/etcd/gateway_types.h"
#include "common/uv_handle.h"

namespace cairn::etcd {

struct MembershipResult {
  bool ok = false;
  std::string error;            // when !ok: the last refusal or transport error
  Member member;                // add: the new member (its ID)
  std::vector<Member> members;  // every member after the change
};

class ClusterMembership {
 public:
  using Done = std::function<void(MembershipResult)>;

  static constexpr uint64_t kRetryMs = 250;
  static constexpr int kMaxAttempts = 80;  // 20 s: the 5 s health window with room to spare
  static constexpr uint64_t kCallTimeoutMs = 3000;

  ClusterMembership(uv_loop_t* loop, GatewayClient& client);
  ~ClusterMembership();
  ClusterMembership(const ClusterMembership&) = delete;
  ClusterMembership& operator=(const ClusterMembership&) = delete;

  void list(Done done);
  // Adds peer_url as a learner, retrying etcd's transient refusals.
  void add_learner(std::string peer_url, Done done);
  // Promotes a learner once it has caught up.
  void promote(uint64_t id, Done done);
  // Removes a member (a server that left or was force-removed). Its process
  // exits by itself and its data dir can never be used again (§1.4).
  void remove(uint64_t id, Done done);

  // The --initial-cluster a joining member starts with: every current member
  // that has a name, plus the joining one.
  static std::vector<std::pair<std::string, std::string>> initial_cluster_for_join(
      const std::vector<Member>& members, const std::string& name, const std::string& peer_url);

 private:
  void attempt(std::string path, std::string body, bool is_add, int attempt, Done done);

  uv_loop_t* loop_;
  GatewayClient& client_;
  std::vector<std::unique_ptr<Timer>> timers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::etcd
