#include "agent/dns/lookup.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "agent/state/prepared_query.h"
#include "common/dns/name.h"

namespace cairn::dns {

namespace {

// An attacker asking for random names must not grow the cache without
// bound; past this many results per kind it starts over.
constexpr size_t kMaxCachedResults = 4096;

bool is_valid_label_text(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string rfc1464_key(std::string_view key) {
  std::string k;
  for (char c : key) {
    if (c == '`')
      k += "``";
    else if (c == '=')
      k += "`=";
    else
      k += c;
  }
  // Leading and trailing spaces are backquoted, one "` " each.
  size_t lead = 0;
  while (lead < k.size() && k[lead] == ' ') ++lead;
  size_t trail = 0;
  while (trail < k.size() - lead && k[k.size() - 1 - trail] == ' ') ++trail;
  std::string out;
  for (size_t i = 0; i < lead; ++i) out += "` ";
  out += k.substr(lead, k.size() - lead - trail);
  for (size_t i = 0; i < trail; ++i) out += "` ";
  return out;
}

}  // namespace

std::string hex_of(const IpAddr& ip) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < ip.len; ++i) {
    out += kHex[ip.bytes[i] >> 4];
    out += kHex[ip.bytes[i] & 15];
  }
  return out;
}

std::string meta_txt_rdata(std::string_view key, std::string_view value) {
  std::string text;
  if (state::lower(key).rfind("rfc1035-", 0) == 0) {
    text = value;
  } else {
    text = rfc1464_key(key) + "=";
    for (char c : value) {
      if (c == '`')
        text += "``";
      else
        text += c;
    }
  }
  std::string rdata;
  size_t pos = 0;
  do {
    size_t n = std::min<size_t>(255, text.size() - pos);
    rdata += static_cast<char>(n);
    rdata.append(text, pos, n);
    pos += n;
  } while (pos < text.size());
  return rdata;
}

void Lookups::sync(const state::Store& store, uint64_t settings_generation) {
  if (store.generation() == store_generation_ && settings_generation == settings_generation_) {
    if (services_.size() > kMaxCachedResults) services_.clear();
    if (queries_.size() > kMaxCachedResults) queries_.clear();
    if (nodes_.size() > kMaxCachedResults) nodes_.clear();
    if (ptrs_.size() > kMaxCachedResults) ptrs_.clear();
    return;
  }
  store_generation_ = store.generation();
  settings_generation_ = settings_generation;
  services_.clear();
  queries_.clear();
  nodes_.clear();
  ptrs_.clear();
}

std::string Lookups::node_target(std::string_view node_name, size_t domain) const {
  std::string text(node_name);
  text += ".node.";
  text += settings_->datacenter;
  text += '.';
  text += settings_->domains_text[domain];
  std::string wire;
  if (!name_to_wire(text, wire)) return "";
  return wire;
}

std::vector<std::string> Lookups::meta_txt(const state::Node& n) const {
  std::vector<std::string> out;
  out.reserve(n.meta.size());
  for (const auto& [k, v] : n.meta) out.push_back(meta_txt_rdata(k, v));
  return out;
}

void Lookups::build_endpoint(const state::Node& n, const state::Service& s,
                             const std::string& status, size_t domain,
                             std::vector<Endpoint>& out) const {
  Endpoint e;
  e.node_lc = state::lower(n.name);
  e.node_target = node_target(n.name, domain);
  e.node_ip = parse_ip(n.address);
  e.port = static_cast<uint16_t>(s.port);
  int w = status == state::kWarning ? s.weights.warning : s.weights.passing;
  e.weight = static_cast<uint16_t>(std::clamp(w, 0, 65535));
  e.srv_key = n.name + '\0' + s.address + '\0' + std::to_string(s.port);

  auto addr_target = [&](const IpAddr& ip) {
    std::string wire;
    name_to_wire(
        hex_of(ip) + ".addr." + settings_->datacenter + "." + settings_->domains_text[domain],
        wire);
    return wire;
  };
  if (s.address.empty()) {
    if (e.node_ip.len) {
      e.kind = Endpoint::Kind::node_ip;
      e.ip = e.node_ip;
      // A node name that is not a DNS name still gets an SRV target.
      e.target = e.node_target.empty() ? addr_target(e.ip) : e.node_target;
    } else {
      e.kind = Endpoint::Kind::hostname;
      if (!name_to_wire(n.address, e.target)) return;
    }
  } else {
    IpAddr sip = parse_ip(s.address);
    if (sip.len) {
      e.kind = Endpoint::Kind::service_ip;
      e.ip = sip;
      e.target = addr_target(sip);
    } else {
      e.kind = Endpoint::Kind::hostname;
      if (!name_to_wire(s.address, e.target)) return;
      e.target_lc = state::lower(e.target);
    }
  }
  if (settings_->node_meta_txt && !e.node_target.empty()) e.txt = meta_txt(n);
  out.push_back(std::move(e));
}

