#include "dnsfwd/router.h"

#include <sys/socket.h>

namespace cairn::dnsfwd {

void Router::add(const std::vector<uint8_t>& suffix, uint32_t group) {
  std::string key(suffix.begin(), suffix.end());
  groups_[key] = group;
  lengths_.set(key.size());
}

uint32_t Router::route(const uint8_t* qname, size_t len) const {
  if (groups_.empty()) return kDefaultGroup;
  size_t pos = 0;
  while (pos < len) {
    size_t rest = len - pos;
    if (lengths_.test(rest)) {
      auto it = groups_.find(std::string_view(reinterpret_cast<const char*>(qname + pos), rest));
      if (it != groups_.end()) return it->second;
    }
    if (qname[pos] == 0) break;
    pos += 1u + qname[pos];
  }
  return kDefaultGroup;
}

namespace {
std::vector<uint8_t> labels_to_wire(const std::vector<std::string>& labels) {
  std::vector<uint8_t> out;
  for (const auto& l : labels) {
    out.push_back(static_cast<uint8_t>(l.size()));
    out.insert(out.end(), l.begin(), l.end());
  }
  out.push_back(0);
  return out;
}
}  // namespace

std::vector<std::vector<uint8_t>> reverse_zones(const Cidr& net) {
  std::vector<std::vector<uint8_t>> out;
  if (net.family == AF_INET) {
    int octets = (net.prefix + 7) / 8;  // labels in the zone name
    int spare = octets * 8 - net.prefix;
    int variants = 1 << spare;
    for (int v = 0; v < variants; ++v) {
      std::vector<std::string> labels;
      for (int i = octets - 1; i >= 0; --i) {
        int b = net.bytes[i];
        if (i == octets - 1) b |= v;
        labels.push_back(std::to_string(b));
      }
      labels.push_back("in-addr");
      labels.push_back("arpa");
      out.push_back(labels_to_wire(labels));
    }
  } else {
    int nibbles = (net.prefix + 3) / 4;
    int spare = nibbles * 4 - net.prefix;
    int variants = 1 << spare;
    static const char* hex = "0123456789abcdef";
    for (int v = 0; v < variants; ++v) {
      std::vector<std::string> labels;
      for (int i = nibbles - 1; i >= 0; --i) {
        int byte = net.bytes[i / 2];
        int nib = (i % 2 == 0) ? (byte >> 4) : (byte & 0xf);
        if (i == nibbles - 1) nib |= v;
        labels.push_back(std::string(1, hex[nib]));
      }
      labels.push_back("ip6");
      labels.push_back("arpa");
      out.push_back(labels_to_wire(labels));
    }
  }
  return out;
}

}  // namespace cairn::dnsfwd
