// /proc/self/status and /proc/self/stat text through their parsers: the
// kernel writes them, but a parser must stop at any input, never crash.
#include <cstdint>
#include <string_view>

#include "common/process_stats.h"

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ProcessStats s;
  parse_proc_status(text, s);
  ProcStat st;
  parse_proc_stat(text, st);
  return 0;
}
