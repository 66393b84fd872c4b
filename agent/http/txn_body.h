// Parsing of /v1/txn bodies, with Consul's limits and messages. Pure, so the
// fuzzer can drive it directly. The limits on the decoded operations are
// ops/txn_limits.h's, shared with the server RPC; the body's own size bound
// is the HTTP request's.
#pragma once

#include <string>
#include <vector>

#include "agent/ops/op_error.h"
#include "agent/state/txn_ops.h"

namespace cairn::http_api {

inline constexpr size_t kTxnMaxBodyBytes = 512 * 1024;  // txn_max_req_len

struct TxnBody {
  std::vector<state::TxnOp> ops;
  bool read_only = true;  // state::txn_reads_only(ops)
};

// default_datacenter fills a Node operation's empty Datacenter, as Consul's
// agent does with its own.
bool parse_txn_body(const std::string& body, TxnBody& out, ops::OpError& err,
                    const std::string& default_datacenter = "");

}  // namespace cairn::http_api
