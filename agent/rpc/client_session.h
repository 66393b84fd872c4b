// The client's side of one connection to a server: one HTTP/2 stream per
// call, request bodies sent as flow control allows, unary answers collected
// up to max_message_bytes, stream messages delivered as they arrive.
//
// What happened to each call when things go wrong is decided here, because
// only here is it known whether the request left: a call whose HEADERS were
// never written ends unavailable, one that was written ends unknown_outcome
// (it may have run), and a stream the server refused (REFUSED_STREAM,
// including those past a GOAWAY's last stream) ends unavailable.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "agent/rpc/http2_session.h"
#include "agent/rpc/outgoing_body.h"
#include "agent/rpc/settings.h"
#include "agent/rpc/status.h"
#include "agent/rpc/wire.h"

namespace cairn::rpc {

class ClientSession;

// One call or stream from the client. Internal to Connection and ClientSession.
struct ClientCall {
  uint64_t id = 0;
  bool streaming = false;
  std::string method;
  std::string token;
  size_t body_size = 0;
  OutgoingBody request;
  uint64_t deadline_ms = 0;  // loop time; 0 = none

  std::function<void(Status, std::string)> on_done;  // unary
  std::function<void(std::string_view)> on_message;  // stream
  std::function<void(Status)> on_end;                // stream

  ClientSession* session = nullptr;
  int32_t stream_id = -1;
  bool sent = false;      // the request HEADERS went out: it may have run
  bool finished = false;  // the caller was told (or cancelled)

  // The answer.
  bool got_status = false;
  std::string status_name;
  std::string status_message;
  bool got_trailers = false;
  std::string trailer_status;
  std::string trailer_message;
  int http_status = 0;
  size_t header_bytes = 0;
  std::string response;  // unary body
  std::unique_ptr<wire::MessageReader> reader;
  bool paused = false;
  std::string held;  // stream bytes received while paused, not yet acknowledged
};

class ClientSession final : public Http2Session {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // The call is over; tell its caller (once).
    virtual void finish(const std::shared_ptr<ClientCall>& call, Status status,
                        std::string body) = 0;
    // The server sent GOAWAY: give this session no new calls.
    virtual void on_goaway(ClientSession& session) = 0;
    virtual void on_session_closed(ClientSession& session) = 0;
  };

  ClientSession(uv_loop_t* loop, std::unique_ptr<Transport> transport,
                const ConnectionSettings& settings, std::weak_ptr<Owner> owner);
  ~ClientSession() override;

  bool start();
  // Opens the call's stream; false when this session takes no new stream.
  bool submit(const std::shared_ptr<ClientCall>& call);
  // The caller gave up: RST_STREAM, no callback.
  void cancel(ClientCall& call);
  // Delivers what arrived while paused and reopens the stream's window.
  void resume(ClientCall& call);
  bool accepting() const { return !goaway_ && !retired_ && !closed(); }
  // No new calls; closes once the open ones are done.
  void retire();
  // The owner is gone: close without telling anyone.
  void abandon();

 private:
  // Http2Session
  int on_begin_headers(const nghttp2_frame& frame) override;
  int on_header(const nghttp2_frame& frame, std::string_view name, std::string_view value) override;
  int on_frame_recv(const nghttp2_frame& frame) override;
  int on_data_chunk(uint8_t flags, int32_t stream_id, const uint8_t* data, size_t len) override;
  int on_stream_close(int32_t stream_id, uint32_t error_code) override;
  void on_frame_send(const nghttp2_frame& frame) override;
  void on_closed(const Status& why) override;

  std::shared_ptr<ClientCall> find(int32_t stream_id) const;
  void deliver(const std::shared_ptr<ClientCall>& call, const uint8_t* data, size_t len);
  void complete(const std::shared_ptr<ClientCall>& call);
  void fail(const std::shared_ptr<ClientCall>& call, Status status);
  void finish(const std::shared_ptr<ClientCall>& call, Status status, std::string body);

  ConnectionSettings settings_;
  std::weak_ptr<Owner> owner_;
  std::unordered_map<int32_t, std::shared_ptr<ClientCall>> calls_;
  size_t buffered_ = 0;  // unary answers being received
  void close_if_retired();

  bool goaway_ = false;
  bool retired_ = false;
};

}  // namespace cairn::rpc
