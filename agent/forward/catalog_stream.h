// The streamed local view of a client agent: a server streams its catalog
// (nodes, services, checks, prepared queries: what DNS reads) to each client
// that asks, as a snapshot at one index and then every change at its index,
// and the client applies them to its own store. DNS on the client then
// answers from memory, with no round trip per query, as current as the
// server's own cache. Consul's streaming backend, here on by default, for
// the whole catalog (per-service subscriptions are a later step).
//
// Messages (each at most ~1 MiB; a large snapshot spans several):
//   u8 version(1) | u8 kind | u64 index | u32 n | n x row
//   kind: 1 snapshot part (more follow), 2 last snapshot part, 3 change batch
//   row:  u8 delete | str etcd row key | str row JSON | u64 create | u64 modify
// Rows use the etcd row encoding (agent/server/etcd_rows.h).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/forward/forwarder.h"
#include "agent/forward/http_envelope.h"
#include "agent/rpc/server.h"
#include "agent/state/mutation.h"
#include "agent/state/store.h"
#include "common/uv_handle.h"

namespace cairn::forward {

inline constexpr std::string_view kCatalogWatchMethod = "Catalog.Watch";

enum class CatalogMessageKind : uint8_t { snapshot_part = 1, snapshot_end = 2, batch = 3 };

struct CatalogMessage {
  CatalogMessageKind kind = CatalogMessageKind::batch;
  uint64_t index = 0;
  state::Batch rows;
};

// Encodes rows (catalog mutations) into messages of about max_bytes each;
// a snapshot's last message has kind snapshot_end (also when rows is empty).
std::vector<std::string> encode_catalog_messages(CatalogMessageKind kind, uint64_t index,
                                                 std::span<const state::Mutation> rows,
                                                 size_t max_bytes = 1 << 20);
EnvelopeStatus decode_catalog_message(std::string_view in, CatalogMessage& out);

// Server side: streams the catalog of store to every client that watches.
class CatalogPublisher {
 public:
  explicit CatalogPublisher(const state::Store& store) : store_(store) {}
  void attach(rpc::Server& server);
  // From the store's listeners: a batch applied at index, or a reload.
  void on_batch(std::span<const state::Mutation> batch, uint64_t index);
  void on_snapshot();
  size_t watchers() const { return watchers_.size(); }

  // A watcher that has this much unsent is dropped (it re-watches and gets a snapshot).
  static constexpr size_t kMaxQueuedBytes = 32u << 20;

 private:
  void add(rpc::StreamWriter writer);
  void send_snapshot(rpc::StreamWriter& writer);
  const state::Store& store_;
  std::vector<rpc::StreamWriter> watchers_;
};

// Client side: keeps store equal to a server's catalog.
class CatalogMirror {
 public:
  static constexpr uint64_t kRewatchMs = 1000;

  CatalogMirror(uv_loop_t* loop, Forwarder& forwarder, state::Store& store);
  ~CatalogMirror();
  CatalogMirror(const CatalogMirror&) = delete;
  CatalogMirror& operator=(const CatalogMirror&) = delete;

  // Watches once a server is known; call again when the servers change.
  void servers_changed();
  // The store holds a whole snapshot and the stream is open.
  bool current() const { return stream_.active() && loaded_; }
  // The store has held a snapshot (maybe no longer current).
  bool loaded() const { return loaded_; }
  // How old the view may be: 0 while current, else the time (ms) since the
  // stream that fed it ended (what X-Consul-LastContact then says).
  uint64_t age_ms() const;
  uint64_t snapshots() const { return snapshots_; }

 private:
  void watch();
  void on_message(std::string_view message);
  void on_end(const rpc::Status& status);

  uv_loop_t* loop_;
  Forwarder& forwarder_;
  state::Store& store_;
  rpc::Stream stream_;
  uint64_t ended_at_ms_ = 0;  // loop time the last stream ended; 0 while one is open
  Timer rewatch_timer_;
  state::Batch pending_snapshot_;
  bool loaded_ = false;
  uint64_t snapshots_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::forward
