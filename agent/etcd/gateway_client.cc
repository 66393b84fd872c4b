#include "agent/etcd/gateway_client.h"

namespace cairn::etcd {

GatewayClient::GatewayClient(uv_loop_t* loop, ClientEndpoint endpoint, Limits limits)
    : loop_(loop), endpoint_(std::move(endpoint)), limits_(limits) {}

GatewayConnection* GatewayClient::idle_connection() {
  for (auto& c : pool_)
    if (!c->busy()) return c.get();
  if (pool_.size() < limits_.connections) {
    pool_.push_back(std::make_unique<GatewayConnection>(loop_, endpoint_));
    return pool_.back().get();
  }
  return nullptr;
}

void GatewayClient::call(std::string path, std::string body, uint64_t timeout_ms,
                         std::function<void(CallResult)> done) {
  PendingCall pending{std::move(path), std::move(body), timeout_ms, std::move(done)};
  if (GatewayConnection* conn = idle_connection()) {
    dispatch(*conn, std::move(pending));
    return;
  }
  if (queue_.size() >= limits_.max_queued) {
    ++refused_;
    CallResult r;
    r.transport = CallResult::Transport::connect_failed;  // nothing was sent
    r.detail = "too many etcd calls queued";
    pending.done(std::move(r));
    return;
  }
  queue_.push_back(std::move(pending));
}

void GatewayClient::dispatch(GatewayConnection& conn, PendingCall call) {
  GatewayConnection::Handlers handlers;
  handlers.on_done = [this, alive = alive_, &conn, done = std::move(call.done)](CallResult r) {
    done(std::move(r));
    if (*alive) on_connection_free(conn);
  };
  conn.call(call.path, call.body, call.timeout_ms, std::move(handlers));
}

void GatewayClient::on_connection_free(GatewayConnection& conn) {
  if (queue_.empty() || conn.busy()) return;
  PendingCall next = std::move(queue_.front());
  queue_.pop_front();
  dispatch(conn, std::move(next));
}

std::unique_ptr<GatewayConnection> GatewayClient::open_stream(
    std::string_view path, std::string_view body, GatewayConnection::Handlers handlers) {
  auto conn = std::make_unique<GatewayConnection>(loop_, endpoint_);
  conn->call(path, body, 0, std::move(handlers));
  return conn;
}

}  // namespace cairn::etcd
