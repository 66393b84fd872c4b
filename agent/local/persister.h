// Crash-safe writes to the data dir, off the loop thread.
//
// The API answers a registration only after its file is fsynced (so kill -9
// right after a 200 loses nothing), but fsync must not stall the loop: writes
// run on libuv's thread pool, strictly in the order they were queued, and
// their callbacks run back on the loop. Queued writes go out as one batch.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace cairn::local {

class Persister {
 public:
  using Done = std::function<void(const std::string& error)>;

  // An empty data_dir disables persistence (-dev without -data-dir): callbacks run at once.
  Persister(uv_loop_t* loop, std::string data_dir);
  ~Persister();
  Persister(const Persister&) = delete;
  Persister& operator=(const Persister&) = delete;

  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  // path is relative to the data dir.
  void write(const std::string& path, std::string content, Done done);
  void remove(const std::string& path, Done done);
  // Runs the remaining queue synchronously (shutdown).
  void flush();

 private:
  struct Op {
    bool remove = false;
    std::string path;
    std::string content;
    Done done;
    std::string error;
  };
  void kick();
  static void run_ops(std::vector<Op>& ops);

  uv_loop_t* loop_;
  std::string dir_;
  std::deque<Op> queue_;
  struct Work;
  Work* in_flight_ = nullptr;
};

// File names for persisted entries: a hash of the ID, so any ID is a safe name.
std::string persisted_name(const std::string& id);

}  // namespace cairn::local
