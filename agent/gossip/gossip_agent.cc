#include "agent/gossip/gossip_agent.h"

#include "agent/gossip/uv_clock.h"
#include "agent/gossip/uv_transport.h"

namespace cairn::gossip {

// Plain memberlist mode: member events straight from memberlist, with
// memberlist's states mapped onto Serf's (dead -> failed).
struct GossipAgent::PlainDelegate : MemberlistDelegate {
  GossipAgent* agent;
  std::function<void(std::string_view)> probe_failed;
  std::function<void(std::string_view, int)> suspect_timeout;
  explicit PlainDelegate(GossipAgent* a) : agent(a) {}
  static Member to_member(const NodeInfo& n) {
    Member m;
    m.name = std::string(n.name);
    m.addr = n.addr;
    if (!n.meta.empty()) m.tags["meta"] = std::string(n.meta);
    m.vsn = n.vsn;
    switch (n.status) {
      case NodeStatus::alive:
      case NodeStatus::suspect:
        m.status = MemberStatus::alive;
        break;
      case NodeStatus::dead:
        m.status = MemberStatus::failed;
        break;
      case NodeStatus::left:
        m.status = MemberStatus::left;
        break;
    }
    return m;
  }
  void emit(SerfEvent::Kind k, const NodeInfo& n) {
    if (!agent->on_event_) return;
    SerfEvent ev{k, to_member(n), {}, {}, 0, false, 0};
    agent->on_event_(ev);
  }
  std::string node_meta(size_t) override {
    auto it = agent->cfg_.tags.find("meta");
    return it == agent->cfg_.tags.end() ? std::string() : it->second;
  }
  void notify_join(const NodeInfo& n) override { emit(SerfEvent::Kind::member_join, n); }
  void notify_leave(const NodeInfo& n) override {
    emit(n.status == NodeStatus::left ? SerfEvent::Kind::member_leave
                                      : SerfEvent::Kind::member_failed,
         n);
  }
  void notify_update(const NodeInfo& n) override { emit(SerfEvent::Kind::member_update, n); }
  void notify_probe_failed(std::string_view node) override {
    if (probe_failed) probe_failed(node);
  }
  void notify_suspect_timeout(std::string_view node, int c) override {
    if (suspect_timeout) suspect_timeout(node, c);
  }
};

std::unique_ptr<GossipAgent> GossipAgent::create(uv_loop_t* loop, GossipConfig cfg,
                                                 std::string& error) {
  std::unique_ptr<GossipAgent> a(new GossipAgent());
  MemberlistConfig ml;
  if (!MemberlistConfig::profile(cfg.profile, ml)) {
    error = "unknown gossip profile '" + cfg.profile + "' (want lan, wan or local)";
    return nullptr;
  }
  if (cfg.node_name.empty()) {
    error = "node name is required";
    return nullptr;
  }
  if (!cfg.keys.empty()) {
    a->keyring_ = std::make_shared<Keyring>();
    for (const auto& k : cfg.keys) {
      const std::string raw = Keyring::decode_base64(k);
      if (!a->keyring_->install(raw)) {
        error = "invalid gossip key: must be base64 of 16, 24 or 32 bytes";
        return nullptr;
      }
    }
  }
  a->clock_ = std::make_unique<UvClock>(loop);
  a->transport_ = std::make_unique<UvTransport>(loop);
  if (int rc = a->transport_->bind(cfg.bind); rc != 0) {
    error = "cannot bind gossip to " + cfg.bind.str() + ": " + uv_strerror(rc);
    return nullptr;
  }
  if (!cfg.advertise.valid()) cfg.advertise = Address{cfg.bind.ip, a->transport_->bound_port()};
  ml.name = cfg.node_name;
  ml.advertise = cfg.advertise;
  ml.label = cfg.label;
  if (cfg.tune_memberlist) cfg.tune_memberlist(ml);
  a->transport_->set_stream_timeout(ml.tcp_timeout);
  a->transport_->set_stream_limits(ml.streams);
  a->cfg_ = cfg;
  if (cfg.serf) {
    SerfConfig sc;
    sc.node_name = cfg.node_name;
    sc.tags = cfg.tags;
    if (cfg.tune_serf) cfg.tune_serf(sc);
    if (encode_tags(sc.tags).size() > kMetaMaxSize) {
      error = "encoded length of tags exceeds limit of 512 bytes";
      return nullptr;
    }
    a->serf_ = std::make_unique<Serf>(sc, ml, *a->clock_, *a->transport_, a->keyring_);
    a->transport_->set_handler(&a->serf_->packet_handler());
    a->serf_->set_event_handler([raw = a.get()](const SerfEvent& ev) {
      if (raw->on_event_) raw->on_event_(ev);
    });
  } else {
    a->plain_delegate_ = std::make_unique<PlainDelegate>(a.get());
    a->plain_ = std::make_unique<Memberlist>(ml, *a->clock_, *a->transport_,
                                             a->plain_delegate_.get(), nullptr, a->keyring_);
    a->transport_->set_handler(a->plain_.get());
  }
  return a;
}

void GossipAgent::start() {
  if (serf_) {
    serf_->start();
  } else {
    plain_->start();
  }
}

GossipAgent::~GossipAgent() {
  // The transport goes first so no packet reaches a half-destroyed core.
  transport_.reset();
  serf_.reset();
  plain_.reset();
}

void GossipAgent::set_event_handler(EventFn fn) {
  on_event_ = std::move(fn);
}

void GossipAgent::set_debug_handlers(std::function<void(std::string_view)> probe_failed,
                                     std::function<void(std::string_view, int)> suspect_timeout) {
  if (serf_) {
    serf_->on_probe_failed = std::move(probe_failed);
    serf_->on_suspect_timeout = std::move(suspect_timeout);
  } else {
    plain_delegate_->probe_failed = std::move(probe_failed);
    plain_delegate_->suspect_timeout = std::move(suspect_timeout);
  }
}

Memberlist& GossipAgent::memberlist() {
  return serf_ ? serf_->memberlist() : *plain_;
}

void GossipAgent::join(const std::vector<std::string>& addrs, Memberlist::JoinDone done) {
  std::vector<Address> seeds;
  for (const auto& s : addrs) {
    Address a;
    if (!Address::parse(s, cfg_.bind.port ? cfg_.bind.port : 8301, a)) {
      done(0, "invalid join address '" + s + "'");
      return;
    }
    seeds.push_back(a);
  }
  if (serf_) {
    serf_->join(seeds, false, std::move(done));
  } else {
    plain_->join(seeds, std::move(done));
  }
}

void GossipAgent::leave(Memberlist::Done done) {
  if (serf_) {
    serf_->leave(std::move(done));
  } else {
    plain_->leave(std::chrono::seconds(2), std::move(done));
  }
}

void GossipAgent::shutdown() {
  if (serf_) serf_->shutdown();
  if (plain_) plain_->shutdown();
}

std::vector<Member> GossipAgent::members() const {
  if (serf_) return serf_->members();
  std::vector<Member> out;
  for (const auto& n : plain_->members()) out.push_back(PlainDelegate::to_member(n));
  return out;
}

Member GossipAgent::local_member() const {
  if (serf_) return serf_->local_member();
  return PlainDelegate::to_member(plain_->local_node());
}

bool GossipAgent::user_event(std::string_view name, std::string_view payload, bool coalesce,
                             std::string& err) {
  if (!serf_) {
    err = "user events need Serf";
    return false;
  }
  return serf_->user_event(name, payload, coalesce, err);
}

bool GossipAgent::set_tags(Tags tags, std::string& err) {
  if (!serf_) {
    err = "tags need Serf";
    return false;
  }
  return serf_->set_tags(std::move(tags), err);
}

bool GossipAgent::respond(uint32_t id, std::string_view payload, std::string& err) {
  return serf_ && serf_->respond(id, payload, err);
}

bool GossipAgent::query(
    std::string_view name, std::string_view payload,
    std::function<void(std::string_view, std::string_view)> on_response,
    std::function<void()> on_done) {
  if (!serf_) return false;
  serf_->query(name, payload, std::move(on_response), std::move(on_done));
  return true;
}

bool GossipAgent::force_leave(std::string_view node) {
  return serf_ && serf_->remove_failed(node, false);
}

const Coordinate* GossipAgent::local_coordinate() const {
  return serf_ ? &serf_->coordinate() : nullptr;
}

bool GossipAgent::coordinate_of(std::string_view node, Coordinate& out) const {
  return serf_ && serf_->cached_coordinate(node, out);
}

int GossipAgent::health_score() const {
  return serf_ ? serf_->memberlist().health_score() : plain_->health_score();
}

Address GossipAgent::address() const {
  return cfg_.advertise;
}

const MemberlistConfig& GossipAgent::memberlist_config() const {
  return serf_ ? serf_->memberlist().config() : plain_->config();
}

const StreamStats& GossipAgent::stream_stats() const {
  return transport_->stream_stats();
}

const MemberlistStats& GossipAgent::stats() const {
  return serf_ ? serf_->memberlist().stats() : plain_->stats();
}

}  // namespace cairn::gossip
