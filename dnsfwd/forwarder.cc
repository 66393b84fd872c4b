#include "dnsfwd/forwarder.h"

#include <algorithm>
#include <cstring>

#include "common/dns/build.h"
#include "common/dns/name.h"
#include "common/log.h"
#include "common/random.h"

namespace cairn::dnsfwd {

using namespace cairn::dns;

namespace {

constexpr uint64_t kTickMs = 100;
constexpr uint32_t kFailLogsPerSecond = 5;
constexpr uint32_t kMinTcpAttemptMs = 500;

uint64_t cookie_of(const Transaction& t, int attempt) {
  return (uint64_t{t.index} << 40) | (uint64_t{t.generation} << 8) | static_cast<uint64_t>(attempt);
}

std::string type_text(uint16_t t) {
  switch (t) {
    case kTypeA:
      return "A";
    case kTypeAAAA:
      return "AAAA";
    case kTypeSRV:
      return "SRV";
    case kTypeNS:
      return "NS";
    case kTypeSOA:
      return "SOA";
    case kTypePTR:
      return "PTR";
    case kTypeMX:
      return "MX";
    case kTypeTXT:
      return "TXT";
    case kTypeCNAME:
      return "CNAME";
    default:
      return "TYPE" + std::to_string(t);
  }
}

}  // namespace

Forwarder::Forwarder(uv_loop_t* loop, MetricsRegistry& metrics, Stats& stats)
    : loop_(loop),
      metrics_(metrics),
      stats_(stats),
      config_(default_config()),
      cache_(config_.cache.max_entries, config_.cache.max_bytes),
      pool_(loop) {
  uv_timer_init(loop_, tick_.get());
  tick_.mark_initialized();
  tick_.get()->data = this;
  uv_timer_start(
      tick_.get(), [](uv_timer_t* h) { static_cast<Forwarder*>(h->data)->tick(); }, kTickMs,
      kTickMs);
  uv_unref(tick_.base());
}

Forwarder::~Forwarder() {
  shutdown();
}

void Forwarder::shutdown() {
  for (auto& t : pool_.all())
    if (t->in_use) release(*t);
  for (auto& g : groups_)
    for (auto& u : g->upstreams) u->shutdown();
  groups_.clear();
  retiring_.clear();
  if (tick_.initialized()) uv_timer_stop(tick_.get());
}

std::vector<std::shared_ptr<GroupRuntime>> Forwarder::make_groups(
    const Config& config, const std::vector<Endpoint>& default_servers,
    const std::string& default_source) {
  std::vector<std::shared_ptr<GroupRuntime>> out;
  for (size_t i = 0; i < config.groups.size(); ++i) {
    auto g = std::make_shared<GroupRuntime>();
    g->config = config.groups[i];
    std::vector<Endpoint> servers = g->config.servers;
    g->source = "config";
    if (i == 0 && servers.empty()) {
      servers = default_servers;
      g->source = default_source;
    }
    for (const auto& ep : servers) {
      std::shared_ptr<Upstream> reuse;
      for (const auto& old : groups_) {
        if (old->config.name != g->config.name) continue;
        for (const auto& u : old->upstreams)
          if (u->endpoint() == ep) reuse = u;
      }
      if (reuse) {
        reuse->reconfigure(g->config);
        g->upstreams.push_back(reuse);
      } else {
        g->upstreams.push_back(
            std::make_shared<Upstream>(loop_, ep, g->config, g->config.name, this, metrics_));
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

void Forwarder::apply(const Config& config, std::vector<std::shared_ptr<GroupRuntime>> groups) {
  Router router;
  for (const auto& r : config.routes) router.add(r.suffix, r.group);

  // Keep cached answers whose group is the same before and after.
  if (!groups_.empty() && cache_.size() > 0) {
    std::vector<std::string> old_sig, new_sig;
    for (const auto& g : groups_) old_sig.push_back(g->signature());
    for (const auto& g : groups) new_sig.push_back(g->signature());
    size_t dropped = cache_.erase_if([&](const uint8_t* name, size_t len) {
      uint32_t a = router_.route(name, len), b = router.route(name, len);
      return a >= old_sig.size() || b >= new_sig.size() || old_sig[a] != new_sig[b];
    });
    if (dropped)
      log::info("dnsfwd", "reload dropped cached answers of changed groups",
                {{"entries", std::to_string(dropped)}});
  }
  config_ = config;
  router_ = std::move(router);
  groups_ = std::move(groups);
  acl_ = ClientAcl(config_.allow_networks, config_.allow_loopback);
  if (cache_.max_entries() != config_.cache.max_entries ||
      cache_.max_bytes() != config_.cache.max_bytes)
    cache_.resize(config_.cache.max_entries, config_.cache.max_bytes);
}

size_t Forwarder::waiting_clients() const {
  size_t n = 0;
  for (const auto& t : pool_.all())
    if (t->in_use) n += t->n_waiters;
  return n;
}

void Forwarder::update_gauges() {
  stats_.in_flight.set(static_cast<double>(pool_.in_use()));
  stats_.cache_entries.set(static_cast<double>(cache_.size()));
  stats_.cache_bytes.set(static_cast<double>(cache_.bytes()));
  stats_.cache_evictions.value = cache_.stats().evictions;
  stats_.cache_expired.value = cache_.stats().expired;
  stats_.cache_inserts.value = cache_.stats().inserts;
  uint64_t now = uv_now(loop_);
  for (auto& g : groups_)
    for (auto& u : g->upstreams) u->maintain(now);
}

void Forwarder::tick() {
  retiring_.clear();
  uint64_t now = uv_now(loop_);
  for (auto& g : groups_) {
    for (auto& u : g->upstreams) {
      u->maintain(now);
      if (u->health().probe_due(now)) {
        u->health().probe_sent(now);
        start_probe(g, *u);
      }
    }
  }
}

// ---------------------------------------------------------------- replies

void Forwarder::reply_question(const uint8_t* query, const Message& q, uint16_t rcode,
                               const ClientRef& client) {
  size_t cap = 0;
  uint8_t* out = sink_->reply_buffer(client, cap);
  size_t n = build_question_reply(query, q, rcode, 0, config_.limits.edns_udp_size, out, cap);
  if (n == 0) return;
  sink_->send_reply(client, n);
  stats_.count_rcode(rcode & kRcodeMask);
}

void Forwarder::reply_stored(const StoredView& view, uint32_t age_or_ttl, bool fixed_ttl,
                             const ClientAsk& ask, const ClientRef& client) {
  size_t cap = 0;
  uint8_t* out = sink_->reply_buffer(client, cap);
  size_t n = compose(view, age_or_ttl, fixed_ttl, ask, config_.limits.edns_udp_size, out, cap,
                     compose_msg_, compose_rrs_);
  if (n == 0) return;
  uint16_t flags = get16(out + 2);
  if (flags & kFlagTC && !(get16(view.msg + 2) & kFlagTC)) stats_.truncated_sent.inc();
  stats_.count_rcode(flags & kRcodeMask);
  sink_->send_reply(client, n);
}

void Forwarder::reply_waiter_error(const Transaction& t, const Waiter& w, uint16_t rcode) {
  size_t cap = 0;
  uint8_t* out = sink_->reply_buffer(w.client, cap);
  size_t need = kHeaderSize + t.qname_len + 4 + (w.edns ? kOptRrSize : 0);
  if (cap < need) return;
  Header h;
  h.id = w.id;
  h.flags = static_cast<uint16_t>((w.flags & (kFlagRD | kFlagCD)) | kFlagQR | kFlagRA | rcode);
  h.qdcount = 1;
  h.arcount = w.edns ? 1 : 0;
  write_header(out, h);
  std::memcpy(out + kHeaderSize, w.qname, t.qname_len);
  size_t pos = kHeaderSize + t.qname_len;
  put16(out + pos, t.qtype);
  put16(out + pos + 2, t.qclass);
  pos += 4;
  if (w.edns) pos += write_opt(out + pos, cap - pos, config_.limits.edns_udp_size, 0, w.do_bit);
  sink_->send_reply(w.client, pos);
  stats_.count_rcode(rcode);
  if (rcode == kRcodeServFail) stats_.servfail_sent.inc();
}

void Forwarder::answer_waiters(Transaction& t, const StoredView& view, uint32_t age_or_ttl,
                               bool fixed_ttl) {
  for (Waiter* w = t.waiters; w;) {
    ClientAsk ask;
    ask.id = w->id;
    ask.flags = w->flags;
    ask.qname = w->qname;
    ask.qname_len = t.qname_len;
    ask.edns = w->edns;
    ask.do_bit = w->do_bit;
    ask.limit = w->limit;
    reply_stored(view, age_or_ttl, fixed_ttl, ask, w->client);
    Waiter* next = w->next;
    pool_.release_waiter(w);
    w = next;
  }
  t.waiters = t.last_waiter = nullptr;
  t.n_waiters = 0;
}

bool Forwarder::answer_stale(Transaction& t) {
  if (!t.waiters || !t.group || !t.group->config.cache.serve_stale) return false;
  Cache::Found f = cache_.lookup(t.key(), uv_now(loop_));
  if (f.state != Cache::State::stale || f.negative) return false;
  stats_.stale_served.inc(t.n_waiters);
  StoredView view{f.msg, f.len, f.ttl_offsets, f.ttl_count, f.ext_rcode};
  answer_waiters(t, view, config_.cache.stale_reply_ttl, true);
  return true;
}

// ---------------------------------------------------------------- queries

bool Forwarder::on_query(const uint8_t* data, size_t len, const ClientRef& client) {
  bool udp = client.transport == Transport::udp;
  (udp ? stats_.queries_udp : stats_.queries_tcp).inc();
  ScanStatus st = scan(data, len, msg_, nullptr);
  if (st != ScanStatus::ok || msg_.header.qr()) {
    stats_.malformed_queries.inc();
    if (st == ScanStatus::question_count && !msg_.header.qr()) {
      msg_.header.qdcount = 0;  // answer FORMERR without echoing a question
      reply_question(data, msg_, kRcodeFormErr, client);
      return true;
    }
    return false;
  }
  if (udp && !acl_.allows(client.peer_sa())) {
    stats_.refused_clients.inc();
    reply_question(data, msg_, kRcodeRefused, client);
    return true;
  }
  if (msg_.header.opcode() != kOpcodeQuery) {
    stats_.not_implemented.inc();
    reply_question(data, msg_, kRcodeNotImp, client);
    return true;
  }
  if (!msg_.has_question()) {
    stats_.not_implemented.inc();
    reply_question(data, msg_, kRcodeFormErr, client);
    return true;
  }
  if (msg_.edns.present && msg_.edns.version > 0) {
    stats_.not_implemented.inc();
    reply_question(data, msg_, kRcodeBadVers, client);  // RFC 6891 §6.1.3
    return true;
  }
  if (msg_.qtype == kTypeAXFR || msg_.qtype == kTypeIXFR) {
    stats_.not_implemented.inc();
    reply_question(data, msg_, kRcodeNotImp, client);  // zone transfers are not forwarded
    return true;
  }

  const uint8_t* spelling = data + msg_.qname_offset;
  fold_copy(spelling, msg_.qname_len, key_name_);
  CacheKey key;
  key.qname = key_name_;
  key.qname_len = static_cast<uint16_t>(msg_.qname_len);
  key.qtype = msg_.qtype;
  key.qclass = msg_.qclass;
  key.flags = static_cast<uint8_t>((msg_.edns.do_bit ? kKeyDO : 0) |
                                   ((msg_.header.flags & kFlagCD) ? kKeyCD : 0));
  key.hash = hash_key(key.qname, key.qname_len, key.qtype, key.qclass, key.flags);

  ClientAsk ask;
  ask.id = msg_.header.id;
  ask.flags = msg_.header.flags;
  ask.qname = spelling;
  ask.qname_len = msg_.qname_len;
  ask.edns = msg_.edns.present;
  ask.do_bit = msg_.edns.do_bit;
  ask.limit = udp ? udp_limit(msg_.edns.present, msg_.edns.udp_size, config_.limits.max_udp_size)
                  : kMaxMessage;

  if (groups_.empty()) {
    reply_question(data, msg_, kRcodeServFail, client);
    return true;
  }
  uint32_t gi = router_.route(key_name_, msg_.qname_len);
  if (gi >= groups_.size()) gi = kDefaultGroup;
  const std::shared_ptr<GroupRuntime>& group = groups_[gi];
  uint64_t now = uv_now(loop_);

  Cache::Found f = cache_.lookup(key, now);
  if (f.state == Cache::State::fresh) {
    stats_.cache_hits.inc();
    StoredView view{f.msg, f.len, f.ttl_offsets, f.ttl_count, f.ext_rcode};
    reply_stored(view, f.age, false, ask, client);
    const PrefetchRules& p = config_.cache.prefetch;
    if (p.enabled && f.lifetime >= p.min_ttl && f.hits >= p.min_hits &&
        uint64_t{f.ttl_left} * 100 < uint64_t{f.lifetime} * p.percent_left &&
        group->pending < group->config.max_pending && !keys_.find(key, pool_.all())) {
      stats_.prefetches.inc();
      Transaction* p = start(TxnKind::prefetch, key, group, spelling, msg_.header.flags);
      if (p->n_attempts == 0)
        release(*p);
      else
        arm(*p);
    }
    return true;
  }
  bool have_stale =
      f.state == Cache::State::stale && !f.negative && group->config.cache.serve_stale;
  if (have_stale && f.refresh_failed) {
    // RFC 8767 §5: a refresh failed moments ago; do not ask again yet.
    stats_.stale_served.inc();
    StoredView view{f.msg, f.len, f.ttl_offsets, f.ttl_count, f.ext_rcode};
    reply_stored(view, config_.cache.stale_reply_ttl, true, ask, client);
    return true;
  }
  stats_.cache_misses.inc();

  Transaction* t = keys_.find(key, pool_.all());
  bool fresh = true;
  if (t) {
    if (t->n_waiters >= config_.limits.max_waiters_per_query) {
      stats_.waiters_overflow.inc();
      stats_.servfail_sent.inc();
      reply_question(data, msg_, kRcodeServFail, client);
      return true;
    }
    stats_.coalesced.inc();
    fresh = false;
  } else {
    if (group->pending >= group->config.max_pending) {
      stats_.overflow.inc();
      if (have_stale) {
        stats_.stale_served.inc();
        StoredView view{f.msg, f.len, f.ttl_offsets, f.ttl_count, f.ext_rcode};
        reply_stored(view, config_.cache.stale_reply_ttl, true, ask, client);
      } else {
        stats_.servfail_sent.inc();
        reply_question(data, msg_, kRcodeServFail, client);
      }
      return true;
    }
    t = start(TxnKind::client, key, group, spelling, msg_.header.flags);
    if (have_stale) t->stale_at_ms = now + config_.cache.stale_answer_timeout_ms;
  }
  Waiter* w = pool_.acquire_waiter();
  w->client = client;
  w->id = ask.id;
  w->flags = ask.flags;
  w->limit = static_cast<uint16_t>(std::min<size_t>(ask.limit, 65535));
  w->edns = ask.edns;
  w->do_bit = ask.do_bit;
  std::memcpy(w->qname, spelling, msg_.qname_len);
  w->next = nullptr;
  if (t->last_waiter)
    t->last_waiter->next = w;
  else
    t->waiters = w;
  t->last_waiter = w;
  ++t->n_waiters;
  if (fresh) {
    // No upstream could be asked at all (none configured, all rate-limited,
    // sockets failing): answer now rather than at the deadline.
    if (t->n_attempts == 0)
      fail(*t);
    else
      arm(*t);
  }
  return true;
}

// ------------------------------------------------------------ transactions

Transaction* Forwarder::start(TxnKind kind, const CacheKey& key,
                              std::shared_ptr<GroupRuntime> group, const uint8_t* spelling,
                              uint16_t flags) {
  Transaction* t = pool_.acquire();
  t->owner = this;
  t->kind = kind;
  std::memcpy(t->qname, key.qname, key.qname_len);
  t->qname_len = key.qname_len;
  t->qtype = key.qtype;
  t->qclass = key.qclass;
  t->key_flags = key.flags;
  t->hash = key.hash;
  t->group = std::move(group);
  ++t->group->pending;
  uint64_t now = uv_now(loop_);
  t->started_ms = now;
  t->deadline_ms = now + t->group->config.timeouts.total_ms;
  t->rr_start = t->group->rr_counter++;

  QuerySpec q;
  q.flags = static_cast<uint16_t>(kFlagRD | (flags & kFlagCD));  // we recurse for the client
  q.qname = spelling;
  q.qname_len = key.qname_len;
  q.qtype = key.qtype;
  q.qclass = key.qclass;
  q.edns = true;
  q.udp_size = config_.limits.edns_udp_size;
  q.do_bit = key.flags & kKeyDO;
  t->query_len = static_cast<uint16_t>(build_query(q, t->query, sizeof t->query));

  if (kind != TxnKind::probe) {
    keys_.insert(*t, pool_.all());
    t->in_key_index = true;
  }
  stats_.in_flight.set(static_cast<double>(pool_.in_use()));
  send_next(*t);  // the caller arms the timer, or fails the query if nothing was sent
  return t;
}

bool Forwarder::send_next(Transaction& t) {
  uint64_t now = uv_now(loop_);
  GroupRuntime& g = *t.group;
  uint32_t max_attempts = t.kind == TxnKind::probe ? 1 : g.config.timeouts.attempts;
  int guard = 0;  // failed sends loop back here; never forever
  while (++guard < 4 * static_cast<int>(kMaxGroupUpstreams) &&
         t.n_attempts < std::min<uint32_t>(max_attempts, kMaxAttempts) && now < t.deadline_ms) {
    Upstream* up = nullptr;
    if (t.kind == TxnKind::probe) {
      up = t.probe_target;
    } else {
      int i = g.pick(t.tried_mask, t.rr_start, random_u64(), now);
      if (i < 0 && t.tried_mask) {
        t.tried_mask = 0;  // every upstream had its turn: go round again
        i = g.pick(0, t.rr_start, random_u64(), now);
      }
      if (i < 0) {
        for (auto& u : g.upstreams)
          if (!u->bucket().available(now)) u->stats().rate_limited.inc();
        return false;
      }
      t.tried_mask |= uint64_t{1} << i;
      up = g.upstreams[static_cast<size_t>(i)].get();
    }
    if (!up->bucket().take(now)) {
      up->stats().rate_limited.inc();
      if (t.kind == TxnKind::probe) return false;
      continue;
    }
    uint32_t serial = 0;
    uint16_t id = 0;
    int attempt = t.n_attempts;
    // A random ID that is not in use on that socket; the serial is only known
    // after the send, so reserve against the socket the pool will pick.
    int err = 0;
    id = static_cast<uint16_t>(random_u64());
    put16(t.query, id);
    serial = up->send_udp(t.query, t.query_len, err);
    if (serial == 0) {
      note_health(*up, up->health().on_failure());
      continue;
    }
    if (!ids_.insert(IdTable::key(serial, id), t.index, static_cast<uint8_t>(attempt))) {
      // Same ID already pending on that socket: this send cannot be told
      // apart from the other one. Count it as lost and try again.
      continue;
    }
    Attempt& a = t.attempts[attempt];
    a.upstream = up;
    a.serial = serial;
    a.id = id;
    a.tcp = false;
    a.open = true;
    a.timed_out = false;
    a.sent_ns = uv_hrtime();
    uint32_t timeout = up->health().attempt_timeout_ms();
    if (t.kind == TxnKind::probe)
      timeout = std::min(t.group->config.health.probe_interval_ms, t.group->config.timeouts.max_ms);
    a.deadline_ms = std::min(now + timeout, t.deadline_ms);
    ++t.n_attempts;
    return true;
  }
  return false;
}

bool Forwarder::send_tcp(Transaction& t, Upstream& up) {
  if (t.n_attempts >= kMaxAttempts) return false;
  uint64_t now = uv_now(loop_);
  int attempt = t.n_attempts;
  uint16_t id = static_cast<uint16_t>(random_u64());
  put16(t.query, id);
  int err = 0;
  if (!up.send_tcp(t.query, t.query_len, cookie_of(t, attempt), err)) {
    up.stats().errors.inc();
    return false;
  }
  Attempt& a = t.attempts[attempt];
  a.upstream = &up;
  a.serial = 0;
  a.id = id;
  a.tcp = true;
  a.open = true;
  a.timed_out = false;
  a.sent_ns = uv_hrtime();
  uint32_t timeout = std::max(2 * up.health().attempt_timeout_ms(), kMinTcpAttemptMs);
  a.deadline_ms = std::min(now + timeout, std::max(t.deadline_ms, now + kMinTcpAttemptMs));
  t.deadline_ms = std::max(t.deadline_ms, a.deadline_ms);
  ++t.n_attempts;
  return true;
}

void Forwarder::arm(Transaction& t) {
  uint64_t next = t.deadline_ms;
  if (t.stale_at_ms) next = std::min(next, t.stale_at_ms);
  for (int i = 0; i < t.n_attempts; ++i) {
    const Attempt& a = t.attempts[i];
    if (a.open && !a.timed_out) next = std::min(next, a.deadline_ms);
  }
  uint64_t now = uv_now(loop_);
  uv_timer_start(
      t.timer.get(),
      [](uv_timer_t* h) {
        auto* tx = static_cast<Transaction*>(h->data);
        auto* self = tx ? static_cast<Forwarder*>(tx->owner) : nullptr;
        if (self && tx->in_use) self->on_timer(*tx);
      },
      next > now ? next - now : 0, 0);
}

void Forwarder::on_timer(Transaction& t) {
  uint64_t now = uv_now(loop_);
  if (t.stale_at_ms && now >= t.stale_at_ms) {
    t.stale_at_ms = 0;
    answer_stale(t);  // waiters get stale data now; the refresh goes on for the cache
  }
  bool need_next = false;
  for (int i = 0; i < t.n_attempts; ++i) {
    Attempt& a = t.attempts[i];
    if (!a.open || a.timed_out || now < a.deadline_ms) continue;
    a.timed_out = true;
    need_next = true;
    if (t.kind != TxnKind::probe) {
      a.upstream->stats().timeouts.inc();
      note_health(*a.upstream, a.upstream->health().on_failure());
    }
    if (a.tcp) close_attempt(t, i);
  }
  if (now >= t.deadline_ms) {
    fail(t);
    return;
  }
  if (need_next) {
    after_attempt_failed(t);
    if (!t.in_use) return;
  }
  arm(t);
}

void Forwarder::after_attempt_failed(Transaction& t) {
  if (send_next(t)) {
    arm(t);
    return;
  }
  // No new attempt: wait for a late answer from an earlier one, if any may still come.
  for (int i = 0; i < t.n_attempts; ++i)
    if (t.attempts[i].open && uv_now(loop_) < t.deadline_ms) {
      arm(t);
      return;
    }
  fail(t);
}

void Forwarder::close_attempt(Transaction& t, int i) {
  Attempt& a = t.attempts[i];
  if (!a.open) return;
  a.open = false;
  if (a.tcp)
    a.upstream->cancel_tcp(cookie_of(t, i));
  else
    ids_.erase(IdTable::key(a.serial, a.id));
}

void Forwarder::release(Transaction& t) {
  for (int i = 0; i < t.n_attempts; ++i) close_attempt(t, i);
  if (t.in_key_index) keys_.erase(t, pool_.all());
  for (Waiter* w = t.waiters; w;) {
    Waiter* next = w->next;
    pool_.release_waiter(w);
    w = next;
  }
  if (t.group) {
    if (t.group->pending) --t.group->pending;
    // The last query of a group a reload replaced: its upstreams must not be
    // destroyed here, possibly inside one of their own socket callbacks.
    if (t.group.use_count() == 1) retiring_.push_back(std::move(t.group));
  }
  pool_.release(&t);
}

void Forwarder::fail(Transaction& t) {
  if (t.kind == TxnKind::probe) {
    release(t);
    return;
  }
  uint64_t now = uv_now(loop_);
  if (t.kind == TxnKind::client) {
    stats_.all_failed.inc();
    uint64_t second = now / 1000;
    if (second != fail_log_second_) {
      if (fail_logs_suppressed_)
        log::warn("dnsfwd", "all-upstreams-failed lines suppressed",
                  {{"count", std::to_string(fail_logs_suppressed_)}});
      fail_log_second_ = second;
      fail_logs_this_second_ = 0;
      fail_logs_suppressed_ = 0;
    }
    if (fail_logs_this_second_++ < kFailLogsPerSecond) {
      log::warn("dnsfwd", "all upstreams failed for " + to_text(t.qname, t.qname_len),
                {{"type", type_text(t.qtype)},
                 {"group", t.group->config.name},
                 {"attempts", std::to_string(t.n_attempts)}});
    } else {
      ++fail_logs_suppressed_;
    }
  }
  // RFC 8767 §5: while stale data exists, do not retry for a while. The
  // waiters may have had their stale answer already (client-response timer).
  Cache::Found f = cache_.lookup(t.key(), now);
  if (f.state == Cache::State::stale && !f.negative && t.group->config.cache.serve_stale)
    cache_.mark_refresh_failed(t.key(), now + uint64_t{config_.cache.stale_refresh_backoff} * 1000);
  if (!answer_stale(t))
    for (Waiter* w = t.waiters; w; w = w->next) reply_waiter_error(t, *w, kRcodeServFail);
  release(t);
}

bool Forwarder::question_matches(const Transaction& t, const uint8_t* data,
                                 const Message& m) const {
  return m.header.qr() && m.header.opcode() == kOpcodeQuery && m.has_question() &&
         m.qname_len == t.qname_len && m.qtype == t.qtype && m.qclass == t.qclass &&
         equal_ci(data + m.qname_offset, t.qname, t.qname_len);
}

void Forwarder::note_health(Upstream& up, HealthChange change) {
  if (change == HealthChange::went_down) {
    up.stats().healthy.set(0);
    log::warn("dnsfwd", "upstream down",
              {{"upstream", up.address()},
               {"group", up.group_name()},
               {"failures", std::to_string(up.health().consecutive_failures())}});
  } else if (change == HealthChange::came_up) {
    up.stats().healthy.set(1);
    log::info("dnsfwd", "upstream up", {{"upstream", up.address()}, {"group", up.group_name()}});
  }
}

void Forwarder::start_probe(const std::shared_ptr<GroupRuntime>& group, Upstream& up) {
  const HealthRules& h = group->config.health;
  if (h.probe_name.empty()) return;
  CacheKey key;
  key.qname = h.probe_name.data();
  key.qname_len = static_cast<uint16_t>(h.probe_name.size());
  key.qtype = h.probe_type;
  key.qclass = kClassIN;
  Transaction* t = pool_.acquire();
  t->owner = this;
  t->kind = TxnKind::probe;
  t->probe_target = &up;
  std::memcpy(t->qname, key.qname, key.qname_len);
  t->qname_len = key.qname_len;
  t->qtype = key.qtype;
  t->qclass = key.qclass;
  t->key_flags = 0;
  t->hash = 0;
  t->group = group;
  ++t->group->pending;
  uint64_t now = uv_now(loop_);
  t->started_ms = now;
  t->deadline_ms = now + std::min(h.probe_interval_ms, group->config.timeouts.max_ms);
  QuerySpec q;
  q.qname = key.qname;
  q.qname_len = key.qname_len;
  q.qtype = key.qtype;
  q.udp_size = config_.limits.edns_udp_size;
  t->query_len = static_cast<uint16_t>(build_query(q, t->query, sizeof t->query));
  if (!send_next(*t)) {
    release(*t);
    return;
  }
  arm(*t);
}

// ---------------------------------------------------------------- answers

void Forwarder::on_udp_answer(Upstream& up, uint32_t serial, uint8_t* data, size_t len, bool cut) {
  if (len < kHeaderSize) {
    up.stats().malformed.inc();
    return;
  }
  uint32_t ti = 0;
  uint8_t ai = 0;
  if (!ids_.find(IdTable::key(serial, get16(data)), ti, ai)) {
    up.stats().mismatched.inc();  // late for a finished query, or a guess
    return;
  }
  Transaction& t = *pool_.all()[ti];
  accept_answer(t, ai, data, len, false, cut);
}

void Forwarder::on_tcp_answer(Upstream& up, uint64_t cookie, uint8_t* data, size_t len) {
  Transaction* t = nullptr;
  int ai = 0;
  if (!decode_cookie(cookie, t, ai)) return;
  if (len < kHeaderSize || get16(data) != t->attempts[ai].id) {
    up.stats().mismatched.inc();
    close_attempt(*t, ai);
    after_attempt_failed(*t);
    return;
  }
  accept_answer(*t, ai, data, len, true, false);
}

bool Forwarder::decode_cookie(uint64_t cookie, Transaction*& t, int& attempt) {
  uint64_t index = cookie >> 40;
  uint32_t generation = static_cast<uint32_t>(cookie >> 8);
  attempt = static_cast<int>(cookie & 0xff);
  if (index >= pool_.all().size()) return false;
  t = pool_.all()[index].get();
  if (!t->in_use || t->generation != generation || attempt >= t->n_attempts) return false;
  const Attempt& a = t->attempts[attempt];
  return a.open && a.tcp;
}

void Forwarder::accept_answer(Transaction& t, int ai, uint8_t* data, size_t len, bool via_tcp,
                              bool cut) {
  Attempt& a = t.attempts[ai];
  Upstream& up = *a.upstream;
  if (cut) {
    // Larger than we can receive over UDP: check the question, then use TCP.
    Message head;
    size_t name_end = 0;
    head.header = read_header(data);
    bool ok = head.header.qdcount == 1 &&
              read_uncompressed_name(data, len, kHeaderSize, name_end) && len - name_end >= 4;
    if (ok) {
      head.qname_offset = kHeaderSize;
      head.qname_len = name_end - kHeaderSize;
      head.qtype = get16(data + name_end);
      head.qclass = get16(data + name_end + 2);
    }
    if (!ok || !question_matches(t, data, head)) {
      up.stats().mismatched.inc();
      return;
    }
    close_attempt(t, ai);
    up.stats().tcp_fallbacks.inc();
    if (!send_tcp(t, up))
      after_attempt_failed(t);
    else
      arm(t);
    return;
  }

  ScanStatus st = scan(data, len, msg_, &rrs_);
  if (st != ScanStatus::ok) {
    // The right ID from the right address but unparseable: a broken or
    // hostile upstream. Count it and ask elsewhere at once.
    up.stats().malformed.inc();
    close_attempt(t, ai);
    note_health(up, up.health().on_failure());
    after_attempt_failed(t);
    return;
  }
  if (!question_matches(t, data, msg_)) {
    up.stats().mismatched.inc();  // keep waiting: the real answer may still come
    return;
  }
  close_attempt(t, ai);
  uint64_t rtt_ns = uv_hrtime() - a.sent_ns;
  up.stats().answers.inc();
  up.stats().rtt.observe(static_cast<double>(rtt_ns) / 1e9);
  note_health(up, up.health().on_answer(rtt_ns / 1000));
  if (t.kind == TxnKind::probe) {
    release(t);
    return;
  }

  if (msg_.header.tc() && !via_tcp && t.n_attempts < kMaxAttempts) {
    up.stats().tcp_fallbacks.inc();
    if (send_tcp(t, up)) {
      arm(t);
      return;
    }
    // No TCP: pass the truncated answer on; the client will retry over TCP.
  }

  uint16_t rcode = full_rcode(msg_);
  if ((rcode == kRcodeServFail || rcode == kRcodeRefused) &&
      t.n_attempts < t.group->config.timeouts.attempts &&
      t.group->pick(t.tried_mask, t.rr_start, random_u64(), uv_now(loop_)) >= 0) {
    // Another upstream may do better (a lame or misconfigured server).
    if (send_next(t)) {
      arm(t);
      return;
    }
  }
  finish(t, data);
}

void Forwarder::finish(Transaction& t, uint8_t* data) {
  const GroupRuntime& g = *t.group;
  prepare(data, msg_, rrs_, g.config.cache, g.config.trust_ad, prepared_);
  if (prepared_.ttl_clamped) stats_.ttl_clamped.inc();
  if (prepared_.lifetime > 0 && prepared_.kind != AnswerKind::uncacheable) {
    Cache::Stored s;
    s.msg = data;
    s.len = prepared_.len;
    s.ttl_offsets = prepared_.ttl_offsets.data();
    s.ttl_count = prepared_.ttl_offsets.size();
    s.ext_rcode = prepared_.ext_rcode;
    s.lifetime = prepared_.lifetime;
    s.stale_window = (g.config.cache.serve_stale && prepared_.kind == AnswerKind::positive)
                         ? g.config.cache.stale_max_age
                         : 0;
    s.negative = prepared_.kind != AnswerKind::positive;
    cache_.insert(t.key(), s, uv_now(loop_));
  }
  StoredView view{data, prepared_.len, prepared_.ttl_offsets.data(), prepared_.ttl_offsets.size(),
                  prepared_.ext_rcode};
  answer_waiters(t, view, 0, false);
  release(t);
}

void Forwarder::on_udp_error(Upstream& up, uint32_t serial, int err) {
  (void)err;  // counted and logged by the upstream
  note_health(up, up.health().on_failure());
  // Nothing listens there (ICMP port unreachable): every query still waiting
  // on that socket is lost; move each on to its next attempt now instead of
  // letting it time out. The socket itself is read on (see upstream.h).
  for (auto& tp : pool_.all()) {
    Transaction& t = *tp;
    if (!t.in_use) continue;
    bool hit = false;
    for (int i = 0; i < t.n_attempts; ++i) {
      Attempt& a = t.attempts[i];
      if (a.open && !a.tcp && a.upstream == &up && a.serial == serial) {
        close_attempt(t, i);
        hit = true;
      }
    }
    if (!hit) continue;
    bool others_open = false;
    for (int i = 0; i < t.n_attempts; ++i)
      others_open |= t.attempts[i].open && !t.attempts[i].timed_out;
    if (!others_open) after_attempt_failed(t);
  }
}

void Forwarder::on_tcp_error(Upstream& up, uint64_t cookie, int err) {
  (void)err;
  Transaction* t = nullptr;
  int ai = 0;
  if (!decode_cookie(cookie, t, ai)) return;
  t->attempts[ai].open = false;  // the connection is gone already
  up.stats().errors.inc();
  note_health(up, up.health().on_failure());
  after_attempt_failed(*t);
}

}  // namespace cairn::dnsfwd
