// A client agent's side of the streamed local view (catalog_stream.h): its
// store holds the services and nodes it was asked about (DNS,
// /v1/health/service, /v1/catalog/service), the nodes those services run
// on, and every prepared query, kept current by one stream from a server. A
// service or node asked for the first time is subscribed to (the first
// answer comes from a server); one unused for subscription_ttl is dropped. When the stream ends
// the mirror watches again, from another server if need be, and resumes
// from its index: only what changed meanwhile is sent.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/dns/view_coverage.h"
#include "agent/forward/catalog_stream.h"
#include "agent/forward/forwarder.h"
#include "agent/state/mutation.h"
#include "agent/state/store.h"
#include "common/uv_handle.h"

namespace cairn::forward {

class CatalogMirror final : public dns::ViewCoverage {
 public:
  struct Settings {
    uint64_t subscription_ttl_ms =
        20 * 60 * 1000;               // Consul's streaming views idle out after 20 min
    size_t max_subscriptions = 2048;  // then further services are asked of a server each time
  };
  static constexpr uint64_t kRewatchMs = 1000;
  // New subscriptions wait this long so that a burst of them is one re-watch.
  static constexpr uint64_t kSubscribeDelayMs = 2;
  // The service whose instances are the servers (NS records): always held.
  static constexpr std::string_view kPinnedService = "consul";

  CatalogMirror(uv_loop_t* loop, Forwarder& forwarder, state::Store& store, Settings settings);
  ~CatalogMirror() override;
  CatalogMirror(const CatalogMirror&) = delete;
  CatalogMirror& operator=(const CatalogMirror&) = delete;

  // Watches once a server is known; call again when the servers change.
  void servers_changed();
  bool covers(std::string_view service_lc) override;
  bool covers_node(std::string_view node_lc) override;
  // Called with the topics held (catalog_stream.h: services, and node
  // topics) whenever that set changes (the extra DNS loops' replicas hold
  // the same rows and need the same answer).
  void set_coverage_listener(std::function<void(std::vector<std::string>)> listener);
  std::vector<std::string> held_topics() const;
  // Of those, how many are services and how many nodes.
  size_t held_services() const;
  size_t held_nodes() const;

  // The stream is open and has sent everything up to now (a re-watch for a
  // new subscription keeps it current; a stream that ended does not).
  bool current() const { return stream_.active() && loaded_ && caught_up_; }
  // The store has held a snapshot (maybe no longer current).
  bool loaded() const { return loaded_; }
  // How old the view may be: 0 while current, else the time (ms) since the
  // stream that fed it ended (what X-Consul-LastContact then says).
  uint64_t age_ms() const;
  uint64_t snapshots() const { return snapshots_; }
  uint64_t resumes() const { return resumes_; }
  size_t subscriptions() const { return topics_.size(); }
  uint64_t expired() const { return expired_; }
  // Questions answered from held rows while the view was not current.
  uint64_t stale_answers() const { return stale_answers_; }

 private:
  struct Topic {
    uint64_t last_used_ms = 0;
    bool held = false;       // its rows are in the store
    bool requested = false;  // the open stream was asked for it
  };
  // Whether the topic is held; one not known yet is subscribed to.
  bool use(std::string_view topic);
  void watch();
  void watch_soon();
  void on_message(std::string_view message);
  void on_end(const rpc::Status& status);
  // The stream now carries every topic it was asked for.
  void caught_up();
  void expire_unused();
  void answered_stale();
  void coverage_changed();

  uv_loop_t* loop_;
  Forwarder& forwarder_;
  state::Store& store_;
  Settings settings_;
  rpc::Stream stream_;
  uint64_t ended_at_ms_ = 0;  // loop time the last stream ended; 0 while one is open
  Timer rewatch_timer_;
  Timer subscribe_timer_;
  Timer expire_timer_;
  state::Batch pending_snapshot_;
  std::map<std::string, Topic, std::less<>> topics_;  // services and node topics
  std::string node_key_;                              // reused: a node lookup's topic
  std::function<void(std::vector<std::string>)> coverage_listener_;
  bool loaded_ = false;
  bool caught_up_ = false;  // since the last stream that ended
  uint64_t snapshots_ = 0;
  uint64_t resumes_ = 0;
  uint64_t expired_ = 0;
  uint64_t stale_answers_ = 0;
  bool stale_logged_ = false;  // once per time the view falls behind
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::forward
