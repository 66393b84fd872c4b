// The outer layers of a memberlist packet or stream, other than encryption:
// the CRC header (0x0c | crc32:u32be), the label header (0xf4 | len | label)
// and the stream message framing used to know when a TCP message is whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/gossip/msgpack_codec.h"

namespace cairn::gossip {

inline constexpr size_t kMaxLabelSize = 255;
// memberlist refuses push/pull states, user messages and decompressed
// buffers beyond this (maxPushStateBytes).
inline constexpr size_t kMaxStreamBytes = 20 * 1024 * 1024;

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

// Size of the first complete stream message at the start of buf, including
// a label header, encryption frame or compress wrapper; 0 when more bytes
// are needed; SIZE_MAX when it can never become valid (unknown type, limits).
size_t stream_message_size(Bytes buf);

}  // namespace cairn::gossip
