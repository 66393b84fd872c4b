// DNS over TCP on a libuv loop (RFC 7766), for both daemons: many queries
// per connection, handled concurrently and answered in whatever order the
// answers come (glibc sends A and AAAA on one connection and waits for
// both). Limits keep hostile or slow clients cheap: a cap on connections, an
// idle timeout, a cap on queries in flight per connection (reading pauses
// beyond it, which pushes back on the client instead of queueing without
// bound) and on answers queued for a client that does not read them.
//
// Connections are addressed by (slot, generation), so an answer that comes
// back after its connection closed and the slot was reused is dropped.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/net/address.h"
#include "common/uv_handle.h"

namespace cairn::net {

// Names one connection of one listener, to answer it later.
struct TcpConnRef {
  uint32_t slot = 0;
  uint32_t generation = 0;
};

class TcpListener {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // One message. Every message accepted (true) is later answered with
    // reply_slot() and commit(), or let go with skip(); until then it counts
    // as in flight. False: malformed, the connection is closed (RFC 7766 §6.2.1).
    virtual bool on_message(TcpListener& from, std::span<const uint8_t> message,
                            const TcpConnRef& conn, const sockaddr_storage& peer,
                            socklen_t peer_len) = 0;
    // Checked at accept; false closes the connection (counted as rejected).
    virtual bool allow_client(const sockaddr*) { return true; }
  };

  struct Limits {
    size_t max_connections = 1024;
    uint64_t idle_timeout_ms = 8000;
    uint32_t max_in_flight = 64;  // per connection
    size_t max_queued_bytes = 1024 * 1024;
  };
  // Each optional; counted when the limit fires.
  struct Counters {
    Counter* accepted = nullptr;
    Counter* rejected = nullptr;            // max_connections or allow_client
    Counter* idle_closed = nullptr;         // idle_timeout_ms
    Counter* reads_paused = nullptr;        // max_in_flight reached
    Counter* slow_reader_closed = nullptr;  // max_queued_bytes
  };

  TcpListener(uv_loop_t* loop, Handler& handler, Limits limits, Counters counters);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::string bind(const Endpoint& at);
  const Endpoint& endpoint() const { return endpoint_; }
  // New limits apply to new connections and to the next read and idle timer.
  void set_limits(const Limits& limits) { limits_ = limits; }

  // The frame buffer for one answer (cap receives 65535), then commit it.
  uint8_t* reply_slot(size_t& cap);
  void commit(const TcpConnRef& to, size_t len);
  // A message accepted earlier gets no answer: it stops counting as in flight.
  void skip(const TcpConnRef& to);

  // Stops accepting; open connections finish their queries and close.
  void stop_accepting();
  void close_all();
  size_t connections() const { return open_; }

 private:
  struct Conn;
  friend struct Conn;
  void on_connection();
  void release(Conn* c);
  Conn* find(const TcpConnRef& ref) const;
  void answered(Conn* c);

  uv_loop_t* loop_;
  Handler& handler_;
  Limits limits_;
  Counters counters_;
  Endpoint endpoint_;
  UvHandle<uv_tcp_t> server_;
  std::vector<Conn*> slots_;  // owned; deleted from their close callbacks
  std::vector<uint32_t> free_slots_;
  uint32_t generations_ = 0;
  size_t open_ = 0;
  std::vector<uint8_t> frame_;  // 2 + 65535 bytes: the answer being written
};

}  // namespace cairn::net
