// Where each replicated row lives in etcd, and how it is written there.
//
// One row is one etcd key under /cairn/, so one Consul operation is one etcd
// transaction over the rows it changes, and a row's create and mod
// revisions are its CreateIndex and ModifyIndex (they are not stored in the
// value). Values are compact JSON: `etcdctl get --prefix /cairn/` is
// readable during an incident, and simdjson decodes a re-list of 100,000
// rows in milliseconds.
//
//   /cairn/node/<node, lower case>            Node
//   /cairn/service/<node, lower case>/<id>    Service (ids may hold "/"; node names never do)
//   /cairn/check/<node, lower case>/<id>      Check
//   /cairn/kv/<key>                           KVEntry
//   /cairn/session/<id>                       Session
//   /cairn/query/<id>                         PreparedQuery
//   /cairn/lockdelay/<key>                    lock-delay marker {"Until": unix ms}
//   /cairn/leader/...                         the cairn leader election (reference §8.9)
//   /cairn/autopilot/config                   AutopilotConfig
//   /cairn/handoff/leader                     a leadership transfer in progress (leader_handoff.h)
//
// Decoding turns an etcd row or watch event into the state store's Mutation,
// so the watch cache applies etcd's changes through the same Store::apply
// that -dev uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/etcd/gateway_types.h"
#include "agent/state/mutation.h"

namespace cairn::server {

inline constexpr std::string_view kRowPrefix = "/cairn/";

enum class Table : uint8_t {
  node,
  service,
  check,
  kv,
  session,
  query,
  lockdelay,
  leader,
  autopilot,
  handoff,
  unknown
};

struct RowKey {
  Table table = Table::unknown;
  std::string node;  // service and check rows: the node (lower case)
  std::string id;    // the node name, service or check ID, KV key, session or query ID
};

std::string node_row_key(std::string_view node_name);
std::string service_row_key(std::string_view node_name, std::string_view service_id);
std::string check_row_key(std::string_view node_name, std::string_view check_id);
std::string kv_row_key(std::string_view key);
std::string session_row_key(std::string_view id);
std::string query_row_key(std::string_view id);
std::string lockdelay_row_key(std::string_view key);
std::string autopilot_row_key();

RowKey parse_row_key(std::string_view etcd_key);

// The etcd lease of a session with a TTL (reference §8.4): derived from the
// session's UUID (its first 63 bits), so a retried create cannot make two.
int64_t session_lease_id(std::string_view session_id);
// Consul arms its session timer at twice the TTL; etcd counts whole seconds.
int64_t session_lease_ttl_seconds(int64_t ttl_nanos);

std::string encode_row(const state::Node& n);
std::string encode_row(const state::Service& s);
std::string encode_row(const state::Check& c);
std::string encode_row(const state::KVEntry& e);
std::string encode_row(const state::Session& s);
std::string encode_row(const state::PreparedQuery& q);
std::string encode_row(const state::AutopilotConfig& c);
// A lock-delay marker: the wall-clock time (ms) until which the key cannot be
// acquired. Expired markers are harmless (acquire compares with now).
std::string encode_lock_delay_row(int64_t until_unix_ms);

struct RowStatus {
  enum class Code : uint8_t {
    ok,
    ignored,    // a key the store does not hold (leader, lock-delay markers, foreign keys)
    malformed,  // a /cairn/ row cairn cannot read: counted, and the cache re-lists
  };
  Code code = Code::ok;
  std::string error;

  bool ok() const { return code == Code::ok; }
};

// A listed row or a put event: the Put mutation, with CreateIndex and
// ModifyIndex from the row's revisions.
RowStatus decode_row(const etcd::KeyValue& kv, state::Mutation& out);
// A delete event (only the key is known): the Delete mutation.
RowStatus decode_row_delete(std::string_view etcd_key, state::Mutation& out);

}  // namespace cairn::server
