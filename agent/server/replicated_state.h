// A server's replicated state: its etcd member, the watch cache that feeds
// the state store from it, the writer that commits to it, and the cairn
// leader election. -dev has none of this (DevWriter writes the store
// directly); everything above the store is the same on both paths.
//
// Lifecycle: the member starts when the bootstrap plan says so (a data dir
// that holds a member restarts it at once; otherwise gossip must show the
// datacenter's -bootstrap-expect servers). Until the cache has loaded its
// first list, writes answer `unavailable` ("No cluster leader") and reads see
// an empty store, as a Consul server without a leader would.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/etcd/cluster_membership.h"
#include "agent/etcd/gateway_client.h"
#include "agent/etcd/member_process.h"
#include "agent/server/bootstrap_plan.h"
#include "agent/server/etcd_writer.h"
#include "agent/server/join_request.h"
#include "agent/server/leader_election.h"
#include "agent/server/leader_handoff.h"
#include "agent/server/space_alarm.h"
#include "agent/server/watch_feed.h"
#include "common/uv_handle.h"

namespace cairn::server {

struct ReplicatedSettings {
  std::string etcd_binary = "etcd";
  std::string node_name;
  std::string datacenter;
  std::string data_dir;   // the agent's -data-dir; the member lives in <data_dir>/etcd
  std::string bind_addr;  // the peer URL's address
  int peer_port = 8380;
  int client_port = 0;  // ports.etcd_client: 0 is the unix socket in the data dir
  int bootstrap_expect = 0;
  std::string leader_value;  // what /v1/status/leader shows for this server
  int server_port = 8300;    // other servers' addresses in the raft configuration
  bool unsafe_no_fsync = false;
  int raft_multiplier = 1;          // performance.raft_multiplier
  int64_t quota_backend_bytes = 0;  // etcd.quota_backend_bytes (0: etcd's default)
};

// One server of the datacenter's consensus, as Consul's raft configuration
// shows it. ID is the etcd member ID (hex): cairn's servers are etcd members.
struct RaftPeer {
  std::string id;
  std::string node;
  std::string address;  // <ip>:<server port>, as /v1/status/peers lists it
  bool leader = false;  // the cairn leader (what /v1/status/leader names)
  bool voter = true;    // false while a joining member is an etcd learner
};

class ReplicatedState : public AppliedRevision {
 public:
  struct Events {
    std::function<void()> on_ready;  // the cache holds the datacenter's state
    std::function<void()> on_leadership_gained;
    std::function<void()> on_leadership_lost;
    std::function<void()> on_member_running;  // the gossip tags should now say so
    // Sends a join request to the datacenter's servers (a Serf query);
    // on_answer runs per answer, on_done when the query is over.
    std::function<bool(std::string payload, std::function<void(std::string_view)> on_answer,
                       std::function<void()> on_done)>
        ask_to_join;
  };
  // Progress messages arrive every second: three missed ones and the cache
  // no longer names a leader.
  static constexpr uint64_t kLeaderUnknownAfterMs = 3000;
  // How long gossip's view of the servers must stay the same before forming.
  static constexpr uint64_t kFormSettleMs = 1000;

  ReplicatedState(uv_loop_t* loop, state::Store& store, ReplicatedSettings settings, Events events);
  ~ReplicatedState() override;
  ReplicatedState(const ReplicatedState&) = delete;
  ReplicatedState& operator=(const ReplicatedState&) = delete;

  // Restarts an existing member at once; otherwise waits for servers_seen().
  // "" or why server mode cannot run here (no etcd binary, no data dir).
  std::string start();
  // What gossip shows of the datacenter's servers (this one excluded).
  void servers_seen(std::vector<SeenServer> seen);
  // A join request from a server that arrived after the cluster formed
  // (join_request.h). Only the cairn leader acts: it adds the server as a
  // learner (or finds it added by an earlier attempt), answers with the
  // initial cluster, and promotes it once it has caught up.
  void on_join_request(std::string_view payload, std::function<void(std::string)> respond);

