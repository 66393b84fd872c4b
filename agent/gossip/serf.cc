#include "agent/gossip/serf.h"

#include <algorithm>
#include <cmath>

#include "agent/gossip/messages.h"
#include "common/random.h"
#include "common/regex.h"

namespace cairn::gossip {

namespace {

// Serf protocol range; every Serf version maps to memberlist protocol 2.
constexpr uint8_t kSerfProtocolMin = 2;
constexpr uint8_t kSerfProtocolMax = 5;
// Serf's ping payload version (ping_delegate.go).
constexpr uint8_t kPingVersion = 1;
// Hard cap on user events whatever the config says (serf UserEventSizeLimit).
constexpr size_t kUserEventHardLimit = 9 * 1024;
constexpr std::string_view kInternalPrefix = "_serf_";

std::string_view ip_view(const std::array<uint8_t, 4>& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

std::string_view member_status_name(MemberStatus s) {
  switch (s) {
    case MemberStatus::none:
      return "none";
    case MemberStatus::alive:
      return "alive";
    case MemberStatus::leaving:
      return "leaving";
    case MemberStatus::left:
      return "left";
    case MemberStatus::failed:
      return "failed";
  }
  return "unknown";
}

Serf::Serf(SerfConfig cfg, MemberlistConfig ml, Clock& clock, Transport& transport,
           std::shared_ptr<Keyring> keyring, std::shared_ptr<Interner> names)
    : cfg_(std::move(cfg)),
      clock_src_(clock),
      keyring_(keyring),
      broadcasts_(ml.retransmit_mult),
      event_broadcasts_(ml.retransmit_mult),
      query_broadcasts_(ml.retransmit_mult),
      event_ring_(cfg_.event_buffer),
      event_ring_used_(cfg_.event_buffer, false),
      query_ring_(cfg_.query_buffer),
      vivaldi_(CoordinateConfig{}, ml.seed ? ml.seed * 31 + 7 : random_u64()),
      rng_(ml.seed ? ml.seed * 17 + 3 : random_u64()) {
  ml.name = cfg_.node_name;
  ml.delegate_min = kSerfProtocolMin;
  ml.delegate_max = kSerfProtocolMax;
  ml.delegate_cur = cfg_.protocol_version;
  // Serf starts each Lamport clock at 1.
  clock_.increment();
  event_clock_.increment();
  query_clock_.increment();
  local_.name = cfg_.node_name;
  local_.addr = ml.advertise;
  local_.tags = cfg_.tags;
  local_.status = MemberStatus::alive;
  local_.vsn = ml.vsn();
  ml_ = std::make_unique<Memberlist>(std::move(ml), clock, transport,
                                     static_cast<MemberlistDelegate*>(this), std::move(names),
                                     std::move(keyring));
}

Serf::~Serf() {
  *alive_token_ = false;
  shutdown();
}

void Serf::start() {
  ml_->start();
  schedule_periodic(cfg_.reap_interval, &Serf::reap, reap_timer_);
  schedule_periodic(cfg_.reconnect_interval, &Serf::reconnect, reconnect_timer_);
  schedule_periodic(cfg_.queue_check_interval, &Serf::check_queues, queue_timer_);
}

void Serf::schedule_periodic(Duration every, void (Serf::*fn)(), Clock::TimerId& slot) {
  auto token = alive_token_;
  slot = clock_src_.schedule(every, [this, token, every, fn, &slot] {
    if (!*token || state_ == State::shutdown) return;
    schedule_periodic(every, fn, slot);
    (this->*fn)();
  });
}

void Serf::shutdown() {
  if (state_ == State::shutdown) return;
  state_ = State::shutdown;
  for (auto id : {reap_timer_, reconnect_timer_, queue_timer_}) clock_src_.cancel(id);
  for (auto& [id, q] : my_queries_) clock_src_.cancel(q.timer);
  my_queries_.clear();
  ml_->shutdown();
}

void Serf::join(const std::vector<Address>& seeds, bool ignore_old, Memberlist::JoinDone done) {
  event_join_ignore_ = ignore_old;
  auto token = alive_token_;
  ml_->join(seeds, [this, token, done = std::move(done)](int n, const std::string& err) {
    if (*token) {
      event_join_ignore_ = false;
      if (n > 0) broadcast_join(clock_.time());
    }
    done(n, err);
  });
}

void Serf::broadcast_join(uint64_t ltime) {
  clock_.witness(ltime);
  SerfJoin msg{ltime, cfg_.node_name};
  handle_join_intent(msg);
  std::string raw;
  encode(msg, raw);
  broadcast(broadcasts_, std::move(raw));
}

void Serf::leave(Memberlist::Done done) {
  if (state_ == State::left) {
    if (done) done(true);
    return;
  }
  if (state_ != State::alive) {
    if (done) done(false);
    return;
  }
  state_ = State::leaving;
  SerfLeave msg{clock_.time(), cfg_.node_name, false};
  clock_.increment();
  handle_leave_intent(msg);

  auto token = alive_token_;
  auto shared_done = std::make_shared<Memberlist::Done>(std::move(done));
  // Step 2, once the intent went out: memberlist's leave, then linger so
  // probes from peers that have not heard yet still get answers.
  auto step2 = std::make_shared<std::function<void()>>();
  auto started = std::make_shared<bool>(false);
  *step2 = [this, token, shared_done, started] {
    if (!*token || *started) return;
    *started = true;
    ml_->leave(cfg_.broadcast_timeout, [this, token, shared_done](bool) {
      if (!*token) return;
      clock_src_.schedule(cfg_.leave_propagate_delay, [this, token, shared_done] {
        if (!*token) return;
        if (state_ != State::shutdown) state_ = State::left;
        if (*shared_done) (*shared_done)(true);
      });
    });
  };
  if (!has_alive_members()) {
    (*step2)();
    return;
  }
  std::string raw;
  encode(msg, raw);
  broadcast(broadcasts_, std::move(raw), [step2] { (*step2)(); });
  clock_src_.schedule(cfg_.broadcast_timeout, [step2] { (*step2)(); });
}

bool Serf::has_alive_members() const {
  for (const auto& [name, m] : members_)
    if (name != cfg_.node_name && m.member.status == MemberStatus::alive) return true;
  return false;
}

bool Serf::set_tags(Tags tags, std::string& error) {
  if (encode_tags(tags).size() > kMetaMaxSize) {
    error = "encoded length of tags exceeds limit of 512 bytes";
    return false;
  }
  cfg_.tags = std::move(tags);
  local_.tags = cfg_.tags;
  ml_->update_node(cfg_.broadcast_timeout, {});
  return true;
}

bool Serf::user_event(std::string_view name, std::string_view payload, bool coalesce,
                      std::string& error) {
  const size_t before = name.size() + payload.size();
  if (before > cfg_.user_event_size_limit || before > kUserEventHardLimit) {
    error = "user event exceeds configured limit of " + std::to_string(cfg_.user_event_size_limit) +
            " bytes before encoding";
    return false;
  }
  SerfUserEvent msg{event_clock_.time(), name, payload, coalesce};
  std::string raw;
  encode(msg, raw);
  if (raw.size() > cfg_.user_event_size_limit || raw.size() > kUserEventHardLimit) {
    error = "encoded user event exceeds limit of " + std::to_string(cfg_.user_event_size_limit) +
            " bytes";
    return false;
  }
  event_clock_.increment();
  handle_user_event(msg);
  broadcast(event_broadcasts_, std::move(raw));
  return true;
}

bool Serf::remove_failed(std::string_view node, bool prune) {
  auto it = members_.find(std::string(node));
  if (it == members_.end()) return false;
  SerfLeave msg{clock_.time(), node, prune};
  clock_.increment();
  handle_leave_intent(msg);
  std::string raw;
  encode(msg, raw);
  broadcast(broadcasts_, std::move(raw));
  return true;
}

std::vector<Member> Serf::members() const {
  std::vector<Member> out;
  out.reserve(members_.size());
  for (const auto& [name, m] : members_) out.push_back(m.member);
  return out;
}

bool Serf::member(std::string_view name, Member& out) const {
  auto it = members_.find(std::string(name));
  if (it == members_.end()) return false;
  out = it->second.member;
  return true;
}

const Member& Serf::local_member() const {
  auto it = members_.find(cfg_.node_name);
  return it == members_.end() ? local_ : it->second.member;
}

bool Serf::cached_coordinate(std::string_view node, Coordinate& out) const {
  auto it = coord_cache_.find(std::string(node));
  if (it == coord_cache_.end()) return false;
  out = it->second;
  return true;
}

// ---------------------------------------------------------------------------
// Broadcast queues

void Serf::broadcast(BroadcastQueue& q, std::string msg, BroadcastQueue::Notify done) {
  q.queue(BroadcastQueue::kUnnamed, std::move(msg), std::move(done));
}

void Serf::get_broadcasts(size_t overhead, size_t limit, std::vector<std::string>& out) {
  const int n = int(members_.size());
  size_t used = 0;
  for (BroadcastQueue* q : {&broadcasts_, &query_broadcasts_, &event_broadcasts_}) {
    if (used >= limit) break;
    const size_t first = out.size();
    const size_t got = q->get(overhead, limit - used, n, out, first);
    out.resize(first + got);
    for (size_t i = first; i < first + got; ++i) used += out[i].size() + overhead;
  }
}

void Serf::check_queues() {
  for (BroadcastQueue* q : {&broadcasts_, &query_broadcasts_, &event_broadcasts_})
    if (q->size() > cfg_.max_queue_depth) q->prune(cfg_.max_queue_depth);
}

// ---------------------------------------------------------------------------
// memberlist hooks

std::string Serf::node_meta(size_t limit) {
  std::string meta = encode_tags(cfg_.tags);
  if (meta.size() > limit) meta.clear();  // set_tags refuses oversized tags
  return meta;
}

void Serf::notify_msg(Bytes buf) {
  if (buf.empty() || state_ == State::shutdown) return;
  const auto type = static_cast<SerfMsg>(buf[0]);
  const Bytes body = buf.subspan(1);
  bool rebroadcast = false;
  BroadcastQueue* queue = &broadcasts_;
  switch (type) {
    case SerfMsg::leave: {
      SerfLeave m;
      if (decode(body, reader_, m)) rebroadcast = handle_leave_intent(m);
      break;
    }
    case SerfMsg::join: {
      SerfJoin m;
      if (decode(body, reader_, m)) rebroadcast = handle_join_intent(m);
      break;
    }
    case SerfMsg::user_event: {
      SerfUserEvent m;
      if (decode(body, reader_, m)) rebroadcast = handle_user_event(m);
      queue = &event_broadcasts_;
      break;
    }
    case SerfMsg::query: {
      SerfQuery m;
      if (decode(body, reader_, m)) rebroadcast = handle_query(m);
      queue = &query_broadcasts_;
      break;
    }
    case SerfMsg::query_response: {
      SerfQueryResponse m;
      if (decode(body, reader_, m)) handle_query_response(m);
      break;
    }
    case SerfMsg::relay: {
      // relayHeader{DestAddr{IP, Port, Zone}, DestName} + the message to forward.
      size_t off = 0;
      const msgpack::object* o = reader_.next(body, off);
      if (o == nullptr || o->type != msgpack::type::MAP) break;
      Address dest;
      for (uint32_t i = 0; i < o->via.map.size; ++i) {
        std::string_view k;
        if (!mp_key(o->via.map.ptr[i].key, k) || k != "DestAddr") continue;
        const auto& da = o->via.map.ptr[i].val;
        if (da.type != msgpack::type::MAP) continue;
        for (uint32_t j = 0; j < da.via.map.size; ++j) {
          std::string_view dk, ip;
          int64_t port = 0;
          if (!mp_key(da.via.map.ptr[j].key, dk)) continue;
          if (dk == "IP" && mp_bytes(da.via.map.ptr[j].val, ip) && ip.size() == 4)
            dest.ip = Address::from_ip_bytes(reinterpret_cast<const uint8_t*>(ip.data()), 0).ip;
          if (dk == "Port" && mp_int(da.via.map.ptr[j].val, port) && port > 0 && port < 65536)
            dest.port = uint16_t(port);
        }
      }
      if (dest.valid() && off < body.size()) ml_->send_to_address(dest, body.subspan(off));
      break;
    }
    default:
      break;
  }
  if (rebroadcast) broadcast(*queue, std::string(as_view(buf)));
}

std::string Serf::local_state(bool /*join*/) {
  SerfPushPull pp;
  pp.ltime = clock_.time();
  pp.event_ltime = event_clock_.time();
  pp.query_ltime = query_clock_.time();
  pp.status_ltimes.reserve(members_.size());
  for (const auto& [name, m] : members_) pp.status_ltimes.emplace_back(name, m.status_ltime);
  for (const auto& name : left_) pp.left_members.push_back(name);
  pp.events.resize(event_ring_.size(), nullptr);
  for (size_t i = 0; i < event_ring_.size(); ++i)
    if (event_ring_used_[i]) pp.events[i] = &event_ring_[i];
  std::string out;
  encode(pp, out);
  return out;
}

void Serf::merge_remote_state(Bytes buf, bool join) {
  if (buf.empty() || buf[0] != static_cast<uint8_t>(SerfMsg::push_pull)) return;
  SerfPushPull pp;
  if (!decode(buf.subspan(1), reader_, pp)) return;
  if (pp.ltime > 0) clock_.witness(pp.ltime - 1);
  if (pp.event_ltime > 0) event_clock_.witness(pp.event_ltime - 1);
  if (pp.query_ltime > 0) query_clock_.witness(pp.query_ltime - 1);

  std::unordered_map<std::string_view, uint64_t> status;
  for (const auto& [n, t] : pp.status_ltimes) status[n] = t;
  std::vector<std::string_view> left(pp.left_members);
  std::sort(left.begin(), left.end());
  for (auto name : pp.left_members) handle_leave_intent(SerfLeave{status[name] + 1, name, false});
  for (const auto& [name, t] : pp.status_ltimes) {
    if (std::binary_search(left.begin(), left.end(), name)) continue;
    handle_join_intent(SerfJoin{t, name});
  }
  if (join && event_join_ignore_ && pp.event_ltime > event_min_time_)
    event_min_time_ = pp.event_ltime;
  for (const auto& slot : pp.decoded_events)
    for (const auto& [name, payload] : slot.events)
      handle_user_event(SerfUserEvent{slot.ltime, name, payload, false});
}

void Serf::emit(SerfEvent::Kind kind, const Member& m) {
  if (!on_event_) return;
  SerfEvent ev{kind, m, {}, {}, 0, false, 0};
  on_event_(ev);
}

void Serf::notify_join(const NodeInfo& n) {
  const std::string name(n.name);
  auto it = members_.find(name);
  MemberStatus old = MemberStatus::none;
  if (it == members_.end()) {
    MemberState ms;
    ms.member.name = name;
    ms.member.status = MemberStatus::alive;
    uint64_t lt;
    if (recent_intent(name, SerfMsg::join, lt)) ms.status_ltime = lt;
    if (recent_intent(name, SerfMsg::leave, lt)) {
      ms.member.status = MemberStatus::leaving;
      ms.status_ltime = lt;
    }
    it = members_.emplace(name, std::move(ms)).first;
  } else {
    old = it->second.member.status;
    it->second.member.status = MemberStatus::alive;
    it->second.leave_time = {};
  }
  Member& m = it->second.member;
  m.addr = n.addr;
  m.tags = decode_tags(n.meta);
  m.vsn = n.vsn;
  if (old == MemberStatus::failed || old == MemberStatus::left) {
    std::erase(failed_, name);
    std::erase(left_, name);
  }
  emit(SerfEvent::Kind::member_join, m);
}

void Serf::notify_leave(const NodeInfo& n) {
  auto it = members_.find(std::string(n.name));
  if (it == members_.end()) return;
  MemberState& ms = it->second;
  switch (ms.member.status) {
    case MemberStatus::leaving:
      ms.member.status = MemberStatus::left;
      ms.leave_time = clock_src_.now();
      left_.push_back(ms.member.name);
      emit(SerfEvent::Kind::member_leave, ms.member);
      break;
    case MemberStatus::alive:
      ms.member.status = MemberStatus::failed;
      ms.leave_time = clock_src_.now();
      failed_.push_back(ms.member.name);
      emit(SerfEvent::Kind::member_failed, ms.member);
      break;
    default:
      break;
  }
}

void Serf::notify_update(const NodeInfo& n) {
  auto it = members_.find(std::string(n.name));
  if (it == members_.end()) return;
  Member& m = it->second.member;
  m.addr = n.addr;
  m.tags = decode_tags(n.meta);
  m.vsn = n.vsn;
  emit(SerfEvent::Kind::member_update, m);
}

std::string Serf::ack_payload() {
  if (cfg_.disable_coordinates) return {};
  std::string out(1, static_cast<char>(kPingVersion));
  vivaldi_.coordinate().encode(out);
  return out;
}

void Serf::notify_ping_complete(const NodeInfo& other, Duration rtt, Bytes payload) {
  if (cfg_.disable_coordinates || payload.empty() || payload[0] != kPingVersion) return;
  Coordinate c;
  size_t off = 0;
  if (!c.decode(payload.subspan(1), off, reader_)) return;
  const std::string name(other.name);
  if (!vivaldi_.update(name, c, rtt)) return;
  coord_cache_[name] = std::move(c);
  coord_cache_[cfg_.node_name] = vivaldi_.coordinate();
}

void Serf::notify_conflict(const NodeInfo& existing, const NodeInfo& /*other*/) {
  if (existing.name != cfg_.node_name || !cfg_.enable_name_conflict_resolution) return;
  resolve_conflict();
}

// ---------------------------------------------------------------------------
// Intents and events (serf.go handleNode*Intent, handleUserEvent)

bool Serf::upsert_intent(std::string_view node, SerfMsg type, uint64_t ltime) {
  auto [it, fresh] =
      recent_intents_.try_emplace(std::string(node), Intent{type, ltime, clock_src_.now()});
  if (fresh) return true;
  if (ltime > it->second.ltime) {
    it->second = Intent{type, ltime, clock_src_.now()};
    return true;
  }
  return false;
}

bool Serf::recent_intent(std::string_view node, SerfMsg type, uint64_t& ltime) const {
  auto it = recent_intents_.find(std::string(node));
  if (it == recent_intents_.end() || it->second.type != type) return false;
  ltime = it->second.ltime;
  return true;
}

bool Serf::handle_join_intent(const SerfJoin& j) {
  clock_.witness(j.ltime);
  auto it = members_.find(std::string(j.node));
  if (it == members_.end()) return upsert_intent(j.node, SerfMsg::join, j.ltime);
  MemberState& ms = it->second;
  if (j.ltime <= ms.status_ltime) return false;
  ms.status_ltime = j.ltime;
  if (ms.member.status == MemberStatus::leaving) ms.member.status = MemberStatus::alive;
  return true;
}

bool Serf::handle_leave_intent(const SerfLeave& l) {
  clock_.witness(l.ltime);
  auto it = members_.find(std::string(l.node));
  if (it == members_.end()) return upsert_intent(l.node, SerfMsg::leave, l.ltime);
  MemberState& ms = it->second;
  if (l.ltime <= ms.status_ltime) return false;
  if (l.node == cfg_.node_name && state_ == State::alive) {
    // Someone says we are leaving; we are not: refute with a fresh join.
    broadcast_join(clock_.time());
    return false;
  }
  ms.status_ltime = l.ltime;
  switch (ms.member.status) {
    case MemberStatus::alive:
      ms.member.status = MemberStatus::leaving;
      if (l.prune) erase_member(ms.member.name);
      return true;
    case MemberStatus::failed: {
      ms.member.status = MemberStatus::left;
      std::erase(failed_, ms.member.name);
      left_.push_back(ms.member.name);
      emit(SerfEvent::Kind::member_leave, ms.member);
      if (l.prune) erase_member(std::string(l.node));
      return true;
    }
    case MemberStatus::leaving:
    case MemberStatus::left:
      if (l.prune) erase_member(ms.member.name);
      return true;
    default:
      return false;
  }
}

void Serf::erase_member(const std::string& name_in) {
  const std::string name = name_in;  // may alias the erased entry
  auto it = members_.find(name);
  if (it == members_.end()) return;
  Member m = it->second.member;
  std::erase(failed_, name);
  std::erase(left_, name);
  members_.erase(it);
  vivaldi_.forget(name);
  coord_cache_.erase(name);
  emit(SerfEvent::Kind::member_reap, m);
}

bool Serf::handle_user_event(const SerfUserEvent& e) {
  event_clock_.witness(e.ltime);
  if (e.ltime < event_min_time_) return false;
  const uint64_t cur = event_clock_.time();
  const uint64_t n = event_ring_.size();
  if (cur > n && e.ltime < cur - n) return false;  // too old for the ring
  const size_t idx = size_t(e.ltime % n);
  SerfEventSlot& slot = event_ring_[idx];
  if (event_ring_used_[idx] && slot.ltime == e.ltime) {
    for (const auto& [name, payload] : slot.events)
      if (name == e.name && payload == e.payload) return false;
  } else {
    slot = SerfEventSlot{e.ltime, {}};
    event_ring_used_[idx] = true;
  }
  slot.events.emplace_back(e.name, e.payload);
  if (on_event_) {
    SerfEvent ev{
        SerfEvent::Kind::user, {}, std::string(e.name), std::string(e.payload), e.ltime, e.cc, 0};
    on_event_(ev);
  }
  return true;
}

// ---------------------------------------------------------------------------
// Queries

Duration Serf::default_query_timeout() const {
  const int n = ml_->num_members();
  return ml_->config().gossip_interval * cfg_.query_timeout_mult *
         int64_t(std::ceil(std::log10(double(n) + 1)));
}

bool Serf::handle_query(const SerfQuery& q) {
  query_clock_.witness(q.ltime);
  if (q.ltime < query_min_time_) return false;
  const uint64_t cur = query_clock_.time();
  const uint64_t n = query_ring_.size();
  if (cur > n && q.ltime < cur - n) return false;
  QuerySlot& slot = query_ring_[size_t(q.ltime % n)];
  if (slot.ltime == q.ltime) {
    if (std::find(slot.ids.begin(), slot.ids.end(), q.id) != slot.ids.end()) return false;
  } else {
    slot = QuerySlot{q.ltime, {}};
  }
  slot.ids.push_back(q.id);
  const bool rebroadcast = (q.flags & kQueryFlagNoBroadcast) == 0;

  // Filters: every one must match.
  for (auto f : q.filters) {
    if (f.empty()) return rebroadcast;
    const Bytes fb = as_bytes(f).subspan(1);
    size_t off = 0;
    const msgpack::object* o = reader_.next(fb, off);
    if (o == nullptr) return rebroadcast;
    if (f[0] == 0) {  // node list
      if (o->type != msgpack::type::ARRAY) return rebroadcast;
      bool found = false;
      for (uint32_t i = 0; i < o->via.array.size; ++i) {
        std::string_view s;
        if (mp_bytes(o->via.array.ptr[i], s) && s == cfg_.node_name) found = true;
      }
      if (!found) return rebroadcast;
    } else if (f[0] == 1) {  // tag regexp
      std::string_view tag, expr;
      if (o->type != msgpack::type::MAP) return rebroadcast;
      for (uint32_t i = 0; i < o->via.map.size; ++i) {
        std::string_view k;
        if (!mp_key(o->via.map.ptr[i].key, k)) continue;
        if (k == "Tag") mp_bytes(o->via.map.ptr[i].val, tag);
        if (k == "Expr") mp_bytes(o->via.map.ptr[i].val, expr);
      }
      // Any member may send any pattern: RE2 bounds its size and matches in linear time.
      // One that does not compile matches nothing, as in Serf.
      RegexError bad;
      auto re = Regex::compile(expr, bad);
      if (!re) return rebroadcast;
      auto it = cfg_.tags.find(std::string(tag));
      const std::string_view value =
          it == cfg_.tags.end() ? std::string_view() : std::string_view(it->second);
      if (!re->search(value)) return rebroadcast;
    } else {
      return rebroadcast;
    }
  }

  Address reply_to;
  if (q.addr.size() == 4 && q.port != 0)
    reply_to = Address::from_ip_bytes(reinterpret_cast<const uint8_t*>(q.addr.data()), q.port);
  if ((q.flags & kQueryFlagAck) && reply_to.valid())
    send_query_response(reply_to,
                        SerfQueryResponse{q.ltime, q.id, cfg_.node_name, kQueryFlagAck, {}});

  // Remember how to answer; forgotten after its deadline.
  const Time now = clock_src_.now();
  std::erase_if(pending_, [&](const auto& kv) { return kv.second.deadline < now; });
  const uint32_t local_id = q.id;
  pending_[local_id] =
      PendingQuery{q.ltime, q.id, reply_to, now + Duration(std::max<int64_t>(0, q.timeout_ns))};

  if (q.name.substr(0, kInternalPrefix.size()) == kInternalPrefix) {
    handle_internal_query(q, local_id);
  } else if (on_event_) {
    SerfEvent ev{SerfEvent::Kind::query,
                 {},
                 std::string(q.name),
                 std::string(q.payload),
                 q.ltime,
                 false,
                 local_id};
    on_event_(ev);
  }
  return rebroadcast;
}

void Serf::send_query_response(const Address& to, const SerfQueryResponse& r) {
  std::string raw;
  encode(r, raw);
  ml_->send_to_address(to, as_bytes(raw));
}

bool Serf::respond(uint32_t query_id, std::string_view payload, std::string& error) {
  auto it = pending_.find(query_id);
  if (it == pending_.end()) {
    error = "response already sent or unknown query";
    return false;
  }
  if (clock_src_.now() > it->second.deadline) {
    pending_.erase(it);
    error = "response is past the deadline";
    return false;
  }
  SerfQueryResponse r{it->second.ltime, it->second.id, cfg_.node_name, 0, payload};
  std::string raw;
  encode(r, raw);
  if (raw.size() > cfg_.query_response_size_limit) {
    error =
        "response exceeds limit of " + std::to_string(cfg_.query_response_size_limit) + " bytes";
    return false;
  }
  if (it->second.reply_to.valid()) ml_->send_to_address(it->second.reply_to, as_bytes(raw));
  pending_.erase(it);
  return true;
}

void Serf::handle_internal_query(const SerfQuery& q, uint32_t id) {
  const std::string_view op = q.name.substr(kInternalPrefix.size());
  std::string payload, err;
  if (op == "ping") return;  // the ack is the answer
  if (op == "conflict") {
    if (q.payload == cfg_.node_name) return;
    auto it = members_.find(std::string(q.payload));
    if (it == members_.end()) {
      payload.push_back(static_cast<char>(SerfMsg::conflict_response));
      payload.push_back(static_cast<char>(0xc0));  // nil member
    } else {
      const Member& m = it->second.member;
      const auto ip = m.addr.ip_bytes();
      encode(SerfMemberMsg{m.name, ip_view(ip), m.addr.port, m.tags, int64_t(m.status), m.vsn},
             payload);
    }
    respond(id, payload, err);
    return;
  }
  SerfKeyResponse resp;
  if (op == "install-key" || op == "use-key" || op == "remove-key") {
    std::string key;
    if (q.payload.empty() || uint8_t(q.payload[0]) != uint8_t(SerfMsg::key_request) ||
        !decode_key_request(as_bytes(q.payload).subspan(1), reader_, key)) {
      resp.message = "Failed to decode key request";
    } else if (!keyring_) {
      resp.message = "No keyring to modify (encryption not enabled)";
    } else if (op == "install-key") {
      resp.result = keyring_->install(key);
      if (!resp.result) resp.message = "key size must be 16, 24 or 32 bytes";
    } else if (op == "use-key") {
      resp.result = keyring_->use(key);
      if (!resp.result) resp.message = "Requested key is not in the keyring";
    } else {
      resp.result = keyring_->remove(key);
      if (!resp.result) resp.message = "Removing the primary key is not allowed";
    }
  } else if (op == "list-keys") {
    if (!keyring_) {
      resp.message = "Keyring is empty (encryption not enabled)";
    } else {
      resp.result = true;
      for (const auto& k : keyring_->keys()) resp.keys.push_back(Keyring::encode_base64(k));
      if (!keyring_->empty()) resp.primary_key = Keyring::encode_base64(keyring_->primary());
    }
  } else {
    return;  // an internal query we do not know: ignore, as Serf does
  }
  encode(resp, payload);
  respond(id, payload, err);
}

void Serf::handle_query_response(const SerfQueryResponse& r) {
  auto it = my_queries_.find(r.id);
  if (it == my_queries_.end() || it->second.ltime != r.ltime) return;
  if (r.flags & kQueryFlagAck) return;  // acks only count towards delivery
  auto& q = it->second;
  const std::string from(r.from);
  if (std::find(q.responded.begin(), q.responded.end(), from) != q.responded.end()) return;
  q.responded.push_back(from);
  if (q.on_response) q.on_response(r.from, r.payload);
}

void Serf::query(std::string_view name, std::string_view payload,
                 std::function<void(std::string_view, std::string_view)> on_response,
                 std::function<void()> on_done) {
  const NodeInfo local = ml_->local_node();
  const auto ip = local.addr.ip_bytes();
  const Duration timeout = default_query_timeout();
  SerfQuery q;
  q.ltime = query_clock_.time();
  q.id = uint32_t(rng_.next() & 0x7fffffff);
  q.addr = ip_view(ip);
  q.port = local.addr.port;
  q.source_node = cfg_.node_name;
  q.timeout_ns = timeout.count();
  q.name = name;
  q.payload = payload;
  std::string raw;
  encode(q, raw);
  auto token = alive_token_;
  const uint32_t id = q.id;
  QueryCollector c{q.ltime, std::move(on_response), {}, 0};
  c.timer = clock_src_.schedule(timeout, [this, token, id, on_done = std::move(on_done)] {
    if (!*token) return;
    my_queries_.erase(id);
    if (on_done) on_done();
  });
  my_queries_[id] = std::move(c);
  handle_query(q);
  broadcast(query_broadcasts_, std::move(raw));
}

void Serf::resolve_conflict() {
  struct Tally {
    int responses = 0, matching = 0;
  };
  auto tally = std::make_shared<Tally>();
  const Address self = ml_->local_node().addr;
  query(
      "_serf_conflict", cfg_.node_name,
      [this, tally, self](std::string_view, std::string_view payload) {
        if (payload.empty() || uint8_t(payload[0]) != uint8_t(SerfMsg::conflict_response)) return;
        SerfMemberMsg m;
        if (!decode(as_bytes(payload).subspan(1), reader_, m)) return;
        ++tally->responses;
        if (m.addr.size() == 4 &&
            Address::from_ip_bytes(reinterpret_cast<const uint8_t*>(m.addr.data()), m.port) == self)
          ++tally->matching;
      },
      [this, tally] {
        const int majority = tally->responses / 2 + 1;
        // Most peers see someone else under our name: we are the impostor.
        if (tally->matching < majority) shutdown();
      });
}

// ---------------------------------------------------------------------------
// Reaping and reconnecting (serf.go handleReap / reconnect)

void Serf::reap() {
  const Time now = clock_src_.now();
  auto reap_list = [&](std::vector<std::string>& list, Duration timeout) {
    std::vector<std::string> gone;
    for (const auto& name : list) {
      auto it = members_.find(name);
      if (it == members_.end() || now - it->second.leave_time > timeout) gone.push_back(name);
    }
    for (const auto& name : gone) {
      std::erase(list, name);
      erase_member(name);
    }
  };
  reap_list(failed_, cfg_.reconnect_timeout);
  reap_list(left_, cfg_.tombstone_timeout);
  std::erase_if(recent_intents_,
                [&](const auto& kv) { return now - kv.second.when > cfg_.recent_intent_timeout; });
}

void Serf::reconnect() {
  if (failed_.empty()) return;
  const double failed = double(failed_.size());
  double alive = double(members_.size() - failed_.size() - left_.size());
  if (alive <= 0) alive = 1;
  if (rng_.unit() > failed / alive) return;
  const std::string& name = failed_[rng_.below(failed_.size())];
  auto it = members_.find(name);
  if (it == members_.end()) return;
  ml_->join({it->second.member.addr}, [](int, const std::string&) {});
}

}  // namespace cairn::gossip
