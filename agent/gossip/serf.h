// Serf on top of memberlist, as Consul runs it: tags in node meta, join and
// leave intents ordered by Lamport clocks, member states alive / leaving /
// left / failed, reconnect attempts to failed members and reaping, name
// conflict resolution, user events and queries (the internal _serf_ ones
// answered here), and Vivaldi coordinates from probe round trips.
//
// Pure like the memberlist core underneath: Clock and Transport come in,
// events go out through a callback. Reference: hashicorp/serf serf/*.go.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/gossip/broadcast_queue.h"
#include "agent/gossip/coordinate.h"
#include "agent/gossip/lamport.h"
#include "agent/gossip/memberlist.h"
#include "agent/gossip/serf_messages.h"

namespace cairn::gossip {

// Serf's MemberStatus; Consul's /v1/agent/members Status uses these numbers.
enum class MemberStatus : uint8_t { none = 0, alive = 1, leaving = 2, left = 3, failed = 4 };
std::string_view member_status_name(MemberStatus s);

struct Member {
  std::string name;
  Address addr;
  Tags tags;
  MemberStatus status = MemberStatus::none;
  Vsn vsn{};  // protocol min/max/cur, delegate min/max/cur
};

struct SerfEvent {
  enum class Kind {
    member_join,
    member_leave,
    member_failed,
    member_update,
    member_reap,
    user,
    query
  };
  Kind kind;
  Member member;        // member events
  std::string name;     // user event / query name
  std::string payload;  // user event / query payload
  uint64_t ltime = 0;
  bool coalesce = false;
  uint32_t query_id = 0;  // queries: pass back to Serf::respond
};

struct SerfConfig {
  std::string node_name;  // also memberlist's name
  Tags tags;
  uint8_t protocol_version = 4;  // Consul speaks 4
  Duration broadcast_timeout = 5s;
  Duration leave_propagate_delay = 1s;
  Duration reap_interval = 15s;
  Duration reconnect_interval = 30s;
  Duration reconnect_timeout = std::chrono::hours(24);
  Duration tombstone_timeout = std::chrono::hours(24);
  Duration recent_intent_timeout = std::chrono::minutes(5);
  Duration queue_check_interval = 1s;
  size_t event_buffer = 512;
  size_t query_buffer = 512;
  int query_timeout_mult = 16;
  size_t query_response_size_limit = 1024;
  size_t query_size_limit = 1024;
  size_t user_event_size_limit = 512;
  size_t max_queue_depth = 4096;
  bool enable_name_conflict_resolution = true;
  bool disable_coordinates = false;
};

class Serf : private MemberlistDelegate {
 public:
  using EventFn = std::function<void(const SerfEvent&)>;
  // Debug hooks passed through from memberlist (the peer's -debug-events).
  std::function<void(std::string_view node)> on_probe_failed;
  std::function<void(std::string_view node, int confirmations)> on_suspect_timeout;

  Serf(SerfConfig cfg, MemberlistConfig ml, Clock& clock, Transport& transport,
       std::shared_ptr<Keyring> keyring = nullptr, std::shared_ptr<Interner> names = nullptr);
  ~Serf() override;
  Serf(const Serf&) = delete;
  Serf& operator=(const Serf&) = delete;

  void set_event_handler(EventFn fn) { on_event_ = std::move(fn); }
  void start();
  // Joins through the seeds, then broadcasts our join intent.
  void join(const std::vector<Address>& seeds, bool ignore_old, Memberlist::JoinDone done);
  // Leave intent, memberlist leave, then LeavePropagateDelay; done(ok).
  void leave(Memberlist::Done done);
  void shutdown();
  // Replaces the tags and gossips them (an update event elsewhere).
  bool set_tags(Tags tags, std::string& error);
  bool user_event(std::string_view name, std::string_view payload, bool coalesce,
                  std::string& error);
  // Answers a query delivered as a SerfEvent.
  bool respond(uint32_t query_id, std::string_view payload, std::string& error);
  // Issues a query to every member (this one included); on_response(from,
  // payload) runs per answer until the timeout, then on_done.
  void query(std::string_view name, std::string_view payload,
             std::function<void(std::string_view, std::string_view)> on_response,
             std::function<void()> on_done);
  // Erases a failed member now (Consul's force-leave): it becomes left.
  bool remove_failed(std::string_view node, bool prune);

