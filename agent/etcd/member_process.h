// The server's own etcd member as a supervised child process.
//
// Started with member_command_line() in its run directory, its zap log lines
// relayed into cairn's log with module "etcd", restarted with exponential
// backoff (0.5 s doubling to 30 s, reset after a minute of running) when it
// dies, and stopped with SIGTERM, which hands leadership over first (writes
// resumed 4-28 ms later, against 1.3-2.6 s after a SIGKILL, reference §9.4),
// then SIGKILL after a bound. A member that cannot start (no etcd binary, a
// bad flag) or was removed from the cluster is not restarted in a loop: it
// is reported as failed with the reason.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "agent/etcd/member_command.h"
#include "common/uv_handle.h"

namespace cairn::etcd {

class MemberProcess {
 public:
  enum class State : uint8_t { stopped, running, backing_off, stopping, failed };

  struct Events {
    std::function<void(int64_t pid)> on_started;
    std::function<void(int64_t exit_status, int term_signal)> on_exited;
    std::function<void(const std::string& why)> on_failed;  // no restart will follow
  };

  static constexpr uint64_t kFirstBackoffMs = 500;
  static constexpr uint64_t kMaxBackoffMs = 30'000;
  static constexpr uint64_t kStableAfterMs = 60'000;
  static constexpr uint64_t kStopGraceMs = 10'000;

  MemberProcess(uv_loop_t* loop, MemberConfig config, Events events);
  ~MemberProcess();
  MemberProcess(const MemberProcess&) = delete;
  MemberProcess& operator=(const MemberProcess&) = delete;

  void start();
  // SIGTERM, SIGKILL after kStopGraceMs; done runs once the child is gone.
  void stop(std::function<void()> done);
  // SIGKILL at once (tests of crash recovery; shutdown uses stop()).
  void kill_now();

  State state() const { return state_; }
  int64_t pid() const { return pid_; }
  int restarts() const { return restarts_; }
  const std::string& failure() const { return failure_; }
  const MemberConfig& config() const { return config_; }

 private:
  void spawn();
  void on_exit(int64_t exit_status, int term_signal);
  void on_stderr(ssize_t nread, const uv_buf_t* buf);
  void relay_line(std::string_view line);
  void schedule_restart();
  void fail(std::string why);

  uv_loop_t* loop_;
  MemberConfig config_;
  Events events_;
  State state_ = State::stopped;
  std::optional<UvHandle<uv_process_t>> process_;
  std::optional<UvHandle<uv_pipe_t>> stderr_pipe_;
  Timer restart_timer_;
  Timer kill_timer_;
  int64_t pid_ = 0;
  int restarts_ = 0;
  uint64_t backoff_ms_ = kFirstBackoffMs;
  uint64_t started_at_ms_ = 0;
  MemberFatal fatal_seen_ = MemberFatal::none;
  std::string fatal_line_;
  std::string failure_;
  std::string line_buffer_;
  std::string read_buffer_;
  std::function<void()> stopped_;
};

}  // namespace cairn::etcd
