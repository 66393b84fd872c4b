// Which KV keys cairn accepts, beyond their length (state::check_kv_key):
// every read and write of a key, over HTTP or RPC, applies the same rules.
#pragma once

#include <string_view>

#include "agent/ops/op_error.h"

namespace cairn::ops {

// Consul rejects path traversal; cairn also rejects invalid UTF-8 (answers
// could not carry the key back) and a leading slash, which Consul would
// store as a distinct key that tools then mangle. The empty key passes: the
// caller decides whether the root is allowed.
OpCheck validate_kv_key(std::string_view key);

}  // namespace cairn::ops
