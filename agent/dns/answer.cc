#include "agent/dns/answer.h"

#include <algorithm>
#include <cstring>

#include "common/random.h"

namespace cairn::dns {

namespace {

// UDP payload ceiling: 65535 minus IP and UDP headers (Consul's maxUDPDatagramSize).
constexpr size_t kMaxUdpPayload = 65535 - 68;
constexpr size_t kDefaultUdpSize = 512;
// A TCP message: 64 KiB minus some overhead, as Consul trims to.
constexpr size_t kMaxTcpMessage = 65523;
// More answers than this cannot fit a 64 KiB message anyway (Consul's caps).
constexpr size_t kMaxTcpAnswers = 4096;
constexpr size_t kMaxTcpSrvAnswers = 1024;
// Prepared queries look this deep for the node to put first (Consul's cap).
constexpr size_t kNearSearchDepth = 10;

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t record_hash(uint64_t kind, std::string_view a, std::string_view b) {
  uint64_t h = fnv(14695981039346656037ull ^ kind, a);
  h = fnv(h ^ 0xff, b);
  return h | 1;  // 0 marks an empty slot
}

// A parsed reverse name (in-addr.arpa with 4 labels, ip6.arpa with 32 nibbles).
IpAddr parse_reverse(std::string_view wire) {
  IpAddr ip;
  std::string_view labels[40];
  size_t n = 0;
  for (size_t p = 0; p < wire.size() && wire[p] != 0 && n < 40;
       p += 1 + static_cast<uint8_t>(wire[p]))
    labels[n++] = wire.substr(p + 1, static_cast<uint8_t>(wire[p]));
  if (n == 6 && labels[4] == "in-addr" && labels[5] == "arpa") {
    for (size_t i = 0; i < 4; ++i) {
      std::string_view l = labels[i];
      if (l.empty() || l.size() > 3) return {};
      unsigned v = 0;
      for (char c : l) {
        if (c < '0' || c > '9') return {};
        v = v * 10 + static_cast<unsigned>(c - '0');
      }
      if (v > 255) return {};
      ip.bytes[3 - i] = static_cast<uint8_t>(v);
    }
    ip.len = 4;
    return ip;
  }
  if (n == 34 && labels[32] == "ip6" && labels[33] == "arpa") {
    for (size_t i = 0; i < 32; ++i) {
      std::string_view l = labels[i];
      if (l.size() != 1) return {};
      char c = l[0];
      int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (v < 0) return {};
      size_t nibble = 31 - i;
      ip.bytes[nibble / 2] |= static_cast<uint8_t>(nibble % 2 ? v : v << 4);
    }
    ip.len = 16;
    return ip;
  }
  return {};
}

bool decode_hex(std::string_view hex, IpAddr& out) {
  if (hex.size() % 2) return false;
  out = IpAddr{};
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t k = 0; k < 2; ++k) {
      char c = hex[i + k];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out.bytes[i / 2] = static_cast<uint8_t>(v);
  }
  out.len = static_cast<uint8_t>(hex.size() / 2);
  return true;
}

// Which address record a question type gets (Consul's makeARecord).
bool wants_a(uint16_t qtype) {
  return qtype == kTypeA || qtype == kTypeANY || qtype == kTypeSRV || qtype == kTypeNS ||
         qtype == kTypeTXT;
}
bool wants_aaaa(uint16_t qtype) {
  return qtype == kTypeAAAA || qtype == kTypeANY || qtype == kTypeSRV || qtype == kTypeNS ||
         qtype == kTypeTXT;
}

}  // namespace

void SeenSet::reset(size_t expected) {
  size_t size = 16;
  while (size < expected * 2 + 8) size <<= 1;
  slots.assign(size, Slot{0, -1});
}

int32_t SeenSet::find_or_insert(uint64_t h, int32_t value) {
  size_t mask = slots.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    if (slots[i].hash == h) return slots[i].value;
    if (slots[i].hash == 0) {
      slots[i] = {h, value};
      return -2;
    }
  }
}

AnswerBuilder::AnswerBuilder(uint64_t seed) : lookups_(settings_) {
  for (auto& r : rng_) r = splitmix(seed);
}

