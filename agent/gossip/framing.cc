#include "agent/gossip/framing.h"

#include <zlib.h>

#include "agent/gossip/messages.h"

namespace cairn::gossip {

uint32_t crc32_ieee(Bytes data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; gossip packets are far below 4 GiB.
  return static_cast<uint32_t>(crc32(crc, data.data(), static_cast<uInt>(data.size())));
}

void add_crc(Bytes msg, std::string& out) {
  const uint32_t c = crc32_ieee(msg);
  out.push_back(static_cast<char>(MsgType::has_crc));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(c >> shift));
  out.append(as_view(msg));
}

void add_label(std::string_view label, std::string& out) {
  if (label.empty()) return;
  out.push_back(static_cast<char>(MsgType::has_label));
  out.push_back(static_cast<char>(label.size()));
  out.append(label);
}

LabelResult strip_label(Bytes& data, std::string_view expected, bool skip_check) {
  std::string_view got;
  if (!data.empty() && data[0] == static_cast<uint8_t>(MsgType::has_label)) {
    if (data.size() < 2) return LabelResult::malformed;
    const size_t n = data[1];
    if (n == 0 || data.size() < 2 + n) return LabelResult::malformed;
    got = as_view(data.subspan(2, n));
    data = data.subspan(2 + n);
  } else if (skip_check) {
    return LabelResult::ok;
  }
  return got == expected ? LabelResult::ok : LabelResult::mismatch;
}

}  // namespace cairn::gossip
