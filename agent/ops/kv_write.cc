#include "agent/ops/kv_write.h"

#include <cstdint>

#include "agent/ops/kv_key.h"
#include "agent/state/input_limits.h"

namespace cairn::ops {

namespace {

// A decimal uint64 with nothing else (no sign, no spaces), as Go's
// strconv.ParseUint(s, 10, 64) reads it. The overflow guard is conservative:
// it refuses the last six values below 2^64 that Go would accept (no client
// sends them; kept as the HTTP API has always answered).
bool parse_uint(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (out > (UINT64_MAX - 9) / 10) return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

// The checks every single-key write makes on its key: its length (a counted
// limit) before its syntax.
OpCheck check_key(const std::string& key) {
  if (auto e = state::check_kv_key(key)) return limit_refused(*e);
  return validate_kv_key(key);
}

OpError conflicting_flags(const std::string& query) {
  return invalid_input("Conflicting flags: " + query);
}

OpError invalid_cas(const std::string& text) {
  return invalid_input("Invalid cas index: \"" + text + "\"");
}

}  // namespace

KVOpOrError kv_put_op(const std::string& key, const KVPutParams& params, std::string value) {
  if (key.empty()) return invalid_input("Missing key name");
  if (auto e = check_key(key)) return *e;
  int modes = params.cas.has_value() + params.acquire.has_value() + params.release.has_value();
  if (modes > 1) return conflicting_flags(params.query);
  if (value.size() > kMaxKVValueBytes)
    return too_large("Request body(" + std::to_string(value.size()) +
                     " bytes) too large, max size: " + std::to_string(kMaxKVValueBytes) +
                     " bytes. See https://developer.hashicorp.com/docs/agent/config/"
                     "config-files#kv_max_value_size.");
  state::KVOp op;
  op.key = key;
  op.value = std::move(value);
  if (params.flags && !parse_uint(*params.flags, op.flags))
    return invalid_input("Invalid flags: \"" + *params.flags + "\"");
  if (params.cas) {
    op.verb = state::KVVerb::cas;
    if (!parse_uint(*params.cas, op.index)) return invalid_cas(*params.cas);
  } else if (params.acquire) {
    op.verb = state::KVVerb::lock;
    op.session = *params.acquire;
  } else if (params.release) {
    op.verb = state::KVVerb::unlock;
    op.session = *params.release;
  }
  if (auto e = state::check_identifier("Session", op.session)) return limit_refused(*e);
  return op;
}

KVOpOrError kv_delete_op(const std::string& key, const KVDeleteParams& params) {
  if (auto e = check_key(key)) return *e;
  if (params.recurse && params.cas) return conflicting_flags(params.query);
  // The root may only go as a whole tree.
  if (key.empty() && !params.recurse) return invalid_input("Missing key name");
  state::KVOp op;
  op.key = key;
  op.verb = params.recurse ? state::KVVerb::delete_tree : state::KVVerb::del;
  if (params.cas) {
    op.verb = state::KVVerb::delete_cas;
    if (!parse_uint(*params.cas, op.index)) return invalid_cas(*params.cas);
  }
  return op;
}

}  // namespace cairn::ops
