#include "agent/gossip/memberlist.h"

#include <algorithm>

#include "agent/gossip/compound.h"
#include "agent/gossip/formulas.h"
#include "agent/gossip/framing.h"
#include "agent/gossip/lzw.h"
#include "agent/gossip/stream_parser.h"
#include "common/random.h"

namespace cairn::gossip {

namespace {

// Nesting of compound/compress wrappers we follow; memberlist never nests
// more than compress(compound(...)), anything deeper is hostile.
constexpr int kMaxDepth = 4;
// Largest decompressed packet or stream we accept (memberlist: 2 x 20 MiB).
constexpr size_t kMaxDecompressed = 2 * kMemberlistMaxStreamBytes;
// Serf (user) broadcasts carry the 0x08 prefix: one more byte each.
constexpr size_t kUserMsgOverhead = 1;

std::string_view ip_view(const std::array<uint8_t, 4>& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

Memberlist::Memberlist(MemberlistConfig config, Clock& clock, Transport& transport,
                       MemberlistDelegate* delegate, std::shared_ptr<Interner> names,
                       std::shared_ptr<Keyring> keyring)
    : cfg_(std::move(config)),
      clock_(clock),
      transport_(transport),
      delegate_(delegate ? delegate : &no_delegate_),
      names_(names ? std::move(names) : std::make_shared<Interner>()),
      keyring_(std::move(keyring)),
      rng_(cfg_.seed ? cfg_.seed : random_u64()),
      awareness_(cfg_.awareness_max_multiplier),
      broadcasts_(cfg_.retransmit_mult),
      self_id_(names_->intern(cfg_.name)) {}

Memberlist::~Memberlist() {
  *alive_token_ = false;
  shutdown();
}

// ---------------------------------------------------------------------------
// Node table

Memberlist::NodeState* Memberlist::lookup(uint32_t id) {
  if (id >= slot_of_.size() || slot_of_[id] == kNoSlot) return nullptr;
  return &nodes_[slot_of_[id]];
}

const Memberlist::NodeState* Memberlist::lookup(uint32_t id) const {
  if (id >= slot_of_.size() || slot_of_[id] == kNoSlot) return nullptr;
  return &nodes_[slot_of_[id]];
}

void Memberlist::set_slot(size_t index) {
  const uint32_t id = nodes_[index].name;
  if (id >= slot_of_.size())
    slot_of_.resize(std::max<size_t>(id + 1, slot_of_.size() * 2), kNoSlot);
  slot_of_[id] = static_cast<uint32_t>(index);
}

NodeInfo Memberlist::info(const NodeState& n) const {
  return NodeInfo{names_->get(n.name), Address{n.ip, n.port}, names_->get(n.meta), n.vsn, n.status,
                  n.incarnation,       n.state_change};
}

int Memberlist::num_members() const {
  int n = 0;
  for (const auto& s : nodes_) n += !s.dead_or_left();
  return n;
}

std::vector<NodeInfo> Memberlist::members() const {
  std::vector<NodeInfo> out;
  out.reserve(nodes_.size());
  for (const auto& s : nodes_) out.push_back(info(s));
  return out;
}

bool Memberlist::find(std::string_view name, NodeInfo& out) const {
  const auto id = names_->find(name);
  const NodeState* s = id == Interner::kNone ? nullptr : lookup(id);
  if (s == nullptr) return false;
  out = info(*s);
  return true;
}

NodeInfo Memberlist::local_node() const {
  const NodeState* s = lookup(self_id_);
  return s ? info(*s) : NodeInfo{cfg_.name, cfg_.advertise, {}, cfg_.vsn()};
}

bool Memberlist::any_alive() const {
  for (const auto& s : nodes_)
    if (s.name != self_id_ && !s.dead_or_left()) return true;
  return false;
}

void Memberlist::preload(uint32_t name_id, const Address& addr, uint32_t incarnation,
                         const Vsn& vsn) {
  if (lookup(name_id) != nullptr) return;
  NodeState n;
  n.name = name_id;
  n.ip = addr.ip;
  n.port = addr.port;
  n.incarnation = incarnation;
  n.status = NodeStatus::alive;
  n.vsn = vsn;
  n.state_change = clock_.now();
  const size_t last = nodes_.size();
  nodes_.push_back(n);
  const size_t offset = rng_.below(last + 1);
  std::swap(nodes_[offset], nodes_[last]);
  set_slot(offset);
  set_slot(last);
}

void Memberlist::restagger_push_pull() {
  if (!running_ || cfg_.push_pull_interval <= Duration::zero()) return;
  clock_.cancel(push_pull_timer_);
  schedule_push_pull(
      Duration(rng_.below(push_pull_scale(cfg_.push_pull_interval, num_nodes()).count())));
}

// ---------------------------------------------------------------------------
// Life cycle

void Memberlist::start() {
  if (running_) return;
  running_ = true;
  std::string meta = delegate_->node_meta(kMetaMaxSize);
  if (meta.size() > kMetaMaxSize) meta.resize(kMetaMaxSize);
  const auto ip = cfg_.advertise.ip_bytes();
  const Vsn v = cfg_.vsn();
  AliveMsg a{++incarnation_, cfg_.name,
             ip_view(ip),    cfg_.advertise.port,
             meta,           std::string_view(reinterpret_cast<const char*>(v.data()), v.size())};
  alive_node(a, {}, true);

  const Time now = clock_.now();
  if (cfg_.probe_interval > Duration::zero())
    schedule_probe_tick(now + Duration(rng_.below(cfg_.probe_interval.count())));
  if (cfg_.gossip_interval > Duration::zero() && cfg_.gossip_nodes > 0)
    schedule_gossip_tick(now + Duration(rng_.below(cfg_.gossip_interval.count())));
  if (cfg_.push_pull_interval > Duration::zero())
    schedule_push_pull(Duration(rng_.below(cfg_.push_pull_interval.count())));
}

void Memberlist::shutdown() {
  if (!running_) return;
  running_ = false;
  for (auto id : {probe_timer_, gossip_timer_, push_pull_timer_, probe_.timeout_timer})
    clock_.cancel(id);
  probe_timer_ = gossip_timer_ = push_pull_timer_ = probe_.timeout_timer = 0;
  for (auto& [seq, h] : acks_) clock_.cancel(h.timer);
  acks_.clear();
  for (auto& [id, s] : suspicions_) clock_.cancel(s.timer);
  suspicions_.clear();
  probe_ = Probe{};
  broadcasts_.reset();
}

void Memberlist::join(const std::vector<Address>& seeds, JoinDone done) {
  struct State {
    size_t pending;
    int ok = 0;
    std::string error;
    JoinDone done;
  };
  if (seeds.empty()) {
    done(0, "no seeds given");
    return;
  }
  auto st = std::make_shared<State>(State{seeds.size(), 0, {}, std::move(done)});
  for (const auto& seed : seeds) {
    push_pull_with(seed, true, [st, seed](bool ok, std::string err) {
      if (ok) {
        ++st->ok;
      } else if (st->error.empty()) {
        st->error = "failed to join " + seed.str() + ": " + err;
      }
      if (--st->pending == 0) st->done(st->ok, st->ok > 0 ? std::string() : st->error);
    });
  }
}

void Memberlist::leave(Duration timeout, Done done) {
  if (leaving_) {
    if (done) done(true);
    return;
  }
  leaving_ = true;
  NodeState* me = lookup(self_id_);
  if (me == nullptr) {
    if (done) done(true);
    return;
  }
  if (!any_alive()) {
    DeadMsg d{me->incarnation, cfg_.name, cfg_.name};
    dead_node(d, {});
    if (done) done(true);
    return;
  }
  // The notification fires once the leave was sent its last time (or was
  // superseded); the timer bounds the wait.
  auto state = std::make_shared<std::pair<bool, Done>>(false, std::move(done));
  auto token = alive_token_;
  auto finish = [state](bool ok) {
    if (state->first) return;
    state->first = true;
    if (state->second) state->second(ok);
  };
  DeadMsg d{me->incarnation, cfg_.name, cfg_.name};
  dead_node(d, [finish] { finish(true); });
  if (timeout > Duration::zero())
    clock_.schedule(timeout, [finish, token] {
      if (*token) finish(false);
    });
}

void Memberlist::update_node(Duration timeout, Done done) {
  NodeState* me = lookup(self_id_);
  if (me == nullptr) {
    if (done) done(false);
    return;
  }
  std::string meta = delegate_->node_meta(kMetaMaxSize);
  if (meta.size() > kMetaMaxSize) meta.resize(kMetaMaxSize);
  const auto ip = Address{me->ip, me->port}.ip_bytes();
  const Vsn v = me->vsn;
  AliveMsg a{++incarnation_, cfg_.name,
             ip_view(ip),    me->port,
             meta,           std::string_view(reinterpret_cast<const char*>(v.data()), v.size())};
  if (!any_alive()) {
    alive_node(a, {}, true);
    if (done) done(true);
    return;
  }
  auto state = std::make_shared<std::pair<bool, Done>>(false, std::move(done));
  auto token = alive_token_;
  auto finish = [state](bool ok) {
    if (state->first) return;
    state->first = true;
    if (state->second) state->second(ok);
  };
  alive_node(
      a, [finish] { finish(true); }, true);
  if (timeout > Duration::zero())
    clock_.schedule(timeout, [finish, token] {
      if (*token) finish(false);
    });
}

void Memberlist::send_to_address(const Address& to, Bytes user_msg) {
  tmp_.clear();
  tmp_.push_back(static_cast<char>(MsgType::user));
  tmp_.append(as_view(user_msg));
  std::string msg = std::move(tmp_);
  raw_send(to, msg, nullptr);
  tmp_ = std::move(msg);
}

void Memberlist::send_reliable(const Address& to, Bytes user_msg) {
  std::string msg;
  msg.push_back(static_cast<char>(MsgType::user));
  encode(UserMsgHeader{static_cast<int64_t>(user_msg.size())}, msg);
  msg.append(as_view(user_msg));
  ++stats_.streams_out;
  std::string frame = stream_frame(msg, true);
  stats_.stream_bytes_out += frame.size();
  transport_.send_stream(to, std::move(frame), cfg_.tcp_timeout, false, [](bool, Bytes) {});
}

// ---------------------------------------------------------------------------
// Inbound packets (memberlist ingestPacket / handleCommand)

void Memberlist::on_packet(const Address& from, Bytes data, Time received) {
  ++stats_.packets_in;
  stats_.bytes_in += data.size();
  if (!running_) return;
  if (strip_label(data, cfg_.label, cfg_.skip_inbound_label_check) != LabelResult::ok) {
    ++stats_.bad_label;
    return;
  }
  if (scratch_.size() < kMaxDepth + 2) scratch_.resize(kMaxDepth + 2);
  std::string& plain = scratch_[kMaxDepth + 1];
  if (encrypted()) {
    plain.clear();
    if (decrypt_payload(*keyring_, data, as_bytes(cfg_.label), plain)) {
      data = as_bytes(plain);
    } else if (cfg_.gossip_verify_incoming) {
      ++stats_.bad_decrypt;
      return;
    }
  }
  if (data.size() >= 5 && data[0] == static_cast<uint8_t>(MsgType::has_crc)) {
    const uint32_t want =
        (uint32_t{data[1]} << 24) | (uint32_t{data[2]} << 16) | (uint32_t{data[3]} << 8) | data[4];
    data = data.subspan(5);
    if (crc32_ieee(data) != want) {
      ++stats_.bad_crc;
      return;
    }
  }
  handle_command(data, from, received, 0);
}

void Memberlist::handle_command(Bytes buf, const Address& from, Time at, int depth) {
  if (buf.empty() || depth > kMaxDepth) {
    ++stats_.bad_message;
    return;
  }
  const auto type = static_cast<MsgType>(buf[0]);
  const Bytes body = buf.subspan(1);
  switch (type) {
    case MsgType::compound: {
      size_t truncated = 0;
      // parts_ is shared by every depth: take a copy of this level's list.
      std::vector<Bytes> parts;
      if (!split_compound(body, parts, truncated)) {
        ++stats_.bad_message;
        return;
      }
      if (truncated) ++stats_.truncated_compound;
      for (auto p : parts) handle_command(p, from, at, depth + 1);
      return;
    }
    case MsgType::compress: {
      CompressMsg c;
      std::string& out = scratch_[depth];
      out.clear();
      if (!decode(body, reader_, c) || c.algo != 0 ||
          !lzw_decompress(as_bytes(c.buf), kMaxDecompressed, out) || out.empty()) {
        ++stats_.bad_compress;
        return;
      }
      handle_command(as_bytes(out), from, at, depth + 1);
      return;
    }
    case MsgType::ping:
      return handle_ping(body, from);
    case MsgType::indirect_ping:
      return handle_indirect_ping(body, from);
    case MsgType::ack:
      return handle_ack(body, at);
    case MsgType::nack:
      return handle_nack(body);
    case MsgType::alive:
      return handle_alive(body);
    case MsgType::suspect:
      return handle_suspect(body);
    case MsgType::dead:
      return handle_dead(body);
    case MsgType::user:
      delegate_->notify_msg(body);
      return;
    default:
      ++stats_.unknown_type;
      return;
  }
}

void Memberlist::handle_ping(Bytes body, const Address& from) {
  PingMsg p;
  if (!decode(body, reader_, p)) {
    ++stats_.bad_message;
    return;
  }
  if (!p.node.empty() && p.node != cfg_.name) return;  // meant for a previous owner of this address
  Address to = from;
  if (p.source_addr.size() == 4 && p.source_port > 0)
    to = Address::from_ip_bytes(reinterpret_cast<const uint8_t*>(p.source_addr.data()),
                                p.source_port);
  ack_payload_ = delegate_->ack_payload();
  std::string msg;
  encode(AckMsg{p.seq_no, ack_payload_}, msg);
  send_msg(to, msg);
}

void Memberlist::handle_indirect_ping(Bytes body, const Address& from) {
  IndirectPingMsg ind;
  if (!decode(body, reader_, ind) || ind.target.size() != 4) {
    ++stats_.bad_message;
    return;
  }
  const uint16_t port = ind.port ? ind.port : cfg_.advertise.port;
  const Address target =
      Address::from_ip_bytes(reinterpret_cast<const uint8_t*>(ind.target.data()), port);
  Address requester = from;
  if (ind.source_addr.size() == 4 && ind.source_port > 0)
    requester = Address::from_ip_bytes(reinterpret_cast<const uint8_t*>(ind.source_addr.data()),
                                       ind.source_port);

  const uint32_t local_seq = next_seq();
  const uint32_t orig_seq = ind.seq_no;
  // Shared between the ack handler and the nack timer: whichever runs first.
  auto answered = std::make_shared<bool>(false);
  AckHandler h;
  h.on_ack = [this, requester, orig_seq, answered](Bytes, Time) {
    *answered = true;
    std::string msg;
    encode(AckMsg{orig_seq, {}}, msg);
    send_msg(requester, msg);
  };
  set_ack_handler(local_seq, std::move(h), cfg_.probe_timeout);

  const auto self_ip = cfg_.advertise.ip_bytes();
  std::string msg;
  encode(PingMsg{local_seq, ind.node, ip_view(self_ip), cfg_.advertise.port, cfg_.name}, msg);
  send_msg(target, msg);

  if (ind.nack) {
    auto token = alive_token_;
    clock_.schedule(cfg_.probe_timeout, [this, token, requester, orig_seq, answered] {
      if (!*token || *answered || !running_) return;
      std::string nack;
      encode(NackMsg{orig_seq}, nack);
      send_msg(requester, nack);
    });
  }
}

void Memberlist::handle_ack(Bytes body, Time at) {
  AckMsg ack;
  if (!decode(body, reader_, ack)) {
    ++stats_.bad_message;
    return;
  }
  auto it = acks_.find(ack.seq_no);
  if (it == acks_.end()) return;
  AckHandler h = std::move(it->second);
  acks_.erase(it);
  clock_.cancel(h.timer);
  if (h.on_ack) h.on_ack(as_bytes(ack.payload), at);
}

void Memberlist::handle_nack(Bytes body) {
  NackMsg nack;
  if (!decode(body, reader_, nack)) {
    ++stats_.bad_message;
    return;
  }
  auto it = acks_.find(nack.seq_no);
  if (it != acks_.end() && it->second.on_nack) it->second.on_nack();
}

void Memberlist::handle_alive(Bytes body) {
  AliveMsg a;
  if (!decode(body, reader_, a)) {
    ++stats_.bad_message;
    return;
  }
  if (a.port == 0) a.port = cfg_.advertise.port;
  alive_node(a, {}, false);
}

void Memberlist::handle_suspect(Bytes body) {
  SuspectMsg s;
  if (!decode(body, reader_, s)) {
    ++stats_.bad_message;
    return;
  }
  suspect_node(s);
}

void Memberlist::handle_dead(Bytes body) {
  DeadMsg d;
  if (!decode(body, reader_, d)) {
    ++stats_.bad_message;
    return;
  }
  dead_node(d);
}

void Memberlist::set_ack_handler(uint32_t seq, AckHandler h, Duration timeout) {
  auto token = alive_token_;
  h.timer = clock_.schedule(timeout, [this, token, seq] {
    if (*token) acks_.erase(seq);
  });
  acks_[seq] = std::move(h);
}

// ---------------------------------------------------------------------------
// State changes

void Memberlist::alive_node(const AliveMsg& a, BroadcastQueue::Notify notify, bool bootstrap) {
  const bool about_self = a.node == cfg_.name;
  if (leaving_ && about_self) return;
  if (a.node.empty() || a.addr.size() != 4) return;
  if (a.vsn.size() >= 3) {
    const auto pmin = uint8_t(a.vsn[0]), pmax = uint8_t(a.vsn[1]);
    if (pmin == 0 || pmax == 0 || pmin > pmax) return;
  }
  const Address addr =
      Address::from_ip_bytes(reinterpret_cast<const uint8_t*>(a.addr.data()), a.port);
  Vsn vsn{};
  if (a.vsn.size() >= 6) std::copy_n(a.vsn.data(), 6, vsn.begin());
  if (!about_self && delegate_ != &no_delegate_) {
    NodeInfo ni{a.node, addr, a.meta, vsn, NodeStatus::alive, a.incarnation, {}};
    if (!delegate_->allow_alive(ni)) return;
  }

  const uint32_t id = names_->intern(a.node);
  NodeState* state = lookup(id);
  bool updates_node = false;
  if (state == nullptr) {
    NodeState fresh;
    fresh.name = id;
    fresh.meta = names_->intern(a.meta);
    fresh.ip = addr.ip;
    fresh.port = addr.port;
    fresh.status = NodeStatus::dead;
    fresh.vsn = vsn;
    const size_t n = nodes_.size();
    nodes_.push_back(fresh);
    // memberlist swaps the newcomer into a random slot of the whole list;
    // we pick among the members not yet probed this cycle, so the newcomer
    // is probed within the cycle and the order stays a uniform shuffle.
    const size_t lo = cfg_.shuffle_first_cycle ? std::min(probe_index_, n) : 0;
    const size_t offset = lo + rng_.below(n + 1 - lo);
    std::swap(nodes_[offset], nodes_[n]);
    set_slot(offset);
    set_slot(n);
    state = &nodes_[offset];
  } else if (state->ip != addr.ip || state->port != addr.port) {
    const bool can_reclaim = cfg_.dead_node_reclaim_time > Duration::zero() &&
                             clock_.now() - state->state_change > cfg_.dead_node_reclaim_time;
    if (state->status == NodeStatus::left || (state->status == NodeStatus::dead && can_reclaim)) {
      updates_node = true;
    } else {
      NodeInfo other{a.node, addr, a.meta, vsn, NodeStatus::alive, a.incarnation, {}};
      delegate_->notify_conflict(info(*state), other);
      return;
    }
  }

  if (a.incarnation <= state->incarnation && !about_self && !updates_node) return;
  if (a.incarnation < state->incarnation && about_self) return;

  if (auto it = suspicions_.find(id); it != suspicions_.end()) {
    clock_.cancel(it->second.timer);
    suspicions_.erase(it);
  }

  const NodeStatus old_status = state->status;
  const uint32_t old_meta = state->meta;
  if (!bootstrap && about_self) {
    // Someone spreads a view of us that is not ours: refute unless it is
    // exactly our current state echoed back.
    if (a.incarnation == state->incarnation && a.meta == names_->get(state->meta) &&
        a.vsn.size() == 6 && std::equal(vsn.begin(), vsn.end(), state->vsn.begin()))
      return;
    refute(*state, a.incarnation);
  } else {
    std::string msg;
    encode(a, msg);
    queue_broadcast(id, std::move(msg), std::move(notify));
    state = lookup(id);  // queue_broadcast may run callbacks; re-find
    if (a.vsn.size() >= 6) state->vsn = vsn;
    state->incarnation = a.incarnation;
    state->meta = names_->intern(a.meta);
    state->ip = addr.ip;
    state->port = addr.port;
    if (state->status != NodeStatus::alive) {
      state->status = NodeStatus::alive;
      state->state_change = clock_.now();
    }
  }

  if (old_status == NodeStatus::dead || old_status == NodeStatus::left) {
    delegate_->notify_join(info(*state));
  } else if (old_meta != state->meta) {
    delegate_->notify_update(info(*state));
  }
}

void Memberlist::suspect_node(const SuspectMsg& s) {
  const uint32_t id = names_->find(s.node);
  NodeState* state = id == Interner::kNone ? nullptr : lookup(id);
  if (state == nullptr || s.incarnation < state->incarnation) return;

  if (auto it = suspicions_.find(id); it != suspicions_.end()) {
    Duration remaining{};
    const uint32_t from = names_->intern(s.from);
    if (it->second.confirm(from, clock_.now(), remaining)) {
      std::string msg;
      encode(s, msg);
      queue_broadcast(id, std::move(msg));
      clock_.cancel(it->second.timer);
      const Time change = it->second.change_time();
      auto token = alive_token_;
      it->second.timer =
          clock_.schedule(std::max(remaining, Duration::zero()), [this, token, id, change] {
            if (*token) suspicion_expired(id, change);
          });
    }
    return;
  }
  if (state->status != NodeStatus::alive) return;
  if (id == self_id_) {
    refute(*state, s.incarnation);
    return;
  }
  std::string msg;
  encode(s, msg);
  queue_broadcast(id, std::move(msg));
  state = lookup(id);

  state->incarnation = s.incarnation;
  state->status = NodeStatus::suspect;
  const Time change = clock_.now();
  state->state_change = change;
  ++stats_.suspicions;

  const int n = num_nodes();
  int k = cfg_.suspicion_mult - 2;
  if (n - 2 < k) k = 0;
  const Duration min = suspicion_timeout(cfg_.suspicion_mult, n, cfg_.probe_interval);
  const Duration max = min * cfg_.suspicion_max_timeout_mult;
  Suspicion susp(names_->intern(s.from), k, min, max, change, change);
  auto token = alive_token_;
  susp.timer = clock_.schedule(susp.initial_timeout(), [this, token, id, change] {
    if (*token) suspicion_expired(id, change);
  });
  suspicions_.insert_or_assign(id, std::move(susp));
}

void Memberlist::suspicion_expired(uint32_t id, Time change_time) {
  auto it = suspicions_.find(id);
  const int confirmations = it == suspicions_.end() ? 0 : it->second.confirmations();
  NodeState* state = lookup(id);
  if (state == nullptr || state->status != NodeStatus::suspect ||
      state->state_change != change_time)
    return;
  delegate_->notify_suspect_timeout(names_->get(id), confirmations);
  DeadMsg d{state->incarnation, names_->get(id), cfg_.name};
  dead_node(d);
}

void Memberlist::dead_node(const DeadMsg& d, BroadcastQueue::Notify notify) {
  const uint32_t id = names_->find(d.node);
  NodeState* state = id == Interner::kNone ? nullptr : lookup(id);
  if (state == nullptr || d.incarnation < state->incarnation) return;
  if (auto it = suspicions_.find(id); it != suspicions_.end()) {
    clock_.cancel(it->second.timer);
    suspicions_.erase(it);
  }
  if (state->dead_or_left()) return;

  std::string msg;
  encode(d, msg);
  if (id == self_id_) {
    if (!leaving_) {
      refute(*state, d.incarnation);
      return;
    }
    queue_broadcast(id, std::move(msg), std::move(notify));
  } else {
    queue_broadcast(id, std::move(msg));
  }
  state = lookup(id);
  state->incarnation = d.incarnation;
  state->status = d.node == d.from ? NodeStatus::left : NodeStatus::dead;
  state->state_change = clock_.now();
  delegate_->notify_leave(info(*state));
}

void Memberlist::refute(NodeState& me, uint32_t accused_inc) {
  uint32_t inc = ++incarnation_;
  if (accused_inc >= inc) incarnation_ = inc = accused_inc + 1;
  me.incarnation = inc;
  awareness_.apply_delta(1);
  ++stats_.refutes;
  const auto ip = Address{me.ip, me.port}.ip_bytes();
  const Vsn v = me.vsn;
  AliveMsg a{inc,
             cfg_.name,
             ip_view(ip),
             me.port,
             names_->get(me.meta),
             std::string_view(reinterpret_cast<const char*>(v.data()), v.size())};
  std::string msg;
  encode(a, msg);
  queue_broadcast(self_id_, std::move(msg));
}

// ---------------------------------------------------------------------------
// Outbound

void Memberlist::queue_broadcast(uint32_t id, std::string msg, BroadcastQueue::Notify notify) {
  broadcasts_.queue(id, std::move(msg), std::move(notify));
}

// Fills bcast_[first..] with memberlist broadcasts, then Serf's (prefixed
// with the user-message type), as memberlist getBroadcasts does.
size_t Memberlist::get_broadcasts(size_t overhead, size_t limit, size_t first) {
  size_t n = broadcasts_.get(overhead, limit, num_nodes(), bcast_, first);
  size_t used = 0;
  for (size_t i = first; i < first + n; ++i) used += bcast_[i].size() + overhead;
  if (delegate_ != &no_delegate_ && limit > used && limit - used > overhead + kUserMsgOverhead) {
    thread_local std::vector<std::string> user;
    user.clear();
    delegate_->get_broadcasts(overhead + kUserMsgOverhead, limit - used, user);
    for (auto& m : user) {
      if (first + n >= bcast_.size()) bcast_.emplace_back();
      std::string& slot = bcast_[first + n];
      slot.clear();
      slot.push_back(static_cast<char>(MsgType::user));
      slot.append(m);
      ++n;
    }
  }
  return n;
}

void Memberlist::send_msg(const Address& to, std::string_view msg) {
  size_t overhead = kCompoundHeaderOverhead + (cfg_.label.empty() ? 0 : 2 + cfg_.label.size());
  if (encrypted() && cfg_.gossip_verify_outgoing) overhead += kEncryptOverhead;
  size_t extra = 0;
  if (cfg_.udp_buffer_size > msg.size() + overhead)
    extra = get_broadcasts(kCompoundOverhead, cfg_.udp_buffer_size - msg.size() - overhead, 0);
  if (extra == 0) {
    raw_send(to, msg, nullptr);
    return;
  }
  thread_local std::vector<std::string_view> parts;
  parts.clear();
  parts.push_back(msg);
  for (size_t i = 0; i < extra && parts.size() < kMaxCompoundParts; ++i) parts.push_back(bcast_[i]);
  std::string compound;
  compound.swap(out_);
  compound.clear();
  make_compound(parts, compound);
  raw_send(to, compound, nullptr);
  out_.swap(compound);
}

// Compress (when smaller), CRC (for nodes speaking protocol 5), encrypt, label.
void Memberlist::raw_send(const Address& to, std::string_view msg, const NodeState* node) {
  if (!running_) return;
  thread_local std::string comp, crc, framed, lz;
  if (cfg_.enable_compression) {
    lz.clear();
    lzw_compress(as_bytes(msg), lz);
    comp.clear();
    encode(CompressMsg{0, lz}, comp);
    if (comp.size() < msg.size()) msg = comp;
  }
  if (node != nullptr && node->vsn[1] >= 5) {
    crc.clear();
    add_crc(as_bytes(msg), crc);
    msg = crc;
  }
  framed.clear();
  add_label(cfg_.label, framed);
  if (encrypted() && cfg_.gossip_verify_outgoing) {
    if (!encrypt_payload(keyring_->primary(), as_bytes(msg), as_bytes(cfg_.label), framed)) return;
  } else {
    framed.append(msg);
  }
  ++stats_.packets_out;
  stats_.bytes_out += framed.size();
  transport_.send_packet(to, as_bytes(framed));
}

// A stream message as memberlist writes it: always compressed (when
// enabled), then encrypted in a length-prefixed frame; the dialer puts the
// label header in front.
std::string Memberlist::stream_frame(std::string_view msg, bool dialer) {
  std::string lz, comp;
  if (cfg_.enable_compression) {
    lzw_compress(as_bytes(msg), lz);
    encode(CompressMsg{0, lz}, comp);
    msg = comp;
  }
  std::string out;
  if (dialer) add_label(cfg_.label, out);
  if (encrypted() && cfg_.gossip_verify_outgoing) {
    const size_t hdr = out.size();
    const size_t len = kEncryptOverhead + msg.size();
    out.push_back(static_cast<char>(MsgType::encrypt));
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
    std::string aad = out.substr(hdr, 5) + cfg_.label;
    encrypt_payload(keyring_->primary(), as_bytes(msg), as_bytes(aad), out);
  } else {
    out.append(msg);
  }
  return out;
}

// Undoes stream_frame: decrypts and decompresses into plain (type byte
// first). On failure, error says why (sent back as an errResp).
bool Memberlist::open_stream(Bytes in, std::string& plain, std::string& error) {
  std::string decrypted;
  if (!in.empty() && in[0] == static_cast<uint8_t>(MsgType::encrypt)) {
    if (!encrypted()) {
      error = "Remote state is encrypted and encryption is not configured";
      return false;
    }
    if (in.size() < 5) {
      error = "truncated encrypted stream";
      return false;
    }
    std::string aad(as_view(in.subspan(0, 5)));
    aad += cfg_.label;
    if (!decrypt_payload(*keyring_, in.subspan(5), as_bytes(aad), decrypted)) {
      error = "No installed keys could decrypt the message";
      return false;
    }
    in = as_bytes(decrypted);
  } else if (encrypted() && cfg_.gossip_verify_incoming) {
    error = "Encryption is configured but remote state is not encrypted";
    return false;
  }
  if (in.empty()) {
    error = "empty stream message";
    return false;
  }
  if (in[0] == static_cast<uint8_t>(MsgType::compress)) {
    CompressMsg c;
    plain.clear();
    if (!decode(in.subspan(1), reader_, c) || c.algo != 0 ||
        !lzw_decompress(as_bytes(c.buf), kMaxDecompressed, plain) || plain.empty()) {
      error = "failed to decompress stream";
      return false;
    }
    return true;
  }
  plain.assign(as_view(in));
  return true;
}

std::string Memberlist::on_stream(const Address& from, Bytes msg) {
  ++stats_.streams_in;
  stats_.stream_bytes_in += msg.size();
  if (!running_) return {};
  if (strip_label(msg, cfg_.label, cfg_.skip_inbound_label_check) != LabelResult::ok) {
    ++stats_.bad_label;
    return {};
  }
  std::string plain, error;
  if (!open_stream(msg, plain, error)) {
    ++stats_.bad_stream;
    std::string err;
    encode(ErrRespMsg{error}, err);
    return stream_frame(err, false);
  }
  const auto type = static_cast<MsgType>(plain[0]);
  const Bytes body = as_bytes(plain).subspan(1);
  switch (type) {
    case MsgType::push_pull: {
      // Reply with our state before merging theirs, so the reply never
      // contains the initiator (memberlist does the same).
      PushPullHeader h;
      size_t off = 0;
      if (!decode(body, off, reader_, h)) {
        ++stats_.bad_stream;
        return {};
      }
      std::string reply = stream_frame(local_state(h.join), false);
      bool join = false;
      std::string err;
      if (!merge_remote_state(as_bytes(plain), join, err)) ++stats_.bad_stream;
      ++stats_.push_pulls;
      stats_.stream_bytes_out += reply.size();
      return reply;
    }
    case MsgType::ping: {
      PingMsg p;
      if (!decode(body, reader_, p)) {
        ++stats_.bad_stream;
        return {};
      }
      if (!p.node.empty() && p.node != cfg_.name) return {};
      std::string ack;
      encode(AckMsg{p.seq_no, {}}, ack);
      std::string reply = stream_frame(ack, false);
      stats_.stream_bytes_out += reply.size();
      return reply;
    }
    case MsgType::user: {
      UserMsgHeader h;
      size_t off = 0;
      if (!decode(body, off, reader_, h) || h.user_msg_len < 0 ||
          size_t(h.user_msg_len) > body.size() - off) {
        ++stats_.bad_stream;
        return {};
      }
      if (h.user_msg_len > 0) delegate_->notify_msg(body.subspan(off, size_t(h.user_msg_len)));
      return {};
    }
    default:
      (void)from;
      ++stats_.unknown_type;
      return {};
  }
}

// ---------------------------------------------------------------------------
// Probing (memberlist probe / probeNode)

void Memberlist::schedule_probe_tick(Time at) {
  next_probe_ = at;
  auto token = alive_token_;
  probe_timer_ = clock_.schedule(at - clock_.now(), [this, token] {
    if (!*token || !running_) return;
    schedule_probe_tick(next_probe_ + cfg_.probe_interval);
    probe_tick();
  });
}

void Memberlist::probe_tick() {
  // A probe in progress blocks memberlist's ticker; one tick stays buffered
  // and runs as soon as the probe ends.
  if (probe_.active) {
    tick_pending_ = true;
    return;
  }
  size_t checked = 0;
  for (;;) {
    if (checked >= nodes_.size()) return;
    if (probe_index_ >= nodes_.size()) {
      reset_nodes();
      probe_index_ = 0;
      ++checked;
      continue;
    }
    const NodeState& n = nodes_[probe_index_++];
    if (n.name == self_id_ || n.dead_or_left()) {
      ++checked;
      continue;
    }
    probe_node(n);
    return;
  }
}

void Memberlist::probe_node(const NodeState& node) {
  ++stats_.probes;
  probe_ = Probe{};
  probe_.active = true;
  probe_.node = node;
  probe_.seq = next_seq();
  probe_.sent = clock_.now();
  const Duration interval = awareness_.scale(cfg_.probe_interval);

  AckHandler h;
  h.on_ack = [this](Bytes payload, Time at) { probe_acked(payload, at); };
  h.on_nack = [this] { ++probe_.nacks; };
  auto token = alive_token_;
  const uint32_t seq = probe_.seq;
  h.timer = clock_.schedule(interval, [this, token, seq] {
    if (!*token) return;
    acks_.erase(seq);
    if (probe_.active && probe_.seq == seq) probe_deadline();
  });
  acks_[seq] = std::move(h);

  const auto self_ip = cfg_.advertise.ip_bytes();
  const std::string_view name = names_->get(node.name);
  std::string ping;
  encode(PingMsg{seq, name, ip_view(self_ip), cfg_.advertise.port, cfg_.name}, ping);
  const Address to{node.ip, node.port};
  if (node.status == NodeStatus::alive) {
    send_msg(to, ping);
  } else {
    // Tell a suspect node it is suspected, so it can refute at once.
    std::string sus;
    encode(SuspectMsg{node.incarnation, name, cfg_.name}, sus);
    const std::string_view parts[] = {ping, sus};
    std::string compound;
    make_compound(parts, compound);
    raw_send(to, compound, &node);
  }
  awareness_delta_ = -1;
  probe_.timeout_timer = clock_.schedule(cfg_.probe_timeout, [this, token, seq] {
    if (*token && probe_.active && probe_.seq == seq) probe_direct_timeout();
  });
}

void Memberlist::probe_direct_timeout() {
  probe_.timeout_timer = 0;
  probe_.direct = false;
  const NodeState& node = probe_.node;
  // Indirect probes through k random alive members.
  picks_.clear();
  k_random_nodes(cfg_.indirect_checks, picks_, [&](const NodeState& n) {
    return n.name == self_id_ || n.name == node.name || n.status != NodeStatus::alive;
  });
  const auto self_ip = cfg_.advertise.ip_bytes();
  const auto target_ip = Address{node.ip, node.port}.ip_bytes();
  const std::string target_name(names_->get(node.name));
  for (size_t idx : picks_) {
    const NodeState& peer = nodes_[idx];
    IndirectPingMsg ind{probe_.seq,       ip_view(target_ip), node.port,           target_name,
                        peer.vsn[1] >= 4, ip_view(self_ip),   cfg_.advertise.port, cfg_.name};
    if (ind.nack) ++probe_.expected_nacks;
    std::string msg;
    encode(ind, msg);
    ++stats_.indirect_probes;
    send_msg(Address{peer.ip, peer.port}, msg);
  }
  // TCP fallback for peers that speak protocol 3+, until the probe deadline.
  if (!cfg_.disable_tcp_pings && node.vsn[1] >= 3) {
    const Duration left = probe_.sent + awareness_.scale(cfg_.probe_interval) - clock_.now();
    if (left > Duration::zero()) {
      ++stats_.tcp_fallbacks;
      probe_.tcp_pending = true;
      std::string ping;
      const auto ip = cfg_.advertise.ip_bytes();
      encode(PingMsg{probe_.seq, target_name, ip_view(ip), cfg_.advertise.port, cfg_.name}, ping);
      auto token = alive_token_;
      const uint32_t seq = probe_.seq;
      ++stats_.streams_out;
      std::string frame = stream_frame(ping, true);
      stats_.stream_bytes_out += frame.size();
      transport_.send_stream(Address{node.ip, node.port}, std::move(frame), left, true,
                             [this, token, seq](bool ok, Bytes reply) {
                               if (!*token || !probe_.active || probe_.seq != seq) return;
                               probe_.tcp_pending = false;
                               if (ok) {
                                 std::string plain, err;
                                 AckMsg ack;
                                 probe_.tcp_ok = open_stream(reply, plain, err) &&
                                                 plain[0] == static_cast<uint8_t>(MsgType::ack) &&
                                                 decode(as_bytes(plain).subspan(1), reader_, ack) &&
                                                 ack.seq_no == seq;
                               }
                               if (probe_.timed_out) finish_probe(probe_.tcp_ok);
                             });
    }
  }
}

void Memberlist::probe_acked(Bytes payload, Time at) {
  if (!probe_.active) return;
  if (probe_.direct) {
    const NodeState* n = lookup(probe_.node.name);
    delegate_->notify_ping_complete(info(n ? *n : probe_.node), at - probe_.sent, payload);
  }
  finish_probe(true);
}

void Memberlist::probe_deadline() {
  probe_.timed_out = true;
  if (probe_.tcp_pending) return;  // its callback decides
  finish_probe(probe_.tcp_ok);
}

void Memberlist::finish_probe(bool ok) {
  clock_.cancel(probe_.timeout_timer);
  if (auto it = acks_.find(probe_.seq); it != acks_.end()) {
    clock_.cancel(it->second.timer);
    acks_.erase(it);
  }
  const NodeState node = probe_.node;
  int delta = awareness_delta_;
  if (!ok) {
    ++stats_.probe_failures;
    delta = 0;
    if (probe_.expected_nacks > 0) {
      if (probe_.nacks < probe_.expected_nacks) delta += probe_.expected_nacks - probe_.nacks;
    } else {
      delta += 1;
    }
  }
  probe_ = Probe{};
  awareness_.apply_delta(delta);
  if (!ok) {
    const std::string_view name = names_->get(node.name);
    delegate_->notify_probe_failed(name);
    suspect_node(SuspectMsg{node.incarnation, name, cfg_.name});
  }
  if (tick_pending_ && running_) {
    tick_pending_ = false;
    probe_tick();
  }
}

void Memberlist::reset_nodes() {
  // Drop dead and left members we stopped gossiping to, then reshuffle.
  const Time now = clock_.now();
  size_t keep = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeState& n = nodes_[i];
    if (n.dead_or_left() && n.name != self_id_ &&
        now - n.state_change > cfg_.gossip_to_the_dead_time) {
      slot_of_[n.name] = kNoSlot;
      continue;
    }
    nodes_[keep++] = n;
  }
  nodes_.resize(keep);
  for (size_t i = nodes_.size(); i > 1; --i) std::swap(nodes_[i - 1], nodes_[rng_.below(i)]);
  for (size_t i = 0; i < nodes_.size(); ++i) set_slot(i);
}

template <class Pred>
void Memberlist::k_random_nodes(int k, std::vector<size_t>& out, Pred exclude) {
  const size_t n = nodes_.size();
  for (size_t i = 0; i < 3 * n && out.size() < size_t(k); ++i) {
    const size_t idx = rng_.below(n);
    if (exclude(nodes_[idx])) continue;
    if (std::find(out.begin(), out.end(), idx) != out.end()) continue;
    out.push_back(idx);
  }
}

// ---------------------------------------------------------------------------
// Gossip (memberlist gossip)

void Memberlist::schedule_gossip_tick(Time at) {
  next_gossip_ = at;
  auto token = alive_token_;
  gossip_timer_ = clock_.schedule(at - clock_.now(), [this, token] {
    if (!*token || !running_) return;
    schedule_gossip_tick(next_gossip_ + cfg_.gossip_interval);
    gossip();
  });
}

void Memberlist::gossip() {
  if (broadcasts_.size() == 0 && delegate_ == &no_delegate_) return;
  const Time now = clock_.now();
  picks_.clear();
  k_random_nodes(cfg_.gossip_nodes, picks_, [&](const NodeState& n) {
    if (n.name == self_id_) return true;
    switch (n.status) {
      case NodeStatus::alive:
      case NodeStatus::suspect:
        return false;
      case NodeStatus::dead:
        return now - n.state_change > cfg_.gossip_to_the_dead_time;
      default:
        return true;
    }
  });
  size_t avail = cfg_.udp_buffer_size - kCompoundHeaderOverhead -
                 (cfg_.label.empty() ? 0 : 2 + cfg_.label.size());
  if (encrypted()) avail -= kEncryptOverhead;
  const std::vector<size_t> targets = picks_;
  for (size_t idx : targets) {
    if (idx >= nodes_.size()) break;
    const NodeState node = nodes_[idx];
    const size_t n = get_broadcasts(kCompoundOverhead, avail, 0);
    if (n == 0) return;
    if (n == 1) {
      raw_send(Address{node.ip, node.port}, bcast_[0], &node);
    } else {
      thread_local std::vector<std::string_view> parts;
      parts.assign(bcast_.begin(), bcast_.begin() + std::min(n, kMaxCompoundParts));
      std::string compound;
      compound.swap(out_);
      compound.clear();
      make_compound(parts, compound);
      raw_send(Address{node.ip, node.port}, compound, &node);
      out_.swap(compound);
    }
  }
}

// ---------------------------------------------------------------------------
// Push/pull (memberlist pushPull / sendAndReceiveState / mergeRemoteState)

void Memberlist::schedule_push_pull(Duration delay) {
  auto token = alive_token_;
  push_pull_timer_ = clock_.schedule(delay, [this, token] {
    if (!*token || !running_) return;
    schedule_push_pull(push_pull_scale(cfg_.push_pull_interval, num_nodes()));
    picks_.clear();
    k_random_nodes(1, picks_, [&](const NodeState& n) {
      return n.name == self_id_ || n.status != NodeStatus::alive;
    });
    if (picks_.empty()) return;
    const NodeState& n = nodes_[picks_[0]];
    push_pull_with(Address{n.ip, n.port}, false, [](bool, std::string) {});
  });
}

std::string Memberlist::local_state(bool join) {
  std::string user = delegate_->local_state(join);
  std::string msg;
  msg.reserve(64 + nodes_.size() * 72 + user.size());
  encode(PushPullHeader{int64_t(nodes_.size()), int64_t(user.size()), join}, msg);
  for (const auto& n : nodes_) {
    const auto ip = Address{n.ip, n.port}.ip_bytes();
    encode(PushNodeState{names_->get(n.name), ip_view(ip), n.port, names_->get(n.meta),
                         n.incarnation, int64_t(n.status),
                         std::string_view(reinterpret_cast<const char*>(n.vsn.data()), 6)},
           msg);
  }
  msg.append(user);
  return msg;
}

void Memberlist::push_pull_with(const Address& to, bool join,
                                std::function<void(bool, std::string)> done) {
  ++stats_.streams_out;
  ++stats_.push_pulls;
  std::string frame = stream_frame(local_state(join), true);
  stats_.stream_bytes_out += frame.size();
  auto token = alive_token_;
  transport_.send_stream(to, std::move(frame), cfg_.tcp_timeout, true,
                         [this, token, done = std::move(done)](bool ok, Bytes reply) {
                           if (!*token) return;
                           if (!ok) {
                             done(false, "connection failed or timed out");
                             return;
                           }
                           stats_.stream_bytes_in += reply.size();
                           std::string plain, error;
                           if (!open_stream(reply, plain, error)) {
                             ++stats_.bad_stream;
                             done(false, error);
                             return;
                           }
                           if (plain[0] == static_cast<uint8_t>(MsgType::err)) {
                             ErrRespMsg e;
                             decode(as_bytes(plain).subspan(1), reader_, e);
                             done(false, "remote error: " + std::string(e.error));
                             return;
                           }
                           bool remote_join = false;
                           if (plain[0] != static_cast<uint8_t>(MsgType::push_pull) ||
                               !merge_remote_state(as_bytes(plain), remote_join, error)) {
                             ++stats_.bad_stream;
                             done(false, error.empty() ? "bad push/pull reply" : error);
                             return;
                           }
                           done(true, {});
                         });
}

bool Memberlist::verify_protocol(const std::vector<PushNodeState>& remote) const {
  uint8_t maxpmin = 0, minpmax = 255, maxdmin = 0, mindmax = 255;
  auto widen = [&](const uint8_t* v) {
    maxpmin = std::max(maxpmin, v[0]);
    minpmax = std::min(minpmax, v[1]);
    maxdmin = std::max(maxdmin, v[3]);
    mindmax = std::min(mindmax, v[4]);
  };
  for (const auto& r : remote)
    if (r.state == int64_t(NodeStatus::alive) && r.vsn.size() >= 6)
      widen(reinterpret_cast<const uint8_t*>(r.vsn.data()));
  for (const auto& n : nodes_)
    if (n.status == NodeStatus::alive) widen(n.vsn.data());
  auto ok = [&](uint8_t pcur, uint8_t dcur) {
    return pcur >= maxpmin && pcur <= minpmax && dcur >= maxdmin && dcur <= mindmax;
  };
  for (const auto& r : remote) {
    const uint8_t pcur = r.vsn.size() >= 6 ? uint8_t(r.vsn[2]) : 0;
    const uint8_t dcur = r.vsn.size() >= 6 ? uint8_t(r.vsn[5]) : 0;
    if (!ok(pcur, dcur)) return false;
  }
  for (const auto& n : nodes_)
    if (!ok(n.vsn[2], n.vsn[5])) return false;
  return true;
}

bool Memberlist::merge_remote_state(Bytes msg, bool& join, std::string& error) {
  PushPullHeader h;
  const Bytes body = msg.subspan(1);
  size_t off = 0;
  if (!decode(body, off, reader_, h) || h.nodes < 0 || h.nodes > (1 << 20) ||
      h.user_state_len < 0) {
    error = "bad push/pull header";
    return false;
  }
  join = h.join;
  std::vector<PushNodeState> remote;
  remote.reserve(size_t(std::min<int64_t>(h.nodes, int64_t(body.size()))));
  for (int64_t i = 0; i < h.nodes; ++i) {
    PushNodeState s;
    if (!decode(body, off, reader_, s)) {
      error = "bad push/pull node state";
      return false;
    }
    if (s.port == 0) s.port = cfg_.advertise.port;
    remote.push_back(s);
  }
  if (size_t(h.user_state_len) > body.size() - off) {
    error = "truncated push/pull user state";
    return false;
  }
  const Bytes user = body.subspan(off, size_t(h.user_state_len));
  if (!verify_protocol(remote)) {
    error = "protocol version is incompatible";
    return false;
  }
  for (const auto& r : remote) {
    switch (static_cast<NodeStatus>(r.state)) {
      case NodeStatus::alive:
        alive_node(AliveMsg{r.incarnation, r.name, r.addr, r.port, r.meta, r.vsn}, {}, false);
        break;
      case NodeStatus::left:
        dead_node(DeadMsg{r.incarnation, r.name, r.name});
        break;
      case NodeStatus::dead:
      case NodeStatus::suspect:
        // Another node's opinion that someone is dead only makes us suspect.
        suspect_node(SuspectMsg{r.incarnation, r.name, cfg_.name});
        break;
      default:
        break;
    }
  }
  if (!user.empty()) delegate_->merge_remote_state(user, join);
  return true;
}

}  // namespace cairn::gossip
