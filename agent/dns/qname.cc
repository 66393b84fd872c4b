#include "agent/dns/qname.h"

#include <cstring>

namespace cairn::dns {

namespace {

constexpr size_t kMaxLabels = 128;

struct Labels {
  std::string_view v[kMaxLabels];  // only [0, n) is ever read
  size_t n = 0;
};

bool is_kind(std::string_view l, NameKind& kind) {
  if (l == "service")
    kind = NameKind::service;
  else if (l == "node")
    kind = NameKind::node;
  else if (l == "query")
    kind = NameKind::query;
  else if (l == "addr")
    kind = NameKind::addr;
  else if (l == "connect")
    kind = NameKind::connect;
  else if (l == "ingress")
    kind = NameKind::ingress;
  else if (l == "virtual")
    kind = NameKind::virtual_ip;
  else
    return false;
  return true;
}

// Joins labels [from, to) with dots into out.storage at *used.
std::string_view join(const Labels& l, size_t from, size_t to, ParsedName& out, size_t& used) {
  size_t start = used;
  for (size_t i = from; i < to; ++i) {
    if (i > from && used < out.storage.size()) out.storage[used++] = '.';
    size_t n = std::min(l.v[i].size(), out.storage.size() - used);
    std::memcpy(out.storage.data() + used, l.v[i].data(), n);
    used += n;
  }
  return {out.storage.data() + start, used - start};
}

// Consul's parseLocality: nothing, a legacy `<dc>`, or `<dc>.dc` / `<peer>.peer` pairs.
bool parse_locality(const Labels& l, size_t from, ParsedName& out) {
  size_t n = l.n - from;
  if (n == 0) return true;
  if (n == 1) {
    out.datacenter = l.v[from];
    return true;
  }
  if (n != 2 && n != 4) return false;
  bool dc = false;
  for (size_t i = from; i < l.n; i += 2) {
    if (l.v[i + 1] == "dc") {
      if (dc) return false;
      dc = true;
      out.datacenter = l.v[i];
    } else if (l.v[i + 1] == "peer") {
      if (out.peer) return false;
      out.peer = true;
    } else {
      return false;
    }
  }
  return !(dc && out.peer);
}

}  // namespace

void parse_qname(const Query& q, const Settings& settings, ParsedName& out) {
  out.kind = NameKind::outside;
  out.domain = 0;
  out.service = out.tag = out.node = out.query = out.hex = out.datacenter = {};
  out.peer = false;

  // Label starts in the lower-cased wire name.
  std::string_view wire = q.name_wire_lc();
  std::array<size_t, kMaxLabels> starts;
  size_t total = 0;
  for (size_t p = 0; p < wire.size() && wire[p] != 0 && total < kMaxLabels;
       p += 1 + static_cast<uint8_t>(wire[p]))
    starts[total++] = p;

  // The longest matching domain: the earliest label start whose suffix is a domain.
  size_t domain_at = total;
  for (size_t i = 0; i < total && domain_at == total; ++i)
    for (size_t d = 0; d < settings.domains_wire.size(); ++d)
      if (wire.substr(starts[i]) == settings.domains_wire[d]) {
        domain_at = i;
        out.domain = d;
        break;
      }
  if (domain_at == total) {
    if (total > 0 && wire.substr(starts[total - 1]) == std::string_view("\4arpa\0", 6))
      out.kind = NameKind::arpa;
    return;
  }

  Labels l;
  for (size_t i = 0; i < domain_at; ++i)
    l.v[l.n++] = wire.substr(starts[i] + 1, static_cast<uint8_t>(wire[starts[i]]));

  // Scan from the right for the kind label.
  out.kind = NameKind::invalid;
  size_t parts_end = 0;  // query parts are [0, parts_end)
  size_t suffix_from = 0;
  for (size_t i = l.n; i-- > 0;) {
    NameKind k;
    if (is_kind(l.v[i], k)) {
      out.kind = k;
      parts_end = i;
      suffix_from = i + 1;
      break;
    }
    if (q.qtype == kTypeSRV && !l.v[i].empty() && l.v[i][0] == '_') {
      out.kind = NameKind::service;  // `_web._tcp.consul`: .service is optional for SRV
      parts_end = i + 1;
      suffix_from = i + 1;
      break;
    }
  }
  if (out.kind == NameKind::invalid) return;

  size_t used = 0;
  const size_t n = parts_end;
  auto invalid = [&] { out.kind = NameKind::invalid; };
  switch (out.kind) {
    case NameKind::service:
      if (n < 1 || !parse_locality(l, suffix_from, out)) return invalid();
      if (n == 2 && l.v[0].size() > 1 && l.v[0][0] == '_' && l.v[1].size() > 0 &&
          l.v[1][0] == '_') {
        // RFC 2782: _service._tag; `_tcp` means no tag filter.
        out.service = l.v[0].substr(1);
        out.tag = l.v[1] == "_tcp" ? std::string_view{} : l.v[1].substr(1);
      } else {
        out.service = l.v[n - 1];
        if (n >= 2) out.tag = join(l, 0, n - 1, out, used);
      }
      return;
    case NameKind::node:
      if (n < 1 || !parse_locality(l, suffix_from, out)) return invalid();
      out.node = join(l, 0, n, out, used);
      return;
    case NameKind::query: {
      if (n < 1 || l.n - suffix_from > 1) return invalid();
      if (l.n - suffix_from == 1) out.datacenter = l.v[suffix_from];
      if (n >= 2 && !l.v[0].empty() && l.v[0][0] == '_' && !l.v[n - 1].empty() &&
          l.v[n - 1][0] == '_') {
        std::string_view j = join(l, 0, n - 1, out, used);
        out.query = j.substr(1);  // RFC 2782 form; the protocol label is ignored
      } else {
        out.query = join(l, 0, n, out, used);
      }
      return;
    }
    case NameKind::addr:
      if (n != 1 || !parse_locality(l, suffix_from, out)) return invalid();
      out.hex = l.v[0];
      out.datacenter = {};  // an address is the same in every datacenter
      return;
    case NameKind::connect:
    case NameKind::ingress:
    case NameKind::virtual_ip:
      if (n < 1 || !parse_locality(l, suffix_from, out)) return invalid();
      out.service = l.v[n - 1];
      return;
    default:
      return;
  }
}

}  // namespace cairn::dns
