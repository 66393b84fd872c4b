#include "agent/forward/catalog_publisher.h"

#include "agent/state/catalog_replica.h"
#include "common/log.h"

namespace cairn::forward {

namespace {

// What a kept row costs, about: its strings beyond a fixed part. A check's
// output (up to 4 KiB by default) is what varies.
size_t approx_bytes(const state::Mutation& m) {
  constexpr size_t kRow = 512;
  if (const auto* put = std::get_if<state::PutCheck>(&m))
    return kRow + put->check.output.size() + put->check.notes.size();
  return kRow;
}

}  // namespace

CatalogPublisher::CatalogPublisher(const state::Store& store, Limits limits)
    : store_(store), limits_(limits), covered_from_(store.index()) {
  learn_names();
}

void CatalogPublisher::attach(rpc::Server& server) {
  server.handle_stream(std::string(kCatalogWatchMethod),
                       [this](rpc::Request&& request, rpc::StreamWriter writer) {
                         add(std::move(request), std::move(writer));
                       });
}

void CatalogPublisher::learn_names() {
  service_of_instance_.clear();
  service_of_check_.clear();
  for (const auto& [name_lc, keys] : store_.services_by_name())
    for (const auto& key : keys) service_of_instance_[{key.node, key.id}] = name_lc;
  for (const auto& [key, check] : store_.checks()) {
    std::string topic = node_topic(key.first);
    if (!check.service_id.empty()) {
      auto it = service_of_instance_.find({key.first, check.service_id});
      topic = it != service_of_instance_.end() ? it->second : std::string();
    }
    service_of_check_[key] = std::move(topic);
  }
}

std::string CatalogPublisher::topic_of(const state::Mutation& m) {
  // What cannot be placed goes to every watcher: a delete of a row of a
  // service it does not hold changes nothing on the client.
  auto take = [](std::map<RowKey, std::string>& names, RowKey key) {
    auto it = names.find(key);
    if (it == names.end()) return std::string();
    std::string topic = std::move(it->second);
    names.erase(it);
    return topic;
  };
  if (const auto* put = std::get_if<state::PutService>(&m)) {
    std::string topic = state::lower(put->service.name);
    auto [it, added] =
        service_of_instance_.try_emplace({state::lower(put->service.node), put->service.id}, topic);
    if (added || it->second == topic) return topic;
    it->second = topic;  // renamed: the watchers of the old name must hear too
    return {};
  }
  if (const auto* del = std::get_if<state::DeleteService>(&m))
    return take(service_of_instance_, {state::lower(del->node), del->id});
  if (const auto* put = std::get_if<state::PutCheck>(&m)) {
    const state::Check& c = put->check;
    std::string node_lc = state::lower(c.node);
    std::string topic = node_topic(node_lc);
    if (!c.service_id.empty()) {
      auto it = service_of_instance_.find({node_lc, c.service_id});
      topic = it != service_of_instance_.end() ? it->second : state::lower(c.service_name);
    }
    auto [it, added] = service_of_check_.try_emplace({node_lc, c.check_id}, topic);
    if (added || it->second == topic) return topic;
    it->second = topic;  // moved to another service (or the node)
    return {};
  }
  if (const auto* del = std::get_if<state::DeleteCheck>(&m))
    return take(service_of_check_, {state::lower(del->node), del->id});
  if (const auto* put = std::get_if<state::PutNode>(&m))
    return node_topic(state::lower(put->node.name));
  if (const auto* del = std::get_if<state::DeleteNode>(&m)) {
    // The store drops the node's services and checks with it, here too.
    std::string node_lc = state::lower(del->name);
    for (auto* names : {&service_of_instance_, &service_of_check_}) {
      auto first = names->lower_bound({node_lc, ""});
      auto last = first;
      while (last != names->end() && last->first.first == node_lc) ++last;
      names->erase(first, last);
    }
  }
  return {};
}

void CatalogPublisher::append_node_rows(std::string_view node_lc, state::Batch& out) const {
  const state::Node* n = store_.node(node_lc);
  if (n == nullptr) return;
  out.emplace_back(state::PutNode{*n});
  for (const state::Check* c : store_.node_checks(node_lc)) out.emplace_back(state::PutCheck{*c});
}

void CatalogPublisher::add_instance_nodes(TopicFilter& filter) const {
  for (const std::string& topic : filter.topics) {
    if (topic.empty() || topic[0] == kNodeTopic) continue;
    for (const state::Service* s : store_.service_instances(topic))
      filter.nodes.insert(node_topic(state::lower(s->node)));
  }
}

void CatalogPublisher::append_service_rows(const std::set<std::string, std::less<>>& topics,
                                           state::Batch& out) const {
  for (const std::string& name : topics)
    for (const state::Service* s : store_.service_instances(name))
      out.emplace_back(state::PutService{*s});
  for (const std::string& name : topics)
    for (const state::Service* s : store_.service_instances(name))
      for (const state::Check* c : store_.instance_checks(s->node, s->id))
        out.emplace_back(state::PutCheck{*c});
}

void CatalogPublisher::send_snapshot(Watcher& watcher) {
  state::Batch rows;
  TopicFilter& filter = watcher.filter;
  if (!filter.only_topics) {
    rows = state::catalog_snapshot(store_);
  } else {
    // Nodes first (services and checks need them), then the topics' rows.
    filter.nodes.clear();
    add_instance_nodes(filter);
    TopicSet nodes = filter.nodes;
    for (const std::string& t : filter.topics)
      if (!t.empty() && t[0] == kNodeTopic) nodes.insert(t);
    for (const std::string& t : nodes) append_node_rows(std::string_view(t).substr(1), rows);
    append_service_rows(filter.topics, rows);
    for (const auto& [_, q] : store_.prepared_queries())
      rows.emplace_back(state::PutPreparedQuery{q});
  }
  for (const auto& msg :
       encode_catalog_messages(CatalogMessageKind::snapshot_part, store_.index(), rows))
    watcher.writer.send(msg);
  ++snapshots_sent_;
}

void CatalogPublisher::send_change(rpc::StreamWriter& writer, TopicFilter& filter,
                                   const Recent& change, std::vector<std::string>* all_rows) const {
  // The common cases copy nothing: a watcher that wants every row shares one
  // encoding, and one that wants none (most, with subscriptions) is skipped.
  auto new_node = [&](const state::Mutation& m) {
    const auto* put = std::get_if<state::PutService>(&m);
    if (put == nullptr || !filter.only_topics) return std::string();
    std::string node = node_topic(state::lower(put->service.node));
    return filter.nodes.contains(node) || filter.topics.contains(node) ? std::string() : node;
  };
  size_t wanted_rows = 0;
  bool adds_nodes = false;
  for (size_t i = 0; i < change.rows.size(); ++i) {
    if (!filter.wants(change.topics[i])) continue;
    ++wanted_rows;
    adds_nodes = adds_nodes || !new_node(change.rows[i]).empty();
  }
  if (wanted_rows == 0) return;
  if (wanted_rows == change.rows.size() && !adds_nodes && all_rows != nullptr) {
    if (all_rows->empty())
      *all_rows = encode_catalog_messages(CatalogMessageKind::batch, change.index, change.rows);
    for (const auto& msg : *all_rows) writer.send(msg);
    return;
  }
  state::Batch wanted;
  for (size_t i = 0; i < change.rows.size(); ++i) {
    if (!filter.wants(change.topics[i])) continue;
    // An instance on a node the watcher does not have: the node comes first.
    if (std::string node = new_node(change.rows[i]); !node.empty()) {
      append_node_rows(std::string_view(node).substr(1), wanted);
      filter.nodes.insert(std::move(node));
    }
    wanted.push_back(change.rows[i]);
  }
  for (const auto& msg : encode_catalog_messages(CatalogMessageKind::batch, change.index, wanted))
    writer.send(msg);
}

// Resumes a watcher that held rows as of request.from_index: the changes
// since then of what it holds, the rows of its new topics, then `resumed`.
// False when the changes since then are no longer all here (or not yet).
bool CatalogPublisher::resume(Watcher& watcher, const WatchRequest& request) {
  uint64_t now = store_.index();
  if (request.from_index == 0 || request.from_index < covered_from_) return false;
  TopicFilter held{watcher.filter.only_topics, {}, {}};
  TopicSet fresh;
  for (const auto& t : request.topics) (t.held ? held.topics : fresh).insert(t.service);
  // This server is behind the client (it came from one further on): the
  // changes up to the client's index come live and the client skips them,
  // but new topics' rows from here would be older than the view.
  if (request.from_index > now && !fresh.empty()) return false;
  // The nodes of what the client holds: their changes since from_index come
  // with the rest (an instance that moved to another node brings that node).
  add_instance_nodes(held);
  for (const Recent& change : recent_)
    if (change.index > request.from_index) send_change(watcher.writer, held, change, nullptr);
  if (watcher.filter.only_topics && !fresh.empty()) {
    TopicFilter added{true, fresh, {}};
    add_instance_nodes(added);
    for (const std::string& t : fresh)
      if (!t.empty() && t[0] == kNodeTopic) added.nodes.insert(t);
    state::Batch rows;
    for (const std::string& node : added.nodes)
      if (!held.nodes.contains(node) && !held.topics.contains(node))
        append_node_rows(std::string_view(node).substr(1), rows);
    append_service_rows(fresh, rows);
    if (!rows.empty())
      for (const auto& msg : encode_catalog_messages(CatalogMessageKind::batch, now, rows))
        watcher.writer.send(msg);
    held.nodes.merge(added.nodes);
  }
  watcher.filter.nodes = std::move(held.nodes);
  for (const auto& msg : encode_catalog_messages(CatalogMessageKind::resumed, now, {}))
    watcher.writer.send(msg);
  ++resumes_;
  return true;
}

void CatalogPublisher::add(rpc::Request&& request, rpc::StreamWriter writer) {
  WatchRequest req;
  if (EnvelopeStatus st = decode_watch_request(request.body, req); !st.ok()) {
    writer.close({rpc::Status::Code::bad_request, st.message});
    return;
  }
  Watcher watcher{std::move(writer), {req.only_topics, {}, {}}};
  for (auto& t : req.topics) watcher.filter.topics.insert(t.service);
  if (!resume(watcher, req)) send_snapshot(watcher);
  watchers_.push_back(std::move(watcher));
}

void CatalogPublisher::on_batch(std::span<const state::Mutation> batch, uint64_t index) {
  Recent change{index, {}, {}};
  for (const auto& m : batch) {
    if (!state::is_catalog_mutation(m)) continue;
    change.topics.push_back(topic_of(m));
    change.bytes += approx_bytes(m);
    change.rows.push_back(m);
  }
  if (change.rows.empty()) return;
  std::erase_if(watchers_, [](const Watcher& w) { return !w.writer.open(); });
  std::vector<std::string> all_rows;
  for (auto& w : watchers_) {
    if (w.writer.queued_bytes() > kMaxQueuedBytes) {
      w.writer.close(
          {rpc::Status::Code::exhausted, "the client reads the catalog stream too slowly"});
      continue;
    }
    send_change(w.writer, w.filter, change, &all_rows);
  }
  recent_bytes_ += change.bytes;
  recent_.push_back(std::move(change));
  while (recent_.size() > limits_.recent_batches || recent_bytes_ > limits_.recent_bytes) {
    covered_from_ = recent_.front().index;
    recent_bytes_ -= recent_.front().bytes;
    recent_.pop_front();
  }
}

void CatalogPublisher::on_snapshot() {
  // A re-listed store: what changed in between is not known row by row.
  recent_.clear();
  recent_bytes_ = 0;
  covered_from_ = store_.index();
  learn_names();
  std::erase_if(watchers_, [](const Watcher& w) { return !w.writer.open(); });
  for (auto& w : watchers_) send_snapshot(w);
}

}  // namespace cairn::forward
