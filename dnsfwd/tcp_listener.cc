#include "dnsfwd/tcp_listener.h"

#include <cstring>

namespace cairn::dnsfwd {

TcpListener::TcpListener(uv_loop_t* loop, uint32_t id, QueryHandler* handler, Stats& stats,
                         const Limits& limits)
    : id_(id),
      handler_(handler),
      socket_(loop, *this, shared_limits(limits),
              net::TcpListener::Counters{.accepted = &stats.tcp_connections,
                                         .rejected = &stats.tcp_rejected,
                                         .slow_reader_closed = &stats.tcp_slow_readers}) {
  client_.transport = Transport::tcp;
  client_.listener = id;
}

TcpListener::~TcpListener() = default;

net::TcpListener::Limits TcpListener::shared_limits(const Limits& limits) {
  net::TcpListener::Limits out;
  out.max_connections = limits.tcp_max_connections;
  out.idle_timeout_ms = limits.tcp_idle_timeout_ms;
  out.max_in_flight = limits.tcp_max_in_flight;
  // A client that stops reading pauses at max_in_flight answers; this bounds
  // what those answers may hold (64 of the largest).
  out.max_queued_bytes = size_t{limits.tcp_max_in_flight} * (2 + 65535);
  return out;
}

bool TcpListener::on_message(net::TcpListener&, std::span<const uint8_t> message,
                             const net::TcpConnRef& conn, const sockaddr_storage& peer,
                             socklen_t peer_len) {
  client_.conn = conn.slot;
  client_.generation = conn.generation;
  std::memcpy(&client_.peer, &peer, peer_len);
  client_.peer_len = peer_len;
  return handler_->on_query(message.data(), message.size(), client_);
}

}  // namespace cairn::dnsfwd
