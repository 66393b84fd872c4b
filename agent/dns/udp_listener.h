// A UDP listener on the agent's loop that receives and answers datagrams in
// batches: recvmmsg fills up to kBatch datagrams, the handler answers each
// into a send arena, and one sendmmsg sends them all. Under load that is two
// system calls per batch instead of two per query, which is where most of a
// DNS server's time goes on loopback (docs/benchmarks.md). The socket is
// watched with a uv_poll handle on the loop; nothing blocks.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/uv_handle.h"

namespace cairn::dns {

class UdpListener {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Answers one datagram into out (kMaxMessage bytes). Returns the reply
    // size, or 0 to send nothing now (dropped, or answered later by send_to).
    virtual size_t on_datagram(UdpListener& from, std::span<const uint8_t> packet,
                               const sockaddr_storage& peer, std::span<uint8_t> out) = 0;
    // Called once per batch, before its datagrams: a place to refresh clocks.
    virtual void on_batch() {}
  };

  UdpListener(uv_loop_t* loop, Handler& handler);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Binds host:port (port 0 picks one). reuse_port lets other loops bind the
  // same port, the kernel spreading clients across them. "" or the error.
  std::string listen(const std::string& host, int port, bool reuse_port = false);
  int port() const { return port_; }
  // Sends one datagram now (late answers: recursion). Dropped if the socket is full.
  void send_to(std::span<const uint8_t> data, const sockaddr_storage& peer);
  void close();

  static constexpr size_t kBatch = 32;

 private:
  void on_readable();
  void flush(size_t count);

  uv_loop_t* loop_;
  Handler& handler_;
  int fd_ = -1;
  int port_ = 0;
  UvHandle<uv_poll_t> poll_;

  // Receive slots: queries are small; anything larger than a slot arrives
  // truncated (MSG_TRUNC) and is dropped as malformed.
  static constexpr size_t kSlot = 4096;
  static constexpr size_t kArena = 256 * 1024;
  std::vector<uint8_t> rx_;
  std::array<mmsghdr, kBatch> rx_msgs_{};
  std::array<iovec, kBatch> rx_iov_{};
  std::array<sockaddr_storage, kBatch> rx_addr_{};
  // Send side: answers are copied into one arena and sent with one sendmmsg.
  std::vector<uint8_t> tx_;
  std::array<mmsghdr, kBatch> tx_msgs_{};
  std::array<iovec, kBatch> tx_iov_{};
  std::array<sockaddr_storage, kBatch> tx_addr_{};
  std::vector<uint8_t> scratch_;  // one answer, before it is copied into the arena
};

}  // namespace cairn::dns
