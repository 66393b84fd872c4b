// The server's side of one connection: turns HTTP/2 streams into calls,
// checks version, method and bounds before any handler runs, dispatches
// whole requests to the router, and sends what handlers answer.
//
// It knows no socket (a Transport brings the bytes), so the fuzzer drives
// it with arbitrary input exactly as a client connection would.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "agent/rpc/http2_session.h"
#include "agent/rpc/router.h"
#include "agent/rpc/server_call.h"
#include "agent/rpc/settings.h"

namespace cairn::rpc {

// Counted by kind; the server sums them over its connections.
struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // max_connections, or shutting down
  uint64_t calls = 0;                 // dispatched to a handler (unary and stream)
  uint64_t streams = 0;               // of which stream calls
  uint64_t rejected_calls = 0;        // answered before any handler: the five below
  uint64_t version_mismatches = 0;
  uint64_t bad_requests = 0;
  uint64_t not_found = 0;
  uint64_t too_large = 0;
  uint64_t refused_buffer_full = 0;  // max_buffered_bytes reached (client sees unavailable)
  uint64_t cancelled = 0;            // clients that went away before the answer
  uint64_t streams_exhausted = 0;    // max_stream_queued_bytes: a client not reading
  uint64_t slow_readers_closed = 0;  // max_connection_queued_bytes
  uint64_t idle_closed = 0;
  uint64_t keepalive_closed = 0;
  uint64_t protocol_errors = 0;  // connections ended by malformed HTTP/2
};

class ServerSession final : public Http2Session {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void on_session_closed(ServerSession& session) = 0;
  };

  ServerSession(uv_loop_t* loop, std::unique_ptr<Transport> transport,
                const ServerSettings& settings, const Router& router, ServerStats& stats,
                Owner* owner);
  ~ServerSession() override;

  // Sends our SETTINGS and starts reading. False: nghttp2 could not start.
  bool start();
  // Graceful: GOAWAY (no new calls), stream calls end with unavailable,
  // unary calls in flight still answer; the connection closes when done.
  void shutdown();
  // Over a connection limit: GOAWAY with last stream 0, so the client knows
  // none of its calls ran (unavailable, safe to send elsewhere), then close.
  void refuse();
  // The owner is going away: close now, tell nobody.
  void abandon();
  size_t open_calls() const { return calls_.size(); }
  size_t queued_bytes() const { return queued_total_; }

  // A handler's answer (through Responder and StreamWriter).
  void respond(ServerCall& call, Status status, std::string body);
  size_t send(ServerCall& call, std::string_view message);
  void end_stream(ServerCall& call, Status status);

 private:
  // Http2Session
  int on_begin_headers(const nghttp2_frame& frame) override;
  int on_header(const nghttp2_frame& frame, std::string_view name, std::string_view value) override;
  int on_frame_recv(const nghttp2_frame& frame) override;
  int on_data_chunk(uint8_t flags, int32_t stream_id, const uint8_t* data, size_t len) override;
  int on_stream_close(int32_t stream_id, uint32_t error_code) override;
  void on_frame_send(const nghttp2_frame& frame) override;
  void on_closed(const Status& why) override;
  void on_tick() override;
  void after_send() override;

  ServerCall* find(int32_t stream_id) const;
  void check_request(ServerCall& call);
  void reject(ServerCall& call, Status status);
  void dispatch(const std::shared_ptr<ServerCall>& call);
  void start_stream_response(ServerCall& call);
  // Ends a stream we can no longer serve (exhausted), telling its handler.
  void reset_stream(ServerCall& call, uint32_t h2_error, const Status& why);
  void cancel(ServerCall& call, const Status& why);
  void fire_cancel(ServerCall& call, const Status& why);
  void drop_request_body(ServerCall& call);
  bool over_connection_budget();

  ServerSettings settings_;
  const Router* router_;
  ServerStats& stats_;
  Owner* owner_;
  std::unordered_map<int32_t, std::shared_ptr<ServerCall>> calls_;
  std::vector<int32_t> writable_watch_;  // streams waiting to hear on_writable
  size_t buffered_ = 0;                  // request bodies being received
  size_t queued_total_ = 0;              // response bytes not yet handed to nghttp2
  uint64_t idle_since_ = 0;
  bool draining_ = false;
};

}  // namespace cairn::rpc