void AnswerBuilder::set_settings(const Settings& s) {
  settings_ = s;
  ++settings_generation_;
  soa_mname_.clear();
  soa_rname_.clear();
  for (const auto& d : settings_.domains_text) {
    std::string wire;
    name_to_wire("ns." + d, wire);
    soa_mname_.push_back(wire);
    name_to_wire("hostmaster." + d, wire);
    soa_rname_.push_back(wire);
  }
}

uint64_t AnswerBuilder::next_random() {
  // xoshiro256**: shuffles need speed, not secrecy.
  uint64_t* s = rng_;
  uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return result;
}

void AnswerBuilder::shuffle(size_t n) {
  order_.resize(n);
  for (size_t i = 0; i < n; ++i) order_[i] = static_cast<uint32_t>(i);
  for (size_t i = n; i > 1; --i) {
    size_t j = static_cast<size_t>((next_random() >> 32) * i >> 32);
    std::swap(order_[i - 1], order_[j]);
  }
}

void AnswerBuilder::reset_records() {
  answers_.clear();
  authority_.clear();
  extra_full_.clear();
  extra_.clear();
  first_extra_.clear();
  aa_ = false;
  ra_ = settings_.recursion_available;
  client_specific_ = false;
}

void AnswerBuilder::add_soa(std::vector<Rr>& to, size_t domain) {
  Rr rr;
  rr.owner = settings_.domains_wire[domain];
  rr.type = kTypeSOA;
  rr.ttl = settings_.soa_min_ttl;  // the negative-caching TTL, kept consistent with MINIMUM
  rr.target = soa_mname_[domain];
  rr.rdata = soa_rname_[domain];
  to.push_back(rr);
}

void AnswerBuilder::add_nameservers(const state::Store& store, size_t domain, bool as_answer) {
  const EndpointSet& ns = lookups_.servers(store, domain);
  shuffle(ns.endpoints.size());
  // Up to three random healthy servers (Consul's nameservers()).
  for (size_t i = 0; i < order_.size() && i < 3; ++i) {
    const Endpoint& e = ns.endpoints[order_[i]];
    Rr rr;
    rr.owner = settings_.domains_wire[domain];
    rr.type = kTypeNS;
    rr.ttl = settings_.node_ttl;
    rr.target = e.target;
    (as_answer ? answers_ : authority_).push_back(rr);
    Rr glue;
    glue.owner = e.target;
    glue.type = e.node_ip.len == 4 ? kTypeA : kTypeAAAA;
    glue.ttl = settings_.node_ttl;
    glue.rdata = e.node_ip.view();
    extra_full_.push_back(glue);
  }
}

Outcome AnswerBuilder::answer(std::span<const uint8_t> packet, Transport transport,
                              const IpAddr& client, const state::Store& store, uint32_t now,
                              std::span<uint8_t> out) {
  Outcome o;
  reset_records();
  serial_ = now;
  ParseStatus st = parse_query(packet, q_);
  o.qtype = q_.has_question ? q_.qtype : 0;
  switch (st) {
    case ParseStatus::ok:
      break;
    case ParseStatus::drop:
      o.malformed = true;
      return o;
    case ParseStatus::formerr:
    case ParseStatus::notimp:
    case ParseStatus::badvers:
      o.malformed = true;
      o.action = Outcome::Action::reply;
      o.rcode = st == ParseStatus::formerr  ? kRcodeFormErr
                : st == ParseStatus::notimp ? kRcodeNotImp
                                            : kRcodeNoError;
      o.size = write_error(out, o.rcode, ra_, st == ParseStatus::badvers);
      return o;
  }
  o.action = Outcome::Action::reply;
  if (q_.qclass != kClassIN && q_.qclass != kClassANY) {
    // CHAOS, HESIOD, ...: nothing here is served in other classes.
    o.malformed = true;
    o.rcode = kRcodeRefused;
    o.size = write_error(out, o.rcode, false, false);
    return o;
  }

  lookups_.sync(store, settings_generation_);
  parse_qname(q_, settings_, name_);
  remote_pending_ = false;
  uint8_t rcode = kRcodeNoError;
  switch (name_.kind) {
    case NameKind::outside:
      o.zone = Outcome::Zone::outside;
      if (settings_.recursion_available) {
        o.action = Outcome::Action::recurse;
        return o;
      }
      // No recursors: nobody handles the name (Consul's DNS mux answers REFUSED).
      o.rcode = kRcodeRefused;
      o.size = write_error(out, o.rcode, false, false);
      return o;
    case NameKind::arpa:
      o.zone = Outcome::Zone::reverse;
      if (!reverse_lookup(store)) {
        if (settings_.recursion_available) {
          o.action = Outcome::Action::recurse;
          return o;
        }
        // Consul runs its recursor loop over no recursors: SERVFAIL, logged.
        o.no_recursors = true;
        o.rcode = kRcodeServFail;
        o.size = recursion_failed(packet, out);
        return o;
      }
      aa_ = true;
      if (q_.qtype == kTypeSOA) add_soa(authority_, 0);
      break;
    default:
      o.zone = Outcome::Zone::domain;
      aa_ = true;
      if (q_.qtype == kTypeSOA) {
        add_soa(answers_, name_.domain);
        add_nameservers(store, name_.domain, false);
      } else if (q_.qtype == kTypeNS) {
        add_nameservers(store, name_.domain, true);
      } else if (q_.qtype == kTypeAXFR) {
        rcode = kRcodeNotImp;
      } else {
        bool client_specific = false;
        rcode = dispatch(store, name_, client, client_specific);
        client_specific_ = client_specific;
        if (remote_pending_) {
          o.action = Outcome::Action::remote;
          return o;
        }
      }
      break;
  }
  o.rcode = rcode;
  o.size = finish(out, transport, rcode, o.truncated);
  return o;
}

