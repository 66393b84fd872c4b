// etcd's NOSPACE alarm (disk full, or the backend over --quota-backend-bytes),
// watched and cleared by the servers (reference §7, pitfall 12; §8.8).
//
// While the alarm is raised etcd refuses every write that adds data, even after
// space is freed, until the alarm is disarmed; deletes and reads keep working.
// So: every server polls the alarm list; while NOSPACE is raised, the leader
// compacts the history to its current revision (old values of overwritten and
// deleted keys are what fills a store), each server defragments its own member
// once the file holds enough free pages, and the leader disarms the alarm once
// its member's live data is back under 80% of the quota. If the data itself
// fills the quota, the next write raises the alarm again and is refused with
// the cause named (etcd_writer.cc): users free space by deleting keys.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "agent/etcd/gateway_client.h"
#include "common/uv_handle.h"

namespace cairn::server {

class SpaceAlarm {
 public:
  struct Hooks {
    std::function<bool()> is_leader;
    std::function<uint64_t()> applied_revision;  // the cache's revision: safe to compact to
  };

  static constexpr uint64_t kQuietPollMs = 5000;
  static constexpr uint64_t kAlarmPollMs = 1000;
  static constexpr int64_t kEtcdDefaultQuota = int64_t{2} << 30;

  // quota_bytes: the members' --quota-backend-bytes (0: etcd's 2 GiB).
  SpaceAlarm(uv_loop_t* loop, etcd::GatewayClient& client, int64_t quota_bytes, Hooks hooks);
  ~SpaceAlarm();
  SpaceAlarm(const SpaceAlarm&) = delete;
  SpaceAlarm& operator=(const SpaceAlarm&) = delete;

  void start();
  void stop();
  // NOSPACE is raised in the cluster (cairn status and /v1/agent/self show it).
  bool raised() const { return raised_; }

 private:
  void poll();
  void schedule();
  void on_alarms(const etcd::CallResult& r);
  void on_status(const etcd::CallResult& r);
  void compact();
  void defragment();
  void disarm();

  etcd::GatewayClient& client_;
  int64_t quota_;
  Hooks hooks_;
  Timer timer_;
  bool running_ = false;
  bool busy_ = false;  // one step in flight at a time
  bool raised_ = false;
  std::vector<uint64_t> alarmed_members_;
  uint64_t compacted_to_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::server
