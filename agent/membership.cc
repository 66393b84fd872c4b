#include "agent/membership.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "agent/consul_version.h"
#include "agent/server/leader.h"
#include "agent/state/catalog_ops.h"
#include "cairn_version.h"
#include "common/base64.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/value.h"

namespace cairn {

namespace {

constexpr const char* kEventPrefix = "consul:event:";
constexpr size_t kMaxEvents = 256;  // Consul keeps the last 256 per agent
constexpr uint64_t kRetryJoinMinMs = 1000;

}  // namespace

std::string encode_user_event(const UserEvent& ev) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("ID", ev.id);
  w.field("Name", ev.name);
  w.field("Payload", base64_encode(ev.payload));
  w.field("NodeFilter", ev.node_filter);
  w.field("ServiceFilter", ev.service_filter);
  w.field("TagFilter", ev.tag_filter);
  w.field("Version", ev.version);
  w.end_object();
  return out;
}

bool decode_user_event(const std::string& payload, UserEvent& out) {
  Value v;
  ParseError err;
  if (!parse_json(payload, v, err) || !v.is_object()) return false;
  auto s = [&](const char* k) {
    const Value* f = v.find(k);
    return f && f->kind == Value::Kind::string ? f->s : std::string();
  };
  out.id = s("id");
  out.name = s("name");
  auto p = base64_decode(s("payload"));
  if (!p) return false;
  out.payload = *p;
  out.node_filter = s("nodefilter");
  out.service_filter = s("servicefilter");
  out.tag_filter = s("tagfilter");
  return !out.id.empty() && !out.name.empty();
}

Membership::Membership(uv_loop_t* loop, const config::Config& cfg, const local::NodeIdentity& self,
                       server::CatalogWriter& writer, bool is_server, EventFilter filter)
    : loop_(loop), cfg_(cfg), self_(self), writer_(writer), is_server_(is_server),
      filter_(std::move(filter)),
      lan_(loop, "lan", cfg.ports.serf_lan, cfg.gossip_lan, cfg.start_join, cfg.retry_join,
           cfg.retry_interval),
      wan_(loop, "wan", cfg.ports.serf_wan, cfg.gossip_wan, cfg.start_join_wan, cfg.retry_join_wan,
           cfg.retry_interval_wan) {}

Membership::~Membership() { shutdown(); }

