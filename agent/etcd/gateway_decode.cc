#include "agent/etcd/gateway_decode.h"

#include <simdjson.h>

#include <charconv>
#include <limits>

#include "common/base64.h"
#include "common/json_fields.h"

namespace cairn::etcd {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

void read_header(FieldReader& r, object o, Header& h) {
  object sub;
  if (!r.sub_object(o, "header", sub)) return;
  r.uint64(sub, "cluster_id", h.cluster_id);
  r.uint64(sub, "member_id", h.member_id);
  r.int64(sub, "revision", h.revision);
  r.uint64(sub, "raft_term", h.raft_term);
  if (h.revision < 0) r.fail("header.revision", "negative");
}

void read_kv(FieldReader& r, object o, KeyValue& kv) {
  r.bytes(o, "key", kv.key);
  r.bytes(o, "value", kv.value);
  r.int64(o, "create_revision", kv.create_revision);
  r.int64(o, "mod_revision", kv.mod_revision);
  r.int64(o, "version", kv.version);
  r.int64(o, "lease", kv.lease);
  if (kv.create_revision < 0 || kv.mod_revision < 0 || kv.version < 0)
    r.fail("kv", "negative revision or version");
}

void read_kvs(FieldReader& r, object o, std::string_view field, std::vector<KeyValue>& out) {
  r.objects(o, field, [&](object sub) {
    out.emplace_back();
    read_kv(r, sub, out.back());
  });
}

void read_range(FieldReader& r, object o, RangeResponse& out) {
  read_header(r, o, out.header);
  read_kvs(r, o, "kvs", out.kvs);
  r.boolean(o, "more", out.more);
  r.int64(o, "count", out.count);
}

void read_put(FieldReader& r, object o, PutResponse& out) {
  read_header(r, o, out.header);
  object prev;
  if (r.sub_object(o, "prev_kv", prev)) {
    out.prev_kv.emplace();
    read_kv(r, prev, *out.prev_kv);
  }
}

void read_delete_range(FieldReader& r, object o, DeleteRangeResponse& out) {
  read_header(r, o, out.header);
  r.int64(o, "deleted", out.deleted);
  read_kvs(r, o, "prev_kvs", out.prev_kvs);
}

void read_response_op(FieldReader& r, object o, std::vector<ResponseOp>& out) {
  object sub;
  if (r.sub_object(o, "response_range", sub)) {
    RangeResponse range;
    read_range(r, sub, range);
    out.emplace_back(std::move(range));
  } else if (r.sub_object(o, "response_put", sub)) {
    PutResponse put;
    read_put(r, sub, put);
    out.emplace_back(std::move(put));
  } else if (r.sub_object(o, "response_delete_range", sub)) {
    DeleteRangeResponse del;
    read_delete_range(r, sub, del);
    out.emplace_back(std::move(del));
  } else if (!r.failed()) {
    // Nested txns are never sent by cairn, so never answered.
    r.fail("responses", "an operation cairn did not send");
  }
}

void read_event(FieldReader& r, object o, WatchEvent& ev) {
  std::string type;
  r.text(o, "type", type);
  if (type == "DELETE") {
    ev.type = WatchEvent::Type::del;
  } else if (!type.empty() && type != "PUT") {
    r.fail("type", "unknown event type");
  }
  object sub;
  if (r.sub_object(o, "kv", sub)) {
    read_kv(r, sub, ev.kv);
  } else if (!r.failed()) {
    r.fail("kv", "missing");
  }
  if (r.sub_object(o, "prev_kv", sub)) {
    ev.prev_kv.emplace();
    read_kv(r, sub, *ev.prev_kv);
  }
}

void read_watch(FieldReader& r, object o, WatchMessage& out) {
  read_header(r, o, out.header);
  r.int64(o, "watch_id", out.watch_id);
  r.boolean(o, "created", out.created);
  r.boolean(o, "canceled", out.canceled);
  r.int64(o, "compact_revision", out.compact_revision);
  r.text(o, "cancel_reason", out.cancel_reason);
  r.objects(o, "events", [&](object sub) {
    out.events.emplace_back();
    read_event(r, sub, out.events.back());
  });
  // A live message holds one revision's events, but a watch catching up
  // (resumed, or started behind) packs several revisions into one message, in
  // order. Out of order is not etcd's, and applying it would misnumber rows.
  int64_t last = 0;
  for (const auto& ev : out.events) {
    if (ev.kv.mod_revision <= 0) return r.fail("events", "an event without mod_revision");
    if (ev.kv.mod_revision < last) return r.fail("events", "events out of revision order");
    last = ev.kv.mod_revision;
  }
}

void read_lease_grant(FieldReader& r, object o, LeaseGrantResponse& out) {
  read_header(r, o, out.header);
  r.int64(o, "ID", out.id);
  r.int64(o, "TTL", out.ttl);
  r.text(o, "error", out.error);
}

void read_lease_keepalive(FieldReader& r, object o, LeaseKeepAliveResponse& out) {
  read_header(r, o, out.header);
  r.int64(o, "ID", out.id);
  r.int64(o, "TTL", out.ttl);
}

void read_member(FieldReader& r, object o, Member& m) {
  r.uint64(o, "ID", m.id);
  r.text(o, "name", m.name);
  r.strings(o, "peerURLs", m.peer_urls);
  r.strings(o, "clientURLs", m.client_urls);
  r.boolean(o, "isLearner", m.is_learner);
}

void read_member_list(FieldReader& r, object o, MemberListResponse& out) {
  read_header(r, o, out.header);
  r.objects(o, "members", [&](object sub) { read_member(r, sub, out.members.emplace_back()); });
  object added;
  if (r.sub_object(o, "member", added)) read_member(r, added, out.member.emplace());
}

void read_alarm(FieldReader& r, object o, AlarmResponse& out) {
  read_header(r, o, out.header);
  r.objects(o, "alarms", [&](object sub) {
    Alarm& a = out.alarms.emplace_back();
    r.uint64(sub, "memberID", a.member_id);
    r.text(sub, "alarm", a.alarm);
  });
}

void read_status(FieldReader& r, object o, StatusResponse& out) {
  read_header(r, o, out.header);
  r.int64(o, "dbSize", out.db_size);
  r.int64(o, "dbSizeInUse", out.db_size_in_use);
  r.uint64(o, "leader", out.leader);
  r.uint64(o, "raftIndex", out.raft_index);
  r.uint64(o, "raftTerm", out.raft_term);
  r.uint64(o, "raftAppliedIndex", out.raft_applied_index);
  r.boolean(o, "isLearner", out.is_learner);
  r.strings(o, "errors", out.errors);
  if (out.db_size < 0 || out.db_size_in_use < 0) r.fail("dbSize", "negative");
}

// The gateway's error shapes: unary {"error":"t","message":"t","code":N};
// streams (grpc-gateway v1) {"error":{"grpc_code":N,"http_code":H,"message":"t"}}.
bool read_rpc_error(object o, DecodeStatus& status) {
  element e;
  if (o["error"].get(e)) return false;
  std::string why;
  FieldReader r(why);
  status.code = DecodeStatus::Code::rpc_error;
  int64_t code = 0;
  object nested;
  if (e.get_object().get(nested) == simdjson::SUCCESS) {
    r.int64(nested, "grpc_code", code);
    r.text(nested, "message", status.message);
  } else {
    // A lease grant answers {"error": ""} with nothing wrong: only a unary
    // error carries "code".
    element code_element;
    if (o["code"].get(code_element)) return false;
    r.int64(o, "code", code);
    r.text(o, "message", status.message);
    if (status.message.empty()) r.text(o, "error", status.message);
  }
  if (r.failed() || code < 0 || code > 16) {
    status = DecodeStatus::bad("error object: " + (why.empty() ? "bad code" : why));
    return true;
  }
  status.grpc_code = static_cast<int>(code);
  return true;
}

// Parses json and runs read on its top-level object (or on "result" when
// unwrap_result and the message has one, as stream lines do).
template <typename Read>
DecodeStatus decode_with(std::string_view json, bool unwrap_result, Read&& read) {
  // One parser per thread: it keeps its buffers between messages.
  thread_local simdjson::dom::parser parser;
  element doc;
  if (auto err = parse_document(parser, json).get(doc))
    return DecodeStatus::bad(simdjson::error_message(err));
  object top;
  if (doc.get_object().get(top)) return DecodeStatus::bad("not a JSON object");
  DecodeStatus status;
  if (read_rpc_error(top, status)) return status;
  object body = top;
  if (unwrap_result) {
    element result;
    if (!top["result"].get(result) && result.get_object().get(body))
      return DecodeStatus::bad("result: expected an object");
  }
  std::string why;
  FieldReader r(why);
  read(r, body);
  if (r.failed()) return DecodeStatus::bad(std::move(why));
  return DecodeStatus::success();
}

}  // namespace

