// What a method handler on the server sees: the request, and a handle to
// answer it with, now or later (the answer may wait for an etcd write).
//
// Responder and StreamWriter are cheap copyable handles on one call. When
// the last copy goes away without an answer the client is told `internal`
// ("handler dropped the call"), so a call can never hang on a lost handle.
// A call whose client goes away (cancel, timeout, connection lost) runs its
// on_cancel hook once, so a handler can drop the work it parked.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/rpc/outgoing_body.h"
#include "agent/rpc/status.h"

namespace cairn::rpc {

struct Request {
  std::string method;  // "Catalog.Register"
  std::string body;    // opaque bytes
  std::string token;   // the authorization header, empty when none
  std::string peer;    // "10.0.0.5:51234"
};

class ServerSession;
struct Route;

// One call's state on the server. Internal: handlers use the handles below.
struct ServerCall {
  ServerSession* session = nullptr;  // null once the stream or connection is gone
  int32_t stream_id = 0;

  // The request, as it arrives.
  std::string http_method;
  std::string path;
  std::string method;  // the path after /cairn/v1/
  std::string version;
  std::string token;
  std::string body;
  size_t header_bytes = 0;
  Status reject;  // set while reading headers: the answer once they are in
  const Route* route = nullptr;

  bool dispatched = false;          // the handler has it
  bool answered = false;            // final status given, or the stream is gone
  bool response_started = false;    // response HEADERS submitted (streams)
  bool request_ended = false;       // the client's END_STREAM arrived
  bool reset_after_answer = false;  // answered early: ask the client to stop sending
  bool wants_writable = false;
  OutgoingBody out;

  std::function<void(const Status&)> on_cancel;
  std::function<void()> on_writable;
};

namespace detail {
// Shared by the copies of one Responder or StreamWriter.
struct CallHandle {
  explicit CallHandle(std::shared_ptr<ServerCall> c, bool s) : call(std::move(c)), stream(s) {}
  ~CallHandle();
  CallHandle(const CallHandle&) = delete;
  CallHandle& operator=(const CallHandle&) = delete;
  std::shared_ptr<ServerCall> call;
  bool stream;
};
}  // namespace detail

class Responder {
 public:
  Responder() = default;
  explicit Responder(std::shared_ptr<detail::CallHandle> h) : handle_(std::move(h)) {}

  // Answers ok with a body. Later answers are ignored.
  void reply(std::string body);
  // Answers with a status (a body may say more, e.g. a JSON error).
  void fail(Status status, std::string body = {});
  // The client went away before the answer.
  void on_cancel(std::function<void(const Status&)> hook);
  // Not answered yet and the client still waits.
  bool active() const;

 private:
  std::shared_ptr<detail::CallHandle> handle_;
};

// A long-lived answer: messages in order, then an end status.
class StreamWriter {
 public:
  StreamWriter() = default;
  explicit StreamWriter(std::shared_ptr<detail::CallHandle> h) : handle_(std::move(h)) {}

  // Queues one message (at most max_message_bytes) and returns the bytes
  // this stream has queued and not yet sent, which grows while the client
  // reads slower than we send: HTTP/2 flow control holds the rest here.
  // Past max_stream_queued_bytes the stream ends with exhausted. Returns 0
  // once the stream is over (closed, cancelled, or this message too large,
  // which ends it with too_large).
  size_t send(std::string_view message);
  // Ends the stream after what is queued; the client's on_end gets status.
  void close(Status status = {});
  bool open() const;
  size_t queued_bytes() const;
  // The client cancelled, went away, or stopped reading (exhausted).
  void on_cancel(std::function<void(const Status&)> hook);
  // Runs when the queue, having been above kWritableLowWater, drains below it.
  void on_writable(std::function<void()> hook);
  static constexpr size_t kWritableLowWater = 64 * 1024;

 private:
  std::shared_ptr<detail::CallHandle> handle_;
};

using UnaryHandler = std::function<void(Request&& request, Responder responder)>;
using StreamHandler = std::function<void(Request&& request, StreamWriter writer)>;

}  // namespace cairn::rpc
