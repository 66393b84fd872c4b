// A client's connection to one server's RPC endpoint.
//
// Connects on first use and multiplexes every call and stream over one
// TCP connection (HTTP/2), pinging a silent server to notice within about
// keepalive_interval + keepalive_timeout that it is gone. When the
// connection drops, each pending call ends with unavailable if its request
// was never written and unknown_outcome if it was: retry the first anywhere,
// the second only if the call is idempotent. The next call reconnects.
// Choosing among servers (and failing over) is the caller's business.
//
//   rpc::Connection conn(loop, *net::endpoint_of("10.0.0.1", 8300));
//   conn.call("Catalog.Register", body, 5000, [](rpc::Status st, std::string answer) {...});
//   rpc::Stream sub = conn.open_stream("Health.Subscribe", body, on_message, on_end);
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "agent/rpc/settings.h"
#include "agent/rpc/status.h"
#include "agent/rpc/transport.h"
#include "common/net/address.h"

namespace cairn::rpc {

class ConnectionImpl;

// How to reach the server: plain TCP by default; TLS later wraps it. The
// returned token cancels the attempt when dropped (no callback then).
using DialCallback = std::function<void(std::unique_ptr<Transport>, Status)>;
using Dialer = std::function<std::shared_ptr<void>(uv_loop_t*, DialCallback)>;
Dialer tcp_dialer(const net::Endpoint& server, uint64_t connect_timeout_ms);

// A stream opened by Connection::open_stream. Dropping it cancels the
// stream (the server's writer hears on_cancel); on_end is not called then.
class Stream {
 public:
  Stream() = default;
  Stream(std::weak_ptr<ConnectionImpl> conn, uint64_t id) : conn_(std::move(conn)), id_(id) {}
  ~Stream() { cancel(); }
  Stream(Stream&& o) noexcept : conn_(std::move(o.conn_)), id_(std::exchange(o.id_, 0)) {}
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  void cancel();
  // Not ended, not cancelled.
  bool active() const;
  // Stops taking this stream's bytes: flow control then holds the server's
  // writer back (its queued_bytes grows). Messages of bytes that already
  // arrived are still delivered; resume() delivers what came meanwhile.
  void pause();
  void resume();

 private:
  std::weak_ptr<ConnectionImpl> conn_;
  uint64_t id_ = 0;
};

class Connection {
 public:
  using CallCallback = std::function<void(Status status, std::string body)>;
  using MessageCallback = std::function<void(std::string_view message)>;
  using EndCallback = std::function<void(Status status)>;

  Connection(uv_loop_t* loop, const net::Endpoint& server, ConnectionSettings settings = {});
  Connection(uv_loop_t* loop, std::string target, Dialer dialer, ConnectionSettings settings = {});
  // Cancels every call and stream; none of their callbacks run.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One call: done runs exactly once (never from inside call()), with the
  // answer or why there is none. timeout_ms 0 = no deadline. A deadline
  // that passes before the request was written ends it with timeout, after
  // with unknown_outcome. token goes in the authorization header.
  void call(std::string_view method, std::string body, uint64_t timeout_ms, CallCallback done,
            std::string token = {});
  // A server stream: on_message for each message in order, then on_end once.
  Stream open_stream(std::string_view method, std::string body, MessageCallback on_message,
                     EndCallback on_end, std::string token = {});

  // Drops the connection now: pending calls end as if it had been lost.
  void close();
  bool connected() const;
  // Loop time (ms) of the last bytes from the server; 0 before any.
  uint64_t last_contact_ms() const;
  size_t pending_calls() const;
  const std::string& target() const;

 private:
  std::shared_ptr<ConnectionImpl> impl_;
};

}  // namespace cairn::rpc
