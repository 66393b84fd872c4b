// One line per event, plain (hclog-like) or JSON, to stderr.
//
// Daemons and the CLI share this. Fields are key/value pairs appended to the
// line; a message never contains a newline (they are escaped), so one event is
// always one line, which is what log shippers and `grep` expect.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace cairn::log {

enum class Level { trace = 0, debug, info, warn, error, off };

// Parses Consul's level names (trace, debug, info, warn/warning, err/error).
bool parse_level(std::string_view text, Level& out);
std::string_view level_name(Level level);

void set_level(Level level);
Level level();
// The lowest level anything wants: the output's, or a log monitor's
// (log_fanout.h) that asked for more detail than the output shows.
Level capture_level();
void set_json(bool json);
// Tests capture lines; nullptr restores stderr.
void set_sink(void (*sink)(std::string_view line));

using Field = std::pair<std::string_view, std::string_view>;
void write(Level level, std::string_view module, std::string_view message,
           std::initializer_list<Field> fields = {});
// Fields known only at run time (a child process's log line relayed).
void write(Level level, std::string_view module, std::string_view message,
           std::span<const Field> fields);

inline bool enabled(Level l) {
  return l >= capture_level();
}

// One event as a line without the newline: hclog's plain form, or JSON.
std::string format_line(bool json, Level level, std::string_view module, std::string_view message,
                        std::span<const Field> fields);

inline void trace(std::string_view m, std::string_view msg, std::initializer_list<Field> f = {}) {
  if (enabled(Level::trace)) write(Level::trace, m, msg, f);
}
inline void debug(std::string_view m, std::string_view msg, std::initializer_list<Field> f = {}) {
  if (enabled(Level::debug)) write(Level::debug, m, msg, f);
}
inline void info(std::string_view m, std::string_view msg, std::initializer_list<Field> f = {}) {
  if (enabled(Level::info)) write(Level::info, m, msg, f);
}
inline void warn(std::string_view m, std::string_view msg, std::initializer_list<Field> f = {}) {
  if (enabled(Level::warn)) write(Level::warn, m, msg, f);
}
inline void error(std::string_view m, std::string_view msg, std::initializer_list<Field> f = {}) {
  if (enabled(Level::error)) write(Level::error, m, msg, f);
}

}  // namespace cairn::log
