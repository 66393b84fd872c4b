// Turns a single-key KV write request (/v1/kv PUT and DELETE, or the same
// command over RPC) into the state::KVOp the writer plans, or the reason it
// is refused. The checks run in Consul's order, so a request with several
// faults gets the same message from every transport.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include "agent/ops/op_error.h"
#include "agent/state/kv_ops.h"

namespace cairn::ops {

// kv_max_value_size: Consul's default bound on one value.
inline constexpr size_t kMaxKVValueBytes = 512 * 1024;

// The request options of a put; each is absent or the option's text, parsed
// here so that every transport reports a bad number the same way.
struct KVPutParams {
  std::optional<std::string> flags;
  std::optional<std::string> cas;      // check-and-set index
  std::optional<std::string> acquire;  // session taking the lock
  std::optional<std::string> release;  // session releasing it
  // The request's raw query string: Consul's "Conflicting flags" text repeats it.
  std::string query;
};

struct KVDeleteParams {
  bool recurse = false;
  std::optional<std::string> cas;
  std::string query;  // as in KVPutParams
};

using KVOpOrError = std::variant<state::KVOp, OpError>;

KVOpOrError kv_put_op(const std::string& key, const KVPutParams& params, std::string value);
KVOpOrError kv_delete_op(const std::string& key, const KVDeleteParams& params);

}  // namespace cairn::ops
