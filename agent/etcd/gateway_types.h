// The etcd v3 JSON gateway's messages, as plain values.
//
// cairn servers talk to their own etcd member (Debian's etcd-server 3.4)
// through the v3 HTTP/JSON gateway, never gRPC: one POST per RPC, streams as
// newline-separated JSON (shared/reference/etcd.md §2-§6). These structs hold
// what cairn sends and reads, with keys and values as raw bytes: the codec
// (gateway_encode.h, gateway_decode.h) does the base64 and the int64-as-string
// conversions, so nothing above it sees the gateway's spelling.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cairn::etcd {

// Every response's header. Member-management answers carry no revision
// (reference §2.3): 0 then.
struct Header {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  int64_t revision = 0;
  uint64_t raft_term = 0;
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

// ---- requests --------------------------------------------------------------

struct RangeRequest {
  std::string key;
  std::string range_end;  // empty: the single key; prefix_end(key): a prefix
  int64_t limit = 0;
  int64_t revision = 0;  // 0: the latest
  bool serializable = false;
  bool keys_only = false;
  bool count_only = false;
};

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = 0;
  bool prev_kv = false;
};

struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};

struct Compare {
  enum class Target : uint8_t { version, create, mod, value, lease };
  enum class Result : uint8_t { equal, greater, less, not_equal };
  std::string key;
  std::string range_end;
  Target target = Target::mod;
  Result result = Result::equal;
  int64_t number = 0;  // version, create_revision, mod_revision or lease
  std::string value;   // Target::value
};

using RequestOp = std::variant<RangeRequest, PutRequest, DeleteRangeRequest>;

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

struct WatchCreateRequest {
  std::string key;
  std::string range_end;
  int64_t start_revision = 0;
  bool prev_kv = false;
  bool progress_notify = false;
  int64_t watch_id = 0;
};

// ---- responses -------------------------------------------------------------

struct RangeResponse {
  Header header;
  std::vector<KeyValue> kvs;
  bool more = false;
  int64_t count = 0;
};

struct PutResponse {
  Header header;
  std::optional<KeyValue> prev_kv;
};

struct DeleteRangeResponse {
  Header header;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

using ResponseOp = std::variant<RangeResponse, PutResponse, DeleteRangeResponse>;

// A failed compare is HTTP 200 without "succeeded" (reference §4.2).
struct TxnResponse {
  Header header;
  bool succeeded = false;
  std::vector<ResponseOp> responses;
};

struct WatchEvent {
  enum class Type : uint8_t { put, del };
  Type type = Type::put;
  KeyValue kv;  // a delete's kv holds only key and mod_revision
  std::optional<KeyValue> prev_kv;
};

// One line of a watch stream. A message with neither events nor created nor
// canceled is a progress notification: header.revision is then a safe
// "applied up to" mark; an event message's header is not (reference §5.2).
struct WatchMessage {
  Header header;
  int64_t watch_id = 0;
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;
  std::string cancel_reason;
  std::vector<WatchEvent> events;

  bool is_progress() const { return events.empty() && !created && !canceled; }
};

struct LeaseGrantResponse {
  Header header;
  int64_t id = 0;
  int64_t ttl = 0;
  std::string error;
};

// ttl == 0: the lease is unknown (expired or revoked); the gateway omits it.
struct LeaseKeepAliveResponse {
  Header header;
  int64_t id = 0;
  int64_t ttl = 0;
};

// election/campaign's answer: the fencing token of the elected candidate
// (reference §8.9). Its key exists exactly as long as the leadership.
struct LeaderKey {
  std::string name;
  std::string key;
  int64_t rev = 0;
  int64_t lease = 0;
};

struct CampaignResponse {
  Header header;
  LeaderKey leader;
};

// election/leader's answer: the current leader's key and value, if any.
struct ElectionLeaderResponse {
  Header header;
  std::optional<KeyValue> kv;
};

struct Member {
  uint64_t id = 0;
  std::string name;  // empty until an added member has started
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

// member list, add, promote and remove all answer with the members after the
// call; add also names the member it added.
struct MemberListResponse {
  Header header;
  std::vector<Member> members;
  std::optional<Member> member;
};

// maintenance/alarm: the alarms raised in the cluster (reference §7, pitfall 12).
struct Alarm {
  uint64_t member_id = 0;
  std::string alarm;  // "NOSPACE", "CORRUPT" ("NONE" is the zero value, omitted)
};

struct AlarmResponse {
  Header header;
  std::vector<Alarm> alarms;
};

// maintenance/status of the member that answers.
struct StatusResponse {
  Header header;
  int64_t db_size = 0;         // the backend file
  int64_t db_size_in_use = 0;  // what defragmenting would leave
  uint64_t leader = 0;         // the etcd (raft) leader's member ID
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  uint64_t raft_applied_index = 0;
  bool is_learner = false;
  std::vector<std::string> errors;  // "memberID:... alarm:NOSPACE "
};

}  // namespace cairn::etcd