DecodeStatus decode_range(std::string_view json, RangeResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) { read_range(r, o, out); });
}

DecodeStatus decode_put(std::string_view json, PutResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) { read_put(r, o, out); });
}

DecodeStatus decode_delete_range(std::string_view json, DeleteRangeResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) { read_delete_range(r, o, out); });
}

DecodeStatus decode_txn(std::string_view json, TxnResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) {
    read_header(r, o, out.header);
    r.boolean(o, "succeeded", out.succeeded);
    r.objects(o, "responses", [&](object sub) { read_response_op(r, sub, out.responses); });
  });
}

DecodeStatus decode_watch_message(std::string_view json, WatchMessage& out) {
  out = {};
  return decode_with(json, true, [&](FieldReader& r, object o) { read_watch(r, o, out); });
}

DecodeStatus decode_lease_grant(std::string_view json, LeaseGrantResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) { read_lease_grant(r, o, out); });
}

DecodeStatus decode_lease_keepalive(std::string_view json, LeaseKeepAliveResponse& out) {
  out = {};
  return decode_with(json, true,
                     [&](FieldReader& r, object o) { read_lease_keepalive(r, o, out); });
}

DecodeStatus decode_campaign(std::string_view json, CampaignResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) {
    read_header(r, o, out.header);
    object leader;
    if (!r.sub_object(o, "leader", leader)) return r.fail("leader", "missing");
    r.bytes(leader, "name", out.leader.name);
    r.bytes(leader, "key", out.leader.key);
    r.int64(leader, "rev", out.leader.rev);
    r.int64(leader, "lease", out.leader.lease);
    if (!r.failed() && (out.leader.key.empty() || out.leader.rev <= 0))
      r.fail("leader", "no key or revision");
  });
}

DecodeStatus decode_election_leader(std::string_view json, ElectionLeaderResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) {
    read_header(r, o, out.header);
    object kv;
    if (r.sub_object(o, "kv", kv)) {
      out.kv.emplace();
      read_kv(r, kv, *out.kv);
    }
  });
}

DecodeStatus decode_member_list(std::string_view json, MemberListResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) { read_member_list(r, o, out); });
}

DecodeStatus decode_alarm(std::string_view json, AlarmResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) { read_alarm(r, o, out); });
}

DecodeStatus decode_status(std::string_view json, StatusResponse& out) {
  out = {};
  return decode_with(json, false, [&](FieldReader& r, object o) { read_status(r, o, out); });
}

}  // namespace cairn::etcd
