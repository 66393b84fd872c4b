// Parsing of /v1/txn bodies, with Consul's limits and messages. Pure, so the
// fuzzer can drive it directly. The limits on the decoded operations are
// ops/txn_limits.h's, shared with the server RPC; the body's own size bound
// is the HTTP request's.
#pragma once

#include <string>
#include <vector>

#include "agent/ops/op_error.h"
#include "agent/state/kv_ops.h"

namespace cairn::http_api {

inline constexpr size_t kTxnMaxBodyBytes = 512 * 1024;  // txn_max_req_len

struct TxnBody {
  std::vector<state::KVOp> ops;
  bool read_only = true;  // ops::txn_reads_only(ops)
};

bool parse_txn_body(const std::string& body, TxnBody& out, ops::OpError& err);

}  // namespace cairn::http_api
