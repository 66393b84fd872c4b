#include "dnsfwd/file_watch.h"

#include <sys/stat.h>

#include <cstring>

namespace cairn::dnsfwd {

namespace {
constexpr uint64_t kDebounceMs = 30;  // writers often truncate, then write, then rename
}

FileWatch::FileWatch(uv_loop_t* loop, std::function<void()> on_change)
    : loop_(loop), on_change_(std::move(on_change)), poll_(loop), debounce_(loop) {
  poll_.unref();
  debounce_.unref();
}

FileWatch::Stamp FileWatch::stamp(const std::string& path) {
  Stamp s;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.inode = st.st_ino;
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.size = st.st_size;
  return s;
}

void FileWatch::stop() {
  dirs_.clear();
  poll_.stop();
  debounce_.stop();
  files_.clear();
  stamps_.clear();
}

void FileWatch::watch(const std::vector<std::string>& files, uint32_t poll_ms) {
  stop();
  files_ = files;
  for (const auto& f : files_) stamps_.push_back(stamp(f));
  for (const auto& f : files_) {
    auto slash = f.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : f.substr(0, slash));
    std::string name = slash == std::string::npos ? f : f.substr(slash + 1);
    Dir* d = nullptr;
    for (auto& existing : dirs_) {
      char buf[4096];
      size_t len = sizeof buf;
      if (uv_fs_event_getpath(existing->event.get(), buf, &len) == 0 &&
          std::string(buf, len) == dir)
        d = existing.get();
    }
    if (!d) {
      auto fresh = std::make_unique<Dir>();
      fresh->owner = this;
      uv_fs_event_init(loop_, fresh->event.get());
      fresh->event.mark_initialized();
      fresh->event.get()->data = fresh.get();
      int rc = uv_fs_event_start(
          fresh->event.get(),
          [](uv_fs_event_t* h, const char* filename, int, int) {
            auto* dir = static_cast<Dir*>(h->data);
            if (!dir) return;
            bool ours = filename == nullptr;
            for (const auto& n : dir->names) ours = ours || (filename && n == filename);
            if (!ours) return;
            FileWatch* self = dir->owner;
            self->debounce_.start(kDebounceMs, 0, [self] { self->check(); });
          },
          dir.c_str(), 0);
      if (rc != 0) continue;  // a missing directory: the poll still notices the file appearing
      uv_unref(fresh->event.base());
      d = fresh.get();
      dirs_.push_back(std::move(fresh));
    }
    d->names.push_back(name);
  }
  if (!files_.empty() && poll_ms > 0) poll_.start(poll_ms, poll_ms, [this] { check(); });
}

void FileWatch::check() {
  bool changed = false;
  for (size_t i = 0; i < files_.size(); ++i) {
    Stamp s = stamp(files_[i]);
    if (!(s == stamps_[i])) {
      stamps_[i] = s;
      changed = true;
    }
  }
  if (changed && on_change_) on_change_();
}

}  // namespace cairn::dnsfwd
