#include "agent/etcd/member_process.h"

#include <signal.h>
#include <unistd.h>

#include <vector>

#include "common/log.h"

namespace cairn::etcd {

namespace {

constexpr size_t kMaxLogLine = 64 * 1024;  // longer lines are cut, never buffered unbounded

// Lines etcd prints on every start that say nothing to a cairn operator:
// cairn does not use etcd's auth, and lease checkpoints are persisted.
bool is_noise(std::string_view message) {
  return message == "simple token is not cryptographically signed";
}

}  // namespace

MemberProcess::MemberProcess(uv_loop_t* loop, MemberConfig config, Events events)
    : loop_(loop),
      config_(std::move(config)),
      events_(std::move(events)),
      restart_timer_(loop),
      kill_timer_(loop) {}

MemberProcess::~MemberProcess() {
  // The member must never outlive its server unsupervised.
  if (pid_ > 0 && state_ != State::stopped) uv_kill(static_cast<int>(pid_), SIGKILL);
}

void MemberProcess::start() {
  if (state_ == State::running || state_ == State::stopping) return;
  failure_.clear();
  spawn();
}

void MemberProcess::spawn() {
  // A member killed with SIGKILL leaves its socket file behind, and etcd will
  // not bind over it. The file is ours (in run_dir) and no member runs now.
  ::unlink(client_socket_path(config_.run_dir).c_str());
  std::vector<std::string> args = member_command_line(config_);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  stderr_pipe_.emplace();
  uv_pipe_init(loop_, stderr_pipe_->get(), 0);
  stderr_pipe_->mark_initialized();
  stderr_pipe_->get()->data = this;

  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_IGNORE;
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(stderr_pipe_->get());

  uv_process_options_t opts{};
  opts.file = argv[0];
  opts.args = argv.data();
  opts.cwd = config_.run_dir.c_str();
  opts.stdio_count = 3;
  opts.stdio = stdio;
  opts.exit_cb = [](uv_process_t* p, int64_t exit_status, int term_signal) {
    auto* self = static_cast<MemberProcess*>(p->data);
    if (self != nullptr) self->on_exit(exit_status, term_signal);
  };

  process_.emplace();
  process_->get()->data = this;
  fatal_seen_ = MemberFatal::none;
  int rc = uv_spawn(loop_, process_->get(), &opts);
  process_->mark_initialized();  // uv_spawn initializes the handle even when it fails
  if (rc != 0) {
    stderr_pipe_.reset();
    process_.reset();
    fail("cannot start " + config_.etcd_binary + ": " + uv_strerror(rc) +
         (rc == UV_ENOENT ? " (install Debian's etcd-server package)" : ""));
    return;
  }
  pid_ = process_->get()->pid;
  state_ = State::running;
  started_at_ms_ = uv_now(loop_);
  log::info(
      "etcd", "member started",
      {{"pid", std::to_string(pid_)}, {"name", config_.name}, {"data_dir", config_.data_dir}});
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(stderr_pipe_->get()),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<MemberProcess*>(h->data);
        if (self == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        self->read_buffer_.resize(16 * 1024);
        *buf = uv_buf_init(self->read_buffer_.data(), 16 * 1024);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<MemberProcess*>(s->data);
        if (self != nullptr) self->on_stderr(nread, buf);
      });
  if (events_.on_started) events_.on_started(pid_);
}

void MemberProcess::on_stderr(ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    if (!line_buffer_.empty()) relay_line(line_buffer_);
    line_buffer_.clear();
    stderr_pipe_.reset();
    return;
  }
  std::string_view data(buf->base, static_cast<size_t>(nread));
  while (!data.empty()) {
    size_t nl = data.find('\n');
    std::string_view piece = data.substr(0, nl);
    if (line_buffer_.size() < kMaxLogLine)
      line_buffer_.append(piece.substr(0, kMaxLogLine - line_buffer_.size()));
    if (nl == std::string_view::npos) break;
    relay_line(line_buffer_);
    line_buffer_.clear();
    data.remove_prefix(nl + 1);
  }
}

void MemberProcess::relay_line(std::string_view line) {
  if (line.empty()) return;
  MemberLogLine parsed = parse_member_log_line(line);
  // The cause may be in a field (a removed member logs msg "server error",
  // error "the member has been permanently removed ..."): classify the raw line.
  MemberFatal fatal = classify_member_log_line(line);
  if (fatal != MemberFatal::none && fatal_seen_ == MemberFatal::none) {
    fatal_seen_ = fatal;
    fatal_line_ = parsed.message;
  }
  if (is_noise(parsed.message)) parsed.level = log::Level::debug;
  if (!log::enabled(parsed.level)) return;
  std::vector<log::Field> fields;
  fields.reserve(parsed.fields.size());
  for (const auto& [k, v] : parsed.fields) fields.emplace_back(k, v);
  log::write(parsed.level, "etcd", parsed.message, std::span<const log::Field>(fields));
}

void MemberProcess::on_exit(int64_t exit_status, int term_signal) {
  pid_ = 0;
  process_.reset();
  kill_timer_.stop();
  if (events_.on_exited) events_.on_exited(exit_status, term_signal);
  if (state_ == State::stopping) {
    state_ = State::stopped;
    log::info("etcd", "member stopped");
    if (auto done = std::move(stopped_)) done();
    return;
  }
  log::warn("etcd", "member exited",
            {{"status", std::to_string(exit_status)}, {"signal", std::to_string(term_signal)}});
  switch (fatal_seen_) {
    case MemberFatal::bad_flag:
      return fail("etcd refused its command line (" + fatal_line_ +
                  "): this etcd is not the 3.4 that cairn supports");
    case MemberFatal::removed_from_cluster:
      return fail("this server's etcd member was removed from the cluster; wipe " +
                  config_.data_dir + " before it can join again");
    case MemberFatal::data_dir_locked:
      return fail("etcd cannot use its data directory " + config_.data_dir + " (" + fatal_line_ +
                  ")");
    case MemberFatal::none:
      break;
  }
  if (exit_status == 2 && term_signal == 0 && uv_now(loop_) - started_at_ms_ < 1000)
    return fail("etcd exited with status 2 at start (a bad command line)");
  schedule_restart();
}

void MemberProcess::schedule_restart() {
  if (uv_now(loop_) - started_at_ms_ >= kStableAfterMs) backoff_ms_ = kFirstBackoffMs;
  state_ = State::backing_off;
  ++restarts_;
  log::info("etcd", "restarting member", {{"in_ms", std::to_string(backoff_ms_)}});
  restart_timer_.start(backoff_ms_, 0, [this] {
    if (state_ == State::backing_off) spawn();
  });
  backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
}

void MemberProcess::fail(std::string why) {
  state_ = State::failed;
  failure_ = why;
  log::error("etcd", "member failed", {{"error", why}});
  if (events_.on_failed) events_.on_failed(failure_);
}

void MemberProcess::stop(std::function<void()> done) {
  restart_timer_.stop();
  if (state_ != State::running || pid_ == 0) {
    if (state_ != State::failed) state_ = State::stopped;
    if (done) done();
    return;
  }
  state_ = State::stopping;
  stopped_ = std::move(done);
  uv_process_kill(process_->get(), SIGTERM);
  kill_timer_.start(kStopGraceMs, 0, [this] {
    if (pid_ > 0) {
      log::warn("etcd", "member did not stop in time; killing it");
      uv_kill(static_cast<int>(pid_), SIGKILL);
    }
  });
}

void MemberProcess::kill_now() {
  if (pid_ > 0) uv_kill(static_cast<int>(pid_), SIGKILL);
}

}  // namespace cairn::etcd
