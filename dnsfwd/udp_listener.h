// The client-facing UDP socket. Queries are read with recvmmsg and answers
// leave with sendmmsg, both in batches of up to 64, the way the loopback
// ceiling responder of the benchmark does it: on a cache hit the syscalls,
// not the lookup, are the cost, so batching is what keeps the hit path near
// the ceiling. Answers are written by the forwarder straight into a slot of
// the send batch; the batch is flushed when full, after each read batch, and
// around the poll phase of every loop iteration: after it (uv_check) for
// answers produced by upstream replies, before it (uv_prepare) for answers
// produced by timers (SERVFAIL after the last timeout, stale data), which
// would otherwise wait for the next event.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/uv_handle.h"
#include "dnsfwd/address.h"
#include "dnsfwd/client.h"
#include "dnsfwd/stats.h"

namespace cairn::dnsfwd {

class UdpListener {
 public:
  static constexpr int kBatch = 64;
  static constexpr size_t kSlot = 4096;  // max_udp_size is at most 4096
  static constexpr int kDenseBatch = 8;

  UdpListener(uv_loop_t* loop, uint32_t id, QueryHandler* handler, Stats& stats);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Binds and starts reading. Returns an error message, empty on success.
  std::string bind(const Endpoint& at);
  const Endpoint& endpoint() const { return endpoint_; }
  uint32_t id() const { return id_; }

  uint8_t* reply_slot(size_t& cap);
  void commit(const ClientRef& to, size_t len);
  void flush();
  void stop_reading();

 private:
  void on_readable();

  uv_loop_t* loop_;
  uint32_t id_;
  QueryHandler* handler_;
  Stats& stats_;
  Endpoint endpoint_;
  int fd_ = -1;
  UvHandle<uv_poll_t> poll_;
  UvHandle<uv_check_t> flush_after_poll_;
  UvHandle<uv_prepare_t> flush_before_poll_;

  struct Batch {
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    sockaddr_storage addr[kBatch];
    uint8_t data[kBatch][kSlot];
  };
  std::unique_ptr<Batch> in_;   // received queries
  std::unique_ptr<Batch> out_;  // answers waiting for sendmmsg
  int queued_ = 0;
};

}  // namespace cairn::dnsfwd