const EndpointSet& Lookups::service(const state::Store& store, std::string_view service_lc,
                                    std::string_view tag_lc, size_t domain) {
  key_.assign(1, static_cast<char>('0' + domain));
  key_ += service_lc;
  key_ += '\0';
  key_ += tag_lc;
  auto it = services_.find(key_);
  if (it != services_.end()) return it->second;

  EndpointSet set;
  set.ttl = settings_->service_ttl(service_lc);
  for (const state::Service* s : store.service_instances(service_lc)) {
    if (!tag_lc.empty() && std::none_of(s->tags.begin(), s->tags.end(), [&](const std::string& t) {
          return state::lower(t) == tag_lc;
        }))
      continue;
    const state::Node* n = store.node(s->node);
    if (!n) continue;
    std::vector<const state::Check*> checks = store.node_checks(s->node);
    for (const state::Check* c : store.instance_checks(s->node, s->id)) checks.push_back(c);
    // Critical (maintenance checks are critical) is never returned; warning
    // only without only_passing.
    bool healthy = std::none_of(checks.begin(), checks.end(), [&](const state::Check* c) {
      return c->status == state::kCritical ||
             (settings_->only_passing && c->status != state::kPassing);
    });
    if (!healthy) continue;
    build_endpoint(*n, *s, state::aggregated_status(checks), domain, set.endpoints);
  }
  set.found = !set.endpoints.empty();
  return services_.emplace(key_, std::move(set)).first->second;
}

const EndpointSet& Lookups::prepared_query(const state::Store& store, std::string_view name_lc,
                                           size_t domain) {
  key_.assign(1, static_cast<char>('0' + domain));
  key_ += name_lc;
  auto it = queries_.find(key_);
  if (it != queries_.end()) return it->second;

  EndpointSet set;
  std::string error;
  std::optional<state::PreparedQuery> q = state::resolve_query(store, name_lc, &error);
  if (!q) {
    set.failed = !error.empty();
    return queries_.emplace(key_, std::move(set)).first->second;
  }
  set.service_lc = state::lower(q->service.service);
  auto ttl = q->dns_ttl.empty() ? std::nullopt : parse_duration(q->dns_ttl);
  set.ttl = ttl ? static_cast<uint32_t>(std::clamp<Nanos>(*ttl / kSecond, 0, INT32_MAX))
                : settings_->service_ttl(state::lower(q->service.service));
  for (const state::QueryResultNode& r : state::execute_query(store, q->service))
    build_endpoint(*r.node, *r.service, state::aggregated_status(r.checks), domain, set.endpoints);
  if (q->service.near == "_agent")
    set.near_node = state::lower(settings_->node_name);
  else if (q->service.near == "_ip")
    set.near_ip = true;
  else
    set.near_node = state::lower(q->service.near);
  set.found = !set.endpoints.empty();
  set.may_fail_over = q->service.failover.nearest_n > 0 || !q->service.failover.datacenters.empty();
  return queries_.emplace(key_, std::move(set)).first->second;
}

const NodeRecords& Lookups::node(const state::Store& store, std::string_view node_lc,
                                 size_t domain) {
  key_.assign(1, static_cast<char>('0' + domain));
  key_ += node_lc;
  auto it = nodes_.find(key_);
  if (it != nodes_.end()) return it->second;
  NodeRecords rec;
  if (const state::Node* n = store.node(node_lc)) {
    rec.found = true;
    rec.ip = parse_ip(n->address);
    if (!rec.ip.len && !name_to_wire(n->address, rec.hostname)) rec.hostname.clear();
    rec.txt = meta_txt(*n);
  }
  return nodes_.emplace(key_, std::move(rec)).first->second;
}

const std::string* Lookups::reverse(const state::Store& store, const IpAddr& ip) {
  key_.assign(ip.view());
  auto it = ptrs_.find(key_);
  if (it == ptrs_.end()) {
    std::string target;
    // Nodes first (by name, the first match wins), then service addresses;
    // targets always use the primary domain, as Consul's do.
    for (const auto& [_, n] : store.nodes()) {
      if (parse_ip(n.address) == ip) {
        target = node_target(n.name, 0);
        if (!target.empty()) break;
      }
    }
    for (auto s = store.services_by_name().begin();
         target.empty() && s != store.services_by_name().end(); ++s) {
      for (const auto& k : s->second) {
        const state::Service* svc = store.instance(k);
        if (!svc || svc->address.empty() || !(parse_ip(svc->address) == ip)) continue;
        name_to_wire(
            svc->name + ".service." + settings_->datacenter + "." + settings_->domains_text[0],
            target);
        break;
      }
    }
    it = ptrs_.emplace(key_, std::move(target)).first;
  }
  return it->second.empty() ? nullptr : &it->second;
}

const EndpointSet& Lookups::servers(const state::Store& store, size_t domain) {
  const EndpointSet& all = service(store, "consul", "", domain);
  // NS targets must be host names: skip nodes whose name is not a DNS label.
  key_.assign(1, static_cast<char>('0' + domain));
  key_ += "\x01ns";  // cannot collide with a service key, which ends with '\0' + tag
  auto it = services_.find(key_);
  if (it != services_.end()) return it->second;
  EndpointSet ns;
  for (const Endpoint& e : all.endpoints) {
    std::string_view name(e.node_lc);
    if (!is_valid_label_text(name) || e.node_target.empty() || !e.node_ip.len) continue;
    Endpoint copy = e;
    copy.target = state::lower(e.node_target);
    ns.endpoints.push_back(std::move(copy));
  }
  ns.found = !ns.endpoints.empty();
  return services_.emplace(key_, std::move(ns)).first->second;
}

}  // namespace cairn::dns
