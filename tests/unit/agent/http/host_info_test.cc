// /v1/agent/host's parsers: the /proc and /etc texts to gopsutil's numbers.
#include "agent/http/host_info.h"

#include <doctest/doctest.h>

using namespace cairn::http_api;

TEST_CASE("meminfo: kB to bytes, and used as gopsutil counts it") {
  MemoryStat m = parse_meminfo(
      "MemTotal:       16000 kB\nMemFree:         4000 kB\nMemAvailable:    9000 kB\n"
      "Buffers:          500 kB\nCached:          3000 kB\nSReclaimable:     500 kB\n"
      "SwapTotal:       2048 kB\nSwapFree:        1024 kB\nHugePages_Total:       4\n"
      "Hugepagesize:    2048 kB\n");
  CHECK(m.total == 16000 * 1024);
  CHECK(m.available == 9000 * 1024);
  CHECK(m.cached == 3500 * 1024);  // reclaimable slab counts as cache
  CHECK(m.used == (16000 - 4000 - 500 - 3500) * 1024);
  CHECK(m.used_percent == doctest::Approx(50.0));
  CHECK(m.swap_total == 2048 * 1024);
  CHECK(m.huge_pages_total == 4);  // a count, not kB
  CHECK(m.huge_page_size == 2048 * 1024);
  MemoryStat empty = parse_meminfo("");
  CHECK(empty.total == 0);
  CHECK(empty.used_percent == 0);
}

TEST_CASE("cpuinfo: one entry per processor") {
  auto cpus = parse_cpuinfo(
      "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
      "model name\t: Intel(R) Xeon(R)\nstepping\t: 7\ncpu MHz\t\t: 2500.000\n"
      "cache size\t: 36608 KB\nphysical id\t: 0\ncore id\t\t: 0\nflags\t\t: fpu vme  de\n\n"
      "processor\t: 1\nmodel name\t: Intel(R) Xeon(R)\n");
  REQUIRE(cpus.size() == 2);
  CHECK(cpus[0].cpu == 0);
  CHECK(cpus[0].vendor_id == "GenuineIntel");
  CHECK(cpus[0].family == "6");
  CHECK(cpus[0].model == "85");
  CHECK(cpus[0].model_name == "Intel(R) Xeon(R)");
  CHECK(cpus[0].stepping == 7);
  CHECK(cpus[0].mhz == doctest::Approx(2500.0));
  CHECK(cpus[0].cache_size == 36608);
  CHECK(cpus[0].flags == std::vector<std::string>{"fpu", "vme", "de"});
  CHECK(cpus[1].cpu == 1);
  CHECK(cpus[1].flags.empty());
}

TEST_CASE("os-release: platform, version and family") {
  HostStat h;
  parse_os_release("NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n", h);
  CHECK(h.platform == "debian");
  CHECK(h.platform_version == "12");
  CHECK(h.platform_family == "debian");
  HostStat u;
  parse_os_release("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n", u);
  CHECK(u.platform_family == "debian");
}

TEST_CASE("mounts: the last mount of the point wins") {
  std::string mounts =
      "rootfs / rootfs rw 0 0\n/dev/sda1 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n";
  CHECK(mount_fstype(mounts, "/") == "ext4");
  CHECK(mount_fstype(mounts, "/proc") == "proc");
  CHECK(mount_fstype(mounts, "/nope").empty());
}
