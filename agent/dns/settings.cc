#include "agent/dns/settings.h"

#include <algorithm>

#include "agent/state/store.h"
#include "common/dns/name.h"

namespace cairn::dns {

namespace {

uint32_t seconds(Nanos d) {
  if (d <= 0) return 0;
  return static_cast<uint32_t>(std::min<Nanos>(d / kSecond, INT32_MAX));
}

// "consul", "Consul." -> "consul." and its wire form.
std::string add_domain(const std::string& configured, const char* what, Settings& out) {
  std::string text = state::lower(configured);
  if (text.empty() || text.back() != '.') text += '.';
  std::string wire;
  if (text == "." || !name_to_wire(text, wire))
    return std::string(what) + ": \"" + configured + "\" is not a valid DNS domain";
  out.domains_text.push_back(text);
  out.domains_wire.push_back(wire);
  return "";
}

}  // namespace

uint32_t Settings::service_ttl(std::string_view lc_name) const {
  if (!service_ttl_exact.empty()) {
    auto it = service_ttl_exact.find(std::string(lc_name));
    if (it != service_ttl_exact.end()) return it->second;
  }
  for (const auto& [prefix, ttl] : service_ttl_prefixes)
    if (lc_name.substr(0, prefix.size()) == prefix) return ttl;
  return 0;
}

std::string make_settings(const config::Config& cfg, Settings& out) {
  out = Settings{};
  if (std::string e = add_domain(cfg.domain, "domain", out); !e.empty()) return e;
  if (!cfg.alt_domain.empty())
    if (std::string e = add_domain(cfg.alt_domain, "alt_domain", out); !e.empty()) return e;
  out.datacenter = cfg.datacenter;
  out.datacenter_lc = state::lower(cfg.datacenter);
  out.node_name = cfg.node_name;

  const config::DnsConfig& d = cfg.dns_config;
  out.node_ttl = seconds(d.node_ttl);
  for (const auto& [key, ttl] : d.service_ttl) {
    std::string k = state::lower(key);
    if (!k.empty() && k.back() == '*') {
      k.pop_back();
      out.service_ttl_prefixes.emplace_back(k, seconds(ttl));
    } else {
      out.service_ttl_exact[k] = seconds(ttl);
    }
  }
  std::sort(out.service_ttl_prefixes.begin(), out.service_ttl_prefixes.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  out.only_passing = d.only_passing;
  out.enable_truncate = d.enable_truncate;
  out.udp_answer_limit = std::clamp(d.udp_answer_limit, 1, kMaxUdpAnswerLimit);
  out.a_record_limit = std::max(0, d.a_record_limit);
  out.compress = !d.disable_compression;
  out.node_meta_txt = d.enable_additional_node_meta_txt;
  out.soa_refresh = d.soa_refresh;
  out.soa_retry = d.soa_retry;
  out.soa_expire = d.soa_expire;
  out.soa_min_ttl = d.soa_min_ttl;
  out.recursion_available = !cfg.recursors.empty();
  return "";
}

}  // namespace cairn::dns
