// DNS over TCP on the agent's loop (RFC 7766): each message has a two-byte
// length prefix; a connection may carry many queries, answered as they
// complete. Limits keep hostile clients cheap: a cap on connections, an idle
// timeout, and a bounded read buffer (one message of at most 64 KiB).
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/metrics.h"
#include "common/uv_handle.h"

namespace cairn::dns {

class TcpListener;

// One client connection. Handlers keep a weak_ptr to answer later.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(TcpListener& owner, uint64_t id);
  ~TcpConnection();
  // Sends one DNS message (the length prefix is added here).
  void send(std::span<const uint8_t> message);
  const sockaddr_storage& peer() const { return peer_; }
  bool open() const { return open_; }
  void close();

 private:
  friend class TcpListener;
  void on_data(const uint8_t* data, size_t len);
  void touch();

  TcpListener& owner_;
  uint64_t id_;
  UvHandle<uv_tcp_t> tcp_;
  Timer idle_;
  sockaddr_storage peer_{};
  std::vector<uint8_t> in_;
  bool open_ = true;
};

class TcpListener {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Answers one message into out (kMaxMessage bytes); returns the size, or
    // 0 to answer later through conn->send() (or not at all).
    virtual size_t on_message(const std::shared_ptr<TcpConnection>& conn,
                              std::span<const uint8_t> message, std::span<uint8_t> out) = 0;
  };

  // dns_config's tcp_* keys (agent/config/dns_limits.h has the defaults).
  struct Limits {
    size_t max_connections = 1024;
    uint64_t idle_timeout_ms = 8000;  // miekg/dns's default, which Consul uses
    size_t max_queued_bytes = 1024 * 1024;
  };
  // What each limit counts when it fires (the agent's registry owns them).
  struct LimitCounters {
    Counter* rejected = nullptr;            // max_connections
    Counter* idle_closed = nullptr;         // idle_timeout_ms
    Counter* slow_reader_closed = nullptr;  // max_queued_bytes
  };

  TcpListener(uv_loop_t* loop, Handler& handler, Limits limits, LimitCounters counters);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::string listen(const std::string& host, int port);
  int port() const { return port_; }
  // New limits apply to new connections and to the next idle timer.
  void set_limits(const Limits& limits) { limits_ = limits; }
  void close();
  size_t connections() const { return conns_.size(); }

 private:
  friend class TcpConnection;
  void on_connection();
  void forget(uint64_t id);

  uv_loop_t* loop_;
  Handler& handler_;
  Limits limits_;
  LimitCounters counters_;
  UvHandle<uv_tcp_t> server_;
  int port_ = 0;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<TcpConnection>> conns_;
  std::vector<uint8_t> out_;   // one answer
  std::vector<uint8_t> read_;  // libuv read buffer, shared: reads are handled at once
};

}  // namespace cairn::dns
