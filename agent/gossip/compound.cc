#include "agent/gossip/compound.h"

#include "agent/gossip/messages.h"

namespace cairn::gossip {

void make_compound(std::span<const std::string_view> parts, std::string& out) {
  out.push_back(static_cast<char>(MsgType::compound));
  out.push_back(static_cast<char>(parts.size()));
  for (auto p : parts) {
    out.push_back(static_cast<char>(p.size() >> 8));
    out.push_back(static_cast<char>(p.size() & 0xff));
  }
  for (auto p : parts) out.append(p);
}

bool split_compound(Bytes body, std::vector<Bytes>& parts, size_t& truncated) {
  parts.clear();
  truncated = 0;
  if (body.empty()) return false;
  const size_t n = body[0];
  if (body.size() < 1 + 2 * n) return false;
  size_t off = 1 + 2 * n;
  for (size_t i = 0; i < n; ++i) {
    const size_t len = (size_t{body[1 + 2 * i]} << 8) | body[2 + 2 * i];
    if (body.size() - off < len) {
      truncated = n - i;
      return true;
    }
    parts.push_back(body.subspan(off, len));
    off += len;
  }
  return true;
}

}  // namespace cairn::gossip
