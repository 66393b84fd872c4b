// /v1/agent/host: what the host offers and uses, in the shape Consul answers
// with (its debug.HostInfo of gopsutil structs: CPU, Disk, Host, Memory,
// CollectionTime, Errors), so `consul debug` and the UI read it unchanged.
//
// Collected from /proc, uname(2) and statvfs(2) on each request: a request is
// rare (operators, debug bundles), the reads are a few small files, and
// nothing needs to be kept up to date between requests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::http_api {

// gopsutil's mem.VirtualMemoryStat, the fields Linux fills (bytes).
struct MemoryStat {
  uint64_t total = 0, available = 0, used = 0, free = 0, active = 0, inactive = 0;
  uint64_t buffers = 0, cached = 0, write_back = 0, dirty = 0, shared = 0, slab = 0;
  uint64_t sreclaimable = 0, sunreclaim = 0, page_tables = 0, swap_cached = 0;
  uint64_t commit_limit = 0, committed_as = 0, swap_total = 0, swap_free = 0, mapped = 0;
  uint64_t vmalloc_total = 0, vmalloc_used = 0, vmalloc_chunk = 0;
  uint64_t huge_pages_total = 0, huge_pages_free = 0, huge_page_size = 0;
  double used_percent = 0;
};

// gopsutil's cpu.InfoStat: one per logical CPU.
struct CpuStat {
  int cpu = 0;
  std::string vendor_id, family, model, physical_id, core_id, model_name, microcode;
  int stepping = 0;
  int cores = 1;
  double mhz = 0;
  int cache_size = 0;  // KB
  std::vector<std::string> flags;
};

// gopsutil's host.InfoStat.
struct HostStat {
  std::string hostname, os = "linux", platform, platform_family, platform_version;
  std::string kernel_version, kernel_arch, host_id;
  uint64_t uptime = 0, boot_time = 0, procs = 0;
};

// gopsutil's disk.UsageStat of "/".
struct DiskStat {
  std::string path = "/", fstype;
  uint64_t total = 0, free = 0, used = 0;
  uint64_t inodes_total = 0, inodes_used = 0, inodes_free = 0;
  double used_percent = 0, inodes_used_percent = 0;
};

// The parsers take a file's text, so tests feed them fixed inputs.
MemoryStat parse_meminfo(std::string_view text);
std::vector<CpuStat> parse_cpuinfo(std::string_view text);
// /etc/os-release: platform (ID), version (VERSION_ID) and family (ID_LIKE's
// first word, else ID), as gopsutil reports them.
void parse_os_release(std::string_view text, HostStat& out);
// A filesystem type name from /proc/mounts for the mount point (last match).
std::string mount_fstype(std::string_view mounts, std::string_view mount_point);

// Collects everything and writes Consul's JSON; errors reading a part leave
// that part null and add its message to Errors.
std::string collect_host_info_json(bool pretty);

}  // namespace cairn::http_api
