// The forwarder's client-facing UDP socket: the shared batched listener
// (common/net/udp_listener.h) with the forwarder's addressing, a ClientRef
// that names this listener by id so an answer can come back to it later.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

#include "common/net/udp_listener.h"
#include "dnsfwd/address.h"
#include "dnsfwd/client.h"
#include "dnsfwd/stats.h"

namespace cairn::dnsfwd {

class UdpListener : private net::UdpListener::Handler {
 public:
  UdpListener(uv_loop_t* loop, uint32_t id, QueryHandler* handler, Stats& stats);
  ~UdpListener() override;
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Binds and starts reading. Returns an error message, empty on success.
  std::string bind(const Endpoint& at) { return socket_.bind(at); }
  const Endpoint& endpoint() const { return socket_.endpoint(); }
  uint32_t id() const { return id_; }

  uint8_t* reply_slot(size_t& cap) { return socket_.reply_slot(cap); }
  void commit(const ClientRef& to, size_t len) { socket_.commit(to.peer, to.peer_len, len); }
  void flush() { socket_.flush(); }
  void stop_reading() { socket_.stop_reading(); }

 private:
  void on_datagram(net::UdpListener& from, std::span<const uint8_t> packet,
                   const sockaddr_storage& peer, socklen_t peer_len) override;

  uint32_t id_;
  QueryHandler* handler_;
  ClientRef client_;  // reused: no per-datagram zeroing of its sockaddr_storage
  net::UdpListener socket_;
};

}  // namespace cairn::dnsfwd
