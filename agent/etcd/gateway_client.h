// Calls to the local etcd member over a small pool of gateway connections.
//
// The gateway answers one request at a time per connection, so unary calls
// (range, put, txn, lease grant, member list) share a pool: a call waits in a
// FIFO until a connection is free. The pool is small because etcd's own
// throughput flattens out by 64 concurrent writers (reference §9.1). Streams
// never come from the pool: open_stream gives the caller its own connection,
// whose life is the stream's.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "agent/etcd/gateway_connection.h"

namespace cairn::etcd {

class GatewayClient {
 public:
  struct Limits {
    size_t connections = 16;
    size_t max_queued = 4096;  // beyond this a call fails at once instead of queueing
  };

  GatewayClient(uv_loop_t* loop, ClientEndpoint endpoint, Limits limits);
  GatewayClient(uv_loop_t* loop, ClientEndpoint endpoint)
      : GatewayClient(loop, std::move(endpoint), Limits{}) {}
  GatewayClient(const GatewayClient&) = delete;
  GatewayClient& operator=(const GatewayClient&) = delete;

  // timeout_ms counts from when the call is sent, not from when it queued.
  void call(std::string path, std::string body, uint64_t timeout_ms,
            std::function<void(CallResult)> done);

  std::unique_ptr<GatewayConnection> open_stream(std::string_view path, std::string_view body,
                                                 GatewayConnection::Handlers handlers);

  const ClientEndpoint& endpoint() const { return endpoint_; }
  size_t queued() const { return queue_.size(); }
  uint64_t calls_refused() const { return refused_; }

 private:
  struct PendingCall {
    std::string path;
    std::string body;
    uint64_t timeout_ms;
    std::function<void(CallResult)> done;
  };

  GatewayConnection* idle_connection();
  void dispatch(GatewayConnection& conn, PendingCall call);
  void on_connection_free(GatewayConnection& conn);

  uv_loop_t* loop_;
  ClientEndpoint endpoint_;
  Limits limits_;
  std::vector<std::unique_ptr<GatewayConnection>> pool_;
  std::deque<PendingCall> queue_;
  uint64_t refused_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  ~GatewayClient() { *alive_ = false; }
};

}  // namespace cairn::etcd
