// memberlist's message structs and their msgpack codec (wire format v2..5).
//
// Each message on the wire is one type byte followed by one msgpack map
// keyed by the Go field names, written in sorted key order as Go's codec does
// (reference: hashicorp/memberlist net.go). Decoded string fields are views
// into the input buffer: copy what must outlive the packet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/gossip/msgpack_codec.h"

namespace cairn::gossip {

enum class MsgType : uint8_t {
  ping = 0,
  indirect_ping = 1,
  ack = 2,
  suspect = 3,
  alive = 4,
  dead = 5,
  push_pull = 6,
  compound = 7,
  user = 8,
  compress = 9,
  encrypt = 10,
  nack = 11,
  has_crc = 12,
  err = 13,
  has_label = 244,
};

struct PingMsg {
  uint32_t seq_no = 0;
  std::string_view node;
  std::string_view source_addr;  // omitted when empty
  uint16_t source_port = 0;      // omitted when 0
  std::string_view source_node;  // omitted when empty
};

struct IndirectPingMsg {
  uint32_t seq_no = 0;
  std::string_view target;
  uint16_t port = 0;
  std::string_view node;
  bool nack = false;
  std::string_view source_addr;
  uint16_t source_port = 0;
  std::string_view source_node;
};

struct AckMsg {
  uint32_t seq_no = 0;
  std::string_view payload;
};

struct NackMsg {
  uint32_t seq_no = 0;
};

struct SuspectMsg {
  uint32_t incarnation = 0;
  std::string_view node;
  std::string_view from;
};

struct AliveMsg {
  uint32_t incarnation = 0;
  std::string_view node;
  std::string_view addr;
  uint16_t port = 0;
  std::string_view meta;
  std::string_view vsn;
};

struct DeadMsg {
  uint32_t incarnation = 0;
  std::string_view node;
  std::string_view from;
};

struct PushPullHeader {
  int64_t nodes = 0;
  int64_t user_state_len = 0;
  bool join = false;
};

struct PushNodeState {
  std::string_view name;
  std::string_view addr;
  uint16_t port = 0;
  std::string_view meta;
  uint32_t incarnation = 0;
  int64_t state = 0;
  std::string_view vsn;
};

struct CompressMsg {
  uint8_t algo = 0;
  std::string_view buf;
};

struct ErrRespMsg {
  std::string_view error;
};

struct UserMsgHeader {
  int64_t user_msg_len = 0;
};

// Encoders append the type byte (except push-node states, which have none)
// and the msgpack body to out.
void encode(const PingMsg& m, std::string& out);
void encode(const IndirectPingMsg& m, std::string& out);
void encode(const AckMsg& m, std::string& out);
void encode(const NackMsg& m, std::string& out);
void encode(const SuspectMsg& m, std::string& out);
void encode(const AliveMsg& m, std::string& out);
void encode(const DeadMsg& m, std::string& out);
void encode(const PushPullHeader& m, std::string& out);
void encode(const PushNodeState& m, std::string& out);  // no type byte
void encode(const CompressMsg& m, std::string& out);
void encode(const ErrRespMsg& m, std::string& out);
void encode(const UserMsgHeader& m, std::string& out);  // no type byte

// Decoders read one msgpack map at body[off..] (after the type byte) and
// advance off. Unknown keys are skipped, missing ones stay zero, a field of
// the wrong type fails the message (as Go's codec does).
bool decode(Bytes body, size_t& off, MsgpackReader& r, PingMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, IndirectPingMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, AckMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, NackMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, SuspectMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, AliveMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, DeadMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, PushPullHeader& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, PushNodeState& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, CompressMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, ErrRespMsg& m);
bool decode(Bytes body, size_t& off, MsgpackReader& r, UserMsgHeader& m);

template <class M>
bool decode(Bytes body, MsgpackReader& r, M& m) {
  size_t off = 0;
  return decode(body, off, r, m);
}

}  // namespace cairn::gossip
