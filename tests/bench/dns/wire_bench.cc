// Why agent/dns/wire.cc exists: the cost of parsing a query and building an
// answer with ldns against cairn's own wire code, on the same packets.
//   build-bench/tests/bench/dns/bench_dns_wire [iterations]
// (tests/bench/dns/run.sh builds and runs it.)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/dns/answer.h"
#include "agent/state/store.h"
#include "common/dns/ldns.h"

using namespace cairn;

namespace {

std::vector<uint8_t> query(const std::string& name, uint16_t qtype) {
  std::vector<uint8_t> p = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::string wire;
  dns::name_to_wire(name, wire);
  p.insert(p.end(), wire.begin(), wire.end());
  p.push_back(static_cast<uint8_t>(qtype >> 8));
  p.push_back(static_cast<uint8_t>(qtype));
  p.push_back(0);
  p.push_back(1);
  return p;
}

// CPU time, not wall time: the bench machine is shared and preemption is not our cost.
double cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

template <class F>
double ns_per(int n, F&& f) {
  double t0 = cpu_ns();
  for (int i = 0; i < n; ++i) f();
  return (cpu_ns() - t0) / n;
}

// The same 3-SRV answer with its additional A records, built with ldns.
size_t ldns_answer(const std::vector<uint8_t>& q) {
  ldns_pkt* in = nullptr;
  if (ldns_wire2pkt(&in, q.data(), q.size()) != LDNS_STATUS_OK) std::abort();
  ldns_pkt* out = ldns_pkt_new();
  ldns_pkt_set_id(out, ldns_pkt_id(in));
  ldns_pkt_set_qr(out, true);
  ldns_pkt_set_aa(out, true);
  ldns_rr* question = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(in), 0));
  ldns_pkt_push_rr(out, LDNS_SECTION_QUESTION, question);
  for (int i = 0; i < 3; ++i) {
    std::string target = "svc-000-" + std::to_string(i) + ".node.dc1.consul.";
    ldns_rr* srv = ldns_rr_new();
    ldns_rr_set_owner(srv, ldns_rdf_clone(ldns_rr_owner(question)));
    ldns_rr_set_type(srv, LDNS_RR_TYPE_SRV);
    ldns_rr_set_class(srv, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(srv, 0);
    ldns_rr_push_rdf(srv, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 1));
    ldns_rr_push_rdf(srv, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 1));
    ldns_rr_push_rdf(srv,
                     ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, static_cast<uint16_t>(8000 + i)));
    ldns_rdf* name = nullptr;
    ldns_str2rdf_dname(&name, target.c_str());
    ldns_rr_push_rdf(srv, name);
    ldns_pkt_push_rr(out, LDNS_SECTION_ANSWER, srv);
    ldns_rr* a = ldns_rr_new();
    ldns_rr_set_owner(a, ldns_rdf_clone(name));
    ldns_rr_set_type(a, LDNS_RR_TYPE_A);
    ldns_rr_set_class(a, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(a, 0);
    uint8_t ip[4] = {10, 100, 0, static_cast<uint8_t>(i + 1)};
    ldns_rr_push_rdf(a, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, ip));
    ldns_pkt_push_rr(out, LDNS_SECTION_ADDITIONAL, a);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  ldns_pkt2wire(&wire, out, &size);
  free(wire);
  ldns_pkt_free(out);
  ldns_pkt_free(in);
  return size;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 200000;
  state::Store store;
  state::Batch b;
  for (int i = 0; i < 3; ++i) {
    state::Node node;
    node.name = "svc-000-" + std::to_string(i);
    node.address = "10.100.0." + std::to_string(i + 1);
    b.push_back(state::PutNode{node});
    state::Service s;
    s.node = node.name;
    s.id = "svc-000";
    s.name = "svc-000";
    s.port = 8000 + i;
    b.push_back(state::PutService{s});
  }
  store.apply(b, 1);
  config::Config cfg;
  dns::Settings settings;
  dns::make_settings(cfg, settings);
  dns::AnswerBuilder builder(1);
  builder.set_settings(settings);
  std::vector<uint8_t> out(dns::kMaxMessage);
  auto q = query("_svc-000._tcp.service.consul", dns::kTypeSRV);

  dns::Query parsed;
  double own_parse = ns_per(n, [&] {
    if (dns::parse_query(q, parsed) != dns::ParseStatus::ok) std::abort();
  });
  double ldns_parse = ns_per(n, [&] {
    ldns_pkt* p = nullptr;
    if (ldns_wire2pkt(&p, q.data(), q.size()) != LDNS_STATUS_OK) std::abort();
    ldns_pkt_free(p);
  });
  size_t own_size = 0, ldns_size = 0;
  double own_answer =
      ns_per(n, [&] { own_size = builder.answer(q, dns::Transport::udp, {}, store, 0, out).size; });
  double ldns_build = ns_per(n / 4, [&] { ldns_size = ldns_answer(q); });
  std::printf("parse query:            cairn %7.0f ns   ldns %7.0f ns  (%.1fx)\n", own_parse,
              ldns_parse, ldns_parse / own_parse);
  std::printf(
      "3-SRV answer, complete: cairn %7.0f ns   ldns %7.0f ns  (%.1fx; ldns only parses and "
      "builds, no lookup)\n",
      own_answer, ldns_build, ldns_build / own_answer);
  std::printf("answer sizes: cairn %zu bytes, ldns %zu bytes\n", own_size, ldns_size);
  return 0;
}
