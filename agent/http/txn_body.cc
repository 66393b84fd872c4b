#include "agent/http/txn_body.h"

#include "agent/state/input_limits.h"

#include "common/base64.h"
#include "common/decode.h"
#include "common/utf8.h"

namespace cairn::http_api {

bool parse_txn_body(const std::string& body, TxnBody& out, TxnBodyError& err) {
  if (body.size() > kTxnMaxBodyBytes) {
    err = {413,
           "Request body(" + std::to_string(body.size()) +
               " bytes) too large, max size: " + std::to_string(kTxnMaxBodyBytes) +
               " bytes. See https://developer.hashicorp.com/docs/agent/config/"
               "config-files#txn_max_req_len.",
           {}};
    return false;
  }
  Value root;
  ParseError perr;
  if (!parse_json(body, root, perr)) {
    err = {400, "Failed to parse body: " + perr.message, {}};
    return false;
  }
  if (!root.is_array()) {
    err = {400, "Failed to parse body: expected a JSON array of operations", {}};
    return false;
  }
  if (root.items.size() > kTxnMaxOps) {
    err = {413,
           "Transaction contains too many operations (" + std::to_string(root.items.size()) +
               " > " + std::to_string(kTxnMaxOps) + ")",
           {}};
    return false;
  }
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
        state::LimitCheck limit = state::check_kv_key(op.key);
        if (!limit) limit = state::check_identifier("Session", op.session);
        if (limit) {
          err.limit = limit->limit;
          throw DecodeError(
              "", 0, "", "\x02Operation " + std::to_string(out.ops.size()) + ": " + limit->message);
        }
        if (op.value.size() > kKVMaxValueBytes)
          throw DecodeError("", 0, "",
                            "\x01Value for key \"" + op.key + "\" is too large (" +
                                std::to_string(op.value.size()) + " > " +
                                std::to_string(kKVMaxValueBytes) + " bytes)");
        using V = state::KVVerb;
        if (op.verb != V::get && op.verb != V::get_tree && op.verb != V::get_or_empty &&
            op.verb != V::check_index && op.verb != V::check_session &&
            op.verb != V::check_not_exists)
          out.read_only = false;
        out.ops.push_back(std::move(op));
        return true;
      });
      if (!seen) d.fail(item, "expected one of KV, Node, Service, Check");
    });
  } catch (const DecodeError& e) {
    if (!e.message().empty() && e.message()[0] == '\x01') {
      err = {413, e.message().substr(1), {}};
    } else if (!e.message().empty() && e.message()[0] == '\x02') {
      err = {400, e.message().substr(1), err.limit};
    } else {
      err = {400, "Failed to parse body: " + format_decode_error(e), {}};
    }
    return false;
  }
  return true;
}

}  // namespace cairn::http_api
