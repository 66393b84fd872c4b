// SWIM membership with Lifeguard, speaking HashiCorp memberlist's protocol
// (v0.2.2 .. current): UDP probes, indirect probes through k peers, TCP
// fallback probes, piggybacked broadcasts with a retransmit limit, suspicion
// with dynamic timeouts and local-health awareness, refutation by
// incarnation, reaping, and TCP push/pull anti-entropy.
//
// Pure core: it owns no socket and no clock. Packets and stream messages come
// in through PacketHandler, go out through a Transport, and time comes from a
// Clock, so the same code runs on libuv sockets and in the simulator. Single
// threaded: every call, callback and timer runs on the owner's loop.
//
// Reference: hashicorp/memberlist state.go, net.go, memberlist.go.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/gossip/awareness.h"
#include "agent/gossip/broadcast_queue.h"
#include "agent/gossip/clock.h"
#include "agent/gossip/config.h"
#include "agent/gossip/interner.h"
#include "agent/gossip/keyring.h"
#include "agent/gossip/messages.h"
#include "agent/gossip/rng.h"
#include "agent/gossip/suspicion.h"
#include "agent/gossip/transport.h"

namespace cairn::gossip {

// One member as seen by this node; views are valid until the next change.
struct NodeInfo {
  std::string_view name;
  Address addr;
  std::string_view meta;
  Vsn vsn{};
  NodeStatus status = NodeStatus::dead;
  uint32_t incarnation = 0;
  Time state_change{};
};

// Hooks for the layer above (Serf) and for observers. Every method has a
// do-nothing default. They run synchronously inside the core: do not call
// back into the Memberlist from them except where noted.
class MemberlistDelegate {
 public:
  virtual ~MemberlistDelegate() = default;
  // Delegate
  virtual std::string node_meta(size_t /*limit*/) { return {}; }
  virtual void notify_msg(Bytes /*msg*/) {}
  // Appends broadcasts (without the 0x08 user-message prefix) that fit.
  virtual void get_broadcasts(size_t /*overhead*/, size_t /*limit*/,
                              std::vector<std::string>& /*out*/) {}
  virtual std::string local_state(bool /*join*/) { return {}; }
  virtual void merge_remote_state(Bytes /*state*/, bool /*join*/) {}
  // EventDelegate
  virtual void notify_join(const NodeInfo&) {}
  virtual void notify_leave(const NodeInfo&) {}
  virtual void notify_update(const NodeInfo&) {}
  // PingDelegate (Vivaldi)
  virtual std::string ack_payload() { return {}; }
  virtual void notify_ping_complete(const NodeInfo& /*other*/, Duration /*rtt*/,
                                    Bytes /*payload*/) {}
  // ConflictDelegate: another node claims a known name from another address.
  virtual void notify_conflict(const NodeInfo& /*existing*/, const NodeInfo& /*other*/) {}
  // AliveDelegate / MergeDelegate: return false to ignore a node.
  virtual bool allow_alive(const NodeInfo&) { return true; }
  // Observability (the test peer's -debug-events).
  virtual void notify_probe_failed(std::string_view /*node*/) {}
  virtual void notify_suspect_timeout(std::string_view /*node*/, int /*confirmations*/) {}
};

struct MemberlistStats {
  uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  uint64_t streams_in = 0, streams_out = 0, stream_bytes_in = 0, stream_bytes_out = 0;
  // Dropped input, by reason.
  uint64_t bad_label = 0, bad_decrypt = 0, bad_crc = 0, bad_compress = 0, bad_message = 0,
           unknown_type = 0, bad_stream = 0, truncated_compound = 0;
  uint64_t probes = 0, probe_failures = 0, indirect_probes = 0, tcp_fallbacks = 0, suspicions = 0,
           refutes = 0, push_pulls = 0;
};

class Memberlist : public PacketHandler {
 public:
  using JoinDone = std::function<void(int contacted, const std::string& error)>;
  using Done = std::function<void(bool ok)>;

