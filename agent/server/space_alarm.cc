#include "agent/server/space_alarm.h"

#include <string>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "common/log.h"

namespace cairn::server {

namespace {

constexpr uint64_t kAlarmCallTimeoutMs = 5000;
constexpr uint64_t kDefragTimeoutMs = 60000;  // defragmenting blocks the member meanwhile

std::string alarm_failure_text(const etcd::CallResult& r) {
  return r.detail.empty() ? r.body : r.detail;
}

}  // namespace

SpaceAlarm::SpaceAlarm(uv_loop_t* loop, etcd::GatewayClient& client, int64_t quota_bytes,
                       Hooks hooks)
    : client_(client),
      quota_(quota_bytes > 0 ? quota_bytes : kEtcdDefaultQuota),
      hooks_(std::move(hooks)),
      timer_(loop) {}

SpaceAlarm::~SpaceAlarm() {
  *alive_ = false;
}

void SpaceAlarm::start() {
  running_ = true;
  schedule();
}

void SpaceAlarm::stop() {
  running_ = false;
  timer_.stop();
}

void SpaceAlarm::schedule() {
  if (running_) timer_.start(raised_ ? kAlarmPollMs : kQuietPollMs, 0, [this] { poll(); });
}

void SpaceAlarm::poll() {
  if (busy_) return schedule();
  busy_ = true;
  std::string body;
  etcd::encode_alarm_get(body);
  client_.call("/v3/maintenance/alarm", std::move(body), kAlarmCallTimeoutMs,
               [this, alive = alive_](etcd::CallResult r) {
                 if (!*alive) return;
                 on_alarms(r);
               });
}

void SpaceAlarm::on_alarms(const etcd::CallResult& r) {
  etcd::AlarmResponse resp;
  if (!r.ok() || !etcd::decode_alarm(r.body, resp).ok()) {
    busy_ = false;
    return schedule();  // the member is busy or away: the quorum probe reports that
  }
  alarmed_members_.clear();
  for (const auto& a : resp.alarms)
    if (a.alarm == "NOSPACE") alarmed_members_.push_back(a.member_id);
  bool was = raised_;
  raised_ = !alarmed_members_.empty();
  if (raised_ && !was)
    log::error("server",
               "the datacenter's store is full (etcd NOSPACE alarm): writes are refused until "
               "space is freed; compacting, defragmenting and disarming",
               {{"quota_bytes", std::to_string(quota_)}});
  if (!raised_ && was) log::info("server", "the etcd NOSPACE alarm is cleared: writes resume");
  if (!raised_) {
    busy_ = false;
    return schedule();
  }
  if (hooks_.is_leader() && hooks_.applied_revision() > compacted_to_) return compact();
  std::string body = "{}";
  client_.call("/v3/maintenance/status", std::move(body), kAlarmCallTimeoutMs,
               [this, alive = alive_](etcd::CallResult s) {
                 if (!*alive) return;
                 on_status(s);
               });
}

void SpaceAlarm::compact() {
  uint64_t target = hooks_.applied_revision();
  std::string body;
  etcd::encode_compaction(body, static_cast<int64_t>(target));
  client_.call(
      "/v3/kv/compaction", std::move(body), kAlarmCallTimeoutMs,
      [this, target, alive = alive_](etcd::CallResult r) {
        if (!*alive) return;
        if (r.ok() || r.body.find("compacted") != std::string::npos) {
          compacted_to_ = target;
          log::info("server", "compacted etcd history to free space",
                    {{"revision", std::to_string(target)}});
        } else {
          log::warn("server", "compacting etcd history failed", {{"error", alarm_failure_text(r)}});
        }
        busy_ = false;
        schedule();
      });
}

void SpaceAlarm::on_status(const etcd::CallResult& r) {
  etcd::StatusResponse st;
  if (!r.ok() || !etcd::decode_status(r.body, st).ok()) {
    busy_ = false;
    return schedule();
  }
  // Free pages only return to the quota once the file is rewritten.
  int64_t free_pages = st.db_size - st.db_size_in_use;
  if (free_pages > st.db_size / 4 && free_pages > (int64_t{1} << 20)) return defragment();
  if (hooks_.is_leader() && st.db_size_in_use < quota_ / 10 * 8) return disarm();
  busy_ = false;
  schedule();
}

void SpaceAlarm::defragment() {
  std::string body = "{}";
  client_.call(
      "/v3/maintenance/defragment", std::move(body), kDefragTimeoutMs,
      [this, alive = alive_](etcd::CallResult r) {
        if (!*alive) return;
        if (r.ok())
          log::info("server", "defragmented the etcd member to free space");
        else
          log::warn("server", "defragmenting the etcd member failed", {{"error", alarm_failure_text(r)}});
        busy_ = false;
        schedule();
      });
}

void SpaceAlarm::disarm() {
  // One call per alarmed member; the next poll sees what is left.
  for (uint64_t member : alarmed_members_) {
    std::string body;
    etcd::encode_alarm_disarm(body, member, "NOSPACE");
    client_.call("/v3/maintenance/alarm", std::move(body), kAlarmCallTimeoutMs,
                 [member, alive = alive_](etcd::CallResult r) {
                   if (!*alive) return;
                   if (!r.ok())
                     log::warn("server", "disarming the etcd NOSPACE alarm failed",
                               {{"member", std::to_string(member)}, {"error", alarm_failure_text(r)}});
                 });
  }
  busy_ = false;
  schedule();
}

}  // namespace cairn::server
