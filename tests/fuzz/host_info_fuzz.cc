// The /proc and /etc texts /v1/agent/host reads (meminfo, cpuinfo, os-release,
// mounts): every parser takes any text without crashing, and what it reports
// stays consistent (used memory never exceeds the total).
#include <cstdint>
#include <string_view>

#include "agent/http/host_info.h"

using namespace cairn::http_api;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  MemoryStat m = parse_meminfo(text);
  if (m.used > m.total) __builtin_trap();
  for (const CpuStat& c : parse_cpuinfo(text))
    for (const auto& flag : c.flags)
      if (flag.empty() || flag.find(' ') != std::string::npos) __builtin_trap();
  HostStat h;
  parse_os_release(text, h);
  (void)mount_fstype(text, "/");
  return 0;
}
