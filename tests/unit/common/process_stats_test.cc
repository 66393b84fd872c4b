#include "common/process_stats.h"

#include <doctest/doctest.h>

using namespace cairn;

TEST_CASE("/proc/self/status: resident and virtual memory in bytes, threads") {
  ProcessStats s;
  REQUIRE(
      parse_proc_status("Name:\tcairn\nVmSize:\t  204800 kB\nVmRSS:\t    1024 kB\n"
                        "Threads:\t7\nSigQ:\t0/1\n",
                        s));
  CHECK(s.virtual_bytes == 204800ull * 1024);
  CHECK(s.resident_bytes == 1024ull * 1024);
  CHECK(s.threads == 7);
}

TEST_CASE("/proc/self/status: nothing known, or a value that is not a number") {
  ProcessStats s;
  CHECK_FALSE(parse_proc_status("", s));
  CHECK_FALSE(parse_proc_status("Name:\tx\nVmRSS:\tlots kB\nThreads", s));
  CHECK(s.resident_bytes == 0);
}

TEST_CASE("/proc/self/stat: CPU ticks counted after the command's last parenthesis") {
  ProcStat st;
  REQUIRE(
      parse_proc_stat("42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 "
                      "12345 1000 10\n",
                      st));
  CHECK(st.utime_ticks == 250);
  CHECK(st.stime_ticks == 75);
  CHECK_FALSE(parse_proc_stat("42 (cairn) S 1 2", st));
  CHECK_FALSE(parse_proc_stat("no parenthesis", st));
  CHECK_FALSE(parse_proc_stat("1 (x) S 1 2 3 4 5 6 7 8 9 10 x 1", st));
}

TEST_CASE("this process can be read") {
  ProcessStats s = read_process_stats();
  CHECK(s.resident_bytes > 0);
  CHECK(s.threads >= 1);
  CHECK(s.open_fds >= 1);
}
