#include "agent/dns/udp_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/dns/wire.h"
#include "common/net/address.h"

namespace cairn::dns {

namespace {

// Bursts beyond what one batch holds wait in the kernel; a bigger buffer
// rides out short spikes without drops (the kernel caps it at rmem_max).
constexpr int kReceiveBuffer = 4 * 1024 * 1024;
// Batches per wake-up before yielding to the loop's other handles (HTTP, timers).
constexpr int kBatchesPerWake = 16;

socklen_t addr_len(const sockaddr_storage& a) {
  return a.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

}  // namespace

UdpListener::UdpListener(uv_loop_t* loop, Handler& handler)
    : loop_(loop), handler_(handler), rx_(kBatch * kSlot), tx_(kArena), scratch_(kMaxMessage) {
  for (size_t i = 0; i < kBatch; ++i) {
    rx_iov_[i] = {rx_.data() + i * kSlot, kSlot};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
    rx_msgs_[i].msg_hdr.msg_name = &rx_addr_[i];
    tx_msgs_[i].msg_hdr.msg_iov = &tx_iov_[i];
    tx_msgs_[i].msg_hdr.msg_iovlen = 1;
    tx_msgs_[i].msg_hdr.msg_name = &tx_addr_[i];
  }
}

UdpListener::~UdpListener() {
  close();
}

std::string UdpListener::listen(const std::string& host, int port, bool reuse_port) {
  auto at = net::endpoint_of(host, static_cast<uint16_t>(port));
  if (!at) return "invalid address \"" + host + "\"";
  fd_ = ::socket(at->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return std::string("socket: ") + std::strerror(errno);
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (at->family() == AF_INET6) setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  int rcv = kReceiveBuffer;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (::bind(fd_, at->sa(), at->len()) != 0) {
    std::string err = "bind " + host + ":" + std::to_string(port) + "/udp: " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return err;
  }
  sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (uv_poll_init_socket(loop_, poll_.get(), fd_) != 0) return "uv_poll_init_socket failed";
  poll_.mark_initialized();
  poll_.get()->data = this;
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* h, int status, int) {
    auto* self = static_cast<UdpListener*>(h->data);
    if (self && status == 0) self->on_readable();
  });
  return "";
}

void UdpListener::close() {
  poll_.reset();
  if (fd_ >= 0) {
    // libuv stops watching the fd when the poll handle closes; the fd is ours.
    ::close(fd_);
    fd_ = -1;
  }
}

void UdpListener::on_readable() {
  for (int round = 0; round < kBatchesPerWake && fd_ >= 0; ++round) {
    for (size_t i = 0; i < kBatch; ++i) {
      rx_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      rx_msgs_[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(fd_, rx_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;  // EAGAIN (drained) or a transient error: wait for the next wake-up
    handler_.on_batch();
    size_t out = 0, used = 0;
    for (int i = 0; i < n; ++i) {
      const mmsghdr& m = rx_msgs_[i];
      std::span<const uint8_t> packet(rx_.data() + static_cast<size_t>(i) * kSlot, m.msg_len);
      if (m.msg_hdr.msg_flags & MSG_TRUNC) packet = packet.first(0);  // oversized: not a query
      size_t size = handler_.on_datagram(*this, packet, rx_addr_[i], scratch_);
      if (size == 0) continue;
      if (used + size > tx_.size()) {
        flush(out);
        out = used = 0;
      }
      std::memcpy(tx_.data() + used, scratch_.data(), size);
      tx_iov_[out] = {tx_.data() + used, size};
      tx_addr_[out] = rx_addr_[i];
      tx_msgs_[out].msg_hdr.msg_namelen = addr_len(rx_addr_[i]);
      used += size;
      ++out;
    }
    flush(out);
    if (static_cast<size_t>(n) < kBatch) return;  // drained
  }
}

void UdpListener::flush(size_t count) {
  size_t sent = 0;
  while (sent < count) {
    int r =
        sendmmsg(fd_, tx_msgs_.data() + sent, static_cast<unsigned>(count - sent), MSG_DONTWAIT);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      // EAGAIN (socket buffer full) or a per-destination error on the first
      // message: skip that one datagram, as a lost UDP packet, and go on.
      ++sent;
      continue;
    }
    sent += static_cast<size_t>(r);
  }
}

void UdpListener::send_to(std::span<const uint8_t> data, const sockaddr_storage& peer) {
  if (fd_ < 0) return;
  ::sendto(fd_, data.data(), data.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&peer),
           addr_len(peer));
}

}  // namespace cairn::dns
