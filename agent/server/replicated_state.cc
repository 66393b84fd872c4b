#include "agent/server/replicated_state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "agent/server/etcd_rows.h"
#include "agent/state/session_ops.h"
#include "common/log.h"

namespace cairn::server {

namespace {

int64_t wall_clock_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The etcd binary as the spawn will find it: a path, or a name on $PATH.
bool executable_found(const std::string& binary) {
  if (binary.find('/') != std::string::npos) return ::access(binary.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (!dir.empty() && ::access((dir + "/" + binary).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

ReplicatedState::ReplicatedState(uv_loop_t* loop, state::Store& store, ReplicatedSettings settings,
                                 Events events)
    : loop_(loop),
      store_(store),
      settings_(std::move(settings)),
      events_(std::move(events)),
      settle_timer_(loop),
      join_retry_timer_(loop),
      waiter_timer_(loop),
      compact_timer_(loop),
      quorum_timer_(loop),
      leader_poll_(loop) {}

ReplicatedState::~ReplicatedState() {
  *alive_ = false;
  // Parked writes learn that the answer will not come.
  auto waiters = std::move(waiters_);
  for (auto& [rev, w] : waiters) w.done(false);
  for (auto& w : leader_waiters_) w.done(false, "the server is shutting down");
  if (member_) member_->kill_now();
}

std::string ReplicatedState::peer_url() const {
  return "http://" + settings_.bind_addr + ":" + std::to_string(settings_.peer_port);
}

bool ReplicatedState::has_member_data() const {
  return is_dir(settings_.data_dir + "/etcd/member");
}

LocalServer ReplicatedState::local_server() const {
  return {settings_.node_name, settings_.datacenter, settings_.bootstrap_expect, peer_url(),
          has_member_data()};
}

std::string ReplicatedState::start() {
  if (!executable_found(settings_.etcd_binary))
    return "server mode needs etcd, and '" + settings_.etcd_binary +
           "' was not found (install Debian's etcd-server package)";
  if (!executable_found("setpriv"))
    return "server mode needs setpriv from util-linux to supervise etcd, and it was not found";
  if (settings_.data_dir.empty()) return "server mode needs -data-dir";
  if (has_member_data()) {
    log::info("server", "restarting this server's etcd member from its data dir",
              {{"data_dir", settings_.data_dir + "/etcd"}});
    start_member({{settings_.node_name, peer_url()}});
    return "";
  }
  waiting_for_ = "waiting for " + std::to_string(settings_.bootstrap_expect) +
                 " servers of datacenter " + settings_.datacenter + " (bootstrap_expect)";
  log::info("server", "waiting for the datacenter's servers before forming",
            {{"bootstrap_expect", std::to_string(settings_.bootstrap_expect)}});
  servers_seen({});
  return "";
}

void ReplicatedState::servers_seen(std::vector<SeenServer> seen) {
  if (member_ || stopping_) return;
  last_seen_ = seen;
  BootstrapPlan plan = plan_bootstrap(local_server(), seen);
  switch (plan.action) {
    case BootstrapPlan::Action::restart_existing:
      start_member({{settings_.node_name, peer_url()}});
      return;
    case BootstrapPlan::Action::form:
      if (plan.initial_cluster != pending_cluster_) {
        // Gossip reaches servers at slightly different times: form only once
        // the set has stayed the same for a moment.
        pending_cluster_ = std::move(plan.initial_cluster);
        settle_timer_.start(kFormSettleMs, 0, [this] {
          if (member_ || stopping_) return;
          log::info("server", "forming the datacenter's etcd cluster",
                    {{"members", std::to_string(pending_cluster_.size())}});
          start_member(pending_cluster_);
        });
      }
      return;
    case BootstrapPlan::Action::join:
      pending_cluster_.clear();
      settle_timer_.stop();
      waiting_for_ = "joining the running cluster through its leader";
      request_join();
      return;
    case BootstrapPlan::Action::wait:
    case BootstrapPlan::Action::refuse:
      pending_cluster_.clear();
      settle_timer_.stop();
      if (plan.reason != waiting_for_) {
        waiting_for_ = plan.reason;
        if (plan.action == BootstrapPlan::Action::refuse)
          log::error("server", "not forming a cluster", {{"reason", plan.reason}});
        else
          log::info("server", "not forming a cluster yet", {{"reason", plan.reason}});
      }
      return;
  }
}

void ReplicatedState::request_join() {
  uint64_t now = uv_now(loop_);
  if (join_in_flight_ || (last_join_ms_ != 0 && now - last_join_ms_ < kJoinRetryMs)) return;
  if (!events_.ask_to_join) return;
  join_in_flight_ = true;
  last_join_ms_ = now;
  auto answered = std::make_shared<bool>(false);
  std::string payload =
      encode_join_request({settings_.node_name, settings_.datacenter, peer_url()});
  log::info("server", "asking the datacenter's leader to add this server to the etcd cluster");
  bool sent = events_.ask_to_join(
      std::move(payload),
      [this, answered, alive = alive_](std::string_view reply) {
        if (!*alive || *answered || member_ || stopping_) return;
        JoinAnswer a;
        if (std::string err = decode_join_answer(reply, a); !err.empty()) {
          log::warn("server", "unreadable answer to the join request", {{"error", err}});
          return;
        }
        if (!a.error.empty()) {
          log::warn("server", "the leader could not add this server yet", {{"error", a.error}});
          return;
        }
        *answered = true;
        log::info("server", "joining the etcd cluster",
                  {{"members", std::to_string(a.initial_cluster.size())}});
        start_member(std::move(a.initial_cluster), true);
      },
      [this, alive = alive_] {
        if (!*alive) return;
        join_in_flight_ = false;
        // No usable answer (the leader was busy adding, or there was none yet): ask again.
        if (!member_ && !stopping_)
          join_retry_timer_.start(kJoinRetryMs, 0, [this] { servers_seen(last_seen_); });
      });
  if (!sent) join_in_flight_ = false;
}

void ReplicatedState::on_join_request(std::string_view payload,
                                      std::function<void(std::string)> respond) {
  if (!is_leader() || !membership_) return;  // only the leader adds members
  JoinRequest req;
  if (std::string err = decode_join_request(payload, req); !err.empty()) {
    log::warn("server", "ignoring a malformed join request", {{"error", err}});
    return;
  }
  if (req.datacenter != settings_.datacenter) return;
  auto answer = [respond](etcd::MembershipResult r, const std::string& name,
                          const std::string& url) {
    JoinAnswer a;
    if (r.ok)
      a.initial_cluster = etcd::ClusterMembership::initial_cluster_for_join(r.members, name, url);
    else
      a.error = r.error;
    respond(encode_join_answer(a));
  };
  membership_->list([this, req, answer, alive = alive_](etcd::MembershipResult listed) {
    if (!*alive) return;
    if (!listed.ok) {
      answer(listed, req.name, req.peer_url);
      return;
    }
    for (const auto& m : listed.members) {
      for (const auto& url : m.peer_urls) {
        if (url != req.peer_url) continue;
        // An earlier attempt already added it (its answer was lost): the same answer again.
        answer(listed, req.name, req.peer_url);
        if (m.is_learner) promote_when_ready(m.id, req.name);
        return;
      }
    }
    log::info("server", "adding a server to the etcd cluster as a learner",
              {{"node", req.name}, {"peer_url", req.peer_url}});
    membership_->add_learner(req.peer_url,
                             [this, req, answer, alive](etcd::MembershipResult added) {
                               if (!*alive) return;
                               answer(added, req.name, req.peer_url);
                               if (added.ok) promote_when_ready(added.member.id, req.name);
                             });
  });
}

void ReplicatedState::promote_when_ready(uint64_t id, std::string name) {
  membership_->promote(id, [name, alive = alive_](etcd::MembershipResult r) {
    if (!*alive) return;
    if (r.ok)
      log::info("server", "promoted a joining server to a voting etcd member", {{"node", name}});
    else
      log::warn("server", "could not promote a joining server",
                {{"node", name}, {"error", r.error}});
  });
}

void ReplicatedState::start_member(std::vector<std::pair<std::string, std::string>> initial_cluster,
                                   bool join_existing) {
  waiting_for_.clear();
  etcd::MemberConfig mc;
  mc.etcd_binary = settings_.etcd_binary;
  mc.name = settings_.node_name;
  mc.data_dir = settings_.data_dir + "/etcd";
  mc.run_dir = settings_.data_dir + "/etcd-run";
  ::mkdir(mc.run_dir.c_str(), 0700);
  mc.peer_url = peer_url();
  mc.initial_cluster = std::move(initial_cluster);
  mc.join_existing = join_existing;
  mc.cluster_token = "cairn-" + settings_.datacenter;
  mc.unsafe_no_fsync = settings_.unsafe_no_fsync;
  mc.heartbeat_ms = etcd::kHeartbeatMs * settings_.raft_multiplier;
  mc.election_ms = etcd::kElectionMs * settings_.raft_multiplier;
  mc.quota_backend_bytes = settings_.quota_backend_bytes;
  mc.die_with_parent = true;
  mc.client_port = settings_.client_port;
  etcd::ClientEndpoint endpoint;
  if (settings_.client_port > 0)
    endpoint.port = static_cast<uint16_t>(settings_.client_port);  // host is 127.0.0.1
  else
    endpoint.unix_socket = etcd::client_socket_path(mc.run_dir);
  member_ = std::make_unique<etcd::MemberProcess>(
      loop_, mc,
      etcd::MemberProcess::Events{[this](int64_t) {
                                    if (events_.on_member_running) events_.on_member_running();
                                  },
                                  nullptr,
                                  [this](const std::string& why) {
                                    waiting_for_ = "the etcd member failed: " + why;
                                    log::error("server",
                                               "the etcd member failed and will not be restarted",
                                               {{"reason", why}});
                                  }});
  client_ = std::make_unique<etcd::GatewayClient>(loop_, endpoint);
  membership_ = std::make_unique<etcd::ClusterMembership>(loop_, *client_);
  writer_ =
      std::make_unique<EtcdWriter>(store_, *client_, *this, wall_clock_ms, EtcdWriter::Settings{});
  feed_ = std::make_unique<WatchFeed>(
      loop_, *client_,
      WatchFeed::Sink{[this](int64_t rev, std::vector<state::Mutation> rows) {
                        on_snapshot(rev, std::move(rows));
                      },
                      [this](int64_t rev, state::Batch batch) { on_batch(rev, std::move(batch)); },
                      [this](int64_t rev) { on_progress(rev); },
                      [this](std::vector<LeaderRow> rows, bool whole) {
                        on_leader_rows(std::move(rows), whole);
                      }});
  election_ = std::make_unique<LeaderElection>(
      loop_, *client_, settings_.leader_value,
      LeaderElection::Events{[this](const etcd::LeaderKey&) {
                               log::info("server", "this server is the cairn leader");
                               release_all_orphaned_locks();
                               if (events_.on_leadership_gained) events_.on_leadership_gained();
                             },
                             [this] {
                               log::warn("server", "this server lost cairn leadership");
                               if (events_.on_leadership_lost) events_.on_leadership_lost();
                             }});
  space_alarm_ = std::make_unique<SpaceAlarm>(
      loop_, *client_, settings_.quota_backend_bytes,
      SpaceAlarm::Hooks{[this] { return is_leader(); }, [this] { return applied_; }});
  member_->start();
  space_alarm_->start();
  quorum_timer_.start(1000, 1000, [this] { probe_quorum(); });
  compact_timer_.start(kCompactEveryMs, kCompactEveryMs, [this] { compact_tick(); });
  // The feed retries until the member answers; the first list makes the server ready.
  feed_->start();
  election_->start();
}

void ReplicatedState::on_snapshot(int64_t revision, std::vector<state::Mutation> rows) {
  store_.load_snapshot(rows, static_cast<uint64_t>(revision));
  last_quorum_ms_ = uv_now(loop_);  // a list is a linearizable read: the quorum answered
  log::info("server", "watch cache loaded",
            {{"revision", std::to_string(revision)}, {"rows", std::to_string(rows.size())}});
  advance(static_cast<uint64_t>(revision));
  if (!ready_) {
    ready_ = true;
    if (events_.on_ready) events_.on_ready();
  }
}

void ReplicatedState::on_batch(int64_t revision, state::Batch batch) {
  auto rev = static_cast<uint64_t>(revision);
  // A session row deleted while its keys are still locked: its lease expired
  // (a destroy releases the keys in the same transaction).
  std::vector<std::pair<state::Session, std::vector<std::string>>> gone;
  for (const auto& m : batch) {
    const auto* del = std::get_if<state::DeleteSession>(&m);
    if (del == nullptr) continue;
    const state::Session* s = store_.session(del->id);
    if (s == nullptr) continue;
    std::vector<std::string> keys = store_.keys_held_by(del->id);
    if (!keys.empty()) gone.emplace_back(*s, std::move(keys));
  }
  if (!batch.empty() && rev > store_.index()) store_.apply(batch, rev);
  advance(rev);
  if (!gone.empty() && is_leader()) release_orphaned_locks(std::move(gone));
}

void ReplicatedState::release_orphaned_locks(
    std::vector<std::pair<state::Session, std::vector<std::string>>> gone) {
  for (auto& [session, keys] : gone)
    log::info("server", "session expired; releasing its locks",
              {{"session", session.id}, {"keys", std::to_string(keys.size())}});
  leader_gate_.write(
      [gone = std::move(gone)](const state::Store& store, int64_t now, state::Batch& out) {
        for (const auto& [session, keys] : gone)
          state::plan_release_locks(store, session, keys, now, out);
        return PlanStatus();
      },
      [](const WriteResult& r) {
        if (!r.ok())
          log::warn("server", "releasing an expired session's locks failed",
                    {{"error", r.message}});
      });
}

void ReplicatedState::release_all_orphaned_locks() {
  std::map<std::string, std::vector<std::string>> orphans;
  for (const auto& [key, e] : store_.kvs())
    if (!e.session.empty() && store_.session(e.session) == nullptr)
      orphans[e.session].push_back(key);
  if (orphans.empty()) return;
  std::vector<std::pair<state::Session, std::vector<std::string>>> gone;
  for (auto& [id, keys] : orphans) {
    state::Session s;  // its Behavior and lock-delay are gone with it: release, no delay
    s.id = id;
    s.behavior = state::kBehaviorRelease;
    s.lock_delay = 0;
    gone.emplace_back(std::move(s), std::move(keys));
  }
  release_orphaned_locks(std::move(gone));
}

void ReplicatedState::renew_session(const std::string& id, std::function<void(bool)> done) {
  if (!client_) {
    done(false);
    return;
  }
  std::string body;
  etcd::encode_lease_keepalive(body, {session_lease_id(id)});
  client_->call("/v3/lease/keepalive", std::move(body), kBarrierTimeoutMs,
                [done = std::move(done), alive = alive_](etcd::CallResult r) {
                  if (!*alive) return;
                  etcd::LeaseKeepAliveResponse k;
                  done(r.ok() && etcd::decode_lease_keepalive(r.body, k).ok() && k.ttl > 0);
                });
}

void ReplicatedState::on_progress(int64_t revision) {
  advance(static_cast<uint64_t>(revision));
}

void ReplicatedState::on_leader_rows(std::vector<LeaderRow> rows, bool whole) {
  if (whole) {
    leader_rows_.clear();
    handoff_.reset();
  }
  for (auto& r : rows) {
    if (r.key.starts_with(kHandoffPrefix)) {
      if (r.key != kHandoffKey) continue;
      handoff_ = r.deleted ? std::nullopt : decode_handoff(r.value);
      // Once per transfer (each marker has its own deadline), even when a
      // marker that was never deleted is overwritten.
      if (handoff_ && handoff_->until_unix_ms != moved_etcd_for_) {
        moved_etcd_for_ = handoff_->until_unix_ms;
        move_etcd_leader(*handoff_);
      }
      continue;
    }
    if (r.deleted)
      leader_rows_.erase(r.key);
    else
      leader_rows_[r.key] = std::move(r);
  }
  follow_handoff();
}

void ReplicatedState::follow_handoff() {
  if (!handoff_ || !election_ || stepping_back_ || stopping_) return;
  if (handoff_->until_unix_ms < wall_clock_ms()) {
    handoff_.reset();
    return;
  }
  if (handoff_->target == settings_.leader_value) {
    // Elected: the handoff is over, and the marker goes.
    if (is_leader() && client_) {
      etcd::DeleteRangeRequest del;
      del.key = std::string(kHandoffKey);
      std::string body;
      etcd::encode_delete_range(body, del);
      client_->call("/v3/kv/deleterange", std::move(body), kBarrierTimeoutMs,
                    [](etcd::CallResult) {});
    }
    return;
  }
  std::vector<LeaderRow> rows;
  rows.reserve(leader_rows_.size());
  for (const auto& [key, row] : leader_rows_) rows.push_back(row);
  if (handoff_step(rows, settings_.leader_value, handoff_->target) == HandoffStep::step_back)
    step_back();
}

void ReplicatedState::step_back() {
  stepping_back_ = true;
  log::info("server", "stepping back in the leader election for a leadership transfer",
            {{"target", handoff_ ? handoff_->target : std::string()}});
  election_->resign([this, alive = alive_] {
    if (!*alive) return;
    stepping_back_ = false;
    if (stopping_) return;
    election_->start();
  });
}

void ReplicatedState::move_etcd_leader(const Handoff& h) {
  if (h.target_member == 0 || !client_) return;
  // Only the etcd leader accepts a move: each server asks its own member
  // whether it leads, and the one that does moves it.
  member_status(
      [this, target = h.target_member, alive = alive_](bool ok, const etcd::StatusResponse& st) {
        if (!*alive || !ok || st.leader != st.header.member_id || st.leader == target) return;
        std::string body;
        etcd::encode_move_leader(body, target);
        client_->call(
            "/v3/maintenance/transfer-leadership", std::move(body), kBarrierTimeoutMs,
            [target, alive](etcd::CallResult r) {
              if (!*alive) return;
              char id[17];
              std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(target));
              if (r.ok())
                log::info("server", "moved etcd's raft leadership for a leadership transfer",
                          {{"member", id}});
              else
                log::warn("server", "could not move etcd's raft leadership",
                          {{"error", r.detail.empty() ? r.body : r.detail}});
            });
      });
}

void ReplicatedState::member_status(
    std::function<void(bool ok, const etcd::StatusResponse&)> done) {
  if (!client_) {
    done(false, {});
    return;
  }
  client_->call("/v3/maintenance/status", "{}", kBarrierTimeoutMs,
                [done = std::move(done), alive = alive_](etcd::CallResult r) {
                  if (!*alive) return;
                  etcd::StatusResponse st;
                  bool ok = r.ok() && etcd::decode_status(r.body, st).ok();
                  done(ok, st);
                });
}

void ReplicatedState::transfer_leadership(std::string target_value, uint64_t target_member,
                                          std::function<void(bool, std::string)> done) {
  if (!ready_ || !client_) {
    done(false, "No cluster leader");
    return;
  }
  Handoff h{target_value, target_member, wall_clock_ms() + static_cast<int64_t>(kHandoffTimeoutMs)};
  etcd::PutRequest put;
  put.key = std::string(kHandoffKey);
  put.value = encode_handoff(h);
  std::string body;
  etcd::encode_put(body, put);
  log::info("server", "transferring the cairn leadership", {{"target", target_value}});
  client_->call(
      "/v3/kv/put", std::move(body), kBarrierTimeoutMs,
      [this, target_value, done = std::move(done), alive = alive_](etcd::CallResult r) mutable {
        if (!*alive) return;
        if (!r.ok()) {
          done(false,
               "cannot start the leadership transfer: " + (r.detail.empty() ? r.body : r.detail));
          return;
        }
        leader_waiters_.push_back(
            {std::move(target_value), uv_now(loop_) + kHandoffTimeoutMs, std::move(done)});
        if (!leader_poll_.active()) leader_poll_.start(50, 50, [this] { poll_leader_waiters(); });
      });
}

void ReplicatedState::poll_leader_waiters() {
  std::string leader = leader_value();
  uint64_t now = uv_now(loop_);
  std::vector<std::function<void()>> finished;
  std::erase_if(leader_waiters_, [&](LeaderWaiter& w) {
    if (leader == w.target) {
      finished.push_back([done = std::move(w.done)] { done(true, {}); });
      return true;
    }
    if (now < w.deadline_ms) return false;
    finished.push_back([done = std::move(w.done), target = w.target] {
      done(false, "the leadership did not move to " + target + " in time");
    });
    return true;
  });
  if (leader_waiters_.empty()) leader_poll_.stop();
  for (auto& f : finished) f();
}

std::string ReplicatedState::leader_value() const {
  // A cache out of touch with etcd (cut off from the quorum, member down)
  // cannot know who leads now: say none rather than name a deposed leader.
  if (!ready_ || last_contact_age_ms() > kLeaderUnknownAfterMs) return "";
  // The campaign's rule: the lowest create revision under the prefix leads.
  const LeaderRow* best = nullptr;
  for (const auto& [key, row] : leader_rows_)
    if (!best || row.create_revision < best->create_revision) best = &row;
  return best ? best->value : std::string();
}

uint64_t ReplicatedState::last_contact_age_ms() const {
  if (last_quorum_ms_ == 0) return ready_ ? uv_now(loop_) : 0;
  return uv_now(loop_) - last_quorum_ms_;
}

void ReplicatedState::collect_lock_delays() {
  // Markers that ended a minute ago: the leader deletes their rows (only if
  // unchanged since: a new delay on the key keeps its row), every server
  // forgets them.
  int64_t before = wall_clock_ms() - 60'000;
  if (is_leader() && client_) {
    size_t sent = 0;
    for (const auto& [key, until] : store_.lock_delays()) {
      if (until >= before || ++sent > 256) continue;
      etcd::TxnRequest txn;
      etcd::Compare unchanged;
      unchanged.key = lockdelay_row_key(key);
      unchanged.target = etcd::Compare::Target::value;
      unchanged.value = encode_lock_delay_row(until);
      txn.compare.push_back(std::move(unchanged));
      etcd::DeleteRangeRequest del;
      del.key = lockdelay_row_key(key);
      txn.success.emplace_back(std::move(del));
      std::string body;
      etcd::encode_txn(body, txn);
      client_->call("/v3/kv/txn", std::move(body), kBarrierTimeoutMs, [](etcd::CallResult) {});
    }
  }
  store_.forget_lock_delays(before);
}

void ReplicatedState::compact_tick() {
  collect_lock_delays();
  uint64_t now = uv_now(loop_);
  if (ready_) revision_marks_.emplace_back(now, applied_);
  uint64_t target = 0;
  while (!revision_marks_.empty() && now - revision_marks_.front().first >= kCompactRetentionMs) {
    target = revision_marks_.front().second;
    revision_marks_.pop_front();
  }
  if (!is_leader() || target <= compacted_to_ || !client_) return;
  std::string body;
  etcd::encode_compaction(body, static_cast<int64_t>(target));
  client_->call(
      "/v3/kv/compaction", std::move(body), kBarrierTimeoutMs,
      [this, target, alive = alive_](etcd::CallResult r) {
        if (!*alive) return;
        if (r.ok() || r.body.find("compacted") != std::string::npos) {
          compacted_to_ = target;
          log::info("server", "compacted etcd history", {{"revision", std::to_string(target)}});
        } else {
          log::warn("server", "compacting etcd history failed",
                    {{"error", r.detail.empty() ? r.body : r.detail}});
        }
      });
}

void ReplicatedState::probe_quorum() {
  if (!ready_ || barrier_in_flight_ || stopping_) return;
  if (uv_now(loop_) - last_quorum_ms_ < 1000) return;
  barrier([](bool) {});
}

void ReplicatedState::advance(uint64_t revision) {
  applied_ = std::max(applied_, revision);
  while (!waiters_.empty() && waiters_.begin()->first <= applied_) {
    auto node = waiters_.extract(waiters_.begin());
    node.mapped().done(true);
  }
  if (waiters_.empty()) waiter_timer_.stop();
}

void ReplicatedState::when_applied(uint64_t revision, uint64_t timeout_ms,
                                   std::function<void(bool)> done) {
  if (revision <= applied_) {
    done(true);
    return;
  }
  waiters_.emplace(revision, Waiter{uv_now(loop_) + timeout_ms, std::move(done)});
  if (!waiter_timer_.active()) waiter_timer_.start(100, 100, [this] { expire_waiters(); });
}

void ReplicatedState::expire_waiters() {
  uint64_t now = uv_now(loop_);
  std::vector<std::function<void(bool)>> expired;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->second.deadline_ms <= now) {
      expired.push_back(std::move(it->second.done));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  if (waiters_.empty()) waiter_timer_.stop();
  for (auto& f : expired) f(false);
}

void ReplicatedState::shutdown(std::function<void()> done) {
  stopping_ = true;
  settle_timer_.stop();
  join_retry_timer_.stop();
  quorum_timer_.stop();
  compact_timer_.stop();
  if (space_alarm_) space_alarm_->stop();
  if (!member_) {
    done();
    return;
  }
  // Resign even after leave_cluster stopped the member: that also ends the
  // campaign's retries, which would otherwise keep the loop alive. A member
  // already stopped answers stop() at once.
  election_->resign([this, done = std::move(done), alive = alive_] {
    if (!*alive) return;
    feed_->stop();
    member_->stop(done);
  });
}

void ReplicatedState::barrier(std::function<void(bool)> done) {
  if (!ready_ || !client_) {
    done(false);
    return;
  }
  next_barrier_.push_back(std::move(done));
  if (!barrier_in_flight_) start_barrier();
}

void ReplicatedState::start_barrier() {
  barrier_in_flight_ = true;
  auto sharing = std::make_shared<std::vector<std::function<void(bool)>>>(std::move(next_barrier_));
  next_barrier_.clear();
  etcd::RangeRequest probe;
  probe.key = std::string(kLeaderElection) + "/";
  probe.range_end = etcd::prefix_end(probe.key);
  probe.count_only = true;  // linearizable (not serializable): etcd's ReadIndex
  std::string body;
  etcd::encode_range(body, probe);
  client_->call(
      "/v3/kv/range", std::move(body), kBarrierTimeoutMs,
      [this, sharing, alive = alive_](etcd::CallResult r) {
        if (!*alive) return;
        barrier_in_flight_ = false;
        etcd::RangeResponse resp;
        bool ok = r.ok() && etcd::decode_range(r.body, resp).ok() && resp.header.revision > 0;
        if (ok) last_quorum_ms_ = uv_now(loop_);
        auto answer = [sharing](bool reached) {
          for (auto& f : *sharing) f(reached);
        };
        if (ok)
          when_applied(static_cast<uint64_t>(resp.header.revision), kBarrierTimeoutMs, answer);
        else
          answer(false);
        if (!next_barrier_.empty() && !barrier_in_flight_) start_barrier();
      });
}

namespace {

// "http://127.0.0.3:8380" -> "127.0.0.3".
std::string peer_host(const std::string& url) {
  std::string_view v = url;
  if (auto p = v.find("://"); p != std::string_view::npos) v.remove_prefix(p + 3);
  if (!v.empty() && v.front() == '[') {
    auto close = v.find(']');
    return std::string(v.substr(1, close == std::string_view::npos ? v.size() : close - 1));
  }
  return std::string(v.substr(0, v.rfind(':')));
}

std::string hex_id(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace

void ReplicatedState::raft_peers(PeersDone done) {
  if (!membership_) {
    done(false, "No cluster leader", {});
    return;
  }
  membership_->list([this, done = std::move(done), alive = alive_](etcd::MembershipResult r) {
    if (!*alive) return;
    if (!r.ok) {
      done(false, r.error, {});
      return;
    }
    std::string leader = leader_value();
    std::vector<RaftPeer> peers;
    for (const auto& m : r.members) {
      RaftPeer p;
      p.id = hex_id(m.id);
      p.node = m.name;
      std::string host = m.peer_urls.empty() ? std::string() : peer_host(m.peer_urls.front());
      p.address = host + ":" + std::to_string(settings_.server_port);
      p.leader = !leader.empty() && p.address == leader;
      p.voter = !m.is_learner;
      peers.push_back(std::move(p));
    }
    std::sort(peers.begin(), peers.end(),
              [](const RaftPeer& a, const RaftPeer& b) { return a.node < b.node; });
    done(true, {}, std::move(peers));
  });
}

void ReplicatedState::remove_peer(std::string id_or_address,
                                  std::function<void(bool, std::string)> done) {
  raft_peers([this, target = std::move(id_or_address), done = std::move(done), alive = alive_](
                 bool ok, const std::string& error, std::vector<RaftPeer> peers) {
    if (!*alive) return;
    if (!ok) {
      done(false, error);
      return;
    }
    for (const auto& p : peers) {
      if (p.id != target && p.address != target) continue;
      uint64_t id = std::strtoull(p.id.c_str(), nullptr, 16);
      log::info("server", "removing a server from the etcd cluster",
                {{"node", p.node}, {"id", p.id}});
      membership_->remove(id, [done, alive](etcd::MembershipResult r) {
        if (*alive) done(r.ok, r.error);
      });
      return;
    }
    done(false, "address \"" + target + "\" was not found in the Raft configuration");
  });
}

void ReplicatedState::leave_cluster(std::function<void()> done) {
  if (!member_ || !ready_) {
    done();
    return;
  }
  // Hand leadership over first: the next server is elected within milliseconds.
  election_->resign([this, done = std::move(done), alive = alive_]() mutable {
    if (*alive) remove_own_member(std::move(done));
  });
}

void ReplicatedState::remove_own_member(std::function<void()> done) {
  raft_peers([this, done = std::move(done), alive = alive_](bool ok, const std::string& error,
                                                            std::vector<RaftPeer> peers) {
    if (!*alive) return;
    const RaftPeer* self = nullptr;
    for (const auto& p : peers)
      if (p.node == settings_.node_name) self = &p;
    if (!ok || self == nullptr || peers.size() < 2) {
      if (!ok) log::warn("server", "cannot list etcd members to leave", {{"error", error}});
      done();
      return;
    }
    remove_peer(self->id, [this, done, alive](bool removed, const std::string& why) {
      if (!*alive) return;
      if (!removed) {
        log::warn("server", "could not remove this server's etcd member", {{"error", why}});
        done();
        return;
      }
      log::info("server", "left the etcd cluster");
      stopping_ = true;
      if (feed_) feed_->stop();
      member_->stop([this, done, alive] {
        if (!*alive) return;
        std::string from = settings_.data_dir + "/etcd";
        std::string to = from + ".removed-" + std::to_string(wall_clock_ms());
        if (std::rename(from.c_str(), to.c_str()) != 0)
          log::warn("server", "could not move the removed member's data aside", {{"path", from}});
        done();
      });
    });
  });
}

void ReplicatedState::GateWriter::write(Plan plan, WriteDone done) {
  auto refuse = [&](const char* why) {
    if (done) done(WriteResult::failure(WriteCode::unavailable, why, owner_.store_.index()));
  };
  // Consul's answer from a server that has no leader yet.
  if (!owner_.ready_ || !owner_.writer_) return refuse("No cluster leader");
  if (!leader_only_) {
    owner_.writer_->write(std::move(plan), std::move(done));
    return;
  }
  const auto& fence = owner_.election_->fence();
  if (!fence) return refuse("this server is not the cairn leader");
  owner_.writer_->write_fenced(std::move(plan), std::move(done), *fence,
                               [owner = &owner_] { return owner->is_leader(); });
}

void ReplicatedState::GateWriter::restore(state::Batch rows, WriteDone done) {
  if (!owner_.ready_ || !owner_.writer_ || leader_only_) {
    if (done)
      done(
          WriteResult::failure(WriteCode::unavailable, "No cluster leader", owner_.store_.index()));
    return;
  }
  owner_.writer_->restore(std::move(rows), std::move(done));
}

}  // namespace cairn::server
