// Watches the upstream files (resolv.upstream, resolv.conf) for changes:
// inotify on their directories, because writers such as dhclient and
// setup-resolv replace files by rename, which a watch on the file itself
// would miss; plus an mtime/inode/size poll as a safety net (some
// filesystems and containers deliver no events). CoreDNS reads its
// resolv.conf once and never again (coredns#3928); users expect better.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/uv_handle.h"

namespace cairn::dnsfwd {

class FileWatch {
 public:
  FileWatch(uv_loop_t* loop, std::function<void()> on_change);
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Replaces the watched set. An empty list stops watching.
  void watch(const std::vector<std::string>& files, uint32_t poll_ms);
  void stop();

 private:
  struct Stamp {
    bool exists = false;
    ino_t inode = 0;
    int64_t mtime_ns = 0;
    off_t size = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Dir {
    UvHandle<uv_fs_event_t> event;
    FileWatch* owner = nullptr;
    std::vector<std::string> names;
  };
  static Stamp stamp(const std::string& path);
  void check();

  uv_loop_t* loop_;
  std::function<void()> on_change_;
  std::vector<std::string> files_;
  std::vector<Stamp> stamps_;
  std::vector<std::unique_ptr<Dir>> dirs_;
  Timer poll_;
  Timer debounce_;
};

}  // namespace cairn::dnsfwd
