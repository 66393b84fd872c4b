#include "common/statsd_format.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace cairn;

namespace {

std::vector<std::string> encode_all(StatsdEncoder& e, const MetricsRegistry& m,
                                    size_t max = kStatsdMaxDatagram) {
  std::vector<std::string> out;
  e.encode(m, max, [&](std::string_view d) { out.emplace_back(d); });
  return out;
}

}  // namespace

TEST_CASE("statsd: gauges carry the host, counters send their increase, labels join the name") {
  MetricsRegistry m;
  m.gauge("consul.runtime.uptime_seconds", "").set(1.5);
  Counter& q = m.counter("consul.dns.queries", "", {{"type", "A"}});
  q.inc(3);
  StatsdOptions o;
  o.hostname = "host1";
  StatsdEncoder e(o);
  auto d = encode_all(e, m);
  REQUIRE(d.size() == 1);
  CHECK(d[0] == "consul.dns.queries.A:3|c\nconsul.host1.runtime.uptime_seconds:1.5|g");
  q.inc(2);
  d = encode_all(e, m);
  REQUIRE(d.size() == 1);
  CHECK(d[0] == "consul.dns.queries.A:2|c\nconsul.host1.runtime.uptime_seconds:1.5|g");
  // Nothing counted since: only the gauge goes out.
  d = encode_all(e, m);
  CHECK(d == std::vector<std::string>{"consul.host1.runtime.uptime_seconds:1.5|g"});
}

TEST_CASE("statsd: timers send the mean of new observations with a 1/count sample rate") {
  MetricsRegistry m;
  Summary& s = m.summary("consul.dns.domain_query", "");
  s.observe(2);
  s.observe(4);
  StatsdEncoder e(StatsdOptions{});
  auto d = encode_all(e, m);
  CHECK(d == std::vector<std::string>{"consul.dns.domain_query:3|ms|@0.5"});
  s.observe(10);
  d = encode_all(e, m);
  CHECK(d == std::vector<std::string>{"consul.dns.domain_query:10|ms"});
  CHECK(encode_all(e, m).empty());
}

TEST_CASE("dogstatsd: labels and configured tags are tags; no host in names; prefix replaced") {
  MetricsRegistry m;
  m.counter("consul.http.requests", "", {{"method", "GET"}}).inc();
  m.gauge("consul.agent.services", "").set(2);
  StatsdOptions o;
  o.dogstatsd = true;
  o.hostname = "host1";
  o.prefix = "cairn";
  o.tags = {"env:test", "role"};
  StatsdEncoder e(o);
  auto d = encode_all(e, m);
  REQUIRE(d.size() == 1);
  CHECK(d[0] ==
        "cairn.agent.services:2|g|#env:test,role\n"
        "cairn.http.requests:1|c|#env:test,role,method:GET");
}

TEST_CASE("statsd: datagrams hold whole lines up to the limit; line syntax stays out of names") {
  MetricsRegistry m;
  for (int i = 0; i < 200; ++i) m.gauge("consul.test.gauge_" + std::to_string(i), "").set(i);
  m.gauge("consul.odd", "", {{"k", "a:b|c d"}}).set(1);
  StatsdEncoder e(StatsdOptions{});
  auto d = encode_all(e, m, 100);
  size_t lines = 0;
  bool odd_seen = false;
  for (const auto& dg : d) {
    CHECK(dg.size() <= 100);
    CHECK(dg.back() != '\n');
    size_t start = 0;
    while (start <= dg.size()) {
      size_t end = dg.find('\n', start);
      std::string line =
          dg.substr(start, end == std::string::npos ? std::string::npos : end - start);
      ++lines;
      if (line.rfind("consul.odd", 0) == 0) {
        odd_seen = true;
        CHECK(line == "consul.odd.a_b_c_d:1|g");
      }
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  CHECK(lines == 201);
  CHECK(odd_seen);
  CHECK(d.size() > 20);
  // A line longer than a datagram is dropped and counted, never split.
  MetricsRegistry big;
  big.gauge("consul." + std::string(200, 'x'), "").set(1);
  StatsdEncoder e2(StatsdOptions{});
  CHECK(encode_all(e2, big, 100).empty());
  CHECK(e2.oversized_lines() == 1);
}
