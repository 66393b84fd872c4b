#include "agent/http/host_info.h"

#include <dirent.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <ctime>

#include "common/files.h"
#include "common/json_writer.h"

namespace cairn::http_api {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

uint64_t to_u64(std::string_view s) {
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Calls fn(key, value) for each "key<sep>value" line.
template <typename Fn>
void for_each_pair(std::string_view text, char sep, Fn&& fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t at = line.find(sep);
    if (at == std::string_view::npos) {
      fn(trim(line), std::string_view());
      continue;
    }
    fn(trim(line.substr(0, at)), trim(line.substr(at + 1)));
  }
}

// "16318864 kB" -> bytes.
uint64_t meminfo_bytes(std::string_view v) {
  uint64_t n = to_u64(v);
  return v.ends_with("kB") ? n * 1024 : n;
}

std::string unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return std::string(v);
}

std::string read_trimmed(const std::string& path) {
  std::string text, error;
  if (!read_file(path, text, error)) return {};
  return std::string(trim(text));
}

uint64_t count_processes() {
  uint64_t n = 0;
  DIR* d = opendir("/proc");
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string_view::npos) ++n;
  }
  closedir(d);
  return n;
}

void write_memory(JsonWriter& w, const MemoryStat& m) {
  w.begin_object();
  w.field("total", m.total);
  w.field("available", m.available);
  w.field("used", m.used);
  w.field("usedPercent", m.used_percent);
  w.field("free", m.free);
  w.field("active", m.active);
  w.field("inactive", m.inactive);
  w.field("wired", uint64_t{0});
  w.field("laundry", uint64_t{0});
  w.field("buffers", m.buffers);
  w.field("cached", m.cached);
  w.field("writeBack", m.write_back);
  w.field("dirty", m.dirty);
  w.field("writeBackTmp", uint64_t{0});
  w.field("shared", m.shared);
  w.field("slab", m.slab);
  w.field("sreclaimable", m.sreclaimable);
  w.field("sunreclaim", m.sunreclaim);
  w.field("pageTables", m.page_tables);
  w.field("swapCached", m.swap_cached);
  w.field("commitLimit", m.commit_limit);
  w.field("committedAS", m.committed_as);
  w.field("highTotal", uint64_t{0});
  w.field("highFree", uint64_t{0});
  w.field("lowTotal", uint64_t{0});
  w.field("lowFree", uint64_t{0});
  w.field("swapTotal", m.swap_total);
  w.field("swapFree", m.swap_free);
  w.field("mapped", m.mapped);
  w.field("vmallocTotal", m.vmalloc_total);
  w.field("vmallocUsed", m.vmalloc_used);
  w.field("vmallocChunk", m.vmalloc_chunk);
  w.field("hugePagesTotal", m.huge_pages_total);
  w.field("hugePagesFree", m.huge_pages_free);
  w.field("hugePagesRsvd", uint64_t{0});
  w.field("hugePagesSurp", uint64_t{0});
  w.field("hugePageSize", m.huge_page_size);
  w.end_object();
}

void write_cpu(JsonWriter& w, const CpuStat& c) {
  w.begin_object();
  w.field("cpu", c.cpu);
  w.field("vendorId", c.vendor_id);
  w.field("family", c.family);
  w.field("model", c.model);
  w.field("stepping", c.stepping);
  w.field("physicalId", c.physical_id);
  w.field("coreId", c.core_id);
  w.field("cores", c.cores);
  w.field("modelName", c.model_name);
  w.field("mhz", c.mhz);
  w.field("cacheSize", c.cache_size);
  w.string_array("flags", c.flags);
  w.field("microcode", c.microcode);
  w.end_object();
}

void write_host(JsonWriter& w, const HostStat& h) {
  w.begin_object();
  w.field("hostname", h.hostname);
  w.field("uptime", h.uptime);
  w.field("bootTime", h.boot_time);
  w.field("procs", h.procs);
  w.field("os", h.os);
  w.field("platform", h.platform);
  w.field("platformFamily", h.platform_family);
  w.field("platformVersion", h.platform_version);
  w.field("kernelVersion", h.kernel_version);
  w.field("kernelArch", h.kernel_arch);
  w.field("virtualizationSystem", "");
  w.field("virtualizationRole", "");
  w.field("hostId", h.host_id);
  w.end_object();
}

