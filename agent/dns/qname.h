// Consul's name grammar: what a question name under the domain asks for
// (reference/consul-dns.md section 2). Labels are read right to left after
// the domain; the first "kind" label (service, node, query, addr, connect,
// ingress, virtual) splits them into query parts on its left and a locality
// (datacenter) on its right. SRV questions may leave out `.service`.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "agent/dns/settings.h"
#include "common/dns/query.h"

namespace cairn::dns {

enum class NameKind {
  outside,  // not under a cairn domain nor arpa.: recursors
  arpa,     // reverse lookups
  invalid,  // under the domain but not a name the grammar knows: NXDOMAIN
  service,
  node,
  query,
  addr,
  connect,
  ingress,
  virtual_ip,
};

struct ParsedName {
  NameKind kind = NameKind::outside;
  size_t domain = 0;  // index into Settings::domains_*
  // Kind-specific values, lower-cased. Dotted values (a node name with dots,
  // a tag with dots) are joined into `storage`.
  std::string_view service;     // service, connect, ingress, virtual
  std::string_view tag;         // service: "" = no tag filter
  std::string_view node;        // node
  std::string_view query;       // query: name or ID
  std::string_view hex;         // addr
  std::string_view datacenter;  // "" = local
  bool peer = false;            // a `.peer` locality: peering is not served
  std::array<char, kMaxNameWire + 1> storage{};
};

// Parses the lower-cased question name for a question of type qtype.
void parse_qname(const Query& q, const Settings& settings, ParsedName& out);

}  // namespace cairn::dns
