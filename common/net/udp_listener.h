// A DNS UDP socket on a libuv loop that reads and answers in batches, for
// both daemons (the agent's DNS interface and cairn-dnsfwd's client side).
//
// Queries are read with recvmmsg and answers leave with sendmmsg, up to kBatch
// at a time: on loopback the system calls, not the lookup, are most of the
// cost of an answer (docs/benchmarks.md), so batching is what keeps both
// daemons near the loopback ceiling. A handler writes its answer straight
// into the send arena (reply_slot), then commits it: no copy, no allocation.
// The batch is sent when full, after each read batch, and around the poll
// phase of every loop iteration: after it (uv_check) for answers produced by
// upstream replies, before it (uv_prepare) for answers produced by timers,
// which would otherwise wait for the next event.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/metrics.h"
#include "common/net/address.h"
#include "common/uv_handle.h"

namespace cairn::net {

class UdpListener {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // One datagram. Answer now or later with reply_slot() and commit().
    virtual void on_datagram(UdpListener& from, std::span<const uint8_t> packet,
                             const sockaddr_storage& peer, socklen_t peer_len) = 0;
    // Called once per received batch, before its datagrams (refresh clocks).
    virtual void on_batch() {}
  };

  struct Options {
    // Other sockets (loops) may bind the same port; the kernel spreads clients.
    bool reuse_port = false;
    Counter* oversized = nullptr;   // datagrams larger than a receive slot, dropped
    Counter* send_drops = nullptr;  // answers the socket refused (buffer full, unreachable)
  };

  static constexpr int kBatch = 64;
  static constexpr size_t kSlot = 4096;       // receive slot: no real query is larger
  static constexpr size_t kMaxReply = 65535;  // what reply_slot always offers

  UdpListener(uv_loop_t* loop, Handler& handler, Options options);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Binds and starts reading. Returns an error message, empty on success.
  std::string bind(const Endpoint& at);
  // The bound address (with the port the kernel chose for port 0).
  const Endpoint& endpoint() const { return endpoint_; }

  // Room for one answer (cap receives kMaxReply), then commit it.
  uint8_t* reply_slot(size_t& cap);
  void commit(const sockaddr_storage& peer, socklen_t peer_len, size_t len);
  void flush();
  // Stops reading; answers already queued or still committed are sent.
  void stop_reading();
  // Sends what is queued and closes the socket.
  void close();

 private:
  void on_readable();

  uv_loop_t* loop_;
  Handler& handler_;
  Options options_;
  Endpoint endpoint_;
  int fd_ = -1;
  UvHandle<uv_poll_t> poll_;
  UvHandle<uv_check_t> flush_after_poll_;
  UvHandle<uv_prepare_t> flush_before_poll_;

  struct Batch;
  std::unique_ptr<Batch> in_;   // received queries
  std::unique_ptr<Batch> out_;  // answers waiting for sendmmsg
  int queued_ = 0;
  size_t used_ = 0;  // bytes of the send arena taken by queued answers
};

}  // namespace cairn::net
