// Request bodies for the etcd v3 JSON gateway.
//
// Keys and values go out as standard base64 (the gateway rejects URL-safe
// base64), int64s as JSON strings (lease and member IDs exceed 2^53), enums
// by name. Zero values are left out, as the gateway itself does. Each
// function appends to a caller-owned buffer so a connection reuses one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/etcd/gateway_types.h"

namespace cairn::etcd {

// The range_end that selects every key starting with prefix: the prefix
// with its last byte that is not 0xff incremented, and what follows dropped.
// An empty prefix or one of only 0xff bytes gives "\0" (every key).
std::string prefix_end(std::string_view prefix);

void encode_range(std::string& out, const RangeRequest& r);
void encode_put(std::string& out, const PutRequest& r);
void encode_delete_range(std::string& out, const DeleteRangeRequest& r);
void encode_txn(std::string& out, const TxnRequest& t);
// A watch stream's body: the gateway is half duplex, so every watch of a
// stream is created by the one body sent when it opens (reference §2.4).
void encode_watch_create(std::string& out, const WatchCreateRequest& w);
void encode_lease_grant(std::string& out, int64_t ttl_seconds, int64_t id);
void encode_lease_revoke(std::string& out, int64_t id);
// kv/compaction: forget the history before revision (a watch from earlier is then canceled).
void encode_compaction(std::string& out, int64_t revision);
// maintenance/alarm: GET lists the alarms; DEACTIVATE disarms one member's alarm.
void encode_alarm_get(std::string& out);
void encode_alarm_disarm(std::string& out, uint64_t member_id, std::string_view alarm);
// One keepalive POST renews every lease it names (one result line each).
void encode_lease_keepalive(std::string& out, const std::vector<int64_t>& ids);
void encode_campaign(std::string& out, std::string_view name, int64_t lease,
                     std::string_view value);
void encode_election_name(std::string& out, std::string_view name);  // election/leader
void encode_resign(std::string& out, const LeaderKey& leader);
void encode_member_add(std::string& out, const std::vector<std::string>& peer_urls,
                       bool is_learner);
void encode_member_id(std::string& out, uint64_t id);  // remove and promote
// maintenance/transfer-leadership (MoveLeader): only the etcd leader accepts it.
void encode_move_leader(std::string& out, uint64_t target_member_id);

}  // namespace cairn::etcd