  Memberlist(MemberlistConfig config, Clock& clock, Transport& transport,
             MemberlistDelegate* delegate = nullptr, std::shared_ptr<Interner> names = nullptr,
             std::shared_ptr<Keyring> keyring = nullptr);
  ~Memberlist() override;
  Memberlist(const Memberlist&) = delete;
  Memberlist& operator=(const Memberlist&) = delete;

  // Declares ourselves alive (incarnation 1) and starts the probe, gossip
  // and push/pull timers.
  void start();
  // Push/pull (join=true) with each seed; done gets how many answered.
  void join(const std::vector<Address>& seeds, JoinDone done);
  // Gossips our graceful leave and calls done once it went out (or after
  // timeout). Probing and gossip go on until shutdown().
  void leave(Duration timeout, Done done);
  // Stops all timers; nothing is sent afterwards. Idempotent.
  void shutdown();
  // Re-reads node_meta() and gossips an alive with a higher incarnation.
  void update_node(Duration timeout, Done done);
  // Best-effort user message over UDP (memberlist SendToAddress).
  void send_to_address(const Address& to, Bytes user_msg);
  // Reliable user message over TCP (memberlist SendReliable).
  void send_reliable(const Address& to, Bytes user_msg);

  // PacketHandler
  void on_packet(const Address& from, Bytes data, Time received) override;
  std::string on_stream(const Address& from, Bytes msg) override;
  bool streams_must_be_encrypted() const override {
    return encrypted() && cfg_.gossip_verify_incoming;
  }

  const MemberlistConfig& config() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }
  // Entries in the member list, dead and left ones not yet reaped included
  // (memberlist's estNumNodes: the n in its formulas).
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  // Members not dead or left, ourselves included (memberlist NumMembers).
  int num_members() const;
  std::vector<NodeInfo> members() const;  // every entry, any state
  bool find(std::string_view name, NodeInfo& out) const;
  NodeInfo local_node() const;
  int health_score() const { return awareness_.score(); }
  uint32_t incarnation() const { return incarnation_; }
  bool has_left() const { return leaving_; }
  const MemberlistStats& stats() const { return stats_; }
  Keyring* keyring() const { return keyring_.get(); }
  // Encryption is on while the keyring holds a key (memberlist checks the
  // same way, so installing the first key turns it on).
  bool encrypted() const { return keyring_ && !keyring_->empty(); }
  Interner& names() const { return *names_; }
  // Simulator only: a fleet that converged long ago. preload() adds an
  // alive member without gossip or events; restagger_push_pull() draws the
  // next push/pull uniformly from the interval scaled to the current size.
  void preload(uint32_t name_id, const Address& addr, uint32_t incarnation, const Vsn& vsn);
  void restagger_push_pull();

 private:
  struct NodeState {
    uint32_t name = 0;
    uint32_t meta = 0;
    uint32_t ip = 0;
    uint32_t incarnation = 0;
    uint16_t port = 0;
    NodeStatus status = NodeStatus::dead;
    Vsn vsn{};
    Time state_change{};
    bool dead_or_left() const { return status == NodeStatus::dead || status == NodeStatus::left; }
  };
  struct AckHandler {
    std::function<void(Bytes payload, Time at)> on_ack;
    std::function<void()> on_nack;
    Clock::TimerId timer = 0;
  };
  struct Probe {
    bool active = false;
    bool direct = true;  // still waiting for the direct ack
    bool timed_out = false;
    bool tcp_pending = false;
    bool tcp_ok = false;
    uint32_t seq = 0;
    NodeState node{};
    Time sent{};
    int expected_nacks = 0;
    int nacks = 0;
    Clock::TimerId timeout_timer = 0;
  };