namespace {

// One pool's inbound stream counters, read when /v1/agent/metrics asks.
void add_stream_metrics(MetricsRegistry& into, const char* network, const gossip::StreamStats& s) {
  const Labels net = {{"network", network}};
  auto with = [&](const char* k, const char* v) {
    Labels l = net;
    l.emplace_back(k, v);
    return l;
  };
  into.counter("consul.memberlist.tcp.accept", "Inbound gossip TCP streams accepted", net)
      .inc(s.accepted);
  const char* refused_help = "Inbound gossip TCP streams closed at accept: too many open";
  into.counter("consul.memberlist.tcp.refused", refused_help, with("reason", "total"))
      .inc(s.refused_total);
  into.counter("consul.memberlist.tcp.refused", refused_help, with("reason", "per_source"))
      .inc(s.refused_per_source);
  const char* dropped_help = "Inbound gossip TCP streams closed before a whole message";
  into.counter("consul.memberlist.tcp.dropped", dropped_help, with("reason", "oversized"))
      .inc(s.oversized);
  into.counter("consul.memberlist.tcp.dropped", dropped_help, with("reason", "buffer_budget"))
      .inc(s.over_budget);
  into.counter("consul.memberlist.tcp.dropped", dropped_help, with("reason", "timeout"))
      .inc(s.timed_out);
  into.counter("consul.memberlist.tcp.dropped", dropped_help, with("reason", "malformed"))
      .inc(s.malformed);
  into.gauge("consul.memberlist.tcp.open", "Inbound gossip TCP streams open now", net)
      .set(double(s.open));
  into.gauge("consul.memberlist.tcp.buffered_bytes",
             "Bytes buffered by inbound gossip TCP streams not yet whole", net)
      .set(double(s.buffered_bytes));
}

void add_serf_metrics(MetricsRegistry& into, const char* network, const SerfEventCounts& c) {
  const Labels net = {{"network", network}};
  into.counter("consul.serf.member.join", "Members that joined the pool", net).inc(c.join);
  into.counter("consul.serf.member.left", "Members that left the pool gracefully", net)
      .inc(c.left);
  into.counter("consul.serf.member.failed", "Members marked failed", net).inc(c.failed);
  into.counter("consul.serf.member.update", "Members whose tags changed", net).inc(c.update);
  into.counter("consul.serf.member.flap",
               "Members that came back within 60 s of being marked failed", net)
      .inc(c.flap);
  into.counter("consul.serf.events", "Serf user events received", net).inc(c.user_events);
  into.counter("consul.serf.queries", "Serf queries received", net).inc(c.queries);
}

// Memberlist's own counters: bytes over UDP and TCP, probes, suspicions.
void add_memberlist_metrics(MetricsRegistry& into, const char* network,
                            const gossip::GossipAgent& g) {
  const Labels net = {{"network", network}};
  const gossip::MemberlistStats& s = g.stats();
  into.counter("consul.memberlist.udp.sent", "Gossip bytes sent over UDP", net).inc(s.bytes_out);
  into.counter("consul.memberlist.udp.received", "Gossip bytes received over UDP", net)
      .inc(s.bytes_in);
  into.counter("consul.memberlist.tcp.sent", "Gossip bytes sent over TCP streams", net)
      .inc(s.stream_bytes_out);
  into.counter("consul.memberlist.tcp.connect", "Outbound gossip TCP streams opened", net)
      .inc(s.streams_out);
  into.counter("consul.memberlist.msg.suspect", "Members this agent suspected", net)
      .inc(s.suspicions);
  into.counter("consul.memberlist.probes", "Failure-detector probes sent (cairn)", net)
      .inc(s.probes);
  into.counter("consul.memberlist.probe_failures", "Probes that got no ack in time (cairn)", net)
      .inc(s.probe_failures);
  into.counter("consul.memberlist.push_pulls", "Full state exchanges (cairn)", net)
      .inc(s.push_pulls);
  into.gauge("consul.memberlist.health.score",
             "Local health (Lifeguard awareness): 0 is healthy, higher is worse", net)
      .set(g.health_score());
}

}  // namespace

void Membership::add_metrics_to(MetricsRegistry& into) const {
  for (const Pool* pool : {&lan_, &wan_}) {
    if (!pool->gossip) continue;
    add_stream_metrics(into, pool->name, pool->gossip->stream_stats());
    add_serf_metrics(into, pool->name, pool->events.counts());
    add_memberlist_metrics(into, pool->name, *pool->gossip);
  }
  if (!lan_.gossip) return;
  double servers = 0, clients = 0;
  for (const gossip::Member& m : lan_.gossip->members()) {
    if (m.status != gossip::MemberStatus::alive) continue;
    auto role = m.tags.find("role");
    (role != m.tags.end() && role->second == "consul" ? servers : clients) += 1;
  }
  into.gauge("consul.members.servers", "Alive servers in the LAN pool").set(servers);
  into.gauge("consul.members.clients", "Alive client agents in the LAN pool").set(clients);
}

