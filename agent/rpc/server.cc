#include "agent/rpc/server.h"

#include "agent/rpc/tcp_transport.h"
#include "common/log.h"
#include "common/net/address.h"

namespace cairn::rpc {

namespace {
constexpr std::string_view kLog = "agent.rpc";
constexpr int kBacklog = 511;
}  // namespace

Server::Server(uv_loop_t* loop, ServerSettings settings)
    : loop_(loop), settings_(settings), grace_timer_(loop), done_timer_(loop) {}

Server::~Server() {
  close();
}

void Server::handle(std::string method, UnaryHandler handler) {
  router_.add(std::move(method), std::move(handler));
}

void Server::handle_stream(std::string method, StreamHandler handler) {
  router_.add_stream(std::move(method), std::move(handler));
}

Status Server::listen(std::string_view ip, uint16_t port) {
  auto at = net::endpoint_of(ip, port);
  if (!at)
    return Status(Status::Code::bad_request, "listen: not an IP address: " + std::string(ip));
  auto listener = std::make_unique<UvHandle<uv_tcp_t>>();
  uv_tcp_init_ex(loop_, listener->get(), at->family());
  listener->mark_initialized();
  listener->get()->data = this;
  unsigned flags = at->family() == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
  int rc = uv_tcp_bind(listener->get(), at->sa(), flags);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener->get()), kBacklog, on_connection);
  if (rc != 0)
    return Status(Status::Code::unavailable, "listen " + at->to_string() + ": " + uv_strerror(rc));
  net::Endpoint bound;
  int len = sizeof bound.addr;
  uv_tcp_getsockname(listener->get(), reinterpret_cast<sockaddr*>(&bound.addr), &len);
  if (listeners_.empty()) port_ = bound.port();
  listeners_.push_back(std::move(listener));
  return Status();
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<Server*>(listener->data);
  if (self && status == 0) self->accept(listener);
}

void Server::accept(uv_stream_t* listener) {
  UvHandle<uv_tcp_t> socket;
  uv_tcp_init(loop_, socket.get());
  socket.mark_initialized();
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(socket.get())) != 0) return;
  bool refuse = shutting_down_ || sessions_.size() >= settings_.max_connections;
  if (refuse) {
    ++stats_.connections_rejected;
    // A refusal costs a short session (its GOAWAY tells the client that
    // nothing ran); past twice the limit, a storm gets closed sockets.
    if (shutting_down_ || sessions_.size() >= 2 * settings_.max_connections) return;
  } else {
    ++stats_.connections_accepted;
  }
  ServerSession::Owner* owner = this;
  auto session = std::make_shared<ServerSession>(
      loop_, std::make_unique<TcpTransport>(std::move(socket)), settings_, router_, stats_, owner);
  ServerSession* key = session.get();
  sessions_.emplace(key, session);
  if (!session->start()) {
    log::warn(kLog, "cannot start an HTTP/2 session", {{"peer", session->peer()}});
    sessions_.erase(key);
    return;
  }
  if (refuse) session->refuse();
}

void Server::on_session_closed(ServerSession& session) {
  sessions_.erase(&session);
  maybe_shutdown_done();
}

void Server::shutdown(std::function<void()> done) {
  shutdown_done_ = std::move(done);
  if (!shutting_down_) {
    shutting_down_ = true;
    listeners_.clear();
    // Copies: a session may finish (and leave the map) while shutting down.
    std::vector<std::shared_ptr<ServerSession>> sessions;
    for (auto& [key, s] : sessions_) sessions.push_back(s);
    for (auto& s : sessions) s->shutdown();
    grace_timer_.start(settings_.shutdown_grace_ms, 0, [this] {
      log::warn(kLog, "RPC calls still open at the end of the shutdown grace; cancelling",
                {{"connections", std::to_string(sessions_.size())}});
      close();
      maybe_shutdown_done();
    });
  }
  maybe_shutdown_done();
}

void Server::maybe_shutdown_done() {
  if (!shutting_down_ || !sessions_.empty() || !shutdown_done_) return;
  grace_timer_.stop();
  // Runs from the loop: the caller of shutdown() is not re-entered.
  done_timer_.start(0, 0, [this] {
    if (auto done = std::move(shutdown_done_)) done();
  });
}

void Server::close() {
  listeners_.clear();
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [key, s] : sessions) s->abandon();
}

}  // namespace cairn::rpc
