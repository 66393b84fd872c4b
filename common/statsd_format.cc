#include "common/statsd_format.h"

#include <cstdio>

namespace cairn {

namespace {

// go-metrics' statsd sinks replace ':' and ' ' in names; cairn also keeps the
// other characters of the line syntax out of names and tags.
void append_clean(std::string& out, std::string_view text) {
  for (char c : text) {
    bool syntax = c == ':' || c == ' ' || c == '|' || c == '@' || c == '#' || c == ',' ||
                  c == '\n' || c == '\r';
    out += syntax ? '_' : c;
  }
}

void append_number(std::string& out, double v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.10g", v);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

void StatsdEncoder::line_name(const std::string& name, const Labels& labels, bool gauge) {
  line_.clear();
  std::string_view rest = name;
  constexpr std::string_view kConsul = "consul";
  if (rest.substr(0, kConsul.size()) == kConsul) rest.remove_prefix(kConsul.size());
  if (rest.substr(0, 1) == ".") rest.remove_prefix(1);
  append_clean(line_, options_.prefix);
  // go-metrics' EnableHostname: gauges carry the host after the prefix.
  if (gauge && !options_.dogstatsd && !options_.hostname.empty()) {
    line_ += '.';
    append_clean(line_, options_.hostname);
  }
  if (!rest.empty()) {
    if (!line_.empty()) line_ += '.';
    append_clean(line_, rest);
  }
  // Plain statsd has no labels: go-metrics appends their values to the name.
  if (!options_.dogstatsd)
    for (const auto& label : labels) {
      line_ += '.';
      append_clean(line_, label.second);
    }
}

void StatsdEncoder::finish_line(const char* type, double rate, const Labels& labels) {
  line_ += '|';
  line_ += type;
  if (rate < 1) {
    line_ += "|@";
    append_number(line_, rate);
  }
  if (!options_.dogstatsd || (labels.empty() && options_.tags.empty())) return;
  line_ += "|#";
  bool first = true;
  for (const auto& t : options_.tags) {
    if (!first) line_ += ',';
    first = false;
    append_clean(line_, t.substr(0, t.find(':')));
    if (auto colon = t.find(':'); colon != std::string::npos) {
      line_ += ':';
      append_clean(line_, std::string_view(t).substr(colon + 1));
    }
  }
  for (const auto& label : labels) {
    if (!first) line_ += ',';
    first = false;
    append_clean(line_, label.first);
    line_ += ':';
    append_clean(line_, label.second);
  }
}

void StatsdEncoder::append_line(size_t max_bytes,
                                const std::function<void(std::string_view)>& emit) {
  if (line_.size() > max_bytes) {
    ++oversized_;
    return;
  }
  if (!datagram_.empty() && datagram_.size() + 1 + line_.size() > max_bytes) {
    emit(datagram_);
    datagram_.clear();
  }
  if (!datagram_.empty()) datagram_ += '\n';
  datagram_ += line_;
}

void StatsdEncoder::encode(const MetricsRegistry& m, size_t max_bytes,
                           const std::function<void(std::string_view)>& emit) {
  datagram_.clear();
  m.for_each_series([&](const MetricsRegistry::SeriesView& s) {
    line_name(s.name, s.labels, s.gauge != nullptr);
    if (s.gauge) {
      line_ += ':';
      append_number(line_, s.gauge->value);
      finish_line("g", 1, s.labels);
      append_line(max_bytes, emit);
      return;
    }
    // The key remembers by the name and labels, whatever the format.
    std::string key = line_;
    for (const auto& label : s.labels) key += "\x1f" + label.first + "=" + label.second;
    Last& last = last_[key];
    if (s.counter) {
      uint64_t now = s.counter->value;
      uint64_t delta = now >= last.count ? now - last.count : now;  // a reset counts anew
      last.count = now;
      if (delta == 0) return;
      line_ += ':';
      line_ += std::to_string(delta);
      finish_line("c", 1, s.labels);
    } else {
      const Summary& sum = *s.summary;
      uint64_t n = sum.count >= last.count ? sum.count - last.count : sum.count;
      double total = sum.count >= last.count ? sum.sum - last.sum : sum.sum;
      last.count = sum.count;
      last.sum = sum.sum;
      if (n == 0) return;
      line_ += ':';
      append_number(line_, total / static_cast<double>(n));
      finish_line("ms", 1.0 / static_cast<double>(n), s.labels);
    }
    append_line(max_bytes, emit);
  });
  if (!datagram_.empty()) emit(datagram_);
  datagram_.clear();
}

}  // namespace cairn
