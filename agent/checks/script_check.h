// Script checks ("args"): run a program with its arguments (no shell unless
// the arguments ask for one) through uv_spawn; exit 0 is passing, 1 warning,
// anything else critical. stdout and stderr share one pipe and Consul's
// capture: the last output_max_size bytes, with "Captured N of M bytes"
// when more came. The child leads its own process group, so a timeout
// kills the script and everything it started; the next run waits until the
// child is gone, so runs never overlap. Disabled unless the agent enables
// script checks (Agent::check_allowed).
#pragma once

#include <uv.h>

#include <string>
#include <vector>

#include "agent/checks/interval_check.h"
#include "agent/checks/reusable_handle.h"

namespace cairn::checks {

// Consul's timeout for script checks when none is given (longer than the
// 10 s of the network checks).
inline constexpr Nanos kDefaultScriptTimeout = 30 * kSecond;

// Keeps the last `cap` bytes written, and how many were written in all.
class TailBuffer {
 public:
  void reset(size_t cap);
  void write(const char* data, size_t len);
  // Consul's text: the bytes, prefixed by "Captured N of M bytes\n...\n" when some were dropped.
  void render(std::string& out) const;
  uint64_t total() const { return total_; }

 private:
  std::string ring_;
  size_t cap_ = 0;
  size_t head_ = 0;  // next write position once the ring is full
  uint64_t total_ = 0;
};

class ScriptCheck : public IntervalCheck {
 public:
  ScriptCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);
  ~ScriptCheck() override;

 private:
  // IntervalCheck
  void probe() override;
  void timed_out() override;

  void drain();
  void close_pipe();
  void maybe_done();
  static void on_exit(uv_process_t* p, int64_t exit_status, int term_signal);
  static void on_readable(uv_poll_t* h, int status, int events);

  std::vector<std::string> args_;
  std::vector<char*> argv_;  // points into args_, built once
  ReusableHandle<uv_process_t> process_;
  ReusableHandle<uv_poll_t> pipe_poll_;
  int pipe_fd_ = -1;
  int pid_ = 0;
  bool exited_ = false;
  int64_t exit_status_ = 0;
  int term_signal_ = 0;
  bool timed_out_ = false;
  TailBuffer output_buf_;
  std::string output_;
};

}  // namespace cairn::checks