std::string Membership::start_pool(Pool& pool, gossip::GossipConfig g,
                                   gossip::GossipAgent::EventFn handler) {
  const int port = pool.port;
  const std::string key = std::string("serf_") + pool.name;
  std::string bind = cfg_.bind_addr == "0.0.0.0" && cfg_.dev ? "127.0.0.1" : cfg_.bind_addr;
  if (!gossip::Address::parse(bind, static_cast<uint16_t>(port), g.bind))
    return "bind_addr: \"" + bind + "\" is not an IPv4 address (gossip is IPv4 only for now)";
  if (!cfg_.advertise_addr.empty() &&
      !gossip::Address::parse(cfg_.advertise_addr, static_cast<uint16_t>(port), g.advertise))
    return "advertise_addr: \"" + cfg_.advertise_addr + "\" is not an IPv4 address";
  if (!cfg_.encrypt.empty()) {
    if (gossip::Keyring::decode_base64(cfg_.encrypt).empty())
      return "encrypt: not a base64 key of 16, 24 or 32 bytes (use `cairn keygen`)";
    g.keys = {cfg_.encrypt};
  }
  g.tune_memberlist = [tuning = pool.tuning, verify_in = cfg_.encrypt_verify_incoming,
                       verify_out = cfg_.encrypt_verify_outgoing](gossip::MemberlistConfig& m) {
    auto d = [](Nanos n) { return gossip::Duration(n); };
    // encrypt_verify_*: false lets a pool move to (or off) encryption one agent at a time.
    m.gossip_verify_incoming = verify_in;
    m.gossip_verify_outgoing = verify_out;
    if (tuning.probe_interval) m.probe_interval = d(*tuning.probe_interval);
    if (tuning.probe_timeout) m.probe_timeout = d(*tuning.probe_timeout);
    if (tuning.gossip_interval) m.gossip_interval = d(*tuning.gossip_interval);
    if (tuning.suspicion_mult) m.suspicion_mult = *tuning.suspicion_mult;
    if (tuning.gossip_nodes) m.gossip_nodes = *tuning.gossip_nodes;
    if (tuning.retransmit_mult) m.retransmit_mult = *tuning.retransmit_mult;
    if (tuning.max_inbound_streams) m.streams.max_streams = *tuning.max_inbound_streams;
    if (tuning.max_inbound_streams_per_source)
      m.streams.max_streams_per_source = *tuning.max_inbound_streams_per_source;
    if (tuning.max_stream_bytes) m.streams.max_message_bytes = *tuning.max_stream_bytes;
    if (tuning.max_stream_buffer_bytes)
      m.streams.max_buffered_bytes = *tuning.max_stream_buffer_bytes;
  };
  std::string err, where = g.bind.str();
  pool.gossip = gossip::GossipAgent::create(loop_, std::move(g), err);
  if (!pool.gossip) return "gossip (" + key + " " + where + "): " + err;
  pool.gossip->set_event_handler(std::move(handler));
  pool.gossip->start();
  log::info("agent", "gossip started",
            {{"pool", pool.name}, {"address", pool.gossip->address().str()}});
  if (!pool.start_join.empty()) {
    pool.gossip->join(pool.start_join, [name = pool.name](int n, const std::string& e) {
      if (n == 0) log::error("agent", "join failed", {{"pool", name}, {"error", e}});
      else log::info("agent", "joined", {{"pool", name}, {"contacted", std::to_string(n)}});
    });
  }
  if (!pool.retry_join.empty()) retry_join_tick(pool);
  return "";
}

gossip::Tags lan_tags(const config::Config& cfg, const local::NodeIdentity& self, bool is_server) {
  gossip::Tags tags = {{"role", is_server ? "consul" : "node"},
                       {"dc", cfg.datacenter},
                       {"id", self.id},
                       {"segment", ""},
                       {"vsn", "2"},
                       {"vsn_min", "2"},
                       {"vsn_max", "3"},
                       // ACLs are not enforced yet: Consul's "disabled" mode.
                       {"acls", "0"},
                       {"build", std::string(kConsulCompatVersion) + ":cairn-" + CAIRN_VERSION}};
  if (is_server) {
    tags["port"] = std::to_string(cfg.ports.server);
    if (cfg.bootstrap_expect == 1) tags["bootstrap"] = "1";
    if (cfg.bootstrap_expect > 1) tags["expect"] = std::to_string(cfg.bootstrap_expect);
    if (cfg.ports.serf_wan > 0) tags["wan_join_port"] = std::to_string(cfg.ports.serf_wan);
  }
  return tags;
}

std::string Membership::start() {
  if (cfg_.ports.serf_lan <= 0) return "";
  gossip::GossipConfig g;
  g.node_name = self_.name;
  g.profile = "lan";
  g.tags = lan_tags(cfg_, self_, is_server_);
  gossip::Tags wan_tags = g.tags;
  if (std::string err =
          start_pool(lan_, std::move(g), [this](const gossip::SerfEvent& ev) { on_event(ev); });
      !err.empty())
    return err;

  if (!is_server_ || cfg_.ports.serf_wan <= 0) return "";
  // Consul's WAN tags: the server's, without the LAN segment and WAN port.
  wan_tags.erase("segment");
  wan_tags.erase("wan_join_port");
  gossip::GossipConfig w;
  w.node_name = self_.name + "." + cfg_.datacenter;
  w.profile = "wan";
  w.tags = std::move(wan_tags);
  return start_pool(wan_, std::move(w),
                    [this](const gossip::SerfEvent& ev) { on_wan_event(ev); });
}

