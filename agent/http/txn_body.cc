#include "agent/http/txn_body.h"

#include <optional>

#include "agent/ops/txn_limits.h"
#include "agent/ops/txn_result.h"
#include "common/base64.h"
#include "common/decode.h"
#include "common/utf8.h"

namespace cairn::http_api {

bool parse_txn_body(const std::string& body, TxnBody& out, ops::OpError& err) {
  if (body.size() > kTxnMaxBodyBytes) {
    err = ops::too_large("Request body(" + std::to_string(body.size()) +
                         " bytes) too large, max size: " + std::to_string(kTxnMaxBodyBytes) +
                         " bytes. See https://developer.hashicorp.com/docs/agent/config/"
                         "config-files#txn_max_req_len.");
    return false;
  }
  Value root;
  ParseError perr;
  if (!parse_json(body, root, perr)) {
    err = ops::invalid_input("Failed to parse body: " + perr.message);
    return false;
  }
  if (!root.is_array()) {
    err = ops::invalid_input("Failed to parse body: expected a JSON array of operations");
    return false;
  }
  if (auto e = ops::check_txn_op_count(root.items.size())) {
    err = std::move(*e);
    return false;
  }
  // An operation refused by ops::check_txn_kv_op: the decoder is left by a
  // throw, and the refusal is answered as it is rather than as a parse error.
  std::optional<ops::OpError> refused;
  try {
    Decoder d("", false);
    d.array(root, [&](const Value& item) {
      if (!item.is_object()) d.fail(item, "expected an object with one of KV, Node, Service, Check");
      bool seen = false;
      d.object(item, [&](std::string_view k, const Value& f) {
        if (k == "node" || k == "service" || k == "check")
          d.fail(f, "only KV operations are supported in transactions");
        if (k != "kv") return true;
        seen = true;
        state::KVOp op;
        std::string verb;
        d.object(f, [&](std::string_view kk, const Value& v) {
          if (kk == "verb") verb = d.str(v);
          else if (kk == "key") op.key = d.str(v);
          else if (kk == "value") {
            std::string text = d.str(v);
            auto decoded = base64_decode(text);
            if (!decoded) d.fail(v, "illegal base64 data");
            op.value = std::move(*decoded);
          } else if (kk == "flags") op.flags = d.uinteger(v);
          else if (kk == "index") op.index = d.uinteger(v);
          else if (kk == "session") op.session = d.str(v);
          return true;
        });
        if (!state::parse_kv_verb(verb, op.verb)) d.fail(f, "unknown KV verb \"" + verb + "\"");
        if ((refused = ops::check_txn_kv_op(out.ops.size(), op)))
          throw DecodeError("", 0, "", refused->message);
        out.ops.push_back(std::move(op));
        return true;
      });
      if (!seen) d.fail(item, "expected one of KV, Node, Service, Check");
    });
  } catch (const DecodeError& e) {
    if (refused)
      err = std::move(*refused);
    else
      err = ops::invalid_input("Failed to parse body: " + format_decode_error(e));
    return false;
  }
  out.read_only = ops::txn_reads_only(out.ops);
  return true;
}

}  // namespace cairn::http_api
