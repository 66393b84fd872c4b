// GET /v1/agent/host and GET /v1/agent/monitor: the agent's host and its
// log as it happens, for operators and `consul debug`.
//
// A monitor streams log lines at ?loglevel= (default INFO) and above, plain
// or with ?logjson as JSON, as a chunked answer until the client hangs up,
// as Consul's does. Lines wait in the monitor's bounded buffer
// (log_fanout.h); they are written while the socket takes them, at once when
// a line arrives and every kFlushMs; a reader too slow for the log loses
// lines, and reads a notice saying how many.
#include <uv.h>

#include <memory>

#include "agent/agent.h"
#include "agent/http/endpoints.h"
#include "agent/http/host_info.h"
#include "agent/http/reply.h"
#include "common/log.h"
#include "common/log_fanout.h"
#include "common/uv_handle.h"

namespace cairn::http_api {

namespace {

void agent_host(Agent&, const ExchangePtr& ex, const std::string&) {
  respond_json(ex, collect_host_info_json(ex->request.has_param("pretty")));
}

class MonitorStream : public std::enable_shared_from_this<MonitorStream> {
 public:
  // The socket may hold this much unsent before the monitor stops writing
  // and lets its line buffer (and then the drop count) take the excess.
  static constexpr size_t kMaxBacklogBytes = 64 * 1024;
  static constexpr uint64_t kFlushMs = 200;  // Consul's flush interval

  MonitorStream(uv_loop_t* loop, ExchangePtr ex) : ex_(std::move(ex)), timer_(loop) {
    uv_async_init(loop, wake_.get(), [](uv_async_t* h) {
      if (h->data != nullptr) static_cast<MonitorStream*>(h->data)->pump();
    });
    wake_.mark_initialized();
    wake_.get()->data = this;
  }
  ~MonitorStream() { stop(); }
  MonitorStream(const MonitorStream&) = delete;
  MonitorStream& operator=(const MonitorStream&) = delete;

  void start(log::Level level, bool json) {
    uv_async_t* async = wake_.get();
    monitor_ = std::make_unique<log::Monitor>(level, json, log::Monitor::kDefaultMaxLines,
                                              [async] { uv_async_send(async); });
    json_ = json;
    // The stream (and so this object) lives until the client hangs up.
    ex_->on_close([self = shared_from_this()] { self->stop(); });
    arm();
  }

 private:
  // One-shot, re-armed by pump: a one-shot timer's owner may be destroyed
  // from its callback (uv_handle.h).
  void arm() {
    timer_.start(kFlushMs, 0, [this] { pump(); });
  }

  void pump() {
    if (!monitor_) return;
    // Stopping releases the reference the close hook holds: this object must
    // outlive the call that stops it.
    auto keep = shared_from_this();
    if (ex_->closed()) {
      stop();
      return;
    }
    if (ex_->stream_backlog() <= kMaxBacklogBytes) {
      log::Monitor::Taken taken = monitor_->take(kMaxBacklogBytes);
      std::string text;
      if (taken.dropped > 0) text = dropped_notice(taken.dropped);
      text += taken.text;
      if (!text.empty() && !ex_->write_chunk(text)) {
        stop();
        return;
      }
    }
    if (monitor_ && !timer_.active()) arm();
  }

  std::string dropped_notice(uint64_t dropped) const {
    std::string count = std::to_string(dropped);
    log::Field fields[] = {{"dropped_count", count}};
    return log::format_line(json_, log::Level::warn, "agent.monitor",
                            "Monitor dropped log lines: the reader was too slow", fields) +
           "\n";
  }

  void stop() {
    if (!monitor_) return;
    monitor_.reset();  // no wake after this
    timer_.stop();
    wake_.reset();
    ex_->on_close(nullptr);  // drops the last reference held by the hook
  }

  ExchangePtr ex_;
  UvHandle<uv_async_t> wake_;
  Timer timer_;
  std::unique_ptr<log::Monitor> monitor_;
  bool json_ = false;
};

void agent_monitor(Agent& agent, const ExchangePtr& ex, const std::string&) {
  const std::string* level_text = ex->request.param("loglevel");
  std::string name = level_text && !level_text->empty() ? *level_text : "INFO";
  log::Level level;
  if (!log::parse_level(name, level) || level == log::Level::off) {
    respond_error(ex, 400, "Unknown log level: " + name);
    return;
  }
  http::Response head;
  head.status = 200;
  head.set_header("Content-Type", "text/plain; charset=utf-8");
  add_common_headers(head);
  if (!ex->start_stream(std::move(head))) {
    respond_error(ex, 500, "Streaming not supported");
    return;
  }
  auto stream = std::make_shared<MonitorStream>(agent.loop(), ex);
  stream->start(level, ex->request.has_param("logjson"));
}

}  // namespace

void add_agent_debug_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/agent/host", bind_endpoint(agent, agent_host));
  r.add("GET", "/v1/agent/monitor", bind_endpoint(agent, agent_monitor));
}

}  // namespace cairn::http_api