void Membership::retry_join_tick(Pool& pool) {
  if (!pool.gossip || left_) return;
  pool.gossip->join(pool.retry_join, [this, &pool](int n, const std::string& e) {
    if (n > 0) {
      log::info("agent", "retry-join succeeded",
                {{"pool", pool.name}, {"contacted", std::to_string(n)}});
      return;
    }
    pool.retry_attempts++;
    // Back off from 1 s up to retry_interval (Consul's default 30 s).
    uint64_t cap = static_cast<uint64_t>(pool.retry_interval / kMillisecond);
    uint64_t wait = std::min<uint64_t>(cap, kRetryJoinMinMs << std::min(pool.retry_attempts, 5));
    log::warn("agent", "retry-join failed, will retry",
              {{"pool", pool.name}, {"error", e}, {"in_ms", std::to_string(wait)}});
    pool.retry_timer.start(wait, 0, [this, &pool] { retry_join_tick(pool); });
  });
}

void Membership::join_pool(Pool& pool, const std::vector<std::string>& addrs, JoinDone done,
                           const char* missing) {
  if (!pool.gossip) {
    done(0, missing);
    return;
  }
  pool.gossip->join(addrs, [done](int n, const std::string& e) { done(n, e); });
}

void Membership::join(const std::vector<std::string>& addrs, JoinDone done) {
  join_pool(lan_, addrs, std::move(done), "gossip is disabled on this agent (ports.serf_lan)");
}

void Membership::join_wan(const std::vector<std::string>& addrs, JoinDone done) {
  join_pool(wan_, addrs, std::move(done),
            is_server_ ? "WAN gossip is disabled on this agent (ports.serf_wan)"
                       : "Must be a server to join WAN cluster");
}

void Membership::leave(std::function<void()> done) {
  left_ = true;
  lan_.retry_timer.stop();
  wan_.retry_timer.stop();
  auto leave_lan = [this, done] {
    if (!lan_.gossip) {
      done();
      return;
    }
    lan_.gossip->leave([done](bool) { done(); });
  };
  if (!wan_.gossip) {
    leave_lan();
    return;
  }
  wan_.gossip->leave([leave_lan](bool) { leave_lan(); });
}

bool Membership::force_leave(const std::string& node, bool wan) {
  const Pool& pool = wan ? wan_ : lan_;
  return pool.gossip && pool.gossip->force_leave(node);
}

void Membership::shutdown() {
  waiters_.clear();
  for (Pool* pool : {&wan_, &lan_}) {
    pool->retry_timer.stop();
    if (pool->gossip) {
      pool->gossip->shutdown();
      pool->gossip.reset();
    }
  }
}

std::vector<gossip::Member> Membership::members() const {
  return lan_.gossip ? lan_.gossip->members() : std::vector<gossip::Member>{};
}

std::vector<gossip::Member> Membership::wan_members() const {
  return wan_.gossip ? wan_.gossip->members() : std::vector<gossip::Member>{};
}

std::vector<std::string> Membership::datacenters() const {
  std::map<std::string, std::vector<double>> rtts;  // dc -> estimated RTT to each server
  gossip::Coordinate self, other;
  bool have_self = wan_.gossip && wan_.gossip->coordinate_of(self_.name + "." + cfg_.datacenter, self);
  for (const auto& m : wan_members()) {
    auto dc = m.tags.find("dc");
    if (m.status != gossip::MemberStatus::alive || dc == m.tags.end() || dc->second == cfg_.datacenter)
      continue;
    auto& list = rtts[dc->second];
    if (have_self && wan_.gossip->coordinate_of(m.name, other) && other.compatible(self))
      list.push_back(self.distance_to(other));
    else
      list.push_back(std::numeric_limits<double>::infinity());
  }
  std::vector<std::pair<double, std::string>> order;
  for (auto& [dc, list] : rtts) {
    std::sort(list.begin(), list.end());
    order.emplace_back(list[list.size() / 2], dc);
  }
  std::sort(order.begin(), order.end());
  std::vector<std::string> out{cfg_.datacenter};
  for (auto& [rtt, dc] : order) out.push_back(dc);
  return out;
}

bool Membership::coordinate_of(const std::string& node, gossip::Coordinate& out) const {
  if (auto it = updated_coordinates_.find(node); it != updated_coordinates_.end()) {
    out = it->second;
    return true;
  }
  return lan_.gossip && lan_.gossip->coordinate_of(node, out);
}