  // Resigns leadership and stops the member; done runs when it has exited.
  void shutdown(std::function<void()> done);

  CatalogWriter& writer() { return gate_; }
  // For leader duties (reconciling gossip, releasing expired sessions' locks):
  // refused unless this server is the cairn leader, and fenced in etcd.
  CatalogWriter& leader_writer() { return leader_gate_; }
  bool ready() const { return ready_; }
  bool member_running() const {
    return member_ && member_->state() == etcd::MemberProcess::State::running;
  }
  bool is_leader() const { return election_ && election_->is_leader(); }
  // The cairn leader as every server's cache shows it ("" when none).
  std::string leader_value() const;
  std::string peer_url() const;
  // Why the member has not started yet (bootstrap), or why it failed.
  const std::string& waiting_for() const { return waiting_for_; }
  // etcd's NOSPACE alarm is raised: writes are refused until it is cleared.
  bool store_full() const { return space_alarm_ && space_alarm_->raised(); }
  // Milliseconds since this server last saw etcd's quorum answer (a barrier,
  // probed every second when nothing else asked): Consul's LastContact. A
  // member cut off from the others still answers locally, so the watch
  // stream alone cannot tell.
  uint64_t last_contact_age_ms() const;
  const WatchFeed* feed() const { return feed_.get(); }
  const EtcdWriter* etcd_writer() const { return writer_.get(); }

  // Consul's default and ?consistent reads (reference §8.10): a quorum read
  // of a tiny range gives the latest committed revision, and done(true) runs
  // once this cache has applied it; done(false) when etcd has no quorum or
  // the cache cannot catch up. At most one barrier is in flight; requests
  // arriving meanwhile share the next one (one ReadIndex per round trip).
  void barrier(std::function<void(bool ok)> done);
  static constexpr uint64_t kBarrierTimeoutMs = 3000;
  // Leader duty (reference §8.8): compact etcd's history to the revision seen
  // kCompactRetentionMs ago, checked every kCompactEveryMs. The retention far
  // exceeds the time a server needs to re-list and resume its watch.
  static constexpr uint64_t kCompactEveryMs = 60'000;
  static constexpr uint64_t kCompactRetentionMs = 10 * 60'000;

  // Renews a session with a TTL: one keepalive of its lease. done(true) when
  // the lease (and so the session) still exists.
  void renew_session(const std::string& id, std::function<void(bool found)> done);

  // The members of the etcd cluster, from the local member.
  using PeersDone = std::function<void(bool ok, const std::string& error, std::vector<RaftPeer>)>;
  void raft_peers(PeersDone done);
  // Removes the member whose ID or address (<ip>:<port>) is given (Consul's
  // remove-peer); done(ok, error).
  void remove_peer(std::string id_or_address, std::function<void(bool, std::string)> done);

  // Moves the cairn leadership (and etcd's raft leadership) to the server
  // campaigning with target_value, whose etcd member is target_member
  // (leader_handoff.h); done(ok, error) once this server's cache names the
  // target as leader, or kHandoffTimeoutMs passed.
  static constexpr uint64_t kHandoffTimeoutMs = 10'000;
  void transfer_leadership(std::string target_value, uint64_t target_member,
                           std::function<void(bool, std::string)> done);
  // maintenance/status of the local etcd member (raft term and index, the etcd leader).
  void member_status(std::function<void(bool ok, const etcd::StatusResponse&)> done);

  // `cairn leave` on a server: removes this server's own member from the etcd
  // cluster (the others keep their quorum arithmetic right), then moves its
  // etcd data aside, since a removed member can never start again; done runs
  // either way (a lone server or no member has nothing to remove).
  void leave_cluster(std::function<void()> done);

  // AppliedRevision
  uint64_t applied_revision() const override { return applied_; }
  void when_applied(uint64_t revision, uint64_t timeout_ms,
                    std::function<void(bool reached)> done) override;

