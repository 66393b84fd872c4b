#include "agent/etcd/gateway_encode.h"

#include <charconv>

#include "common/base64.h"
#include "common/json_writer.h"

namespace cairn::etcd {

namespace {

void bytes_field(JsonWriter& w, std::string_view name, std::string_view bytes) {
  w.key(name);
  w.string(base64_encode(bytes));
}

// int64 as a JSON string: lease and member IDs do not fit a double.
void int_field(JsonWriter& w, std::string_view name, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  w.key(name);
  w.string(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
}

void uint_field(JsonWriter& w, std::string_view name, uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  w.key(name);
  w.string(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
}

void range_fields(JsonWriter& w, const RangeRequest& r) {
  bytes_field(w, "key", r.key);
  if (!r.range_end.empty()) bytes_field(w, "range_end", r.range_end);
  if (r.limit != 0) int_field(w, "limit", r.limit);
  if (r.revision != 0) int_field(w, "revision", r.revision);
  if (r.serializable) w.field("serializable", true);
  if (r.keys_only) w.field("keys_only", true);
  if (r.count_only) w.field("count_only", true);
}

void put_fields(JsonWriter& w, const PutRequest& r) {
  bytes_field(w, "key", r.key);
  if (!r.value.empty()) bytes_field(w, "value", r.value);
  if (r.lease != 0) int_field(w, "lease", r.lease);
  if (r.prev_kv) w.field("prev_kv", true);
}

void delete_fields(JsonWriter& w, const DeleteRangeRequest& r) {
  bytes_field(w, "key", r.key);
  if (!r.range_end.empty()) bytes_field(w, "range_end", r.range_end);
  if (r.prev_kv) w.field("prev_kv", true);
}

std::string_view target_name(Compare::Target t) {
  switch (t) {
    case Compare::Target::version:
      return "VERSION";
    case Compare::Target::create:
      return "CREATE";
    case Compare::Target::mod:
      return "MOD";
    case Compare::Target::value:
      return "VALUE";
    case Compare::Target::lease:
      return "LEASE";
  }
  return "MOD";
}

std::string_view result_name(Compare::Result r) {
  switch (r) {
    case Compare::Result::equal:
      return "EQUAL";
    case Compare::Result::greater:
      return "GREATER";
    case Compare::Result::less:
      return "LESS";
    case Compare::Result::not_equal:
      return "NOT_EQUAL";
  }
  return "EQUAL";
}

void compare_object(JsonWriter& w, const Compare& c) {
  w.begin_object();
  bytes_field(w, "key", c.key);
  if (!c.range_end.empty()) bytes_field(w, "range_end", c.range_end);
  w.field("target", target_name(c.target));
  w.field("result", result_name(c.result));
  switch (c.target) {
    case Compare::Target::version:
      int_field(w, "version", c.number);
      break;
    case Compare::Target::create:
      int_field(w, "create_revision", c.number);
      break;
    case Compare::Target::mod:
      int_field(w, "mod_revision", c.number);
      break;
    case Compare::Target::lease:
      int_field(w, "lease", c.number);
      break;
    case Compare::Target::value:
      bytes_field(w, "value", c.value);
      break;
  }
  w.end_object();
}

void request_op_object(JsonWriter& w, const RequestOp& op) {
  w.begin_object();
  if (const auto* r = std::get_if<RangeRequest>(&op)) {
    w.key("request_range");
    w.begin_object();
    range_fields(w, *r);
    w.end_object();
  } else if (const auto* p = std::get_if<PutRequest>(&op)) {
    w.key("request_put");
    w.begin_object();
    put_fields(w, *p);
    w.end_object();
  } else if (const auto* d = std::get_if<DeleteRangeRequest>(&op)) {
    w.key("request_delete_range");
    w.begin_object();
    delete_fields(w, *d);
    w.end_object();
  }
  w.end_object();
}

void op_list(JsonWriter& w, std::string_view name, const std::vector<RequestOp>& ops) {
  if (ops.empty()) return;
  w.key(name);
  w.begin_array();
  for (const auto& op : ops) request_op_object(w, op);
  w.end_array();
}

}  // namespace

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

void encode_range(std::string& out, const RangeRequest& r) {
  JsonWriter w(out);
  w.begin_object();
  range_fields(w, r);
  w.end_object();
}

void encode_put(std::string& out, const PutRequest& r) {
  JsonWriter w(out);
  w.begin_object();
  put_fields(w, r);
  w.end_object();
}

void encode_delete_range(std::string& out, const DeleteRangeRequest& r) {
  JsonWriter w(out);
  w.begin_object();
  delete_fields(w, r);
  w.end_object();
}

void encode_txn(std::string& out, const TxnRequest& t) {
  JsonWriter w(out);
  w.begin_object();
  if (!t.compare.empty()) {
    w.key("compare");
    w.begin_array();
    for (const auto& c : t.compare) compare_object(w, c);
    w.end_array();
  }
  op_list(w, "success", t.success);
  op_list(w, "failure", t.failure);
  w.end_object();
}

void encode_watch_create(std::string& out, const WatchCreateRequest& c) {
  JsonWriter w(out);
  w.begin_object();
  w.key("create_request");
  w.begin_object();
  bytes_field(w, "key", c.key);
  if (!c.range_end.empty()) bytes_field(w, "range_end", c.range_end);
  if (c.start_revision != 0) int_field(w, "start_revision", c.start_revision);
  if (c.prev_kv) w.field("prev_kv", true);
  if (c.progress_notify) w.field("progress_notify", true);
  if (c.watch_id != 0) int_field(w, "watch_id", c.watch_id);
  w.end_object();
  w.end_object();
}

void encode_lease_grant(std::string& out, int64_t ttl_seconds, int64_t id) {
  JsonWriter w(out);
  w.begin_object();
  int_field(w, "TTL", ttl_seconds);
  if (id != 0) int_field(w, "ID", id);
  w.end_object();
}

void encode_lease_revoke(std::string& out, int64_t id) {
  JsonWriter w(out);
  w.begin_object();
  int_field(w, "ID", id);
  w.end_object();
}

void encode_compaction(std::string& out, int64_t revision) {
  JsonWriter w(out);
  w.begin_object();
  int_field(w, "revision", revision);
  w.end_object();
}

void encode_alarm_get(std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  w.key("action");
  w.string("GET");
  w.end_object();
}

void encode_alarm_disarm(std::string& out, uint64_t member_id, std::string_view alarm) {
  JsonWriter w(out);
  w.begin_object();
  w.key("action");
  w.string("DEACTIVATE");
  uint_field(w, "memberID", member_id);
  w.key("alarm");
  w.string(alarm);
  w.end_object();
}

void encode_lease_keepalive(std::string& out, const std::vector<int64_t>& ids) {
  // Objects back to back: the gateway reads a stream of request messages.
  for (int64_t id : ids) encode_lease_revoke(out, id);
}

void encode_campaign(std::string& out, std::string_view name, int64_t lease,
                     std::string_view value) {
  JsonWriter w(out);
  w.begin_object();
  bytes_field(w, "name", name);
  int_field(w, "lease", lease);
  bytes_field(w, "value", value);
  w.end_object();
}

void encode_election_name(std::string& out, std::string_view name) {
  JsonWriter w(out);
  w.begin_object();
  bytes_field(w, "name", name);
  w.end_object();
}

void encode_resign(std::string& out, const LeaderKey& leader) {
  JsonWriter w(out);
  w.begin_object();
  w.key("leader");
  w.begin_object();
  bytes_field(w, "name", leader.name);
  bytes_field(w, "key", leader.key);
  int_field(w, "rev", leader.rev);
  int_field(w, "lease", leader.lease);
  w.end_object();
  w.end_object();
}

void encode_member_add(std::string& out, const std::vector<std::string>& peer_urls,
                       bool is_learner) {
  JsonWriter w(out);
  w.begin_object();
  w.string_array("peerURLs", peer_urls);
  if (is_learner) w.field("isLearner", true);
  w.end_object();
}

void encode_member_id(std::string& out, uint64_t id) {
  JsonWriter w(out);
  w.begin_object();
  uint_field(w, "ID", id);
  w.end_object();
}

void encode_move_leader(std::string& out, uint64_t target_member_id) {
  JsonWriter w(out);
  w.begin_object();
  uint_field(w, "targetID", target_member_id);
  w.end_object();
}

}  // namespace cairn::etcd
