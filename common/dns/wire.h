// DNS wire-format constants and big-endian field access (RFC 1035 §4.1).
//
// Shared by the forwarder and the agent's DNS interface. Header-only, no
// allocation: callers pass raw buffers and check bounds before reading.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cairn::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameWire = 255;  // RFC 1035 §2.3.4, including the root label
inline constexpr size_t kMaxLabel = 63;
inline constexpr size_t kMaxMessage = 65535;    // a TCP frame's length field
inline constexpr size_t kClassicUdpSize = 512;  // RFC 1035 limit without EDNS0
inline constexpr size_t kOptRrSize = 11;        // root name, type, class, ttl, rdlength=0

// Record types the forwarder and the agent look at by number.
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNS = 2;
inline constexpr uint16_t kTypeCNAME = 5;
inline constexpr uint16_t kTypeSOA = 6;
inline constexpr uint16_t kTypePTR = 12;
inline constexpr uint16_t kTypeMX = 15;
inline constexpr uint16_t kTypeTXT = 16;
inline constexpr uint16_t kTypeAAAA = 28;
inline constexpr uint16_t kTypeSRV = 33;
inline constexpr uint16_t kTypeDNAME = 39;
inline constexpr uint16_t kTypeOPT = 41;
inline constexpr uint16_t kTypeRRSIG = 46;
inline constexpr uint16_t kTypeIXFR = 251;
inline constexpr uint16_t kTypeAXFR = 252;
inline constexpr uint16_t kTypeANY = 255;
inline constexpr uint16_t kClassIN = 1;
inline constexpr uint16_t kClassANY = 255;

// Header flag word (bytes 2-3).
inline constexpr uint16_t kFlagQR = 0x8000;
inline constexpr uint16_t kOpcodeMask = 0x7800;
inline constexpr uint16_t kFlagAA = 0x0400;
inline constexpr uint16_t kFlagTC = 0x0200;
inline constexpr uint16_t kFlagRD = 0x0100;
inline constexpr uint16_t kFlagRA = 0x0080;
inline constexpr uint16_t kFlagZ = 0x0040;
inline constexpr uint16_t kFlagAD = 0x0020;
inline constexpr uint16_t kFlagCD = 0x0010;
inline constexpr uint16_t kRcodeMask = 0x000f;

inline constexpr uint16_t kOpcodeQuery = 0;

inline constexpr uint16_t kRcodeNoError = 0;
inline constexpr uint16_t kRcodeFormErr = 1;
inline constexpr uint16_t kRcodeServFail = 2;
inline constexpr uint16_t kRcodeNxDomain = 3;
inline constexpr uint16_t kRcodeNotImp = 4;
inline constexpr uint16_t kRcodeRefused = 5;
inline constexpr uint16_t kRcodeBadVers = 16;  // extended: needs the OPT record's upper bits

// OPT TTL field (RFC 6891 §6.1.3): ext-rcode(8) version(8) DO(1) Z(15).
inline constexpr uint32_t kEdnsDO = 0x8000;
// EDNS option codes.
inline constexpr uint16_t kOptionEcs = 8;  // Client Subnet (RFC 7871)

inline uint16_t get16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;

  bool qr() const { return flags & kFlagQR; }
  uint16_t opcode() const { return (flags & kOpcodeMask) >> 11; }
  uint16_t rcode() const { return flags & kRcodeMask; }
  bool tc() const { return flags & kFlagTC; }
};

// Caller guarantees len >= kHeaderSize.
inline Header read_header(const uint8_t* p) {
  return Header{get16(p), get16(p + 2), get16(p + 4), get16(p + 6), get16(p + 8), get16(p + 10)};
}
inline void write_header(uint8_t* p, const Header& h) {
  put16(p, h.id);
  put16(p + 2, h.flags);
  put16(p + 4, h.qdcount);
  put16(p + 6, h.ancount);
  put16(p + 8, h.nscount);
  put16(p + 10, h.arcount);
}

// RFC 2181 §8: TTLs with the top bit set are treated as zero.
inline uint32_t sane_ttl(uint32_t ttl) {
  return (ttl & 0x80000000u) ? 0 : ttl;
}

}  // namespace cairn::dns
