// Metrics in statsd's text format ("name:value|g", "|c", "|ms"), as Consul's
// statsd and DogStatsD sinks send them, from successive snapshots of a
// MetricsRegistry. Consul sends each update as it happens; cairn sends every
// interval what changed: counters as their increase since the last send,
// gauges as their value, timing summaries as the mean of the new observations
// with a sample rate of 1/count (so statsd's count and sum come out right).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"

namespace cairn {

struct StatsdOptions {
  bool dogstatsd = false;         // labels as "|#k:v" tags rather than in the name
  std::string prefix = "consul";  // replaces the registry names' leading "consul"
  std::string hostname;           // statsd: put in gauge names after the prefix ("" = none)
  std::vector<std::string> tags;  // dogstatsd: added to every line ("key:value")
};

// One UDP datagram carries whole lines; 1432 bytes fit an Ethernet MTU with
// IPv4 or IPv6 headers.
inline constexpr size_t kStatsdMaxDatagram = 1432;

class StatsdEncoder {
 public:
  explicit StatsdEncoder(StatsdOptions options) : options_(std::move(options)) {}

  // Encodes what changed in m since the last call and passes it to emit in
  // datagrams of at most max_bytes (a longer single line is dropped and counted).
  void encode(const MetricsRegistry& m, size_t max_bytes,
              const std::function<void(std::string_view datagram)>& emit);
  uint64_t oversized_lines() const { return oversized_; }

 private:
  void line_name(const std::string& name, const Labels& labels, bool gauge);
  void finish_line(const char* type, double rate, const Labels& labels);
  void append_line(size_t max_bytes, const std::function<void(std::string_view)>& emit);

  struct Last {
    uint64_t count = 0;
    double sum = 0;
  };
  StatsdOptions options_;
  std::map<std::string, Last> last_;  // by line name: what the previous send covered
  std::string line_, datagram_;       // reused between sends
  uint64_t oversized_ = 0;
};

}  // namespace cairn
