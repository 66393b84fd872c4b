// One upstream server: its sockets, health, rate limit and counters (the
// libuv shell around health.h and token_bucket.h).
//
// UDP goes out through a small pool of connected sockets. connect() makes
// the kernel drop datagrams from any other address or port, which is the
// first anti-spoofing check for free; the kernel also picks each socket's
// source port at random. Towards a non-loopback server every socket is
// replaced by a fresh one (a new random port) after rotate_after queries, so
// an off-path attacker must guess the port as well as the 16-bit ID (RFC
// 5452). A loopback upstream (the agent) cannot be spoofed from outside, so
// its sockets are kept. Queries leave with sendmmsg: those made in one loop
// iteration are queued on one socket and flushed around the poll phase
// (like the client-facing UDP listener), and replies are read with recvmmsg
// in batches, so a burst of cache misses or .consul lookups costs a few
// syscalls rather than one or two per query.
//
// A socket error (an ICMP port unreachable while the upstream restarts, a
// failed receive or send) fails the queries waiting on that socket over to
// their next attempt, is counted and logged (one line a second at most), and
// the socket keeps being read: libuv stops polling a descriptor that reports
// EPOLLERR, so the error is cleared and the socket polled again, or the
// socket is replaced when that is not possible. Whatever stops a socket's
// polling, the next maintain() replaces it, so an upstream is never left
// with sockets nobody reads.
//
// TCP is for answers that came back truncated: one query per connection at
// a time, connections kept idle for reuse for a few seconds.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/uv_handle.h"
#include "dnsfwd/address.h"
#include "dnsfwd/config.h"
#include "dnsfwd/health.h"
#include "dnsfwd/log_throttle.h"
#include "dnsfwd/token_bucket.h"

namespace cairn::dnsfwd {

class Upstream;

// Implemented by the forwarder: what arrives from upstreams.
class UpstreamHandler {
 public:
  virtual ~UpstreamHandler() = default;
  // truncated: the datagram was larger than the receive buffer (treated like TC).
  virtual void on_udp_answer(Upstream& up, uint32_t serial, uint8_t* data, size_t len,
                             bool truncated) = 0;
  // An error reported on a socket (ECONNREFUSED: an ICMP port unreachable,
  // nothing listens there); every query waiting on that socket is lost. The
  // upstream has counted and logged it already.
  virtual void on_udp_error(Upstream& up, uint32_t serial, int err) = 0;
  virtual void on_tcp_answer(Upstream& up, uint64_t cookie, uint8_t* data, size_t len) = 0;
  virtual void on_tcp_error(Upstream& up, uint64_t cookie, int err) = 0;
};

struct UpstreamStats {
  UpstreamStats(MetricsRegistry& r, const std::string& group, const std::string& address);
  Counter& sent;
  Counter& answers;
  Counter& timeouts;
  Counter& errors;  // socket errors (refused, unreachable, send failures), UDP and TCP
  // The UDP part: errors on the connected sockets, which are read on.
  Counter& socket_errors;
  // UDP sockets that could not be polled again and were replaced.
  Counter& sockets_replaced;
  Counter& malformed;   // answers that failed the scanner
  Counter& mismatched;  // right ID, wrong question (dropped: possible spoofing)
  Counter& tcp_fallbacks;
  Counter& rate_limited;
  Summary& rtt;  // seconds
  Gauge& healthy;
  Gauge& srtt;  // seconds
};

class Upstream {
 public:
  Upstream(uv_loop_t* loop, const Endpoint& endpoint, const Group& rules,
           const std::string& group_name, UpstreamHandler* handler, MetricsRegistry& metrics);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  void reconfigure(const Group& rules);

  const Endpoint& endpoint() const { return endpoint_; }
  const std::string& address() const { return address_; }
  const std::string& group_name() const { return group_name_; }
  Health& health() { return health_; }
  TokenBucket& bucket() { return bucket_; }
  UpstreamStats& stats() { return stats_; }

  // Queues a query for UDP (sent before the loop next waits). Returns the
  // socket serial, or 0 with err set. Send errors found at flush time come
  // back through on_udp_error for that serial.
  uint32_t send_udp(const uint8_t* query, size_t len, int& err);
  void flush();
  // Sends a query over TCP; the answer or error comes back with cookie.
  bool send_tcp(const uint8_t* query, size_t len, uint64_t cookie, int& err);
  // Forgets a TCP query (its transaction is done); its connection is closed.
  void cancel_tcp(uint64_t cookie);

  // Closes retired UDP sockets whose late answers are no longer wanted, and
  // replaces any socket that is no longer polled.
  void maintain(uint64_t now_ms);
  void shutdown();

  uint64_t now_ms() const { return uv_now(loop_); }

 private:
  struct UdpSocket;
  struct TcpConn;
  struct SendBatch;
  friend struct TcpConn;
  enum class SocketFate : uint8_t { kept, replaced };
  std::unique_ptr<UdpSocket> open_udp(int& err);
  bool start_polling(UdpSocket& s);
  static void on_udp_poll(uv_poll_t* poll, int status, int events);
  UdpSocket* next_socket(int& err);
  void on_udp_readable(UdpSocket& s);
  void on_udp_poll_error(UdpSocket& s);
  void replace_socket(const UdpSocket& s);
  void report_udp_error(uint32_t serial, int err, SocketFate fate);
  void tcp_closed(TcpConn* c);

  uv_loop_t* loop_;
  Endpoint endpoint_;
  std::string address_;
  std::string group_name_;
  UpstreamHandler* handler_;
  Health health_;
  TokenBucket bucket_;
  UpstreamStats stats_;
  uint32_t socket_count_;
  uint32_t rotate_after_;
  uint32_t grace_ms_;  // how long a retired socket still accepts late answers
  std::vector<std::unique_ptr<UdpSocket>> sockets_;
  std::deque<std::unique_ptr<UdpSocket>> retired_;
  size_t next_socket_ = 0;
  std::unique_ptr<SendBatch> batch_;
  UvHandle<uv_check_t> flush_after_poll_;
  UvHandle<uv_prepare_t> flush_before_poll_;
  std::vector<TcpConn*> tcp_;  // owned; deleted from their close callback
  LogThrottle socket_error_log_{1000};
};

}  // namespace cairn::dnsfwd
