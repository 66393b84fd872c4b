// Vocabulary shared by the gossip core: addresses, time, node states.
//
// The core is pure (no sockets, no clock of its own), so time is a plain
// monotonic nanosecond count handed in by a Clock, and an address is an IPv4
// address plus port in host byte order. IPv6 is not supported yet (see
// docs/gossip.md, "Known differences").
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::gossip {

using Duration = std::chrono::nanoseconds;
// Monotonic time since an arbitrary epoch chosen by the Clock.
using Time = std::chrono::nanoseconds;

using namespace std::chrono_literals;

struct Address {
  uint32_t ip = 0;  // host byte order
  uint16_t port = 0;

  bool operator==(const Address&) const = default;
  bool valid() const { return port != 0; }
  std::string str() const;  // "a.b.c.d:port"
  std::string ip_str() const;
  // Network-order IPv4 bytes, as memberlist puts them in messages.
  std::array<uint8_t, 4> ip_bytes() const;
  static Address from_ip_bytes(const uint8_t* p, uint16_t port);
  // "a.b.c.d", "a.b.c.d:port" or "name/a.b.c.d:port" (memberlist's join form);
  // default_port is used when none is given. Returns false on anything else.
  static bool parse(std::string_view text, uint16_t default_port, Address& out);
};

struct AddressHash {
  size_t operator()(const Address& a) const {
    return std::hash<uint64_t>{}((uint64_t{a.ip} << 16) | a.port);
  }
};

// memberlist's NodeStateType: the numbers go on the wire in push/pull.
enum class NodeStatus : uint8_t { alive = 0, suspect = 1, dead = 2, left = 3 };
std::string_view status_name(NodeStatus s);

// [pmin, pmax, pcur, dmin, dmax, dcur]: memberlist protocol range and spoken
// version, then the delegate's (Serf's).
using Vsn = std::array<uint8_t, 6>;

// memberlist ProtocolVersionMin/Max and the version it speaks by default.
inline constexpr uint8_t kProtocolMin = 1;
inline constexpr uint8_t kProtocolMax = 5;
inline constexpr uint8_t kProtocolCur = 2;
// Node meta (Serf tags) must fit in this many bytes (memberlist MetaMaxSize).
inline constexpr size_t kMetaMaxSize = 512;

}  // namespace cairn::gossip
