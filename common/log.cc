#include "common/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>

#include "common/json_writer.h"
#include "common/log_fanout.h"

namespace cairn::log {
namespace {

// Atomic: DNS loops on other threads read these while the main loop may reload.
std::atomic<Level> g_level{Level::info};
std::atomic<Level> g_capture{Level::info};  // min(g_level, the monitors' lowest level)
std::atomic<bool> g_json{false};
void (*g_sink)(std::string_view) = nullptr;

std::string timestamp() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm t{};
  gmtime_r(&tv.tv_sec, &t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(tv.tv_usec / 1000));
  return buf;
}

// Plain lines must stay one line: escape control characters.
void append_plain(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
}

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s)
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

}  // namespace

bool parse_level(std::string_view t, Level& out) {
  std::string s(t);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "trace")
    out = Level::trace;
  else if (s == "debug")
    out = Level::debug;
  else if (s == "info")
    out = Level::info;
  else if (s == "warn" || s == "warning")
    out = Level::warn;
  else if (s == "err" || s == "error")
    out = Level::error;
  else if (s == "off")
    out = Level::off;
  else
    return false;
  return true;
}

std::string_view level_name(Level l) {
  switch (l) {
    case Level::trace:
      return "trace";
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
    case Level::off:
      return "off";
  }
  return "info";
}

void set_level(Level l) {
  g_level.store(l, std::memory_order_relaxed);
  refresh_capture_level();
}
Level level() {
  return g_level.load(std::memory_order_relaxed);
}
Level capture_level() {
  return g_capture.load(std::memory_order_relaxed);
}
void refresh_capture_level() {
  Level l = std::min(g_level.load(std::memory_order_relaxed), lowest_monitor_level());
  g_capture.store(l, std::memory_order_relaxed);
}
void set_json(bool j) {
  g_json.store(j, std::memory_order_relaxed);
}
void set_sink(void (*sink)(std::string_view)) {
  g_sink = sink;
}

void write(Level lvl, std::string_view module, std::string_view message,
           std::initializer_list<Field> fields) {
  write(lvl, module, message, std::span<const Field>(fields.begin(), fields.size()));
}

std::string format_line(bool json, Level lvl, std::string_view module, std::string_view message,
                        std::span<const Field> fields) {
  std::string line;
  line.reserve(128);
  if (json) {
    JsonWriter w(line);
    w.begin_object();
    w.field("@level", level_name(lvl));
    w.field("@message", message);
    w.field("@module", module);
    w.field("@timestamp", timestamp());
    for (const auto& [k, v] : fields) w.field(k, v);
    w.end_object();
  } else {
    line += timestamp();
    line += " [";
    std::string_view name = level_name(lvl);
    for (char c : name) line += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    line += "] ";
    if (name.size() == 4) line += ' ';
    line += module;
    line += ": ";
    append_plain(line, message);
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      if (needs_quotes(v)) {
        line += '"';
        for (char c : v) {
          if (c == '"' || c == '\\') line += '\\';
          if (c == '\n') {
            line += "\\n";
          } else if (static_cast<unsigned char>(c) < 0x20) {
            line += ' ';
          } else {
            line += c;
          }
        }
        line += '"';
      } else {
        append_plain(line, v);
      }
    }
  }
  return line;
}

void write(Level lvl, std::string_view module, std::string_view message,
           std::span<const Field> fields) {
  publish_to_monitors(lvl, module, message, fields);
  if (lvl < g_level.load(std::memory_order_relaxed)) return;  // only a monitor wanted it
  std::string line = format_line(g_json, lvl, module, message, fields);
  if (g_sink) {
    g_sink(line);
    return;
  }
  line += '\n';
  // One write(2) per line so concurrent writers (child processes) never interleave mid-line.
  ssize_t off = 0;
  while (off < static_cast<ssize_t>(line.size())) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += n;
  }
}

}  // namespace cairn::log
