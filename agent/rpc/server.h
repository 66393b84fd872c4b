// The server RPC endpoint (port 8300): HTTP/2 over TCP, one stream per
// call, many calls and subscriptions multiplexed over each client's one
// connection. See wire.h for the wire and settings.h for every bound.
//
//   rpc::Server server(loop, settings);
//   server.handle("Catalog.Register", [](rpc::Request&& req, rpc::Responder r) {
//     r.reply(apply(req.body));  // now, or later from a callback
//   });
//   server.handle_stream("Health.Subscribe", [](rpc::Request&& req, rpc::StreamWriter w) {...});
//   if (auto st = server.listen("10.0.0.1", 8300); !st.ok()) ...
//
// Like every socket user in the agent, it expects SIGPIPE to be ignored.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/rpc/router.h"
#include "agent/rpc/server_call.h"
#include "agent/rpc/server_session.h"
#include "agent/rpc/settings.h"
#include "agent/rpc/status.h"
#include "common/uv_handle.h"

namespace cairn::rpc {

class Server : private ServerSession::Owner {
 public:
  Server(uv_loop_t* loop, ServerSettings settings = {});
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Methods are registered before clients call them (not while serving).
  void handle(std::string method, UnaryHandler handler);
  void handle_stream(std::string method, StreamHandler handler);

  // Binds ip:port (an IPv4 or IPv6 literal; port 0 picks one). May be
  // called for several addresses. "listen 10.0.0.1:8300: address already in use".
  Status listen(std::string_view ip, uint16_t port);
  // The port of the first listener (after listen with port 0).
  uint16_t port() const { return port_; }

  // Graceful stop: no new connections, GOAWAY on each (clients send new
  // calls elsewhere), subscriptions end with unavailable, unary calls in
  // flight answer within shutdown_grace_ms; then every connection closes
  // and done runs (from the loop, never from inside this call).
  void shutdown(std::function<void()> done);
  // Stops now: every call in flight is cancelled.
  void close();

  const ServerStats& stats() const { return stats_; }
  size_t connections() const { return sessions_.size(); }
  const ServerSettings& settings() const { return settings_; }

 private:
  // ServerSession::Owner
  void on_session_closed(ServerSession& session) override;
  static void on_connection(uv_stream_t* listener, int status);
  void accept(uv_stream_t* listener);
  void maybe_shutdown_done();

  uv_loop_t* loop_;
  ServerSettings settings_;
  Router router_;
  ServerStats stats_;
  std::vector<std::unique_ptr<UvHandle<uv_tcp_t>>> listeners_;
  std::unordered_map<ServerSession*, std::shared_ptr<ServerSession>> sessions_;
  uint16_t port_ = 0;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
  Timer grace_timer_;
  Timer done_timer_;
};

}  // namespace cairn::rpc
