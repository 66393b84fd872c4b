// Test packets built with ldns from zone-file text, so tests read like dig
// output and exercise real compression (ldns compresses owner names).
#pragma once

#include "common/dns/ldns.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cairn::dns::testing {

using Bytes = std::vector<uint8_t>;

struct PacketSpec {
  uint16_t id = 0x1234;
  std::string qname = "www.example.com.";
  uint16_t qtype = LDNS_RR_TYPE_A;
  bool response = true;
  bool rd = true;
  bool ra = true;
  bool tc = false;
  bool cd = false;
  bool ad = false;
  int rcode = LDNS_RCODE_NOERROR;
  std::vector<std::string> answer;  // "www.example.com. 300 IN A 192.0.2.1"
  std::vector<std::string> authority;
  std::vector<std::string> additional;
  int edns_size = -1;  // -1: no OPT record
  bool do_bit = false;
};

inline Bytes build(const PacketSpec& s) {
  ldns_pkt* pkt = ldns_pkt_new();
  ldns_pkt_set_id(pkt, s.id);
  ldns_pkt_set_qr(pkt, s.response);
  ldns_pkt_set_rd(pkt, s.rd);
  ldns_pkt_set_ra(pkt, s.response && s.ra);
  ldns_pkt_set_tc(pkt, s.tc);
  ldns_pkt_set_cd(pkt, s.cd);
  ldns_pkt_set_ad(pkt, s.ad);
  ldns_pkt_set_rcode(pkt, static_cast<uint8_t>(s.rcode));
  ldns_rr* q = ldns_rr_new();
  ldns_rdf* owner = ldns_dname_new_frm_str(s.qname.c_str());
  if (!owner) throw std::runtime_error("bad qname " + s.qname);
  ldns_rr_set_owner(q, owner);
  ldns_rr_set_type(q, static_cast<ldns_rr_type>(s.qtype));
  ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
  ldns_rr_set_question(q, true);
  ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, q);
  auto push = [&](const std::vector<std::string>& rrs, ldns_pkt_section sec) {
    for (const auto& text : rrs) {
      ldns_rr* rr = nullptr;
      if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK)
        throw std::runtime_error("bad rr " + text);
      ldns_pkt_push_rr(pkt, sec, rr);
    }
  };
  push(s.answer, LDNS_SECTION_ANSWER);
  push(s.authority, LDNS_SECTION_AUTHORITY);
  push(s.additional, LDNS_SECTION_ADDITIONAL);
  if (s.edns_size >= 0) {
    ldns_pkt_set_edns_udp_size(pkt, static_cast<uint16_t>(s.edns_size));
    ldns_pkt_set_edns_do(pkt, s.do_bit);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK) throw std::runtime_error("pkt2wire");
  Bytes out(wire, wire + size);
  LDNS_FREE(wire);
  ldns_pkt_free(pkt);
  return out;
}

inline Bytes query(const std::string& qname, uint16_t qtype = LDNS_RR_TYPE_A, int edns = -1,
                   bool do_bit = false) {
  PacketSpec s;
  s.qname = qname;
  s.qtype = qtype;
  s.response = false;
  s.edns_size = edns;
  s.do_bit = do_bit;
  return build(s);
}

// Parses with ldns (the reference parser) or returns nullptr.
inline ldns_pkt* parse(const Bytes& b) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, b.data(), b.size()) != LDNS_STATUS_OK) return nullptr;
  return pkt;
}

inline Bytes wire_name(const char* text) {
  ldns_rdf* rdf = ldns_dname_new_frm_str(text);
  Bytes out(ldns_rdf_data(rdf), ldns_rdf_data(rdf) + ldns_rdf_size(rdf));
  ldns_rdf_deep_free(rdf);
  return out;
}

}  // namespace cairn::dns::testing