void write_disk(JsonWriter& w, const DiskStat& d) {
  w.begin_object();
  w.field("path", d.path);
  w.field("fstype", d.fstype);
  w.field("total", d.total);
  w.field("free", d.free);
  w.field("used", d.used);
  w.field("usedPercent", d.used_percent);
  w.field("inodesTotal", d.inodes_total);
  w.field("inodesUsed", d.inodes_used);
  w.field("inodesFree", d.inodes_free);
  w.field("inodesUsedPercent", d.inodes_used_percent);
  w.end_object();
}

bool collect_host(HostStat& h, std::string& error) {
  utsname u{};
  if (uname(&u) != 0) {
    error = "uname failed";
    return false;
  }
  h.hostname = u.nodename;
  h.kernel_version = u.release;
  h.kernel_arch = u.machine;
  std::string text, err;
  if (read_file("/etc/os-release", text, err) || read_file("/usr/lib/os-release", text, err))
    parse_os_release(text, h);
  std::string uptime = read_trimmed("/proc/uptime");
  h.uptime = to_u64(uptime);  // whole seconds, as gopsutil reports
  h.boot_time = static_cast<uint64_t>(time(nullptr)) - h.uptime;
  h.procs = count_processes();
  h.host_id = read_trimmed("/sys/class/dmi/id/product_uuid");
  if (h.host_id.empty()) h.host_id = read_trimmed("/proc/sys/kernel/random/boot_id");
  return true;
}

bool collect_disk(DiskStat& d, std::string& error) {
  struct statvfs s {};
  if (statvfs("/", &s) != 0) {
    error = "statvfs /: failed";
    return false;
  }
  d.total = static_cast<uint64_t>(s.f_blocks) * s.f_frsize;
  d.free = static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
  d.used = (static_cast<uint64_t>(s.f_blocks) - s.f_bfree) * s.f_frsize;
  if (d.used + d.free > 0)
    d.used_percent = 100.0 * static_cast<double>(d.used) / static_cast<double>(d.used + d.free);
  d.inodes_total = s.f_files;
  d.inodes_free = s.f_ffree;
  d.inodes_used = d.inodes_total - d.inodes_free;
  if (d.inodes_total > 0)
    d.inodes_used_percent =
        100.0 * static_cast<double>(d.inodes_used) / static_cast<double>(d.inodes_total);
  std::string mounts, err;
  if (read_file("/proc/mounts", mounts, err)) d.fstype = mount_fstype(mounts, "/");
  return true;
}

}  // namespace

MemoryStat parse_meminfo(std::string_view text) {
  MemoryStat m;
  for_each_pair(text, ':', [&m](std::string_view k, std::string_view v) {
    uint64_t b = meminfo_bytes(v);
    if (k == "MemTotal")
      m.total = b;
    else if (k == "MemFree")
      m.free = b;
    else if (k == "MemAvailable")
      m.available = b;
    else if (k == "Buffers")
      m.buffers = b;
    else if (k == "Cached")
      m.cached = b;
    else if (k == "Active")
      m.active = b;
    else if (k == "Inactive")
      m.inactive = b;
    else if (k == "Writeback")
      m.write_back = b;
    else if (k == "Dirty")
      m.dirty = b;
    else if (k == "Shmem")
      m.shared = b;
    else if (k == "Slab")
      m.slab = b;
    else if (k == "SReclaimable")
      m.sreclaimable = b;
    else if (k == "SUnreclaim")
      m.sunreclaim = b;
    else if (k == "PageTables")
      m.page_tables = b;
    else if (k == "SwapCached")
      m.swap_cached = b;
    else if (k == "CommitLimit")
      m.commit_limit = b;
    else if (k == "Committed_AS")
      m.committed_as = b;
    else if (k == "SwapTotal")
      m.swap_total = b;
    else if (k == "SwapFree")
      m.swap_free = b;
    else if (k == "Mapped")
      m.mapped = b;
    else if (k == "VmallocTotal")
      m.vmalloc_total = b;
    else if (k == "VmallocUsed")
      m.vmalloc_used = b;
    else if (k == "VmallocChunk")
      m.vmalloc_chunk = b;
    else if (k == "HugePages_Total")
      m.huge_pages_total = to_u64(v);
    else if (k == "HugePages_Free")
      m.huge_pages_free = to_u64(v);
    else if (k == "Hugepagesize")
      m.huge_page_size = b;
  });
  // gopsutil: the page cache counts reclaimable slab too, and "used" is what
  // neither free, buffers nor cache account for.
  m.cached += m.sreclaimable;
  uint64_t unused = m.free + m.buffers + m.cached;
  m.used = m.total > unused ? m.total - unused : 0;
  if (m.total > 0)
    m.used_percent = 100.0 * static_cast<double>(m.used) / static_cast<double>(m.total);
  return m;
}