uint8_t AnswerBuilder::dispatch(const state::Store& store, const ParsedName& name,
                                const IpAddr& client, bool& client_specific) {
  auto nxdomain = [&] {
    add_soa(authority_, name.domain);
    return kRcodeNxDomain;
  };
  if (name.kind == NameKind::invalid) return nxdomain();
  // One datacenter is served; another one has no path (Consul: NXDOMAIN).
  if (name.peer) return nxdomain();
  if (!name.datacenter.empty() && name.datacenter != settings_.datacenter_lc) {
    // Another datacenter: its servers know; the shell asks them.
    RemoteKind kind = name.kind == NameKind::service ? RemoteKind::service
                      : name.kind == NameKind::node  ? RemoteKind::node
                      : name.kind == NameKind::query ? RemoteKind::query
                                                     : RemoteKind::none;
    if (!remote_enabled_ || kind == RemoteKind::none) return nxdomain();
    remote_pending_ = true;
    remote_.datacenter.assign(name.datacenter);
    remote_.kind = kind;
    remote_.name.assign(kind == RemoteKind::service ? name.service
                        : kind == RemoteKind::node  ? name.node
                                                    : name.query);
    return kRcodeNoError;
  }

  switch (name.kind) {
    case NameKind::node:
      if (view_ != nullptr && remote_enabled_ && !view_->covers_node(name.node))
        return ask_server(RemoteKind::node, name.node);
      return node_lookup(store, name);
    case NameKind::service: {
      if (!holds(name.service)) return ask_server(RemoteKind::service, name.service);
      const EndpointSet& set = lookups_.service(store, name.service, name.tag, name.domain);
      if (!set.found) return nxdomain();
      return service_records(set, client);
    }
    case NameKind::query: {
      const EndpointSet& set = lookups_.prepared_query(store, name.query, name.domain);
      client_specific = true;
      if (set.failed) return kRcodeServFail;
      if (!set.service_lc.empty() && !holds(set.service_lc))
        return ask_server(RemoteKind::query, name.query);
      if (!set.found && set.may_fail_over && remote_enabled_) {
        // No healthy instance here: a server runs the query's failover.
        remote_pending_ = true;
        remote_.datacenter = settings_.datacenter_lc;
        remote_.kind = RemoteKind::failover;
        remote_.name.assign(name.query);
        return kRcodeNoError;
      }
      if (!set.found) return nxdomain();
      return service_records(set, client);
    }
    case NameKind::addr:
      return addr_lookup(name);
    default:
      // connect, ingress, virtual: no service mesh in cairn yet.
      return nxdomain();
  }
}

bool AnswerBuilder::holds(std::string_view service_lc) {
  return view_ == nullptr || !remote_enabled_ || view_->covers(service_lc);
}

uint8_t AnswerBuilder::ask_server(RemoteKind kind, std::string_view name) {
  remote_pending_ = true;
  remote_.datacenter = settings_.datacenter_lc;
  remote_.kind = kind;
  remote_.name.assign(name);
  return kRcodeNoError;
}

