#include "dnsfwd/upstream_source.h"

#include "common/files.h"
#include "dnsfwd/policy.h"
#include "dnsfwd/resolv_conf.h"

namespace cairn::dnsfwd {

namespace {
bool is_own(const Endpoint& e, const std::vector<Endpoint>& own) {
  for (const auto& o : own) {
    if (o == e) return true;
    // A wildcard listener on this port answers on every local address.
    if (o.port() == e.port() && e.loopback()) {
      std::string a = address_text(o.sa());
      if (a == "0.0.0.0" || a == "::") return true;
    }
  }
  return false;
}
}  // namespace

std::vector<Endpoint> upstreams_from_text(const std::string& text, bool drop_loopback,
                                          const std::vector<Endpoint>& own,
                                          std::vector<std::string>& skipped) {
  std::vector<Endpoint> out;
  for (const auto& token : parse_resolv_conf(text).nameservers) {
    auto e = parse_endpoint(token, 53);
    if (!e) {
      skipped.push_back(token + ": not an IP address");
      continue;
    }
    if (is_own(*e, own)) {
      skipped.push_back(token + ": that is this forwarder (loop)");
      continue;
    }
    if (drop_loopback && e->loopback()) {
      skipped.push_back(token +
                        ": loopback nameserver in resolv.conf (this forwarder or a local stub)");
      continue;
    }
    bool dup = false;
    for (const auto& x : out) dup = dup || x == *e;
    if (!dup && out.size() < kMaxGroupUpstreams) out.push_back(*e);
  }
  return out;
}

bool read_upstream_files(const std::vector<std::string>& files, const std::vector<Endpoint>& own,
                         UpstreamFiles& out, std::string& error) {
  out = UpstreamFiles{};
  std::string reasons;
  for (const auto& path : files) {
    std::string text, err;
    if (!read_file(path, text, err)) {
      reasons += (reasons.empty() ? "" : "; ") + err;
      continue;
    }
    bool is_resolv_conf =
        path.size() >= 11 && path.compare(path.size() - 11, 11, "resolv.conf") == 0;
    std::vector<std::string> skipped;
    auto servers = upstreams_from_text(text, is_resolv_conf, own, skipped);
    for (auto& s : skipped) out.skipped.push_back(path + ": " + s);
    if (servers.empty()) {
      reasons += (reasons.empty() ? "" : "; ") + path + ": no usable nameserver";
      continue;
    }
    out.servers = std::move(servers);
    out.file = path;
    return true;
  }
  error =
      "no upstream servers: " + (reasons.empty() ? std::string("no files configured") : reasons);
  return false;
}

}  // namespace cairn::dnsfwd