void Membership::update_coordinate(const std::string& node, gossip::Coordinate c,
                                   const std::function<bool(const std::string&)>& known) {
  std::erase_if(updated_coordinates_, [&](const auto& entry) { return !known(entry.first); });
  updated_coordinates_[node] = std::move(c);
}

std::map<std::string, gossip::Coordinate> Membership::coordinates() const {
  std::map<std::string, gossip::Coordinate> all;
  if (auto* lan = lan_.gossip.get()) {
    gossip::Coordinate c;
    for (const auto& m : lan->members())
      if (lan->coordinate_of(m.name, c)) all[m.name] = c;
  }
  for (const auto& [node, c] : updated_coordinates_) all[node] = c;
  return all;
}

void Membership::reconcile_all() {
  if (!lan_.gossip) return;
  for (const gossip::Member& m : lan_.gossip->members())
    reconcile(m, m.status == gossip::MemberStatus::left);
}

void Membership::set_lan_tags(const gossip::Tags& extra) {
  if (!lan_.gossip) return;
  gossip::Tags tags = lan_.gossip->local_member().tags;
  bool changed = false;
  for (const auto& [k, v] : extra) {
    auto it = tags.find(k);
    if (it != tags.end() && it->second == v) continue;
    tags[k] = v;
    changed = true;
  }
  if (!changed) return;
  std::string err;
  if (!lan_.gossip->set_tags(std::move(tags), err))
    log::warn("agent", "could not update gossip tags", {{"error", err}});
}