Outcome AnswerBuilder::answer_remote(const Settings& settings, std::string_view datacenter,
                                     std::span<const uint8_t> packet, Transport transport,
                                     const IpAddr& client, const state::Store& store,
                                     uint32_t now, std::span<uint8_t> out) {
  AnswerBuilder remote(random_u64());
  Settings there = settings;
  if (!datacenter.empty()) {
    there.datacenter.assign(datacenter);
    there.datacenter_lc = state::lower(datacenter);
  }
  remote.set_settings(there);
  return remote.answer(packet, transport, client, store, now, out);
}

Outcome AnswerBuilder::remote_failed(std::span<const uint8_t> packet, Transport transport,
                                     bool no_path, uint32_t now, std::span<uint8_t> out) {
  if (no_path) {
    // What a datacenter without a path gets: NXDOMAIN with the SOA.
    static const state::Store kNothing;
    bool enabled = remote_enabled_;
    remote_enabled_ = false;
    Outcome o = answer(packet, transport, {}, kNothing, now, out);
    remote_enabled_ = enabled;
    return o;
  }
  Outcome o;
  reset_records();
  if (parse_query(packet, q_) != ParseStatus::ok) return o;
  o.action = Outcome::Action::reply;
  o.zone = Outcome::Zone::domain;
  o.qtype = q_.qtype;
  o.rcode = kRcodeServFail;
  o.size = write_error(out, kRcodeServFail, ra_, false);
  return o;
}

uint8_t AnswerBuilder::node_lookup(const state::Store& store, const ParsedName& name) {
  uint16_t qt = q_.qtype;
  if (qt != kTypeA && qt != kTypeAAAA && qt != kTypeANY && qt != kTypeTXT) return kRcodeNoError;
  const NodeRecords& rec = lookups_.node(store, name.node, name.domain);
  if (!rec.found) {
    add_soa(authority_, name.domain);
    return kRcodeNxDomain;
  }
  Rr rr;
  rr.owner = q_.name_wire();
  rr.ttl = settings_.node_ttl;
  if (qt != kTypeTXT) {
    if (rec.ip.len == 4 && (qt == kTypeA || qt == kTypeANY)) {
      rr.type = kTypeA;
      rr.rdata = rec.ip.view();
      answers_.push_back(rr);
    } else if (rec.ip.len == 16 && (qt == kTypeAAAA || qt == kTypeANY)) {
      rr.type = kTypeAAAA;
      rr.rdata = rec.ip.view();
      answers_.push_back(rr);
    } else if (!rec.ip.len && !rec.hostname.empty()) {
      rr.type = kTypeCNAME;
      rr.target = rec.hostname;
      answers_.push_back(rr);
    }
  }
  if (settings_.node_meta_txt || qt == kTypeTXT || qt == kTypeANY) {
    bool in_answer = qt == kTypeTXT || qt == kTypeANY;
    for (const auto& txt : rec.txt) {
      Rr t;
      t.owner = q_.name_wire();
      t.type = kTypeTXT;
      t.ttl = settings_.node_ttl;
      t.rdata = txt;
      (in_answer ? answers_ : extra_full_).push_back(t);
    }
  }
  // Consul answers NOERROR without an SOA here even when nothing matched the type.
  return kRcodeNoError;
}

