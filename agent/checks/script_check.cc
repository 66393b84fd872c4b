#include "agent/checks/script_check.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "agent/checks/go_text.h"
#include "common/log.h"

namespace cairn::checks {

void TailBuffer::reset(size_t cap) {
  cap_ = cap;
  ring_.clear();
  head_ = 0;
  total_ = 0;
}

void TailBuffer::write(const char* data, size_t len) {
  total_ += len;
  if (cap_ == 0) return;
  if (len >= cap_) {
    // Only the tail of this write survives.
    ring_.assign(data + len - cap_, cap_);
    head_ = 0;
    return;
  }
  if (ring_.size() < cap_) {
    size_t room = cap_ - ring_.size();
    size_t n = std::min(room, len);
    ring_.append(data, n);
    data += n;
    len -= n;
  }
  while (len > 0) {  // full: overwrite the oldest bytes
    size_t n = std::min(len, cap_ - head_);
    ring_.replace(head_, n, data, n);
    head_ = (head_ + n) % cap_;
    data += n;
    len -= n;
  }
}

void TailBuffer::render(std::string& out) const {
  out.clear();
  if (total_ > ring_.size()) {
    out.append("Captured ").append(std::to_string(ring_.size())).append(" of ");
    out.append(std::to_string(total_)).append(" bytes\n...\n");
  }
  out.append(ring_, head_, std::string::npos);
  out.append(ring_, 0, head_);
}

ScriptCheck::ScriptCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : IntervalCheck(env, std::move(id), def, kDefaultScriptTimeout), args_(def.args) {
  for (auto& a : args_) argv_.push_back(a.data());
  argv_.push_back(nullptr);
  start();
}

ScriptCheck::~ScriptCheck() {
  // Stopping a check stops its script too.
  if (pid_ > 0 && !exited_) kill(-pid_, SIGKILL);
  close_pipe();
  process_.close();
}

void ScriptCheck::probe() {
  output_buf_.reset(output_max_);
  exited_ = false;
  timed_out_ = false;
  exit_status_ = 0;
  term_signal_ = 0;
  if (args_.empty()) {
    finish(state::kCritical, "no script arguments");
    return;
  }
  uv_file fds[2];
  // Read end non-blocking for the loop; both close-on-exec (the child gets
  // the write end as stdout and stderr through dup2).
  if (int rc = uv_pipe(fds, UV_NONBLOCK_PIPE, 0); rc != 0) {
    finish(state::kCritical, std::string("pipe: ") + uv_strerror(rc));
    return;
  }
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = fds[1];
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = fds[1];
  uv_process_options_t opts{};
  opts.file = argv_[0];
  opts.args = argv_.data();
  opts.exit_cb = on_exit;
  opts.stdio_count = 3;
  opts.stdio = stdio;
  // Its own session and process group: a timeout kills the whole tree.
  opts.flags = UV_PROCESS_DETACHED;
  uv_process_t* p = process_.prepare();
  int rc = uv_spawn(env_.loop, p, &opts);
  ::close(fds[1]);
  if (rc != 0) {
    // libuv still wants the handle closed after a failed spawn.
    process_.mark_open();
    process_.close();
    ::close(fds[0]);
    output_.assign("fork/exec ").append(args_[0]).append(": ").append(errno_text(-rc));
    finish(state::kCritical, output_);
    return;
  }
  process_.mark_open();
  p->data = this;
  pid_ = p->pid;
  pipe_fd_ = fds[0];
  uv_poll_t* poll = pipe_poll_.prepare();
  if (uv_poll_init(env_.loop, poll, pipe_fd_) == 0) {
    pipe_poll_.mark_open();
    poll->data = this;
    uv_poll_start(poll, UV_READABLE | UV_DISCONNECT, on_readable);
  } else {
    close_pipe();
  }
}

void ScriptCheck::drain() {
  if (pipe_fd_ < 0) return;
  char* buf = env_.read_buffer.data();
  size_t cap = env_.read_buffer.size();
  for (;;) {
    ssize_t n = ::read(pipe_fd_, buf, cap);
    if (n > 0) {
      output_buf_.write(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close_pipe();  // EOF or error: every writer is gone
    return;
  }
}

void ScriptCheck::close_pipe() {
  pipe_poll_.close();
  if (pipe_fd_ >= 0) {
    ::close(pipe_fd_);
    pipe_fd_ = -1;
  }
}

void ScriptCheck::on_readable(uv_poll_t* h, int /*status*/, int /*events*/) {
  auto* self = static_cast<ScriptCheck*>(h->data);
  if (!self) return;
  self->drain();
  self->maybe_done();
}

void ScriptCheck::on_exit(uv_process_t* p, int64_t exit_status, int term_signal) {
  auto* self = static_cast<ScriptCheck*>(p->data);
  if (!self) return;
  self->exited_ = true;
  self->exit_status_ = exit_status;
  self->term_signal_ = term_signal;
  self->process_.close();
  // The script is done; whatever it left in the pipe is its output. Do not
  // wait for an end of file that a background grandchild could hold back.
  self->drain();
  self->close_pipe();
  self->maybe_done();
}

void ScriptCheck::maybe_done() {
  if (!exited_) return;
  pid_ = 0;
  if (timed_out_) {
    finish();  // reported at the timeout; the next run may start now
    return;
  }
  output_buf_.render(output_);
  std::string_view status = exit_status_ == 0 && term_signal_ == 0   ? state::kPassing
                            : exit_status_ == 1 && term_signal_ == 0 ? state::kWarning
                                                                     : state::kCritical;
  finish(status, output_);
}

void ScriptCheck::timed_out() {
  timed_out_ = true;
  if (pid_ > 0) kill(-pid_, SIGKILL);  // the whole process group
  drain();
  std::string captured;
  output_buf_.render(captured);
  output_.assign("Timed out (").append(format_duration(timeout_)).append(") running check");
  if (!captured.empty()) output_.append("\n\n").append(captured);
  log::warn("checks", "script check timed out, killed its process group",
            {{"check", id_}, {"timeout", format_duration(timeout_)}});
  // Report now; finish() once the child is reaped (on_exit), so runs never overlap.
  report(state::kCritical, output_);
}

}  // namespace cairn::checks
