// Helpers for DNS unit tests: hand-built query packets (so malformed ones can
// be made too) and responses decoded by ldns, an independent parser, into
// presentation-format strings that tests compare against.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/dns/ldns.h"
#include "common/dns/name.h"
#include "common/dns/query.h"
#include "common/dns/writer.h"

namespace cairn::dns::test {

struct QueryOptions {
  uint16_t id = 0x1234;
  uint16_t qclass = kClassIN;
  std::optional<uint16_t> edns_size;  // adds an OPT RR
  uint8_t edns_version = 0;
  bool rd = true;
  // Client Subnet: family (1/2), source prefix, address bytes.
  std::optional<std::vector<uint8_t>> ecs;
};

inline std::vector<uint8_t> make_query(const std::string& name, uint16_t qtype,
                                       const QueryOptions& o = {}) {
  std::vector<uint8_t> p;
  auto u16 = [&](uint16_t v) {
    p.push_back(static_cast<uint8_t>(v >> 8));
    p.push_back(static_cast<uint8_t>(v));
  };
  u16(o.id);
  u16(o.rd ? 0x0100 : 0);
  u16(1);
  u16(0);
  u16(0);
  u16(o.edns_size ? 1 : 0);
  std::string wire;
  name_to_wire(name, wire);
  p.insert(p.end(), wire.begin(), wire.end());
  u16(qtype);
  u16(o.qclass);
  if (o.edns_size) {
    p.push_back(0);
    u16(kTypeOPT);
    u16(*o.edns_size);
    p.push_back(0);
    p.push_back(o.edns_version);
    u16(0);
    std::vector<uint8_t> rdata;
    if (o.ecs) {
      rdata.push_back(0);
      rdata.push_back(8);
      rdata.push_back(0);
      rdata.push_back(static_cast<uint8_t>(o.ecs->size()));
      rdata.insert(rdata.end(), o.ecs->begin(), o.ecs->end());
    }
    u16(static_cast<uint16_t>(rdata.size()));
    p.insert(p.end(), rdata.begin(), rdata.end());
  }
  return p;
}

// A response decoded by ldns.
struct Response {
  ldns_pkt* pkt = nullptr;
  ldns_status status = LDNS_STATUS_ERR;
  explicit Response(const uint8_t* data, size_t len) { status = ldns_wire2pkt(&pkt, data, len); }
  ~Response() {
    if (pkt) ldns_pkt_free(pkt);
  }
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;

  bool ok() const { return status == LDNS_STATUS_OK; }
  int rcode() const { return ldns_pkt_get_rcode(pkt); }
  bool aa() const { return ldns_pkt_aa(pkt); }
  bool tc() const { return ldns_pkt_tc(pkt); }
  bool ra() const { return ldns_pkt_ra(pkt); }
  uint16_t id() const { return ldns_pkt_id(pkt); }

  static std::vector<std::string> rrs(const ldns_rr_list* list) {
    std::vector<std::string> out;
    for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
      char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
      std::string line(s);
      free(s);
      while (!line.empty() && line.back() == '\n') line.pop_back();
      // ldns separates fields with tabs; tests read them with single spaces.
      for (auto& c : line)
        if (c == '\t') c = ' ';
      out.push_back(line);
    }
    return out;
  }
  std::vector<std::string> answer() const { return rrs(ldns_pkt_answer(pkt)); }
  std::vector<std::string> authority() const { return rrs(ldns_pkt_authority(pkt)); }
  std::vector<std::string> additional() const { return rrs(ldns_pkt_additional(pkt)); }
};

}  // namespace cairn::dns::test
