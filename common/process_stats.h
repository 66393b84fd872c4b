// What the kernel says about this process (/proc/self): resident and virtual
// memory, threads, open file descriptors, CPU time. cairn has no Go runtime,
// so these stand in for Consul's consul.runtime.* gauges and are what
// Prometheus' process collector (process_*) reports for a Consul agent.
// Read on a scrape, never on a hot path: a few small file reads.
#pragma once

#include <cstdint>
#include <string_view>

namespace cairn {

struct ProcessStats {
  uint64_t resident_bytes = 0;  // VmRSS
  uint64_t virtual_bytes = 0;   // VmSize
  uint64_t threads = 0;         // Threads
  uint64_t open_fds = 0;        // entries of /proc/self/fd
  uint64_t max_fds = 0;         // RLIMIT_NOFILE soft limit
  double cpu_seconds = 0;       // user + system time
};

// /proc/self/status ("VmRSS:\t  1234 kB" lines): fills resident_bytes,
// virtual_bytes and threads from the lines present. False when none is.
bool parse_proc_status(std::string_view text, ProcessStats& out);

// /proc/self/stat: utime and stime (fields 14 and 15, in clock ticks). The
// command (field 2) may hold spaces and parentheses: fields are counted after
// its last ')'. False when the line is too short or a field is not a number.
struct ProcStat {
  uint64_t utime_ticks = 0, stime_ticks = 0;
};
bool parse_proc_stat(std::string_view text, ProcStat& out);

// Reads everything above for this process; fields it cannot read stay 0.
ProcessStats read_process_stats();

}  // namespace cairn
