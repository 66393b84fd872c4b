#include "common/metrics.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "common/json_writer.h"

namespace cairn {

void Summary::observe(double v) {
  if (count == 0 || v < min) min = v;
  if (count == 0 || v > max) max = v;
  count++;
  sum += v;
}

void* MetricsRegistry::find(const std::string& name, Type type, const std::string& help,
                            Labels& labels) {
  std::sort(labels.begin(), labels.end());
  auto& fam = families_[name];
  if (fam.series.empty()) {
    fam.type = type;
    fam.help = help;
  }
  for (auto& [l, ptr] : fam.series)
    if (l == labels) return ptr;
  void* ptr = nullptr;
  switch (type) {
    case Type::counter: ptr = &counters_.emplace_back(); break;
    case Type::gauge: ptr = &gauges_.emplace_back(); break;
    case Type::summary: ptr = &summaries_.emplace_back(); break;
  }
  fam.series.emplace_back(labels, ptr);
  return ptr;
}

void MetricsRegistry::add_from(const MetricsRegistry& other) {
  for (const auto& [name, fam] : other.families_) {
    for (const auto& [labels, ptr] : fam.series) {
      Labels l = labels;
      void* mine = find(name, fam.type, fam.help, l);
      switch (fam.type) {
        case Type::counter:
          static_cast<Counter*>(mine)->value += static_cast<const Counter*>(ptr)->value;
          break;
        case Type::gauge:
          static_cast<Gauge*>(mine)->value += static_cast<const Gauge*>(ptr)->value;
          break;
        case Type::summary: {
          auto* to = static_cast<Summary*>(mine);
          const auto* from = static_cast<const Summary*>(ptr);
          if (from->count == 0) break;
          if (to->count == 0 || from->min < to->min) to->min = from->min;
          if (to->count == 0 || from->max > to->max) to->max = from->max;
          to->count += from->count;
          to->sum += from->sum;
          break;
        }
      }
    }
  }
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, Labels l) {
  return *static_cast<Counter*>(find(name, Type::counter, help, l));
}
Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, Labels l) {
  return *static_cast<Gauge*>(find(name, Type::gauge, help, l));
}
Summary& MetricsRegistry::summary(const std::string& name, const std::string& help, Labels l) {
  return *static_cast<Summary*>(find(name, Type::summary, help, l));
}

std::string prometheus_name(std::string_view name) {
  std::string out(name);
  for (auto& c : out)
    if (c == '.' || c == '-' || c == ' ' || c == '=' || c == '/') c = '_';
  return out;
}

namespace {

std::string prom_labels(const Labels& labels, const char* extra_key = nullptr,
                        const char* extra_val = nullptr) {
  if (labels.empty() && !extra_key) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (extra_key) add(extra_key, extra_val);
  return out + "}";
}

template <class Family>
bool any_observed(const Family& fam) {
  for (const auto& [l, p] : fam.series)
    if (static_cast<const Summary*>(p)->count > 0) return true;
  return false;
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

std::string MetricsRegistry::prometheus() const {
  std::string out;
  for (const auto& [name, fam] : families_) {
    // A timer nothing has observed yet is left out, as Consul's sinks leave
    // out what was never measured (every HTTP route has timers registered).
    if (fam.type == Type::summary && !any_observed(fam)) continue;
    std::string n = prometheus_name(name);
    out += "# HELP " + n + " " + fam.help + "\n";
    switch (fam.type) {
      case Type::counter:
        out += "# TYPE " + n + " counter\n";
        for (const auto& [l, p] : fam.series)
          out += n + prom_labels(l) + " " + std::to_string(static_cast<Counter*>(p)->value) + "\n";
        break;
      case Type::gauge:
        out += "# TYPE " + n + " gauge\n";
        for (const auto& [l, p] : fam.series)
          out += n + prom_labels(l) + " " + num(static_cast<Gauge*>(p)->value) + "\n";
        break;
      case Type::summary:
        out += "# TYPE " + n + " summary\n";
        for (const auto& [l, p] : fam.series) {
          auto* s = static_cast<Summary*>(p);
          if (s->count == 0) continue;
          out += n + "_sum" + prom_labels(l) + " " + num(s->sum) + "\n";
          out += n + "_count" + prom_labels(l) + " " + std::to_string(s->count) + "\n";
        }
        break;
    }
  }
  return out;
}

void MetricsRegistry::write_json(JsonWriter& w, int64_t now_unix) const {
  char ts[96];
  time_t t = static_cast<time_t>(now_unix);
  tm g{};
  gmtime_r(&t, &g);
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02d %02d:%02d:%02d +0000 UTC", g.tm_year + 1900,
                g.tm_mon + 1, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec);
  auto labels = [&](const Labels& l) {
    w.key("Labels");
    w.begin_object();
    for (const auto& [k, v] : l) w.field(k, v);
    w.end_object();
  };
  w.begin_object();
  w.field("Timestamp", std::string(ts));
  w.key("Gauges");
  w.begin_array();
  for (const auto& [name, fam] : families_) {
    if (fam.type != Type::gauge) continue;
    for (const auto& [l, p] : fam.series) {
      w.begin_object();
      w.field("Name", name);
      w.field("Value", static_cast<Gauge*>(p)->value);
      labels(l);
      w.end_object();
    }
  }
  w.end_array();
  w.key("Points");
  w.begin_array();
  w.end_array();
  for (Type type : {Type::counter, Type::summary}) {
    w.key(type == Type::counter ? "Counters" : "Samples");
    w.begin_array();
    for (const auto& [name, fam] : families_) {
      if (fam.type != type) continue;
      for (const auto& [l, p] : fam.series) {
        double count, sum, mn, mx;
        if (type == Type::counter) {
          auto v = static_cast<double>(static_cast<Counter*>(p)->value);
          count = v;
          sum = v;
          mn = mx = v;
        } else {
          auto* s = static_cast<Summary*>(p);
          if (s->count == 0) continue;
          count = static_cast<double>(s->count);
          sum = s->sum;
          mn = s->min;
          mx = s->max;
        }
        w.begin_object();
        w.field("Name", name);
        w.field("Count", static_cast<int64_t>(count));
        w.field("Rate", sum / 10.0);
        w.field("Sum", sum);
        w.field("Min", mn);
        w.field("Max", mx);
        w.field("Mean", count > 0 ? sum / count : 0.0);
        w.field("Stddev", 0.0);
        labels(l);
        w.end_object();
      }
    }
    w.end_array();
  }
  w.end_object();
}

}  // namespace cairn
