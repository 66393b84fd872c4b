// Domain routes: which upstream group answers a name. The longest suffix
// that matches on whole labels wins (dnsmasq's server=/dom/ rule), so
// "consul" sends every *.consul name to the agent while a more specific
// "db.consul" could go elsewhere; names under no route go to group 0, the
// default upstreams. Pure: built from config, then only read.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnsfwd/address.h"

namespace cairn::dnsfwd {

inline constexpr uint32_t kDefaultGroup = 0;

class Router {
 public:
  // suffix: case-folded uncompressed wire name. A later add for the same
  // suffix replaces the earlier one.
  void add(const std::vector<uint8_t>& suffix, uint32_t group);

  // qname: case-folded uncompressed wire name. Returns the group index.
  uint32_t route(const uint8_t* qname, size_t len) const;

  size_t size() const { return groups_.size(); }
  bool empty() const { return groups_.empty(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> groups_;
  // Wire lengths of the configured suffixes: most label boundaries of a
  // query name can be skipped without a hash lookup.
  std::bitset<256> lengths_;
};

// The reverse-lookup zones that cover a network: 10.0.0.0/8 ->
// 10.in-addr.arpa, 172.16.0.0/12 -> 16..31.172.in-addr.arpa (a prefix that
// does not end on an octet, or a nibble for IPv6, expands to every zone at
// the next boundary), fd00::/8 -> d.f.ip6.arpa and so on.
std::vector<std::vector<uint8_t>> reverse_zones(const Cidr& net);

}  // namespace cairn::dnsfwd
