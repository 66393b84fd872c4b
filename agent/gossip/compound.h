// memberlist compound messages: several complete messages in one packet.
//
//   0x07 | count:u8 | count x len:u16be | part_1 | ... | part_count
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/gossip/msgpack_codec.h"

namespace cairn::gossip {

// At most 255 parts fit the one-byte count.
inline constexpr size_t kMaxCompoundParts = 255;
// Bytes a compound adds: the type and count bytes, and two per part.
inline constexpr size_t kCompoundHeaderOverhead = 2;
inline constexpr size_t kCompoundOverhead = 2;

// Appends a compound of parts (at most 255, each at most 65535 bytes).
void make_compound(std::span<const std::string_view> parts, std::string& out);

// Splits a compound body (after the 0x07 byte). Parts that run past the end
// are not returned and are counted in truncated, as memberlist does.
// Returns false when even the header is incomplete.
bool split_compound(Bytes body, std::vector<Bytes>& parts, size_t& truncated);

}  // namespace cairn::gossip
