// The outer layers of a memberlist packet or stream, other than encryption:
// the CRC header (0x0c | crc32:u32be) and the label header (0xf4 | len |
// label). When a TCP message is whole is StreamParser's business.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/gossip/msgpack_codec.h"

namespace cairn::gossip {

inline constexpr size_t kMaxLabelSize = 255;

uint32_t crc32_ieee(Bytes data);

// Prepends nothing; appends 0x0c | crc(msg) | msg to out.
void add_crc(Bytes msg, std::string& out);
// Appends 0xf4 | len | label (nothing for an empty label).
void add_label(std::string_view label, std::string& out);

enum class LabelResult { ok, mismatch, malformed };
// Strips a label header from data (when present) and checks it against the
// configured label. With skip_check, unlabeled input is taken as carrying
// the configured label (memberlist's SkipInboundLabelCheck).
LabelResult strip_label(Bytes& data, std::string_view expected, bool skip_check);

}  // namespace cairn::gossip
