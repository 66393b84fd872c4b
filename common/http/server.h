// HTTP/1.1 server on llhttp and one libuv loop.
//
// Keep-alive and pipelining (answers leave in request order because a
// connection parses its next request only once the current one is answered),
// chunked request bodies (llhttp de-chunks), and limits on header bytes, body
// bytes, connections (total and per client address) and slow or idle clients:
// a new connection must start its first request within first_byte_timeout, a
// request must arrive whole within request_timeout, and a keep-alive
// connection may wait idle_timeout for its next request. Each refusal and
// timeout is counted by kind in ServerStats.
// A handler may answer later (blocking queries): it keeps the Exchange and
// calls respond() when ready; if the client leaves first, the exchange's close
// hook runs so the handler can drop its watch.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/http/message.h"
#include "common/metrics.h"
#include "common/uv_handle.h"

namespace cairn::http {

struct ServerLimits {
  size_t max_header_bytes = 64 * 1024;   // request line + headers; more is 431
  size_t max_body_bytes = 4 * 1024 * 1024;  // more is 413
  size_t max_connections = 10'000;
  size_t max_connections_per_ip = 200;  // Consul's limits.http_max_conns_per_client
  uint64_t first_byte_timeout_ms = 10'000;  // a new connection that sends nothing
  uint64_t idle_timeout_ms = 120'000;       // keep-alive connection between requests
  uint64_t request_timeout_ms = 30'000;  // a request must arrive whole this fast (slowloris)
  size_t max_pending_output = 8 * 1024 * 1024;  // stop reading while this much is unsent
};

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // = the two below
  uint64_t rejected_max_connections = 0;
  uint64_t rejected_per_ip = 0;
  uint64_t connections_open = 0;
  uint64_t requests = 0;
  uint64_t bad_requests = 0;  // = the four below
  uint64_t malformed_requests = 0;
  uint64_t header_too_large = 0;
  uint64_t body_too_large = 0;
  uint64_t unsupported_transfer_coding = 0;
  uint64_t timeouts = 0;  // = the three below
  uint64_t first_byte_timeouts = 0;
  uint64_t request_timeouts = 0;
  uint64_t idle_timeouts = 0;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class Connection;

// One request in flight.
class Exchange {
 public:
  // Where an exchange that did not come from a socket sends its answer (a
  // request forwarded over the server RPC is answered through it).
  using ResponseSink = std::function<void(Response)>;

  explicit Exchange(std::weak_ptr<Connection> conn) : conn_(std::move(conn)) {}
  explicit Exchange(ResponseSink sink) : sink_(std::move(sink)) {}
  Request request;

  void respond(Response response);
  bool responded() const { return responded_; }
  bool closed() const { return closed_; }
  // Runs once if the client disconnects before the answer.
  void on_close(std::function<void()> hook) { close_hook_ = std::move(hook); }
  // Times the answer: respond() gives each summary the milliseconds since
  // this call (Consul's consul.http.* and consul.api.http timers). Handles
  // are registered once, so timing a request allocates nothing; they must
  // outlive the exchange. Null entries are skipped.
  static constexpr size_t kMaxTimers = 3;
  void time_response(const std::array<Summary*, kMaxTimers>& timers);
  // The client went away: runs the close hook. The server calls it; a fuzzer
  // driving handlers without sockets calls it to release parked requests.
  void client_gone();

  // A streamed answer (/v1/agent/monitor): the head leaves now with chunked
  // transfer coding, each write() is one chunk, end() sends the last chunk
  // and the connection goes on with its next request. false when this
  // exchange cannot stream (a forwarded request has no socket) or the client
  // is gone; respond() is ignored once a stream started.
  bool start_stream(Response head);
  bool write_chunk(std::string_view data);
  void end_stream();
  // Bytes written but not yet taken by the socket: a streamer stops writing
  // while this is large, so a slow reader cannot make the agent buffer.
  size_t stream_backlog() const;

 private:
  std::weak_ptr<Connection> conn_;
  ResponseSink sink_;
  std::function<void()> close_hook_;
  std::array<Summary*, kMaxTimers> timers_{};
  uint64_t timed_from_ns_ = 0;
  bool responded_ = false;
  bool closed_ = false;
};

using Handler = std::function<void(const std::shared_ptr<Exchange>&)>;

class Server {
 public:
  Server(uv_loop_t* loop, ServerLimits limits, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (IPv4 or IPv6 literal). Returns an error message, empty on success.
  std::string listen(const std::string& host, int port);
  // Binds a unix socket at path, replacing a socket an earlier run left there
  // (never another kind of file); close() removes it. Its connections count
  // against max_connections only: they have no client address.
  std::string listen_unix(const std::string& path);
  // Stops accepting and closes every connection.
  void close();
  // Port actually bound (after listen with port 0).
  int bound_port() const;

  const ServerStats& stats() const { return stats_; }
  // Headers added to every handler's answer unless it set them itself
  // (Consul's http_config.response_headers). Names and values must be valid.
  void set_response_headers(HeaderList headers) { response_headers_ = std::move(headers); }
  uv_loop_t* loop() const { return loop_; }

 private:
  friend class Connection;
  void on_connection(uv_stream_t* listener);
  void on_unix_connection(uv_stream_t* listener);
  // Whether the limits let one more connection in (ip "" is a unix socket's);
  // else answers 429 on client and counts the refusal.
  bool admit(uv_stream_t* client, const std::string& ip);
  void add_connection(std::shared_ptr<Connection> conn, const std::string& ip);
  void remove(Connection* c);

  uv_loop_t* loop_;
  ServerLimits limits_;
  Handler handler_;
  std::vector<std::unique_ptr<UvHandle<uv_tcp_t>>> listeners_;
  std::vector<std::unique_ptr<UvHandle<uv_pipe_t>>> unix_listeners_;
  std::vector<std::string> unix_paths_;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  std::unordered_map<std::string, size_t> per_ip_;
  std::vector<std::shared_ptr<Connection>> graveyard_;
  Timer reaper_;
  ServerStats stats_;
  HeaderList response_headers_;
  std::string read_buffer_;  // one per server: reads are consumed before the next arrives
};

// Formats status line and headers (adds Content-Length, Date, Connection when closing).
void serialize_head(const Response& r, bool keep_alive, std::string& out);
// The same for a streamed answer: Transfer-Encoding: chunked instead of a length.
void serialize_stream_head(const Response& r, bool keep_alive, std::string& out);

}  // namespace cairn::http
