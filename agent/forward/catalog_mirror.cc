#include "agent/forward/catalog_mirror.h"

#include <algorithm>

#include "common/log.h"

namespace cairn::forward {

CatalogMirror::CatalogMirror(uv_loop_t* loop, Forwarder& forwarder, state::Store& store,
                             Settings settings)
    : loop_(loop),
      forwarder_(forwarder),
      store_(store),
      settings_(settings),
      rewatch_timer_(loop),
      subscribe_timer_(loop),
      expire_timer_(loop) {
  topics_.emplace(std::string(kPinnedService), Topic{});
  uint64_t sweep_ms = std::clamp<uint64_t>(settings_.subscription_ttl_ms / 4, 50, 60'000);
  expire_timer_.start(sweep_ms, sweep_ms, [this] { expire_unused(); });
  expire_timer_.unref();
}

CatalogMirror::~CatalogMirror() {
  *alive_ = false;
}

uint64_t CatalogMirror::age_ms() const {
  if (current()) return 0;
  if (ended_at_ms_ == 0) return 0;
  return uv_now(loop_) - ended_at_ms_;
}

void CatalogMirror::set_coverage_listener(std::function<void(std::vector<std::string>)> listener) {
  coverage_listener_ = std::move(listener);
}

std::vector<std::string> CatalogMirror::held_topics() const {
  std::vector<std::string> out;
  for (const auto& [name, topic] : topics_)
    if (topic.held) out.push_back(name);
  return out;
}

size_t CatalogMirror::held_services() const {
  return static_cast<size_t>(std::count_if(topics_.begin(), topics_.end(), [](const auto& t) {
    return t.second.held && !t.first.starts_with(kNodeTopic);
  }));
}

size_t CatalogMirror::held_nodes() const {
  return static_cast<size_t>(std::count_if(topics_.begin(), topics_.end(), [](const auto& t) {
    return t.second.held && t.first.starts_with(kNodeTopic);
  }));
}

void CatalogMirror::coverage_changed() {
  if (coverage_listener_) coverage_listener_(held_topics());
}

bool CatalogMirror::covers(std::string_view service_lc) {
  return use(service_lc);
}

bool CatalogMirror::covers_node(std::string_view node_lc) {
  dns::assign_node_topic(node_key_, node_lc);
  return use(node_key_);
}

bool CatalogMirror::use(std::string_view topic) {
  uint64_t now = uv_now(loop_);
  if (auto it = topics_.find(topic); it != topics_.end()) {
    it->second.last_used_ms = now;
    if (it->second.held && !current()) answered_stale();
    return it->second.held;
  }
  // Past the bound (a flood of made-up names, say) a server answers each time.
  if (topics_.size() >= std::min(settings_.max_subscriptions, kMaxWatchTopics)) return false;
  topics_.emplace(std::string(topic), Topic{now, false, false});
  watch_soon();
  return false;
}

void CatalogMirror::answered_stale() {
  ++stale_answers_;
  if (stale_logged_) return;
  stale_logged_ = true;
  log::warn("agent", "answering from the local view while no server streams it",
            {{"age_ms", std::to_string(age_ms())}});
}

void CatalogMirror::servers_changed() {
  if (!stream_.active() && !rewatch_timer_.active()) watch();
}

void CatalogMirror::watch_soon() {
  // While waiting to re-watch after a failure, that re-watch asks for it.
  if (rewatch_timer_.active() || subscribe_timer_.active()) return;
  subscribe_timer_.start(kSubscribeDelayMs, 0, [this] { watch(); });
}

void CatalogMirror::watch() {
  subscribe_timer_.stop();
  if (forwarder_.current_server() == nullptr) return;
  WatchRequest request{true, loaded_ ? store_.index() : 0, {}};
  for (auto& [name, topic] : topics_) {
    topic.requested = true;
    request.topics.push_back({name, loaded_ && topic.held});
  }
  pending_snapshot_.clear();
  // Replacing the open stream cancels it: this one carries everything it did.
  stream_ = forwarder_.open_stream(
      kCatalogWatchMethod, encode_watch_request(request),
      [this, alive = alive_](std::string_view message) {
        if (*alive) on_message(message);
      },
      [this, alive = alive_](const rpc::Status& status) {
        if (*alive) on_end(status);
      });
}

void CatalogMirror::caught_up() {
  loaded_ = true;
  caught_up_ = true;
  stale_logged_ = false;
  ended_at_ms_ = 0;
  bool changed = false;
  for (auto& [_, topic] : topics_) {
    if (topic.held != topic.requested) changed = true;
    topic.held = topic.requested;
  }
  if (changed) coverage_changed();
}

void CatalogMirror::on_message(std::string_view message) {
  CatalogMessage msg;
  EnvelopeStatus st = decode_catalog_message(message, msg);
  if (!st.ok()) {
    log::warn("agent", "a bad catalog stream message; watching again", {{"error", st.message}});
    stream_.cancel();
    on_end({rpc::Status::Code::internal, st.message});
    return;
  }
  switch (msg.kind) {
    case CatalogMessageKind::snapshot_part:
      for (auto& m : msg.rows) pending_snapshot_.push_back(std::move(m));
      return;
    case CatalogMessageKind::snapshot_end:
      for (auto& m : msg.rows) pending_snapshot_.push_back(std::move(m));
      store_.load_snapshot(pending_snapshot_, msg.index);
      pending_snapshot_.clear();
      pending_snapshot_.shrink_to_fit();
      ++snapshots_;
      caught_up();
      return;
    case CatalogMessageKind::batch:
      // The rows of a new subscription come at the index the view is at.
      if (loaded_ && msg.index >= store_.index()) store_.apply(msg.rows, msg.index);
      return;
    case CatalogMessageKind::resumed:
      ++resumes_;
      caught_up();
      return;
  }
}

void CatalogMirror::on_end(const rpc::Status& status) {
  log::warn("agent", "the catalog stream from the server ended; watching again",
            {{"status", status.to_string()}});
  if (!status.ok()) forwarder_.server_failed();
  if (ended_at_ms_ == 0) ended_at_ms_ = uv_now(loop_);
  caught_up_ = false;
  subscribe_timer_.stop();
  rewatch_timer_.start(kRewatchMs, 0, [this] { watch(); });
}

void CatalogMirror::expire_unused() {
  uint64_t now = uv_now(loop_);
  std::vector<std::string> gone;
  for (auto it = topics_.begin(); it != topics_.end();) {
    if (it->first != kPinnedService &&
        now - it->second.last_used_ms >= settings_.subscription_ttl_ms) {
      gone.push_back(it->first);
      it = topics_.erase(it);
    } else {
      ++it;
    }
  }
  if (gone.empty()) return;
  expired_ += gone.size();
  coverage_changed();  // first: nothing answers from these rows any more
  state::Batch drop;
  for (const std::string& name : gone)
    for (const state::Service* s : store_.service_instances(name)) {
      for (const state::Check* c : store_.instance_checks(s->node, s->id))
        drop.emplace_back(state::DeleteCheck{c->node, c->check_id});
      drop.emplace_back(state::DeleteService{s->node, s->id});
    }
  if (loaded_ && !drop.empty()) store_.apply(drop, store_.index());
  // Then the nodes nothing held needs: no instance left on them (the store
  // holds only held services) and not asked about themselves.
  drop.clear();
  for (const auto& [node_lc, node] : store_.nodes()) {
    dns::assign_node_topic(node_key_, node_lc);
    auto held = topics_.find(node_key_);
    if ((held == topics_.end() || !held->second.held) && store_.services_of_node(node_lc).empty())
      drop.emplace_back(state::DeleteNode{node.name});
  }
  if (loaded_ && !drop.empty()) store_.apply(drop, store_.index());
  log::debug("agent", "unused services and nodes left the local view",
             {{"topics", std::to_string(gone.size())}});
  // The server stops sending them (a resume: nothing else is resent).
  if (stream_.active()) watch();
}

}  // namespace cairn::forward