  std::vector<Member> members() const;
  bool member(std::string_view name, Member& out) const;
  const Member& local_member() const;
  const Coordinate& coordinate() const { return vivaldi_.coordinate(); }
  bool cached_coordinate(std::string_view node, Coordinate& out) const;
  Memberlist& memberlist() { return *ml_; }
  PacketHandler& packet_handler() { return *ml_; }
  uint64_t member_clock() const { return clock_.time(); }
  uint64_t event_clock() const { return event_clock_.time(); }
  bool shut_down() const { return state_ == State::shutdown; }

 private:
  enum class State { alive, leaving, left, shutdown };
  struct MemberState {
    Member member;
    uint64_t status_ltime = 0;
    Time leave_time{};
  };
  struct Intent {
    SerfMsg type;
    uint64_t ltime;
    Time when;
  };
  struct QueryCollector {
    uint64_t ltime;
    std::function<void(std::string_view from, std::string_view payload)> on_response;
    std::vector<std::string> responded;
    Clock::TimerId timer = 0;
  };
  struct PendingQuery {  // a query we received and may answer
    uint64_t ltime;
    uint32_t id;
    Address reply_to;
    Time deadline;
  };

  // MemberlistDelegate
  std::string node_meta(size_t limit) override;
  void notify_msg(Bytes msg) override;
  void get_broadcasts(size_t overhead, size_t limit, std::vector<std::string>& out) override;
  std::string local_state(bool join) override;
  void merge_remote_state(Bytes state, bool join) override;
  void notify_join(const NodeInfo& n) override;
  void notify_leave(const NodeInfo& n) override;
  void notify_update(const NodeInfo& n) override;
  std::string ack_payload() override;
  void notify_ping_complete(const NodeInfo& other, Duration rtt, Bytes payload) override;
  void notify_conflict(const NodeInfo& existing, const NodeInfo& other) override;
  void notify_probe_failed(std::string_view node) override {
    if (on_probe_failed) on_probe_failed(node);
  }
  void notify_suspect_timeout(std::string_view node, int c) override {
    if (on_suspect_timeout) on_suspect_timeout(node, c);
  }

  bool handle_join_intent(const SerfJoin& j);
  bool handle_leave_intent(const SerfLeave& l);
  bool handle_user_event(const SerfUserEvent& e);
  bool handle_query(const SerfQuery& q);
  void handle_query_response(const SerfQueryResponse& r);
  void handle_internal_query(const SerfQuery& q, uint32_t id);
  void broadcast(BroadcastQueue& q, std::string msg, BroadcastQueue::Notify done = {});
  void broadcast_join(uint64_t ltime);
  bool upsert_intent(std::string_view node, SerfMsg type, uint64_t ltime);
  bool recent_intent(std::string_view node, SerfMsg type, uint64_t& ltime) const;
  void emit(SerfEvent::Kind kind, const Member& m);
  void erase_member(const std::string& name);
  void reap();
  void reconnect();
  void check_queues();
  void schedule_periodic(Duration every, void (Serf::*fn)(), Clock::TimerId& slot);
  void resolve_conflict();
  Duration default_query_timeout() const;
  bool has_alive_members() const;
  void send_query_response(const Address& to, const SerfQueryResponse& r);

  SerfConfig cfg_;
  Clock& clock_src_;
  std::shared_ptr<Keyring> keyring_;
  std::unique_ptr<Memberlist> ml_;
  State state_ = State::alive;
  LamportClock clock_, event_clock_, query_clock_;
  BroadcastQueue broadcasts_, event_broadcasts_, query_broadcasts_;
  std::unordered_map<std::string, MemberState> members_;
  std::vector<std::string> failed_, left_;
  std::unordered_map<std::string, Intent> recent_intents_;
  std::vector<SerfEventSlot> event_ring_;
  std::vector<bool> event_ring_used_;
  uint64_t event_min_time_ = 0;
  bool event_join_ignore_ = false;
  struct QuerySlot {
    uint64_t ltime = 0;
    std::vector<uint32_t> ids;
  };
  std::vector<QuerySlot> query_ring_;
  uint64_t query_min_time_ = 0;
  std::unordered_map<uint32_t, QueryCollector> my_queries_;
  std::unordered_map<uint32_t, PendingQuery> pending_;
  VivaldiClient vivaldi_;
  std::unordered_map<std::string, Coordinate> coord_cache_;
  Rng rng_;
  EventFn on_event_;
  Clock::TimerId reap_timer_ = 0, reconnect_timer_ = 0, queue_timer_ = 0;
  std::shared_ptr<bool> alive_token_ = std::make_shared<bool>(true);
  MsgpackReader reader_;
  Member local_;
};

}  // namespace cairn::gossip
