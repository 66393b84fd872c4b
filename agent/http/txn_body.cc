#include "agent/http/txn_body.h"

#include <optional>

#include "agent/config/service_definition.h"
#include "agent/http/endpoints.h"
#include "agent/ops/txn_limits.h"
#include "common/base64.h"
#include "common/decode.h"

namespace cairn::http_api {

namespace {

// The index a cas or delete-cas compares with: the row's ModifyIndex field.
uint64_t row_modify_index(Decoder& d, const Value& row) {
  uint64_t index = 0;
  if (row.is_object())
    d.object(row, [&](std::string_view k, const Value& f) {
      if (k == "modifyindex") index = d.uinteger(f);
      return true;
    });
  return index;
}

state::KVOp decode_kv_op(Decoder& d, const Value& f) {
  state::KVOp op;
  std::string verb;
  d.object(f, [&](std::string_view k, const Value& v) {
    if (k == "verb") verb = d.str(v);
    else if (k == "key") op.key = d.str(v);
    else if (k == "value") {
      std::string text = d.str(v);
      auto decoded = base64_decode(text);
      if (!decoded) d.fail(v, "illegal base64 data");
      op.value = std::move(*decoded);
    } else if (k == "flags") op.flags = d.uinteger(v);
    else if (k == "index") op.index = d.uinteger(v);
    else if (k == "session") op.session = d.str(v);
    return true;
  });
  if (!state::parse_kv_verb(verb, op.verb)) d.fail(f, "unknown KV verb \"" + verb + "\"");
  return op;
}

state::CatalogVerb catalog_verb(Decoder& d, const Value& at, const std::string& verb,
                                const char* kind) {
  state::CatalogVerb v;
  if (!state::parse_catalog_verb(verb, v))
    d.fail(at, std::string("unknown ") + kind + " verb \"" + verb + "\"");
  return v;
}

// {"Verb": ..., "Node": {ID, Node, Address, Datacenter, TaggedAddresses, Meta, ModifyIndex}}
state::NodeTxnOp decode_node_op(Decoder& d, const Value& f, const std::string& default_dc) {
  state::NodeTxnOp op;
  std::string verb;
  d.object(f, [&](std::string_view k, const Value& v) {
    if (k == "verb") verb = d.str(v);
    else if (k == "node") {
      Decoder::Scope s(d, "Node");
      d.object(v, [&](std::string_view nk, const Value& nv) {
        if (nk == "id") op.node.id = d.str(nv);
        else if (nk == "node") op.node.name = d.str(nv);
        else if (nk == "address") op.node.address = d.str(nv);
        else if (nk == "datacenter") op.node.datacenter = d.str(nv);
        else if (nk == "taggedaddresses") op.node.tagged_addresses = d.string_map(nv);
        else if (nk == "meta") op.node.meta = d.string_map(nv);
        return true;
      });
      op.node.raft.modify_index = row_modify_index(d, v);
    }
    return true;
  });
  op.verb = catalog_verb(d, f, verb, "Node");
  if (op.node.datacenter.empty()) op.node.datacenter = default_dc;
  return op;
}

// {"Verb": ..., "Node": name, "Service": an AgentService with its ModifyIndex}
state::ServiceTxnOp decode_service_op(Decoder& d, const Value& f) {
  state::ServiceTxnOp op;
  std::string verb;
  d.object(f, [&](std::string_view k, const Value& v) {
    if (k == "verb") verb = d.str(v);
    else if (k == "node") op.node = d.str(v);
    else if (k == "service") {
      Decoder::Scope s(d, "Service");
      op.service = config::decode_service(d, v).service;
      op.service.raft.modify_index = row_modify_index(d, v);
    }
    return true;
  });
  op.verb = catalog_verb(d, f, verb, "Service");
  return op;
}

// {"Verb": ..., "Check": a HealthCheck with its Definition and ModifyIndex}
state::CheckTxnOp decode_check_op(Decoder& d, const Value& f) {
  state::CheckTxnOp op;
  std::string verb;
  d.object(f, [&](std::string_view k, const Value& v) {
    if (k == "verb") verb = d.str(v);
    else if (k == "check") {
      Decoder::Scope s(d, "Check");
      state::Check& c = op.check;
      c = decode_catalog_check(d, v);
      d.object(v, [&](std::string_view ck, const Value& cv) {
        if (ck == "node") c.node = d.str(cv);
        else if (ck == "servicename") c.service_name = d.str(cv);
        else if (ck == "servicetags") c.service_tags = d.strings(cv);
        return true;
      });
      c.raft.modify_index = row_modify_index(d, v);
    }
    return true;
  });
  op.verb = catalog_verb(d, f, verb, "Check");
  return op;
}

}  // namespace

bool parse_txn_body(const std::string& body, TxnBody& out, ops::OpError& err,
                    const std::string& default_datacenter) {
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
  // An operation refused by ops::check_txn_op: the decoder is left by a
  // throw, and the refusal is answered as it is rather than as a parse error.
  std::optional<ops::OpError> refused;
  try {
    Decoder d("", false);
    d.array(root, [&](const Value& item) {
      if (!item.is_object())
        d.fail(item, "expected an object with one of KV, Node, Service, Check");
      const Value *kv = nullptr, *node = nullptr, *service = nullptr, *check = nullptr;
      d.object(item, [&](std::string_view k, const Value& f) {
        if (f.is_null()) return true;
        if (k == "kv") kv = &f;
        else if (k == "node") node = &f;
        else if (k == "service") service = &f;
        else if (k == "check") check = &f;
        return true;
      });
      // One operation per element; given several, Consul takes the first of
      // KV, Node, Service, Check.
      std::optional<state::TxnOp> op;
      if (kv) op = decode_kv_op(d, *kv);
      else if (node) op = decode_node_op(d, *node, default_datacenter);
      else if (service) op = decode_service_op(d, *service);
      else if (check) op = decode_check_op(d, *check);
      else d.fail(item, "expected one of KV, Node, Service, Check");
      if ((refused = ops::check_txn_op(out.ops.size(), *op)))
        throw DecodeError("", 0, "", refused->message);
      out.ops.push_back(std::move(*op));
    });
  } catch (const DecodeError& e) {
    if (refused)
      err = std::move(*refused);
    else
      err = ops::invalid_input("Failed to parse body: " + format_decode_error(e));
    return false;
  }
  out.read_only = state::txn_reads_only(out.ops);
  return true;
}

}  // namespace cairn::http_api
