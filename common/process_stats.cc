#include "common/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string>

namespace cairn {

namespace {

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "  1234 kB" -> 1234 * 1024; "17" -> 17.
bool status_value(std::string_view v, uint64_t& out) {
  v = trim(v);
  uint64_t scale = 1;
  if (v.ends_with(" kB")) {
    v.remove_suffix(3);
    scale = 1024;
  }
  if (!parse_u64(trim(v), out)) return false;
  out *= scale;
  return true;
}

// Whole small file; "" when unreadable.
std::string read_small_file(const char* path) {
  std::string out;
  if (FILE* f = std::fopen(path, "re")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out.size() < (1 << 20))
      out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

uint64_t count_open_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  uint64_t n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n > 0 ? n - 1 : 0;  // the directory stream's own descriptor
}

}  // namespace

bool parse_proc_status(std::string_view text, ProcessStats& out) {
  bool any = false;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon), value = line.substr(colon + 1);
    uint64_t* field = key == "VmRSS"     ? &out.resident_bytes
                      : key == "VmSize"  ? &out.virtual_bytes
                      : key == "Threads" ? &out.threads
                                         : nullptr;
    if (field && status_value(value, *field)) any = true;
  }
  return any;
}

bool parse_proc_stat(std::string_view text, ProcStat& out) {
  size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return false;
  text.remove_prefix(paren + 1);
  // After the command: field 3 (state) is the first; utime is field 14.
  int field = 2;
  while (!text.empty()) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    size_t end = text.find_first_of(" \n");
    std::string_view token = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end);
    if (token.empty()) break;
    ++field;
    if (field == 14 && !parse_u64(token, out.utime_ticks)) return false;
    if (field == 15) return parse_u64(token, out.stime_ticks);
  }
  return false;
}

ProcessStats read_process_stats() {
  ProcessStats s;
  parse_proc_status(read_small_file("/proc/self/status"), s);
  ProcStat st;
  if (long hz = sysconf(_SC_CLK_TCK);
      hz > 0 && parse_proc_stat(read_small_file("/proc/self/stat"), st))
    s.cpu_seconds = static_cast<double>(st.utime_ticks + st.stime_ticks) / static_cast<double>(hz);
  s.open_fds = count_open_fds();
  if (rlimit rl{}; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    s.max_fds = rl.rlim_cur;
  return s;
}

}  // namespace cairn
