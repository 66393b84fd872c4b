// Responses of the etcd v3 JSON gateway, decoded into gateway_types.h.
//
// What comes back from etcd is input like any other: a member that is
// upgraded, misconfigured or cut off mid-message must cost an error and a
// re-list, never a crash or a silently wrong cache. So every decoder checks
// types, treats every field as optional with the gateway's zero default
// (zero values are omitted, reference §2.3), reads int64s written as strings
// or numbers, and rejects base64 that StdEncoding would reject.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/etcd/gateway_types.h"

namespace cairn::etcd {

// The typed outcome of decoding one gateway message.
struct DecodeStatus {
  enum class Code : uint8_t {
    ok,
    malformed,  // not JSON, a field of the wrong type, bad base64, out of range
    rpc_error,  // the gateway's error object: grpc_code and message say which
  };
  Code code = Code::ok;
  int grpc_code = 0;  // for rpc_error: 3 InvalidArgument, 14 Unavailable, ...
  std::string message;

  bool ok() const { return code == Code::ok; }
  static DecodeStatus success() { return {}; }
  static DecodeStatus bad(std::string why) { return {Code::malformed, 0, std::move(why)}; }
};

// gRPC codes the gateway reports that cairn acts on (reference §2.5).
namespace grpc_code {
inline constexpr int unknown = 2;             // "election: no leader", deadline exceeded
inline constexpr int invalid_argument = 3;    // too large, too many ops, bad base64
inline constexpr int not_found = 5;           // unknown lease or member
inline constexpr int resource_exhausted = 8;  // NOSPACE alarm: database space exceeded
inline constexpr int failed_precondition = 9;
inline constexpr int out_of_range = 11;  // compacted or future revision
inline constexpr int unavailable = 14;   // request timed out, unhealthy cluster, learner
}  // namespace grpc_code

DecodeStatus decode_range(std::string_view json, RangeResponse& out);
DecodeStatus decode_put(std::string_view json, PutResponse& out);
DecodeStatus decode_delete_range(std::string_view json, DeleteRangeResponse& out);
DecodeStatus decode_txn(std::string_view json, TxnResponse& out);
// One line of a watch stream, with or without the {"result": ...} wrapper.
DecodeStatus decode_watch_message(std::string_view json, WatchMessage& out);
DecodeStatus decode_lease_grant(std::string_view json, LeaseGrantResponse& out);
DecodeStatus decode_lease_keepalive(std::string_view json, LeaseKeepAliveResponse& out);
DecodeStatus decode_campaign(std::string_view json, CampaignResponse& out);
DecodeStatus decode_election_leader(std::string_view json, ElectionLeaderResponse& out);
DecodeStatus decode_member_list(std::string_view json, MemberListResponse& out);
DecodeStatus decode_alarm(std::string_view json, AlarmResponse& out);
DecodeStatus decode_status(std::string_view json, StatusResponse& out);

}  // namespace cairn::etcd
