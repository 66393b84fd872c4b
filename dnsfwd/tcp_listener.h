// The client-facing TCP listener (RFC 7766): many queries per connection,
// handled concurrently and answered in whatever order the answers come
// (glibc sends A and AAAA on one connection and waits for both), an idle
// timeout, a cap on connections and on queries in flight per connection
// (reading pauses beyond it, which pushes back on the client instead of
// queueing without bound).
//
// Connections are addressed by (slot, generation), so an answer that comes
// back after its connection closed and the slot was reused is dropped.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/uv_handle.h"
#include "dnsfwd/address.h"
#include "dnsfwd/client.h"
#include "dnsfwd/config.h"
#include "dnsfwd/stats.h"

namespace cairn::dnsfwd {

class TcpListener {
 public:
  TcpListener(uv_loop_t* loop, uint32_t id, QueryHandler* handler, Stats& stats,
              const Limits& limits);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::string bind(const Endpoint& at);
  const Endpoint& endpoint() const { return endpoint_; }
  uint32_t id() const { return id_; }
  void set_limits(const Limits& limits) { limits_ = limits; }

  // The frame buffer for one answer (2 bytes of length prefix before it).
  uint8_t* reply_slot(size_t& cap);
  void commit(const ClientRef& to, size_t len);

  // Stops accepting; open connections finish their queries and close.
  void stop_accepting();
  void close_all();
  size_t connections() const { return open_; }

 private:
  struct Conn;
  friend struct Conn;
  void on_connection();
  void release(Conn* c);

  uv_loop_t* loop_;
  uint32_t id_;
  QueryHandler* handler_;
  Stats& stats_;
  Limits limits_;
  Endpoint endpoint_;
  UvHandle<uv_tcp_t> server_;
  std::vector<Conn*> slots_;  // owned; deleted from their close callbacks
  std::vector<uint32_t> free_slots_;
  size_t open_ = 0;
  std::vector<uint8_t> frame_;  // 2 + 65535 bytes: the answer being written
};

}  // namespace cairn::dnsfwd
