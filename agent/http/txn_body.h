// Parsing of /v1/txn bodies, with Consul's limits and messages. Pure, so the
// fuzzer can drive it directly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/state/kv_ops.h"

namespace cairn::http_api {

inline constexpr size_t kTxnMaxBodyBytes = 512 * 1024;  // txn_max_req_len
inline constexpr size_t kTxnMaxOps = 128;
inline constexpr size_t kKVMaxValueBytes = 512 * 1024;

struct TxnBody {
  std::vector<state::KVOp> ops;
  bool read_only = true;
};

struct TxnBodyError {
  int status = 400;
  std::string message;
  std::string_view limit;  // the input limit that refused the body, if one did
};

bool parse_txn_body(const std::string& body, TxnBody& out, TxnBodyError& err);

}  // namespace cairn::http_api
