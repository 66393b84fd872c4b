// What a DNS name resolves to in the store, in the form the answer builder
// writes: healthy service instances with their SRV targets, addresses,
// weights and node-meta TXT data; nodes; reverse (PTR) targets.
//
// Computing a result walks the store (instances, nodes, checks) and builds
// wire-format names; the result only changes when the store does. Lookups
// therefore keeps each result until the store changes (its generation; or the settings
// change), so a steady stream of `web.service.consul` questions costs one
// hash lookup each, with no store walk and no allocation. Reads only; the
// cache is rebuilt lazily after every change.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/dns/settings.h"
#include "agent/state/store.h"
#include "common/net/address.h"

namespace cairn::dns {

using net::IpAddr;
using net::parse_ip;

// One service instance as DNS presents it (Consul's nodeServiceRecords).
struct Endpoint {
  enum class Kind : uint8_t {
    node_ip,     // no service address: the node's IP, SRV target <node>.node.<dc>.<domain>
    service_ip,  // an IP service address: SRV target <hex>.addr.<dc>.<domain>
    hostname,    // a hostname (service or node address): CNAME / SRV target to it
  };
  Kind kind = Kind::node_ip;
  IpAddr ip;              // node_ip, service_ip
  std::string target;     // SRV target, wire format (the hostname for Kind::hostname)
  std::string target_lc;  // hostname kind: lower-cased, to spot a service named after itself
  IpAddr node_ip;         // the node's IP, for that case and for `Near: _ip`
  std::string
      node_target;  // <node>.node.<dc>.<domain>, wire; "" when the node name is not a DNS name
  uint16_t port = 0;
  uint16_t weight = 1;
  std::vector<std::string> txt;  // node meta as TXT RDATA
  std::string srv_key;           // one SRV per (node, service address, port)
  std::string node_lc;
};

struct EndpointSet {
  bool found = false;   // the service or query exists and has healthy instances
  bool failed = false;  // the lookup itself failed (a template that does not render): SERVFAIL
  uint32_t ttl = 0;
  std::vector<Endpoint> endpoints;
  std::string near_node;  // prepared queries: instance to put first, lower-cased ("" = none)
  bool near_ip = false;   // prepared queries with `Near: _ip`: the client's node goes first
  bool may_fail_over = false;  // prepared queries: Failover names other datacenters
  std::string service_lc;      // prepared queries: the service the query reads
};

struct NodeRecords {
  bool found = false;
  IpAddr ip;
  std::string hostname;  // wire, when the node address is not an IP
  std::vector<std::string> txt;
};

class Lookups {
 public:
  explicit Lookups(const Settings& settings) : settings_(&settings) {}

  // Drops every result if the store or the settings changed since they were made.
  void sync(const state::Store& store, uint64_t settings_generation);

  // References stay valid until the next sync().
  const EndpointSet& service(const state::Store& store, std::string_view service_lc,
                             std::string_view tag_lc, size_t domain);
  const EndpointSet& prepared_query(const state::Store& store, std::string_view name_lc,
                                    size_t domain);
  const NodeRecords& node(const state::Store& store, std::string_view node_lc, size_t domain);
  // The PTR target for an address (node first, then service addresses), or nullptr.
  const std::string* reverse(const state::Store& store, const IpAddr& ip);
  // Healthy `consul` server instances for NS answers.
  const EndpointSet& servers(const state::Store& store, size_t domain);

  size_t size() const { return services_.size() + queries_.size() + nodes_.size() + ptrs_.size(); }

 private:
  void build_endpoint(const state::Node& n, const state::Service& s, const std::string& status,
                      size_t domain, std::vector<Endpoint>& out) const;
  std::string node_target(std::string_view node_name, size_t domain) const;
  std::vector<std::string> meta_txt(const state::Node& n) const;

  const Settings* settings_;
  uint64_t store_generation_ = UINT64_MAX;
  uint64_t settings_generation_ = UINT64_MAX;
  std::string key_;  // reused key buffer
  std::unordered_map<std::string, EndpointSet> services_;
  std::unordered_map<std::string, EndpointSet> queries_;
  std::unordered_map<std::string, NodeRecords> nodes_;
  std::unordered_map<std::string, std::string> ptrs_;  // "" = no match
};

// TXT RDATA for one node-meta pair: RFC 1464 `key=value` (keys starting
// `rfc1035-` give the bare value), cut into 255-byte character-strings.
std::string meta_txt_rdata(std::string_view key, std::string_view value);

// 8 or 32 lower-case hex digits of an address, as in <hex>.addr.<dc>.<domain>.
std::string hex_of(const IpAddr& ip);

}  // namespace cairn::dns
