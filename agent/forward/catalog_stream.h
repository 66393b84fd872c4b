// The streamed local view of a client agent: a server streams the catalog
// rows a client subscribed to (the services and nodes it was asked about,
// with their checks and the nodes the services run on, and every prepared
// query) as a snapshot at one index and then every change at its index; the
// client applies them to its own store (catalog_mirror.h), and the server's
// side is catalog_publisher.h. Consul's streaming backend, on by default.
//
// Watch request (the stream's request body; empty: the whole catalog, a snapshot):
//   u8 version(1) | u8 flags (bit 0: only the topics) | u64 from_index |
//   u32 n | n x (u8 held | str topic)
// from_index > 0 asks to resume after that index: the server then sends the
// changes since then of the topics the client already holds, the rows of
// the new topics, and `resumed`; when it cannot, a snapshot as for 0.
//
// Messages (each at most ~1 MiB; a large snapshot spans several):
//   u8 version(1) | u8 kind | u64 index | u32 n | n x row
//   kind: 1 snapshot part (more follow), 2 last snapshot part, 3 change batch,
//         4 resumed (no rows: the client is current at index)
//   row:  u8 delete | str etcd row key | str row JSON | u64 create | u64 modify
// Rows use the etcd row encoding (agent/server/etcd_rows.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/dns/view_coverage.h"
#include "agent/forward/http_envelope.h"
#include "agent/state/mutation.h"

namespace cairn::forward {

inline constexpr std::string_view kCatalogWatchMethod = "Catalog.Watch";

enum class CatalogMessageKind : uint8_t {
  snapshot_part = 1,
  snapshot_end = 2,
  batch = 3,
  resumed = 4,
};

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

// A topic names a lower-cased service (its instances and their checks), or
// a node: kNodeTopic then the lower-cased node name (the node and its
// node-level checks). Rows of every topic's nodes come with it.
using dns::kNodeTopic;
inline std::string node_topic(std::string_view node_lc) {
  std::string t;
  dns::assign_node_topic(t, node_lc);
  return t;
}

// What a client asks a server to stream.
struct WatchRequest {
  struct Topic {
    std::string service;  // a topic: a lower-cased service, or a node topic
    bool held = false;    // the client holds its rows as of from_index
    bool operator==(const Topic&) const = default;
  };
  bool only_topics = false;  // false: the whole catalog
  uint64_t from_index = 0;   // 0: a snapshot
  std::vector<Topic> topics;
  bool operator==(const WatchRequest&) const = default;
};
// A watcher's topics stay on the server as long as its stream: bounded, so
// that a peer cannot park much memory there (client_view.max_subscriptions
// has the same ceiling).
inline constexpr size_t kMaxWatchTopics = 16384;
inline constexpr size_t kMaxTopicBytes = 1024;

std::string encode_watch_request(const WatchRequest& request);
// An empty body is the whole catalog from a snapshot (the first clients' request).
EnvelopeStatus decode_watch_request(std::string_view in, WatchRequest& out);

}  // namespace cairn::forward
