#include "agent/membership.h"

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

uint64_t fnv(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h ? h : 1;
}

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
      filter_(std::move(filter)), retry_timer_(loop) {}

Membership::~Membership() { shutdown(); }

std::string Membership::start() {
  if (cfg_.ports.serf_lan <= 0) return "";
  gossip::GossipConfig g;
  g.node_name = self_.name;
  std::string bind = cfg_.bind_addr == "0.0.0.0" && cfg_.dev ? "127.0.0.1" : cfg_.bind_addr;
  if (!gossip::Address::parse(bind, static_cast<uint16_t>(cfg_.ports.serf_lan), g.bind))
    return "bind_addr: \"" + bind + "\" is not an IPv4 address (gossip is IPv4 only for now)";
  if (!cfg_.advertise_addr.empty() &&
      !gossip::Address::parse(cfg_.advertise_addr, static_cast<uint16_t>(cfg_.ports.serf_lan),
                              g.advertise))
    return "advertise_addr: \"" + cfg_.advertise_addr + "\" is not an IPv4 address";
  g.profile = "lan";
  g.tags = {{"role", is_server_ ? "consul" : "node"},
            {"dc", cfg_.datacenter},
            {"id", self_.id},
            {"segment", ""},
            {"vsn", "2"},
            {"vsn_min", "2"},
            {"vsn_max", "3"},
            {"build", std::string("1.17.0:cairn-") + CAIRN_VERSION}};
  if (is_server_) {
    g.tags["port"] = std::to_string(cfg_.ports.server);
    g.tags["raft_vsn"] = "3";
    g.tags["wan_join_port"] = std::to_string(cfg_.ports.serf_wan);
    if (cfg_.bootstrap_expect == 1) g.tags["bootstrap"] = "1";
    if (cfg_.bootstrap_expect > 1) g.tags["expect"] = std::to_string(cfg_.bootstrap_expect);
  }
  if (!cfg_.encrypt.empty()) {
    if (gossip::Keyring::decode_base64(cfg_.encrypt).empty())
      return "encrypt: not a base64 key of 16, 24 or 32 bytes (use `cairn keygen`)";
    g.keys = {cfg_.encrypt};
  }
  std::string err;
  lan_ = gossip::GossipAgent::create(loop_, g, err);
  if (!lan_) return "gossip (serf_lan " + g.bind.str() + "): " + err;
  lan_->set_event_handler([this](const gossip::SerfEvent& ev) { on_event(ev); });
  lan_->start();
  log::info("agent", "gossip started", {{"address", lan_->address().str()}});
  if (!cfg_.start_join.empty()) {
    lan_->join(cfg_.start_join, [](int n, const std::string& e) {
      if (n == 0) log::error("agent", "join failed", {{"error", e}});
      else log::info("agent", "joined", {{"contacted", std::to_string(n)}});
    });
  }
  if (!cfg_.retry_join.empty()) retry_join_tick();
  return "";
}

void Membership::retry_join_tick() {
  if (!lan_ || left_) return;
  lan_->join(cfg_.retry_join, [this](int n, const std::string& e) {
    if (n > 0) {
      log::info("agent", "retry-join succeeded", {{"contacted", std::to_string(n)}});
      return;
    }
    retry_attempts_++;
    // Back off from 1 s up to retry_interval (Consul's default 30 s).
    uint64_t cap = static_cast<uint64_t>(cfg_.retry_interval / kMillisecond);
    uint64_t wait = std::min<uint64_t>(cap, kRetryJoinMinMs << std::min(retry_attempts_, 5));
    log::warn("agent", "retry-join failed, will retry",
              {{"error", e}, {"in_ms", std::to_string(wait)}});
    retry_timer_.start(wait, 0, [this] { retry_join_tick(); });
  });
}

void Membership::join(const std::vector<std::string>& addrs,
                      std::function<void(int, std::string)> done) {
  if (!lan_) {
    done(0, "gossip is disabled on this agent (ports.serf_lan)");
    return;
  }
  lan_->join(addrs, [done](int n, const std::string& e) { done(n, e); });
}

void Membership::leave(std::function<void()> done) {
  left_ = true;
  retry_timer_.stop();
  if (!lan_) {
    done();
    return;
  }
  lan_->leave([done](bool) { done(); });
}

bool Membership::force_leave(const std::string& node) { return lan_ && lan_->force_leave(node); }

void Membership::shutdown() {
  retry_timer_.stop();
  waiters_.clear();
  if (lan_) {
    lan_->shutdown();
    lan_.reset();
  }
}

std::vector<gossip::Member> Membership::members() const {
  return lan_ ? lan_->members() : std::vector<gossip::Member>{};
}

bool Membership::coordinate_of(const std::string& node, gossip::Coordinate& out) const {
  if (auto it = updated_coordinates_.find(node); it != updated_coordinates_.end()) {
    out = it->second;
    return true;
  }
  return lan_ && lan_->coordinate_of(node, out);
}

void Membership::update_coordinate(const std::string& node, gossip::Coordinate c) {
  updated_coordinates_[node] = std::move(c);
}

std::map<std::string, gossip::Coordinate> Membership::coordinates() const {
  std::map<std::string, gossip::Coordinate> all;
  if (lan_) {
    gossip::Coordinate c;
    for (const auto& m : lan_->members())
      if (lan_->coordinate_of(m.name, c)) all[m.name] = c;
  }
  for (const auto& [node, c] : updated_coordinates_) all[node] = c;
  return all;
}

void Membership::on_event(const gossip::SerfEvent& ev) {
  using K = gossip::SerfEvent::Kind;
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
      break;
  }
}

void Membership::reconcile(const gossip::Member& m, bool removed) {
  // Leader duty. The leader's own node is kept by its anti-entropy.
  if (!is_server_ || m.name == self_.name) return;
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
  if (lan_ && !lan_->user_event(kEventPrefix + ev.name, encode_user_event(ev), false, err))
    return err;
  // This agent sees its own event at once; the copy gossip brings back is a duplicate.
  if (!filter_ || filter_(ev)) record(std::move(ev));
  return "";
}

void Membership::record(UserEvent ev) {
  for (const auto& e : events_)
    if (e.id == ev.id) return;  // gossip may deliver an event more than once
  events_index_ = fnv(ev.id);
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
