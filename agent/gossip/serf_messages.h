// Serf's messages, carried inside memberlist user messages as
// serf type byte | msgpack(body). Reference: hashicorp/serf serf/messages.go.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/gossip/msgpack_codec.h"
#include "agent/gossip/types.h"

namespace cairn::gossip {

enum class SerfMsg : uint8_t {
  leave = 0,
  join = 1,
  push_pull = 2,
  user_event = 3,
  query = 4,
  query_response = 5,
  conflict_response = 6,
  key_request = 7,
  key_response = 8,
  relay = 9,
};

// Serf's tags-in-meta magic byte (protocol >= 3).
inline constexpr uint8_t kTagMagicByte = 0xff;
// Query flags.
inline constexpr uint32_t kQueryFlagAck = 1;
inline constexpr uint32_t kQueryFlagNoBroadcast = 2;

using Tags = std::map<std::string, std::string>;

struct SerfLeave {
  uint64_t ltime = 0;
  std::string_view node;
  bool prune = false;
};

struct SerfJoin {
  uint64_t ltime = 0;
  std::string_view node;
};

struct SerfUserEvent {
  uint64_t ltime = 0;
  std::string_view name;
  std::string_view payload;
  bool cc = false;
};

struct SerfQuery {
  uint64_t ltime = 0;
  uint32_t id = 0;
  std::string_view addr;
  uint16_t port = 0;
  std::string_view source_node;
  std::vector<std::string_view> filters;
  uint32_t flags = 0;
  uint8_t relay_factor = 0;
  int64_t timeout_ns = 0;
  std::string_view name;
  std::string_view payload;
};

struct SerfQueryResponse {
  uint64_t ltime = 0;
  uint32_t id = 0;
  std::string_view from;
  uint32_t flags = 0;
  std::string_view payload;
};

// One slot of the user event ring carried in push/pull state.
struct SerfEventSlot {
  uint64_t ltime = 0;
  std::vector<std::pair<std::string, std::string>> events;  // name, payload
};

struct SerfPushPull {
  uint64_t ltime = 0;
  std::vector<std::pair<std::string_view, uint64_t>> status_ltimes;
  std::vector<std::string_view> left_members;
  uint64_t event_ltime = 0;
  std::vector<const SerfEventSlot*> events;   // encode: ring, null for empty slots
  std::vector<SerfEventSlot> decoded_events;  // decode: non-empty slots
  uint64_t query_ltime = 0;
};

// A Serf Member as the conflict query answers it.
struct SerfMemberMsg {
  std::string_view name;
  std::string_view addr;
  uint16_t port = 0;
  Tags tags;
  int64_t status = 0;
  Vsn vsn{};
};

struct SerfKeyResponse {
  bool result = false;
  std::string message;
  std::vector<std::string> keys;  // base64
  std::string primary_key;
};

// Encoders write the serf type byte first.
void encode(const SerfLeave& m, std::string& out);
void encode(const SerfJoin& m, std::string& out);
void encode(const SerfUserEvent& m, std::string& out);
void encode(const SerfQuery& m, std::string& out);
void encode(const SerfQueryResponse& m, std::string& out);
void encode(const SerfPushPull& m, std::string& out);
void encode(const SerfMemberMsg& m, std::string& out);
void encode(const SerfKeyResponse& m, std::string& out);

bool decode(Bytes body, MsgpackReader& r, SerfLeave& m);
bool decode(Bytes body, MsgpackReader& r, SerfJoin& m);
bool decode(Bytes body, MsgpackReader& r, SerfUserEvent& m);
bool decode(Bytes body, MsgpackReader& r, SerfQuery& m);
bool decode(Bytes body, MsgpackReader& r, SerfQueryResponse& m);
bool decode(Bytes body, MsgpackReader& r, SerfPushPull& m);
bool decode(Bytes body, MsgpackReader& r, SerfMemberMsg& m);
// keyRequest{Key}: the raw key bytes.
bool decode_key_request(Bytes body, MsgpackReader& r, std::string& key);

// Tags <-> node meta: 0xff | msgpack map; other meta is an old-style role.
std::string encode_tags(const Tags& tags);
Tags decode_tags(std::string_view meta);

}  // namespace cairn::gossip