uint8_t AnswerBuilder::service_records(const EndpointSet& set, const IpAddr& client) {
  const size_t n = set.endpoints.size();
  shuffle(n);
  // Prepared queries: the instance nearest the source first.
  if (set.near_ip || !set.near_node.empty()) {
    IpAddr source = client;
    if (q_.ecs.present) {
      source = IpAddr{};
      source.bytes = q_.ecs.address;
      source.len = q_.ecs.family == 1 ? 4 : 16;
    }
    for (size_t i = 0; i < n && i < kNearSearchDepth; ++i) {
      const Endpoint& e = set.endpoints[order_[i]];
      if (set.near_ip ? (source.len && e.node_ip == source) : e.node_lc == set.near_node) {
        std::swap(order_[0], order_[i]);
        break;
      }
    }
  }

  SeenSet& seen = seen_;
  seen.reset(n * 3);
  const std::string_view qname = q_.name_wire();
  const std::string_view qname_lc = q_.name_wire_lc();

  if (q_.qtype == kTypeSRV) {
    for (size_t i = 0; i < n; ++i) {
      const Endpoint& e = set.endpoints[order_[i]];
      if (seen.find_or_insert(record_hash(1, e.srv_key, {}), 0) != -2) continue;
      // A service whose address is the question name itself uses its node's address.
      bool self_named = e.kind == Endpoint::Kind::hostname && e.node_ip.len &&
                        !e.node_target.empty() && e.target_lc == qname_lc;
      const IpAddr& ip = self_named ? e.node_ip : e.ip;
      std::string_view target = self_named ? std::string_view(e.node_target) : e.target;

      Rr srv;
      srv.owner = qname;
      srv.type = kTypeSRV;
      srv.ttl = set.ttl;
      srv.priority = 1;
      srv.weight = e.weight;
      srv.port = e.port;
      srv.target = target;
      answers_.push_back(srv);
      int32_t first = -1;
      if (ip.len) {
        Rr a;
        a.owner = target;
        a.type = ip.len == 4 ? kTypeA : kTypeAAAA;
        a.ttl = set.ttl;
        a.rdata = ip.view();
        int32_t idx = static_cast<int32_t>(extra_full_.size());
        int32_t had = seen.find_or_insert(record_hash(2, a.owner, a.rdata), idx);
        if (had == -2) extra_full_.push_back(a);
        first = had == -2 ? idx : had;
      }
      first_extra_.push_back(first);
      for (const auto& txt : e.txt) {
        Rr t;
        t.owner = e.node_target;
        t.type = kTypeTXT;
        t.ttl = set.ttl;
        t.rdata = txt;
        if (seen.find_or_insert(record_hash(3, t.owner, t.rdata), 0) == -2)
          extra_full_.push_back(t);
      }
    }
  } else {
    const Endpoint* cname = nullptr;
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) {
      const Endpoint& e = set.endpoints[order_[i]];
      bool self_named =
          e.kind == Endpoint::Kind::hostname && e.node_ip.len && e.target_lc == qname_lc;
      if (e.kind == Endpoint::Kind::hostname && !self_named) {
        // CNAME answers are used only when no instance has an address.
        if (!cname) cname = &e;
        continue;
      }
      const IpAddr& ip = self_named ? e.node_ip : e.ip;
      Rr a;
      a.owner = qname;
      a.ttl = set.ttl;
      a.rdata = ip.view();
      if (ip.len == 4 && wants_a(q_.qtype))
        a.type = kTypeA;
      else if (ip.len == 16 && wants_aaaa(q_.qtype))
        a.type = kTypeAAAA;
      else
        continue;
      if (seen.find_or_insert(record_hash(4, a.rdata, {}), 0) != -2) continue;  // same IP twice
      answers_.push_back(a);
      if (++count == static_cast<size_t>(settings_.a_record_limit)) break;
    }
    if (answers_.empty() && cname) {
      Rr c;
      c.owner = qname;
      c.type = kTypeCNAME;
      c.ttl = set.ttl;
      c.target = cname->target;
      answers_.push_back(c);
    }
  }
  if (answers_.empty()) {
    add_soa(authority_, name_.domain);  // NODATA: the instances have no record of this type
  }
  return kRcodeNoError;
}

uint8_t AnswerBuilder::addr_lookup(const ParsedName& name) {
  // Consul: 8 hex digits are IPv4, 32 are IPv6, other lengths answer nothing.
  size_t half = name.hex.size() / 2;
  if (half != 4 && half != 16) return kRcodeNoError;
  if (!decode_hex(name.hex, addr_ip_)) {
    add_soa(authority_, name.domain);
    return kRcodeNxDomain;
  }
  Rr rr;
  rr.owner = q_.name_wire();
  rr.ttl = settings_.node_ttl;
  rr.rdata = addr_ip_.view();
  rr.type = addr_ip_.len == 4 ? kTypeA : kTypeAAAA;
  bool in_answer = q_.qtype == rr.type || q_.qtype == kTypeANY;
  (in_answer ? answers_ : extra_full_).push_back(rr);
  return kRcodeNoError;
}

bool AnswerBuilder::reverse_lookup(const state::Store& store) {
  IpAddr ip = parse_reverse(q_.name_wire_lc());
  if (!ip.len) return false;
  const std::string* target = lookups_.reverse(store, ip);
  if (!target) return false;
  Rr rr;
  rr.owner = q_.name_wire();
  rr.type = kTypePTR;
  rr.ttl = 0;
  rr.target = *target;
  answers_.push_back(rr);
  return true;
}

