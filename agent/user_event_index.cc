#include "agent/user_event_index.h"

#include <optional>

namespace cairn {

namespace {

// Adds the hex digits of part to value; nullopt on anything else.
std::optional<uint64_t> append_hex(uint64_t value, std::string_view part) {
  for (char c : part) {
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return std::nullopt;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  return value;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

uint64_t user_event_index(std::string_view id) {
  // 8-4-4-4-12: the first three groups are one half, the last two the other.
  bool dashes = id.size() == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-';
  if (dashes) {
    auto low = append_hex(0, id.substr(0, 8));
    if (low) low = append_hex(*low, id.substr(9, 4));
    if (low) low = append_hex(*low, id.substr(14, 4));
    auto high = append_hex(0, id.substr(19, 4));
    if (high) high = append_hex(*high, id.substr(24, 12));
    if (low && high) return *low ^ *high;
  }
  return fnv1a(id);
}

}  // namespace cairn