 private:
  // Refuses writes until the cache is loaded (and, for leader duties, unless
  // this server leads), then hands them to EtcdWriter (fenced for the leader).
  class GateWriter : public CatalogWriter {
   public:
    GateWriter(ReplicatedState& owner, bool leader_only)
        : owner_(owner), leader_only_(leader_only) {}
    void write(Plan plan, WriteDone done) override;
    void restore(state::Batch rows, WriteDone done) override;

   private:
    ReplicatedState& owner_;
    bool leader_only_;
  };

  void start_member(std::vector<std::pair<std::string, std::string>> initial_cluster,
                    bool join_existing = false);
  void request_join();
  void promote_when_ready(uint64_t id, std::string name);
  void on_snapshot(int64_t revision, std::vector<state::Mutation> rows);
  void on_batch(int64_t revision, state::Batch batch);
  void on_progress(int64_t revision);
  void on_leader_rows(std::vector<LeaderRow> rows, bool whole);
  void follow_handoff();
  void move_etcd_leader(const Handoff& h);
  void step_back();
  void advance(uint64_t revision);
  // Leader duty: a session's lease expired and etcd deleted its row; its locks
  // are released (or deleted) with its lock-delay, as Consul's invalidation.
  void release_orphaned_locks(
      std::vector<std::pair<state::Session, std::vector<std::string>>> gone);
  // A new leader releases locks whose session no longer exists (an expiry
  // the previous leader did not get to).
  void release_all_orphaned_locks();
  void expire_waiters();
  bool has_member_data() const;
  LocalServer local_server() const;

  uv_loop_t* loop_;
  state::Store& store_;
  ReplicatedSettings settings_;
  Events events_;
  GateWriter gate_{*this, false};
  GateWriter leader_gate_{*this, true};
  std::unique_ptr<etcd::MemberProcess> member_;
  std::unique_ptr<etcd::GatewayClient> client_;
  std::unique_ptr<WatchFeed> feed_;
  std::unique_ptr<EtcdWriter> writer_;
  std::unique_ptr<LeaderElection> election_;
  std::unique_ptr<SpaceAlarm> space_alarm_;
  std::unique_ptr<etcd::ClusterMembership> membership_;
  bool ready_ = false;
  bool stopping_ = false;
  uint64_t applied_ = 0;
  std::string waiting_for_;
  // Forming: the initial cluster gossip proposed, and when it last changed.
  std::vector<std::pair<std::string, std::string>> pending_cluster_;
  Timer settle_timer_;
  bool join_in_flight_ = false;
  std::vector<SeenServer> last_seen_;  // re-planned when a join attempt got no answer
  Timer join_retry_timer_;
  uint64_t last_join_ms_ = 0;
  static constexpr uint64_t kJoinRetryMs = 2000;
  struct Waiter {
    uint64_t deadline_ms;
    std::function<void(bool)> done;
  };
  std::multimap<uint64_t, Waiter> waiters_;  // by revision
  Timer waiter_timer_;
  std::map<std::string, LeaderRow> leader_rows_;
  std::optional<Handoff> handoff_;  // the marker as the watch last showed it
  bool stepping_back_ = false;
  int64_t moved_etcd_for_ = 0;  // the marker (its deadline) etcd leadership was moved for
  void start_barrier();
  void remove_own_member(std::function<void()> done);
  bool barrier_in_flight_ = false;
  uint64_t last_quorum_ms_ = 0;
  Timer compact_timer_;
  std::deque<std::pair<uint64_t, uint64_t>> revision_marks_;  // (loop ms, applied revision)
  uint64_t compacted_to_ = 0;
  void compact_tick();
  void collect_lock_delays();
  Timer quorum_timer_;
  void probe_quorum();
  std::vector<std::function<void(bool)>> next_barrier_;  // election keys by key
  // Transfers waiting for the cache to name their target as leader, polled
  // briefly (a handoff completes in a few election round trips).
  struct LeaderWaiter {
    std::string target;
    uint64_t deadline_ms;
    std::function<void(bool, std::string)> done;
  };
  std::vector<LeaderWaiter> leader_waiters_;
  Timer leader_poll_;
  void poll_leader_waiters();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::server