// Writing ----------------------------------------------------------------------

void AnswerBuilder::write_rr(const Rr& rr) {
  w_.name(rr.owner);
  w_.u16(rr.type);
  w_.u16(kClassIN);
  w_.u32(rr.ttl);
  size_t len_at = w_.begin_length();
  switch (rr.type) {
    case kTypeSRV:
      w_.u16(rr.priority);
      w_.u16(rr.weight);
      w_.u16(rr.port);
      w_.name(rr.target, false);  // RFC 2782: the target is not compressed
      break;
    case kTypeCNAME:
    case kTypePTR:
    case kTypeNS:
      w_.name(rr.target);
      break;
    case kTypeSOA:
      w_.name(rr.target);
      w_.name(rr.rdata);
      w_.u32(serial_);
      w_.u32(settings_.soa_refresh);
      w_.u32(settings_.soa_retry);
      w_.u32(settings_.soa_expire);
      w_.u32(settings_.soa_min_ttl);
      break;
    default:
      w_.bytes(rr.rdata);
      break;
  }
  w_.end_length(len_at);
}

size_t AnswerBuilder::write(std::span<uint8_t> out, uint8_t rcode, bool tc, size_t n,
                            bool authority, const std::vector<Rr>& extra, bool compress) {
  w_.reset(out.data(), out.size(), compress);
  uint16_t flags = 0x8000 | static_cast<uint16_t>(q_.opcode << 11) | (aa_ ? 0x0400 : 0) |
                   (tc ? 0x0200 : 0) | (q_.rd ? 0x0100 : 0) | (ra_ ? 0x0080 : 0) |
                   (q_.cd ? 0x0010 : 0) | (rcode & 0x0F);
  size_t ns = authority ? authority_.size() : 0;
  w_.u16(q_.id);
  w_.u16(flags);
  w_.u16(1);
  w_.u16(static_cast<uint16_t>(n));
  w_.u16(static_cast<uint16_t>(ns));
  w_.u16(static_cast<uint16_t>(extra.size() + (q_.has_edns ? 1 : 0)));
  w_.bytes(q_.name_wire());
  if (compress) w_.note_name(kHeaderSize, q_.name_wire());
  w_.u16(q_.qtype);
  w_.u16(q_.qclass);
  for (size_t i = 0; i < n; ++i) write_rr(answers_[i]);
  for (size_t i = 0; i < ns; ++i) write_rr(authority_[i]);
  for (const Rr& rr : extra) write_rr(rr);
  if (q_.has_edns) {
    // OPT echoing the client's size, as Consul does; Client Subnet echoed
    // with scope 0 (valid for everyone) unless the answer depended on it.
    w_.u8(0);
    w_.u16(kTypeOPT);
    w_.u16(q_.edns_udp_size);
    w_.u32(0);
    size_t len_at = w_.begin_length();
    if (q_.ecs.present) {
      bool global = !client_specific_ || rcode == kRcodeNxDomain || rcode == kRcodeServFail ||
                    rcode == kRcodeRefused || rcode == kRcodeNotImp;
      size_t addr_len = (q_.ecs.source_prefix + 7u) / 8u;
      w_.u16(kOptionEcs);
      w_.u16(static_cast<uint16_t>(4 + addr_len));
      w_.u16(q_.ecs.family);
      w_.u8(q_.ecs.source_prefix);
      w_.u8(global ? 0 : q_.ecs.source_prefix);
      w_.bytes(q_.ecs.address.data(), addr_len);
    }
    w_.end_length(len_at);
  }
  return w_.overflow() ? 0 : w_.size();
}

size_t AnswerBuilder::write_error(std::span<uint8_t> out, uint8_t rcode, bool ra, bool badvers) {
  w_.reset(out.data(), out.size(), false);
  uint16_t flags = 0x8000 | static_cast<uint16_t>(q_.opcode << 11) | (q_.rd ? 0x0100 : 0) |
                   (ra ? 0x0080 : 0) | (q_.cd ? 0x0010 : 0) | (rcode & 0x0F);
  bool question = q_.has_question;
  w_.u16(q_.id);
  w_.u16(flags);
  w_.u16(question ? 1 : 0);
  w_.u16(0);
  w_.u16(0);
  w_.u16(badvers ? 1 : 0);
  if (question) {
    w_.bytes(q_.name_wire());
    w_.u16(q_.qtype);
    w_.u16(q_.qclass);
  }
  if (badvers) {
    w_.u8(0);
    w_.u16(kTypeOPT);
    w_.u16(q_.edns_udp_size);
    w_.u32(uint32_t{kRcodeBadVers >> 4} << 24);  // extended RCODE high bits, version 0
    w_.u16(0);
  }
  return w_.overflow() ? 0 : w_.size();
}

