// The server's side of the streamed local view (catalog_stream.h): every
// client that watches gets the catalog rows of its topics, a snapshot and
// then each change. A client subscribes to the services and nodes it is
// asked about, so a registration or a node's health reaches the clients
// that look at it, not all of them. The recent changes are kept (bounded) so that a client coming
// back, from this server or another, resumes from its index without a
// snapshot: the indexes are etcd revisions, the same on every server.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/forward/catalog_stream.h"
#include "agent/rpc/server.h"
#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::forward {

class CatalogPublisher {
 public:
  struct Limits {
    size_t recent_batches = 4096;     // changes kept for resuming watchers
    size_t recent_bytes = 16u << 20;  // about (check outputs dominate)
  };

  explicit CatalogPublisher(const state::Store& store) : CatalogPublisher(store, Limits{}) {}
  CatalogPublisher(const state::Store& store, Limits limits);
  void attach(rpc::Server& server);
  // From the store's listeners: a batch applied at index, or a reload.
  void on_batch(std::span<const state::Mutation> batch, uint64_t index);
  void on_snapshot();

  size_t watchers() const { return watchers_.size(); }
  uint64_t snapshots_sent() const { return snapshots_sent_; }
  uint64_t resumes() const { return resumes_; }
  // The oldest index a watcher can resume from.
  uint64_t resumable_from() const { return covered_from_; }

  // A watcher that has this much unsent is dropped (it re-watches and resumes).
  static constexpr size_t kMaxQueuedBytes = 32u << 20;

 private:
  // A row's topic (catalog_stream.h): a lower-cased service, a node topic
  // for a node and its node-level checks, or empty for what every watcher
  // gets (prepared queries, and node deletes: they take the node's rows
  // with them wherever they are).
  using TopicSet = std::set<std::string, std::less<>>;
  struct TopicFilter {
    bool only_topics = false;
    TopicSet topics;  // asked for: services and node topics
    TopicSet nodes;   // node topics of the asked services' instances
    bool wants(const std::string& topic) const {
      if (!only_topics || topic.empty()) return true;
      if (topic[0] == kNodeTopic && nodes.contains(topic)) return true;
      return topics.contains(topic);
    }
  };
  struct Watcher {
    rpc::StreamWriter writer;
    TopicFilter filter;
  };
  struct Recent {
    uint64_t index = 0;
    state::Batch rows;
    std::vector<std::string> topics;  // one per row
    size_t bytes = 0;                 // about
  };
  using RowKey = std::pair<std::string, std::string>;  // lower-cased node, id

  void add(rpc::Request&& request, rpc::StreamWriter writer);
  void send_snapshot(Watcher& watcher);
  bool resume(Watcher& watcher, const WatchRequest& request);
  // Sends the rows of change that filter wants, each service instance's
  // node first when the watcher does not have it yet (filter.nodes grows);
  // all_rows, when given, caches the encoding of the whole change for the
  // watchers that want every row.
  void send_change(rpc::StreamWriter& writer, TopicFilter& filter, const Recent& change,
                   std::vector<std::string>* all_rows) const;
  // Adds the node topics of the filter's services' instances.
  void add_instance_nodes(TopicFilter& filter) const;
  // A node's row and its node-level checks.
  void append_node_rows(std::string_view node_lc, state::Batch& out) const;
  // Every row of the services in topics, with their checks.
  void append_service_rows(const TopicSet& topics, state::Batch& out) const;
  // Learns the names a delete will need (it names only node and id) and says the topic.
  std::string topic_of(const state::Mutation& m);
  void learn_names();

  const state::Store& store_;
  Limits limits_;
  std::vector<Watcher> watchers_;
  std::deque<Recent> recent_;
  size_t recent_bytes_ = 0;
  uint64_t covered_from_ = 0;
  // A delete names only node and id: the service it belonged to, from here.
  std::map<RowKey, std::string> service_of_instance_;
  std::map<RowKey, std::string> service_of_check_;
  uint64_t snapshots_sent_ = 0;
  uint64_t resumes_ = 0;
};

}  // namespace cairn::forward
