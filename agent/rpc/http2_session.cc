#include "agent/rpc/http2_session.h"

#include <algorithm>

namespace cairn::rpc {

// nghttp2's C callbacks, forwarded to the session's virtual members. Once
// the session is closed every callback fails, which makes nghttp2 stop.
struct SessionCallbacks {
  static Http2Session* live(void* user) {
    auto* s = static_cast<Http2Session*>(user);
    return s->closed_ ? nullptr : s;
  }
  static int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* s = live(user);
    return s ? s->on_begin_headers(*frame) : NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  static int header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* s = live(user);
    if (!s) return NGHTTP2_ERR_CALLBACK_FAILURE;
    return s->on_header(*frame, {reinterpret_cast<const char*>(name), namelen},
                        {reinterpret_cast<const char*>(value), valuelen});
  }
  static int frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* s = live(user);
    return s ? s->on_frame_recv(*frame) : NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  static int data_chunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                        size_t len, void* user) {
    auto* s = live(user);
    return s ? s->on_data_chunk(flags, stream_id, data, len) : NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  static int stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
    auto* s = live(user);
    return s ? s->on_stream_close(stream_id, error_code) : NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  static int frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* s = live(user);
    if (!s) return NGHTTP2_ERR_CALLBACK_FAILURE;
    s->on_frame_send(*frame);
    return 0;
  }
};

const nghttp2_session_callbacks* Http2Session::callbacks() {
  // Made once and kept for the life of the process (reachable, not leaked).
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c = nullptr;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, SessionCallbacks::begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(c, SessionCallbacks::header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, SessionCallbacks::frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, SessionCallbacks::data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, SessionCallbacks::stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(c, SessionCallbacks::frame_send);
    return c;
  }();
  return cbs;
}

Http2Session::Http2Session(uv_loop_t* loop, std::unique_ptr<Transport> transport,
                           const SessionLimits& limits)
    : loop_(loop),
      limits_(limits),
      transport_(std::move(transport)),
      keepalive_(loop),
      flush_timer_(loop) {}

Http2Session::~Http2Session() {
  transport_->close();
  // Frees streams and queued frames without calling back.
  if (session_) nghttp2_session_del(session_);
}

bool Http2Session::open(bool server, const nghttp2_settings_entry* settings, size_t count,
                        bool manual_window_updates) {
  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) return false;
  if (manual_window_updates) nghttp2_option_set_no_auto_window_update(option, 1);
  int rv = server ? nghttp2_session_server_new2(&session_, callbacks(), this, option)
                  : nghttp2_session_client_new2(&session_, callbacks(), this, option);
  nghttp2_option_del(option);
  if (rv != 0) {
    session_ = nullptr;
    return false;
  }
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, count);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(limits_.connection_window_bytes));
  started_ = true;
  last_read_ms_ = now();
  uint64_t period = std::clamp<uint64_t>(limits_.keepalive_interval_ms / 2, 10, 1000);
  keepalive_.start(period, period, [this] { tick(); });
  transport_->start(*this);
  flush();
  return true;
}

void Http2Session::close(const Status& why) {
  if (closed_) return;
  closed_ = true;
  keepalive_.stop();
  flush_timer_.stop();
  transport_->close();
  on_closed(why);
}

void Http2Session::schedule_flush() {
  if (closed_ || flush_timer_.active()) return;
  flush_timer_.start(0, 0, [this] {
    auto self = shared_from_this();
    flush();
  });
}

void Http2Session::flush() {
  if (closed_ || session_ == nullptr) return;
  if (in_nghttp2_) {
    flush_wanted_ = true;
    return;
  }
  for (;;) {
    flush_wanted_ = false;
    bool cut = false;  // stopped at the high-water mark, not because nghttp2 was done
    std::string batch;
    for (;;) {
      if (transport_->queued_bytes() + batch.size() >= limits_.write_high_water_bytes) {
        cut = true;
        break;
      }
      const uint8_t* data = nullptr;
      in_nghttp2_ = true;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      in_nghttp2_ = false;
      if (closed_) return;
      if (n < 0) {
        close(Status(Status::Code::internal,
                     std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n))));
        return;
      }
      if (n == 0) break;
      batch.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (!batch.empty() && !transport_->write(std::move(batch))) {
      close(Status(Status::Code::unavailable, "write failed"));
      return;
    }
    in_nghttp2_ = true;  // writable notifications may submit more: go round again
    after_send();
    in_nghttp2_ = false;
    if (closed_) return;
    // A full socket resumes us through on_transport_drained.
    if ((cut || flush_wanted_) && transport_->queued_bytes() < limits_.write_high_water_bytes)
      continue;
    break;
  }
  update_reading();
  finish_if_done();
}

void Http2Session::finish_if_done() {
  if (closed_ || !started_) return;
  if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0 &&
      transport_->queued_bytes() == 0)
    close(Status(Status::Code::unavailable, "connection finished"));
}

void Http2Session::update_reading() {
  if (closed_) return;
  transport_->set_reading(transport_->queued_bytes() < limits_.write_high_water_bytes &&
                          reading_allowed());
}

void Http2Session::on_transport_read(const uint8_t* data, size_t len) {
  auto self = shared_from_this();
  if (closed_) return;
  last_read_ms_ = now();
  ping_outstanding_ = false;
  in_nghttp2_ = true;
  ssize_t rv = nghttp2_session_mem_recv(session_, data, len);
  in_nghttp2_ = false;
  if (closed_) return;
  if (rv < 0) {
    // Only fatal errors come back here (bad preface, flooding, out of
    // memory); ordinary protocol errors queue a GOAWAY and return normally.
    close(Status(Status::Code::bad_request,
                 std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(rv))));
    return;
  }
  flush();
}

void Http2Session::on_transport_drained() {
  auto self = shared_from_this();
  flush();
}

void Http2Session::on_transport_closed(const std::string& error) {
  auto self = shared_from_this();
  close(Status(Status::Code::unavailable,
               error.empty() ? "connection closed by peer" : "connection lost: " + error));
}

void Http2Session::tick() {
  auto self = shared_from_this();
  if (closed_) return;
  uint64_t silent = now() - last_read_ms_;
  if (silent >= limits_.keepalive_interval_ms + limits_.keepalive_timeout_ms) {
    close(Status(Status::Code::timeout,
                 "peer silent for " + std::to_string(silent) + " ms (keepalive)"));
    return;
  }
  if (silent >= limits_.keepalive_interval_ms && !ping_outstanding_) {
    ping_outstanding_ = true;
    nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
    flush();
  }
  if (!closed_) on_tick();
}

std::string h2_error_name(uint32_t code) {
  return nghttp2_http2_strerror(code);
}

}  // namespace cairn::rpc