namespace {

// A pool's servers other than self (alive or failed), as the role, dc and port tags say.
std::vector<server::SeenServer> servers_among(const std::vector<gossip::Member>& members,
                                              const std::string& self) {
  std::vector<server::SeenServer> out;
  for (const gossip::Member& m : members) {
    if (m.name == self) continue;
    auto tag = [&](const char* k) {
      auto it = m.tags.find(k);
      return it == m.tags.end() ? std::string() : it->second;
    };
    if (tag("role") != "consul") continue;
    if (m.status != gossip::MemberStatus::alive && m.status != gossip::MemberStatus::failed)
      continue;
    server::SeenServer s;
    s.name = m.name;
    s.datacenter = tag("dc");
    s.expect = tag("bootstrap") == "1" ? 1 : std::atoi(tag("expect").c_str());
    s.peer_url = tag("etcd_peer");
    s.member_running = tag("etcd") == "1";
    s.alive = m.status == gossip::MemberStatus::alive;
    s.address = m.addr.ip_str();
    if (int port = std::atoi(tag("port").c_str()); port > 0 && port <= 65535) s.rpc_port = port;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::vector<server::SeenServer> Membership::seen_servers() const {
  if (!lan_.gossip) return {};
  return servers_among(lan_.gossip->members(), self_.name);
}

std::vector<server::SeenServer> Membership::wan_servers() const {
  return servers_among(wan_members(), self_.name + "." + cfg_.datacenter);
}

void Membership::on_event(const gossip::SerfEvent& ev) {
  using K = gossip::SerfEvent::Kind;
  lan_.events.count(ev, uv_now(loop_));
  if (member_listener_ && ev.kind != K::user && ev.kind != K::query) member_listener_();
  switch (ev.kind) {
    case K::member_join:
    case K::member_update:
      log::info("agent", ev.kind == K::member_join ? "member joined" : "member updated",
                {{"node", ev.member.name}, {"address", ev.member.addr.str()}});
      reconcile(ev.member, false);
      break;
    case K::member_failed:
      log::warn("agent", "member failed", {{"node", ev.member.name}});
      reconcile(ev.member, false);
      break;
    case K::member_leave:
    case K::member_reap:
      log::info("agent", ev.kind == K::member_leave ? "member left" : "member reaped",
                {{"node", ev.member.name}});
      reconcile(ev.member, true);
      break;
    case K::user: {
      if (ev.name.rfind(kEventPrefix, 0) != 0) break;
      UserEvent ue;
      if (!decode_user_event(ev.payload, ue)) {
        log::debug("agent", "dropping malformed user event", {{"name", ev.name}});
        break;
      }
      ue.ltime = ev.ltime;
      if (filter_ && !filter_(ue)) break;
      record(std::move(ue));
      break;
    }
    case K::query:
      if (query_handler_ && ev.name.starts_with("cairn:")) query_handler_(ev);
      break;
  }
}

bool Membership::respond(uint32_t query_id, std::string_view payload) {
  std::string err;
  if (lan_.gossip && lan_.gossip->respond(query_id, payload, err)) return true;
  log::warn("agent", "could not answer a gossip query", {{"error", err}});
  return false;
}

bool Membership::ask(std::string_view name, std::string_view payload,
                     std::function<void(std::string_view, std::string_view)> on_answer,
                     std::function<void()> on_done) {
  return lan_.gossip && lan_.gossip->query(name, payload, std::move(on_answer), std::move(on_done));
}

void Membership::on_wan_event(const gossip::SerfEvent& ev) {
  using K = gossip::SerfEvent::Kind;
  wan_.events.count(ev, uv_now(loop_));
  const char* what = nullptr;
  switch (ev.kind) {
    case K::member_join: what = "WAN member joined"; break;
    case K::member_update: what = "WAN member updated"; break;
    case K::member_failed: what = "WAN member failed"; break;
    case K::member_leave: what = "WAN member left"; break;
    case K::member_reap: what = "WAN member reaped"; break;
    case K::user:
    case K::query: return;  // user events travel in the LAN pool only
  }
  auto dc = ev.member.tags.find("dc");
  log::info("agent", what,
            {{"node", ev.member.name},
             {"datacenter", dc == ev.member.tags.end() ? "" : dc->second},
             {"address", ev.member.addr.str()}});
}

void Membership::reconcile(const gossip::Member& m, bool removed) {
  // Leader duty. The leader's own node is kept by its anti-entropy.
  if (!is_server_ || m.name == self_.name) return;
  if (is_leader_ && !is_leader_()) return;
  auto tag = [&](const char* k) {
    auto it = m.tags.find(k);
    return it == m.tags.end() ? std::string() : it->second;
  };
  if (tag("dc") != cfg_.datacenter && !tag("dc").empty()) return;
  gossip::Member member = m;
  std::string id = tag("id");
  writer_.write(
      [member, removed, id](const state::Store& store, int64_t, state::Batch& out) {
        if (removed) {
          state::plan_delete_node(store, member.name, out);
          return std::string();
        }
        state::Node n;
        const state::Node* cur = store.node(member.name);
        if (cur) n = *cur;
        n.name = member.name;
        n.id = id.empty() ? n.id : id;
        std::string addr = member.addr.ip_str();
        n.address = addr;
        if (n.datacenter.empty()) {
          auto dc = member.tags.find("dc");
          n.datacenter = dc == member.tags.end() ? "" : dc->second;
        }
        n.tagged_addresses = {{"lan", addr}, {"lan_ipv4", addr}, {"wan", addr}, {"wan_ipv4", addr}};
        n.meta.emplace("consul-network-segment", "");
        state::plan_put_node(store, n, out);
        state::Check c;
        c.node = member.name;
        c.check_id = server::kSerfCheckID;
        c.name = server::kSerfCheckName;
        bool alive = member.status == gossip::MemberStatus::alive;
        c.status = alive ? state::kPassing : state::kCritical;
        c.output = alive ? server::kSerfAliveOutput : server::kSerfDeadOutput;
        state::plan_put_check(store, c, out);
        return std::string();
      },
      nullptr);
}

std::string Membership::fire(UserEvent ev) {
  std::string err;
  if (lan_.gossip && !lan_.gossip->user_event(kEventPrefix + ev.name, encode_user_event(ev), false, err))
    return err;
  // This agent sees its own event at once; the copy gossip brings back is a duplicate.
  if (!filter_ || filter_(ev)) record(std::move(ev));
  return "";
}

void Membership::record(UserEvent ev) {
  for (const auto& e : events_)
    if (e.id == ev.id) return;  // gossip may deliver an event more than once
  events_.push_back(std::move(ev));
  while (events_.size() > kMaxEvents) events_.pop_front();
  auto waiting = std::move(waiters_);
  waiters_.clear();
  for (auto& [id, fn] : waiting) fn();
}

uint64_t Membership::on_next_event(std::function<void()> fn) {
  uint64_t id = next_waiter_++;
  waiters_.emplace_back(id, std::move(fn));
  return id;
}

void Membership::cancel_wait(uint64_t id) {
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (it->first == id) {
      waiters_.erase(it);
      return;
    }
  }
}

}  // namespace cairn