std::vector<CpuStat> parse_cpuinfo(std::string_view text) {
  std::vector<CpuStat> out;
  for_each_pair(text, ':', [&out](std::string_view k, std::string_view v) {
    if (k == "processor") {
      out.emplace_back();
      out.back().cpu = static_cast<int>(to_u64(v));
      return;
    }
    if (out.empty()) return;
    CpuStat& c = out.back();
    if (k == "vendor_id")
      c.vendor_id = v;
    else if (k == "cpu family")
      c.family = v;
    else if (k == "model")
      c.model = v;
    else if (k == "model name")
      c.model_name = v;
    else if (k == "stepping")
      c.stepping = static_cast<int>(to_u64(v));
    else if (k == "physical id")
      c.physical_id = v;
    else if (k == "core id")
      c.core_id = v;
    else if (k == "microcode")
      c.microcode = v;
    else if (k == "cpu MHz")
      c.mhz = std::strtod(std::string(v).c_str(), nullptr);
    else if (k == "cache size")
      c.cache_size = static_cast<int>(to_u64(v));
    else if (k == "flags" || k == "Features") {
      c.flags.clear();
      while (!v.empty()) {
        size_t sp = v.find(' ');
        if (sp != 0) c.flags.emplace_back(v.substr(0, sp));
        v.remove_prefix(sp == std::string_view::npos ? v.size() : sp + 1);
      }
    }
  });
  return out;
}

void parse_os_release(std::string_view text, HostStat& out) {
  std::string id_like;
  for_each_pair(text, '=', [&](std::string_view k, std::string_view v) {
    if (k == "ID")
      out.platform = unquote(v);
    else if (k == "VERSION_ID")
      out.platform_version = unquote(v);
    else if (k == "ID_LIKE")
      id_like = unquote(v);
  });
  std::string_view family = id_like;
  family = family.substr(0, family.find(' '));
  out.platform_family = family.empty() ? out.platform : std::string(family);
}

std::string mount_fstype(std::string_view mounts, std::string_view mount_point) {
  std::string found;
  while (!mounts.empty()) {
    size_t nl = mounts.find('\n');
    std::string_view line = mounts.substr(0, nl);
    mounts.remove_prefix(nl == std::string_view::npos ? mounts.size() : nl + 1);
    // "<device> <mount point> <type> <options> 0 0"
    size_t a = line.find(' ');
    if (a == std::string_view::npos) continue;
    size_t b = line.find(' ', a + 1);
    if (b == std::string_view::npos) continue;
    if (line.substr(a + 1, b - a - 1) != mount_point) continue;
    size_t c = line.find(' ', b + 1);
    found = std::string(line.substr(b + 1, c == std::string_view::npos ? c : c - b - 1));
  }
  return found;
}

std::string collect_host_info_json(bool pretty) {
  std::vector<std::string> errors;
  std::string body;
  JsonWriter w(body, pretty);
  w.begin_object();

  std::string text, error;
  w.key("Memory");
  if (read_file("/proc/meminfo", text, error)) {
    write_memory(w, parse_meminfo(text));
  } else {
    w.null();
    errors.push_back("/proc/meminfo: " + error);
  }

  w.key("CPU");
  if (read_file("/proc/cpuinfo", text, error)) {
    w.begin_array();
    for (const auto& c : parse_cpuinfo(text)) write_cpu(w, c);
    w.end_array();
  } else {
    w.null();
    errors.push_back("/proc/cpuinfo: " + error);
  }

  HostStat host;
  w.key("Host");
  if (collect_host(host, error)) {
    write_host(w, host);
  } else {
    w.null();
    errors.push_back(error);
  }

  DiskStat disk;
  w.key("Disk");
  if (collect_disk(disk, error)) {
    write_disk(w, disk);
  } else {
    w.null();
    errors.push_back(error);
  }

  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  w.field("CollectionTime", static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
  // Consul marshals Go errors, which have no exported fields: each is {}.
  w.key("Errors");
  if (errors.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (size_t i = 0; i < errors.size(); ++i) {
      w.begin_object();
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  return body;
}

}  // namespace cairn::http_api