size_t AnswerBuilder::recursion_failed(std::span<const uint8_t> packet, std::span<uint8_t> out) {
  if (parse_query(packet, q_) != ParseStatus::ok) return 0;
  reset_records();
  ra_ = true;  // Consul sets RA on this SERVFAIL even without recursors
  return write(out, kRcodeServFail, false, 0, false, extra_, settings_.compress);
}

void AnswerBuilder::sync_extra(size_t n) {
  // Consul's syncExtra: only the first record for each remaining SRV target.
  extra_.clear();
  SeenSet& seen = seen_;
  seen.reset(n);
  for (size_t i = 0; i < n && i < first_extra_.size(); ++i) {
    if (answers_[i].type != kTypeSRV || first_extra_[i] < 0) continue;
    if (seen.find_or_insert(record_hash(5, answers_[i].target, {}), 0) != -2) continue;
    extra_.push_back(extra_full_[static_cast<size_t>(first_extra_[i])]);
  }
}

size_t AnswerBuilder::finish(std::span<uint8_t> out, Transport transport, uint8_t rcode,
                             bool& truncated) {
  const size_t total = answers_.size();
  size_t n = total;
  bool authority = true;
  const bool compress = settings_.compress;
  bool measure_compressed = compress;
  size_t max_size;

  if (transport == Transport::udp) {
    max_size = kDefaultUdpSize;
    if (q_.has_edns && q_.edns_udp_size > kDefaultUdpSize)
      max_size = std::min<size_t>(q_.edns_udp_size, kMaxUdpPayload);
    // Without EDNS, a client gets at most udp_answer_limit answers, measured
    // uncompressed so no downstream decompression can overflow 512 bytes.
    size_t limit = static_cast<size_t>(settings_.udp_answer_limit);
    if (max_size == kDefaultUdpSize && n > limit) {
      n = limit;
      measure_compressed = false;
    }
    max_size -= 8;  // Consul keeps 8 bytes in reserve for the UDP header
  } else {
    max_size = kMaxTcpMessage;
    n = std::min(n, q_.qtype == kTypeSRV ? kMaxTcpSrvAnswers : kMaxTcpAnswers);
  }

  const std::vector<Rr>* extra = &extra_full_;
  auto size_with = [&](size_t count) {
    if (count < total) {
      sync_extra(count);
      extra = &extra_;
    } else {
      extra = &extra_full_;
    }
    return write(out, rcode, false, count, authority, *extra, measure_compressed);
  };
  auto fits = [&](size_t s) { return s != 0 && s <= max_size; };
  size_t size = size_with(n);
  if (n > 1 && !fits(size)) {
    authority = false;  // the NS section goes first
    size = size_with(n);
    if (!fits(size)) {
      // The largest count that fits; one answer is always kept.
      size_t lo = 1, hi = n - 1;
      while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (fits(size_with(mid)))
          lo = mid;
        else
          hi = mid - 1;
      }
      n = lo;
      size = size_with(n);
    }
  }
  bool rewrite = measure_compressed != compress;
  if (!fits(size)) {
    // Still too big (one large answer): its additional records go too.
    extra_.clear();
    extra = &extra_;
    rewrite = true;
  }
  truncated = n < total;
  bool tc = truncated && settings_.enable_truncate;
  if (rewrite)
    size = write(out, rcode, tc, n, authority, *extra, compress);
  else if (tc && size)
    out[2] |= 0x02;  // the message as measured, with TC set
  if (size == 0) {
    // Only possible if one record alone overflows 64 KiB: SERVFAIL, not garbage.
    truncated = true;
    answers_.clear();
    authority_.clear();
    extra_.clear();
    size = write(out, kRcodeServFail, false, 0, false, extra_, compress);
  }
  return size;
}

}  // namespace cairn::dns
