// Anti-entropy from a client agent to the servers (Consul's Catalog.Register
// from the agent's sync): the client sends its node and every local service
// and check, the server plans the difference against its catalog (the same
// plan_sync -dev runs) and commits it. The whole state travels each time, so
// the call is idempotent: safe to retry on any server after any failure.
//
//   body: u8 version(1) | u32 n | n x (str etcd row key, str row JSON)
// The rows use the etcd row encoding (agent/server/etcd_rows.h): one node
// row, then the services and checks of that node.
#pragma once

#include <string>
#include <string_view>

#include "agent/forward/http_envelope.h"
#include "agent/local/anti_entropy.h"
#include "agent/local/local_state.h"
#include "agent/rpc/server.h"
#include "agent/server/catalog_writer.h"
#include "common/metrics.h"

namespace cairn::forward {

inline constexpr std::string_view kSyncNodeMethod = "Catalog.SyncNode";
inline constexpr size_t kMaxSyncRows = 100'000;

void encode_node_sync(const local::NodeIdentity& node, const local::LocalState& local,
                      std::string& out);
// The rows must all belong to the node of the first (node) row.
EnvelopeStatus decode_node_sync(std::string_view in, local::NodeIdentity& node,
                                local::LocalState& local);

// Registers kSyncNodeMethod: each call is planned and written through writer,
// and timed into timer when given (Consul's consul.catalog.register: the
// Catalog.Register RPCs of its agents' anti-entropy).
void serve_node_sync(rpc::Server& server, server::CatalogWriter& writer, Summary* timer = nullptr);

// A write result as the RPC reply carries it: "<code name>\n<message>".
std::string encode_write_result(const server::WriteResult& r);
server::WriteResult decode_write_result(std::string_view body);

}  // namespace cairn::forward
