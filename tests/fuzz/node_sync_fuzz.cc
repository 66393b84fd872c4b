// What a client agent sends the servers' anti-entropy endpoints
// (Catalog.SyncNode, Catalog.SyncChecks), from a peer cairn does not control:
// decoding must refuse with a typed status, never read past the input, and
// whatever it accepts must encode back to bytes that decode the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/forward/node_sync.h"

namespace {

void node_sync_round_trip(std::string_view in) {
  cairn::forward::NodeSync sync;
  if (!cairn::forward::decode_node_sync(in, sync).ok()) return;
  std::string again;
  cairn::forward::encode_node_sync(sync.node, sync.local, again, [&sync](const std::string& id) {
    return sync.deferred_outputs.count(id) > 0;
  });
  cairn::forward::NodeSync sync2;
  if (!cairn::forward::decode_node_sync(again, sync2).ok() || sync2.node.name != sync.node.name ||
      sync2.local.services().size() != sync.local.services().size() ||
      sync2.local.checks().size() != sync.local.checks().size() ||
      sync2.deferred_outputs != sync.deferred_outputs)
    __builtin_trap();
}

void check_sync_round_trip(std::string_view in) {
  cairn::forward::CheckSync sync;
  if (!cairn::forward::decode_check_sync(in, sync).ok()) return;
  // Re-encode through a local state holding the decoded results (duplicates collapse).
  cairn::local::LocalState local(sync.node);
  std::vector<std::string> ids;
  for (const auto& u : sync.updates) {
    cairn::local::LocalCheck c;
    c.check.check_id = u.check_id;
    c.check.status = u.status;
    c.check.output = u.output;
    local.put_check(c);
    ids.push_back(u.check_id);
  }
  std::string again;
  if (!cairn::forward::encode_check_sync(sync.node, local, ids, again)) __builtin_trap();
  cairn::forward::CheckSync sync2;
  if (!cairn::forward::decode_check_sync(again, sync2).ok() || sync2.node != sync.node ||
      sync2.updates.size() != sync.updates.size())
    __builtin_trap();
  for (size_t i = 0; i < sync2.updates.size(); ++i) {
    const cairn::local::LocalCheck* c = local.check(sync2.updates[i].check_id);
    if (!c || c->check.status != sync2.updates[i].status ||
        c->check.output != sync2.updates[i].output)
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  node_sync_round_trip(in);
  check_sync_round_trip(in);
  return 0;
}
