// The forwarder's client-facing TCP listener: the shared DNS-over-TCP
// listener (common/net/tcp_listener.h) with the forwarder's addressing, a
// ClientRef naming this listener by id and the connection by slot and
// generation, and dnsfwd's limits and counters.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

#include "common/net/tcp_listener.h"
#include "dnsfwd/address.h"
#include "dnsfwd/client.h"
#include "dnsfwd/config.h"
#include "dnsfwd/stats.h"

namespace cairn::dnsfwd {

class TcpListener : private net::TcpListener::Handler {
 public:
  TcpListener(uv_loop_t* loop, uint32_t id, QueryHandler* handler, Stats& stats,
              const Limits& limits);
  ~TcpListener() override;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::string bind(const Endpoint& at) { return socket_.bind(at); }
  const Endpoint& endpoint() const { return socket_.endpoint(); }
  uint32_t id() const { return id_; }
  void set_limits(const Limits& limits) { socket_.set_limits(shared_limits(limits)); }

  // The frame buffer for one answer (2 bytes of length prefix before it).
  uint8_t* reply_slot(size_t& cap) { return socket_.reply_slot(cap); }
  void commit(const ClientRef& to, size_t len) {
    socket_.commit(net::TcpConnRef{to.conn, to.generation}, len);
  }

  // Stops accepting; open connections finish their queries and close.
  void stop_accepting() { socket_.stop_accepting(); }
  void close_all() { socket_.close_all(); }
  size_t connections() const { return socket_.connections(); }

 private:
  static net::TcpListener::Limits shared_limits(const Limits& limits);
  bool on_message(net::TcpListener& from, std::span<const uint8_t> message,
                  const net::TcpConnRef& conn, const sockaddr_storage& peer,
                  socklen_t peer_len) override;
  bool allow_client(const sockaddr* peer) override { return handler_->allow_client(peer); }

  uint32_t id_;
  QueryHandler* handler_;
  ClientRef client_;  // reused: no per-query zeroing of its sockaddr_storage
  net::TcpListener socket_;
};

}  // namespace cairn::dnsfwd
