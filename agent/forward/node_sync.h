// Anti-entropy from a client agent to the servers (Consul's Catalog.Register
// from the agent's sync), in two calls:
//
// Catalog.SyncNode, the full sync (the periodic pass, any registration change,
// and the first push to a server after a failure): the client sends its node
// and every local service and check, the server plans the difference against
// its catalog (the same plan_sync -dev runs) and commits it. The whole state
// travels, so the call is idempotent: safe to retry on any server.
//
//   body v2: u8 version(2) | u32 n | n x (str etcd row key, str row JSON)
//            | u32 m | m x str check ID
//   body v1: the same without the check IDs (still accepted)
// The rows use the etcd row encoding (agent/server/etcd_rows.h): one node
// row, then the services and checks of that node. The check IDs name checks
// whose output is waiting for check_update_interval: the server keeps the
// catalog's output for them.
//
// Catalog.SyncChecks, a change of check results only (a status change, or
// a deferred output once its interval passed): the new status and output of
// each named check, and nothing else, so a result costs O(1) on the wire
// however many checks the agent runs. The server only updates checks its
// catalog already holds for that node; anything missing answers not_found and
// the client falls back to a full sync. Also idempotent.
//
//   body v1: u8 version(1) | str node | u32 n | n x (str check ID, str status, str output)
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/forward/http_envelope.h"
#include "agent/local/anti_entropy.h"
#include "agent/local/local_state.h"
#include "agent/rpc/server.h"
#include "agent/server/catalog_writer.h"
#include "common/metrics.h"

namespace cairn::forward {

inline constexpr std::string_view kSyncNodeMethod = "Catalog.SyncNode";
inline constexpr std::string_view kSyncChecksMethod = "Catalog.SyncChecks";
inline constexpr uint8_t kNodeSyncVersion = 2;
inline constexpr uint8_t kCheckSyncVersion = 1;
inline constexpr size_t kMaxSyncRows = 100'000;

// A decoded Catalog.SyncNode.
struct NodeSync {
  local::NodeIdentity node;
  local::LocalState local{""};
  std::set<std::string> deferred_outputs;
};

// deferred names the local checks whose output waits (none when empty).
void encode_node_sync(const local::NodeIdentity& node, const local::LocalState& local,
                      std::string& out, const local::OutputDeferred& deferred = {});
// The rows must all belong to the node of the first (node) row, and the
// deferred IDs to checks among them.
EnvelopeStatus decode_node_sync(std::string_view in, NodeSync& out);

// A decoded Catalog.SyncChecks.
struct CheckSync {
  std::string node;
  std::vector<local::CheckUpdate> updates;
};

// The current status and output of each of ids that local still holds; false
// when none is left (nothing to send).
bool encode_check_sync(const std::string& node, const local::LocalState& local,
                       const std::vector<std::string>& ids, std::string& out);
EnvelopeStatus decode_check_sync(std::string_view in, CheckSync& out);

// Registers kSyncNodeMethod and kSyncChecksMethod: each call is planned and
// written through writer, and timed into timer when given (Consul's
// consul.catalog.register: the Catalog.Register RPCs of its agents' anti-entropy).
void serve_node_sync(rpc::Server& server, server::CatalogWriter& writer, Summary* timer = nullptr);

// A write result as the RPC reply carries it: "<code name>\n<message>".
std::string encode_write_result(const server::WriteResult& r);
server::WriteResult decode_write_result(std::string_view body);

}  // namespace cairn::forward
