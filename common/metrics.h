// Counters, gauges and timing summaries owned by one loop (no atomics: only
// the loop thread touches them), rendered as Prometheus text or as Consul's
// /v1/agent/metrics JSON. Handles are stable pointers: look a metric up once,
// then bump it on the hot path without a map lookup.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn {

class JsonWriter;

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Counter {
  uint64_t value = 0;
  void inc(uint64_t n = 1) { value += n; }
};

struct Gauge {
  double value = 0;
  void set(double v) { value = v; }
};

// Count, sum, min and max of observed values (e.g. milliseconds per query).
struct Summary {
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
  void observe(double v);
};

// A dotted name as Consul's Prometheus sink exposes it: '.', '-', ' ', '='
// and '/' become '_' ("consul.http.GET.v1.kv._" -> "consul_http_GET_v1_kv__").
std::string prometheus_name(std::string_view name);

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  // Handles point into the registry: it is never copied, only merged.
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Adds other's series into this one: counters and gauges summed, summaries
  // combined. How several loops' metrics become one answer.
  void add_from(const MetricsRegistry& other);

  // Names are dotted Consul-style ("consul.dns.queries"); Prometheus output
  // replaces dots with underscores. Same name + labels returns the same handle.
  Counter& counter(const std::string& name, const std::string& help, Labels labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, Labels labels = {});
  Summary& summary(const std::string& name, const std::string& help, Labels labels = {});

  // Every series, in name order: exactly one of counter, gauge, summary is set.
  struct SeriesView {
    const std::string& name;
    const Labels& labels;
    const Counter* counter;
    const Gauge* gauge;
    const Summary* summary;
  };
  template <class Fn>
  void for_each_series(Fn&& fn) const {
    for (const auto& [name, fam] : families_)
      for (const auto& [labels, ptr] : fam.series)
        fn(SeriesView{name, labels,
                      fam.type == Type::counter ? static_cast<const Counter*>(ptr) : nullptr,
                      fam.type == Type::gauge ? static_cast<const Gauge*>(ptr) : nullptr,
                      fam.type == Type::summary ? static_cast<const Summary*>(ptr) : nullptr});
  }

  std::string prometheus() const;
  void write_json(JsonWriter& w, int64_t now_unix) const;

 private:
  enum class Type { counter, gauge, summary };
  struct Family {
    Type type;
    std::string help;
    std::vector<std::pair<Labels, void*>> series;
  };
  void* find(const std::string& name, Type type, const std::string& help, Labels& labels);

  std::map<std::string, Family> families_;
  std::deque<Counter> counters_;
  std::deque<Gauge> gauges_;
  std::deque<Summary> summaries_;
};

}  // namespace cairn
