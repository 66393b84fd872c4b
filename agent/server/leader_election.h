// The cairn leader of a datacenter: one server, chosen by an etcd election.
//
// After shared/reference/etcd.md §8.9. Each server holds a lease (TTL 5 s,
// renewed every 1.5 s) and campaigns for /cairn/leader/ on a connection of its
// own; etcd's campaign answers when this server is the leader, with the
// leader key's revision: the fencing token. Every leader-only write carries
// `compare <leader key> CREATE == <rev>`, so a deposed leader (its lease
// expired and its key deleted) cannot write even if it has not noticed yet.
//
// Leadership is lost when a renewal says the lease is gone, or when no
// renewal has succeeded for longer than the TTL minus a margin (this server
// cannot know that it is still the leader, so it must stop acting as one).
// It then campaigns again with a fresh lease. resign() steps down at once
// (the next candidate is elected within milliseconds, §9.5).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/etcd/gateway_client.h"
#include "agent/etcd/gateway_types.h"
#include "common/uv_handle.h"

namespace cairn::server {

inline constexpr std::string_view kLeaderElection = "/cairn/leader";

class LeaderElection {
 public:
  struct Events {
    std::function<void(const etcd::LeaderKey& fence)> on_elected;
    std::function<void()> on_lost;  // stop leader duties now
  };

  // A dead leader's duties (serfHealth, session invalidation) wait for its
  // lease to expire: 5 s, as long as Consul's Raft takes with its defaults.
  static constexpr int64_t kLeaseTtlSeconds = 5;
  static constexpr uint64_t kRenewEveryMs = 1500;
  // Give up leadership once renewals have failed this long: the lease may
  // expire any moment after TTL, and a new leader may then be acting.
  static constexpr uint64_t kUnconfirmedAfterMs = kLeaseTtlSeconds * 1000 - 1500;
  static constexpr uint64_t kRetryMs = 500;

  // value: what /v1/status/leader shows for this server (its RPC address).
  LeaderElection(uv_loop_t* loop, etcd::GatewayClient& client, std::string value, Events events);
  ~LeaderElection();
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  void start();
  // Steps down (if leader) and stops campaigning; done runs when etcd has
  // answered or the attempt timed out.
  void resign(std::function<void()> done);

  bool is_leader() const { return fence_.has_value(); }
  const std::optional<etcd::LeaderKey>& fence() const { return fence_; }
  int64_t lease() const { return lease_; }
  uint64_t elections_won() const { return elections_won_; }

 private:
  void grant_lease();
  void campaign();
  void renew();
  void on_renewed(etcd::CallResult result);
  void lose(std::string_view why);
  void retry_later();

  uv_loop_t* loop_;
  etcd::GatewayClient& client_;
  std::string value_;
  Events events_;
  bool running_ = false;
  int64_t lease_ = 0;
  std::optional<etcd::LeaderKey> fence_;
  std::unique_ptr<etcd::GatewayConnection> campaign_;
  uint64_t last_renewed_ms_ = 0;
  uint64_t elections_won_ = 0;
  Timer renew_timer_;
  Timer retry_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::server