  // Node table
  NodeState* lookup(uint32_t name_id);
  const NodeState* lookup(uint32_t name_id) const;
  NodeInfo info(const NodeState& n) const;
  void set_slot(size_t index);
  // Inbound packets
  void handle_command(Bytes buf, const Address& from, Time at, int depth);
  void handle_ping(Bytes body, const Address& from);
  void handle_indirect_ping(Bytes body, const Address& from);
  void handle_ack(Bytes body, Time at);
  void handle_nack(Bytes body);
  void handle_alive(Bytes body);
  void handle_suspect(Bytes body);
  void handle_dead(Bytes body);
  // State changes (memberlist aliveNode / suspectNode / deadNode)
  void alive_node(const AliveMsg& a, BroadcastQueue::Notify notify, bool bootstrap);
  void suspect_node(const SuspectMsg& s);
  void dead_node(const DeadMsg& d, BroadcastQueue::Notify notify = {});
  void refute(NodeState& me, uint32_t accused_inc);
  void suspicion_expired(uint32_t name_id, Time change_time);
  // Outbound
  void queue_broadcast(uint32_t name_id, std::string msg, BroadcastQueue::Notify notify = {});
  size_t get_broadcasts(size_t overhead, size_t limit, size_t first);
  void send_msg(const Address& to, std::string_view msg);
  void raw_send(const Address& to, std::string_view msg, const NodeState* node);
  std::string stream_frame(std::string_view msg, bool dialer);
  bool open_stream(Bytes in, std::string& plain, std::string& error);
  // Probing
  void schedule_probe_tick(Time at);
  void probe_tick();
  void probe_node(const NodeState& node);
  void probe_direct_timeout();
  void probe_acked(Bytes payload, Time at);
  void probe_deadline();
  void finish_probe(bool ok);
  void reset_nodes();
  // Gossip and anti-entropy
  void schedule_gossip_tick(Time at);
  void gossip();
  void schedule_push_pull(Duration delay);
  void push_pull_with(const Address& to, bool join, std::function<void(bool, std::string)> done);
  std::string local_state(bool join);
  bool merge_remote_state(Bytes msg, bool& join, std::string& error);
  bool verify_protocol(const std::vector<PushNodeState>& remote) const;
  template <class Pred>
  void k_random_nodes(int k, std::vector<size_t>& out, Pred exclude);
  uint32_t next_seq() { return ++seq_; }
  void set_ack_handler(uint32_t seq, AckHandler h, Duration timeout);
  bool any_alive() const;

  MemberlistConfig cfg_;
  Clock& clock_;
  Transport& transport_;
  MemberlistDelegate* delegate_;
  std::shared_ptr<Interner> names_;
  std::shared_ptr<Keyring> keyring_;
  MemberlistDelegate no_delegate_;
  Rng rng_;
  Awareness awareness_;
  BroadcastQueue broadcasts_;

  uint32_t self_id_;
  uint32_t seq_ = 0;
  uint32_t incarnation_ = 0;
  bool running_ = false;
  bool leaving_ = false;

  std::vector<NodeState> nodes_;   // probe order
  std::vector<uint32_t> slot_of_;  // name id -> index in nodes_, or kNoSlot
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  size_t probe_index_ = 0;
  std::unordered_map<uint32_t, Suspicion> suspicions_;
  std::unordered_map<uint32_t, AckHandler> acks_;
  Probe probe_;
  bool tick_pending_ = false;
  int awareness_delta_ = 0;

  Clock::TimerId probe_timer_ = 0, gossip_timer_ = 0, push_pull_timer_ = 0;
  Time next_probe_{}, next_gossip_{};
  // A token the stream callbacks check, so a reply arriving after we are
  // gone is ignored.
  std::shared_ptr<bool> alive_token_ = std::make_shared<bool>(true);

  // Reused buffers: the packet path does not allocate per packet.
  MsgpackReader reader_;
  std::string out_, tmp_, ack_payload_;
  std::vector<std::string> bcast_;
  std::vector<std::string> scratch_;  // one per decode depth
  std::vector<Bytes> parts_;
  std::vector<size_t> picks_;
  MemberlistStats stats_;
};

}  // namespace cairn::gossip
