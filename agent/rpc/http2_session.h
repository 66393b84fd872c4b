// One HTTP/2 connection over a Transport: the part both ends share.
//
// It moves bytes between the transport and nghttp2 (mem_recv / mem_send),
// keeps the connection alive (a PING when the peer has been silent for
// keepalive_interval, dead after keepalive_timeout more), stops reading a
// peer that does not read our output (write_high_water_bytes), and closes
// once nghttp2 has nothing left to do (after GOAWAY). Subclasses (the
// server's and the client's session) get nghttp2's events as virtual calls.
//
// Lifetime: sessions are held by shared_ptr and every entry from the loop
// holds a reference, so an owner may drop its session from inside any
// callback. close() never frees nghttp2 state while nghttp2 is on the stack.
#pragma once

#include <nghttp2/nghttp2.h>
#include <uv.h>

#include <memory>
#include <string>
#include <string_view>

#include "agent/rpc/settings.h"
#include "agent/rpc/status.h"
#include "agent/rpc/transport.h"
#include "common/uv_handle.h"

namespace cairn::rpc {

class Http2Session : public Transport::Receiver, public std::enable_shared_from_this<Http2Session> {
 public:
  Http2Session(uv_loop_t* loop, std::unique_ptr<Transport> transport, const SessionLimits& limits);
  ~Http2Session() override;
  Http2Session(const Http2Session&) = delete;
  Http2Session& operator=(const Http2Session&) = delete;

  // Closes the connection now; open streams end with their subclass's
  // reaction to why (on_closed). Idempotent.
  void close(const Status& why);
  bool closed() const { return closed_; }
  const std::string& peer() const { return transport_->peer(); }
  // Loop time (ms) of the last bytes from the peer.
  uint64_t last_read_ms() const { return last_read_ms_; }
  // Writes what nghttp2 has queued, at once or (inside nghttp2's callbacks)
  // as soon as it returns.
  void flush();
  // A flush on the next loop turn: many answers given in one turn leave in
  // one write.
  void schedule_flush();

  // Transport::Receiver
  void on_transport_read(const uint8_t* data, size_t len) override;
  void on_transport_drained() override;
  void on_transport_closed(const std::string& error) override;

 protected:
  // Creates the nghttp2 session, queues our SETTINGS and starts reading.
  bool open(bool server, const nghttp2_settings_entry* settings, size_t count,
            bool manual_window_updates);
  uint64_t now() const { return uv_now(loop_); }

  // nghttp2 events. A non-zero return is an nghttp2 error code.
  virtual int on_begin_headers(const nghttp2_frame& frame) = 0;
  virtual int on_header(const nghttp2_frame& frame, std::string_view name,
                        std::string_view value) = 0;
  virtual int on_frame_recv(const nghttp2_frame& frame) = 0;
  virtual int on_data_chunk(uint8_t flags, int32_t stream_id, const uint8_t* data, size_t len) = 0;
  virtual int on_stream_close(int32_t stream_id, uint32_t error_code) = 0;
  virtual void on_frame_send(const nghttp2_frame&) {}
  // Once, when the connection is gone. why.code: bad_request for malformed
  // HTTP/2, timeout for a peer silent past the keepalive, exhausted for a
  // bound, unavailable otherwise.
  virtual void on_closed(const Status& why) = 0;
  // Every tick of the keepalive timer (idle timeouts).
  virtual void on_tick() {}
  // After output was pulled from the streams (writable notifications).
  virtual void after_send() {}
  // Reading may also be held back by the subclass.
  virtual bool reading_allowed() const { return true; }

  uv_loop_t* loop_;
  nghttp2_session* session_ = nullptr;
  SessionLimits limits_;
  // Set while nghttp2 is calling us: no mem_send, no freeing.
  bool in_nghttp2_ = false;

 private:
  static const nghttp2_session_callbacks* callbacks();
  void tick();
  void update_reading();
  void finish_if_done();

  std::unique_ptr<Transport> transport_;
  Timer keepalive_;
  Timer flush_timer_;
  uint64_t last_read_ms_ = 0;
  bool ping_outstanding_ = false;
  bool flush_wanted_ = false;
  bool closed_ = false;
  bool started_ = false;

  friend struct SessionCallbacks;
};

// "PROTOCOL_ERROR" and the like, for messages.
std::string h2_error_name(uint32_t code);

}  // namespace cairn::rpc
