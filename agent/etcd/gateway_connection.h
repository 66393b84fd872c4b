// One HTTP/1.1 keep-alive connection to the local etcd member's JSON gateway.
//
// The gateway serves one request at a time per connection (pipelining does
// not help, reference pitfall 16), so a connection carries one call at a time
// and concurrency comes from several connections (GatewayClient). A stream
// (watch, keepalive, campaign) holds its connection until it ends.
//
// A call ends in exactly one on_done. A timeout or a closed connection is
// reported as such and never as an HTTP error: for a write that means the
// outcome is unknown (reference pitfall 6), which the caller must not report
// as "failed".
#pragma once

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/uv_handle.h"

namespace cairn::etcd {

// The member's client endpoint: a unix socket (cairn's default, in the data
// dir, so servers sharing a machine in tests never clash) or host:port.
struct ClientEndpoint {
  std::string unix_socket;
  std::string host = "127.0.0.1";
  uint16_t port = 0;

  std::string describe() const;
};

struct CallResult {
  enum class Transport : uint8_t {
    ok,              // an HTTP answer arrived whole; see http_status
    connect_failed,  // nothing was sent: safe to retry anything
    timed_out,       // sent, no whole answer in time: outcome unknown
    closed,          // the connection ended mid-call: outcome unknown
    bad_response,    // not HTTP, or over the body bound
  };
  Transport transport = Transport::ok;
  int http_status = 0;
  std::string body;  // unary calls only; streams deliver through on_body
  std::string detail;

  bool ok() const { return transport == Transport::ok && http_status == 200; }
};

class GatewayConnection {
 public:
  struct Handlers {
    // Streams: decoded body bytes as they arrive. Unset for unary calls,
    // whose body is collected into CallResult::body.
    std::function<void(std::string_view)> on_body;
    std::function<void(CallResult)> on_done;
  };

  // max_body bounds a unary answer (a stream's lines are bounded by
  // StreamLines). The largest real answer is a range page: cairn pages
  // its lists, so 64 MiB is never reached by a real member.
  static constexpr size_t kDefaultMaxBody = 64u << 20;

  GatewayConnection(uv_loop_t* loop, ClientEndpoint endpoint, size_t max_body = kDefaultMaxBody);
  ~GatewayConnection();
  GatewayConnection(const GatewayConnection&) = delete;
  GatewayConnection& operator=(const GatewayConnection&) = delete;

  bool busy() const { return busy_; }

  // POSTs body to path ("/v3/kv/range"). timeout_ms 0: none (streams).
  // Connects first if needed. Must not be called while busy().
  void call(std::string_view path, std::string_view body, uint64_t timeout_ms, Handlers handlers);

  // Ends the call in flight (on_done with `closed`) and the connection.
  void cancel();

 private:
  enum class Phase : uint8_t { disconnected, connecting, connected };

  void connect();
  void on_connected(int status);
  void send_request();
  void start_reading();
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_timeout();
  // Ends the call in flight with result; closes the connection unless the
  // answer left it reusable. Calls on_done last: it may destroy this.
  void finish(CallResult result, bool keep_connection);
  void close_socket();

  static const llhttp_settings_t& parser_settings();
  static int on_message_begin(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  uv_loop_t* loop_;
  ClientEndpoint endpoint_;
  size_t max_body_;
  Phase phase_ = Phase::disconnected;
  bool busy_ = false;
  // A closed handle is freed by libuv's close callback; a new connection
  // gets a new one.
  std::optional<UvHandle<uv_tcp_t>> tcp_;
  std::optional<UvHandle<uv_pipe_t>> pipe_;
  uv_stream_t* stream_ = nullptr;  // tcp_ or pipe_, when open
  Timer timeout_;

  std::string request_;  // the request in flight, kept until written
  Handlers handlers_;
  llhttp_t parser_;
  CallResult result_;
  bool message_complete_ = false;
  std::string read_buffer_;
  // Handlers may destroy this connection; code that runs after one checks it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::etcd
