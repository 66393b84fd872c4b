#include "common/net/udp_listener.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn::net {

namespace {
// Bursts from many clients (A and AAAA in parallel, search lists) queue here;
// the kernel caps it at rmem_max/wmem_max.
constexpr int kSocketBuffer = 4 << 20;
// Read rounds per wake-up before the loop's other handles get their turn.
constexpr int kRoundsPerWake = 16;
// A batch with fewer datagrams than this means the socket is drained.
constexpr int kDenseBatch = 8;
}  // namespace

// Receive: one slot per datagram. Send: one arena that answers are written
// into back to back, with room for a largest answer always left (reply_slot
// flushes first otherwise).
struct UdpListener::Batch {
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_storage addr[kBatch];
  uint8_t data[kBatch * kSlot + kMaxReply];
};

UdpListener::UdpListener(uv_loop_t* loop, Handler& handler, Options options)
    : loop_(loop),
      handler_(handler),
      options_(options),
      // Default-initialized: the pages become resident only as used.
      in_(new Batch),
      out_(new Batch) {}

UdpListener::~UdpListener() {
  close();
}

std::string UdpListener::bind(const Endpoint& at) {
  endpoint_ = at;
  fd_ = ::socket(at.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return "udp socket: " + std::string(std::strerror(errno));
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (options_.reuse_port) setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (at.family() == AF_INET6) setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  int buf = kSocketBuffer;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (::bind(fd_, at.sa(), at.len()) != 0) {
    std::string err = "bind " + at.to_string() + "/udp: " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return err;
  }
  if (at.port() == 0) {  // tests bind port 0; learn the real one
    socklen_t len = sizeof endpoint_.addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&endpoint_.addr), &len);
  }
  for (int i = 0; i < kBatch; ++i) {
    in_->iov[i] = {in_->data + static_cast<size_t>(i) * kSlot, kSlot};
    in_->msgs[i].msg_hdr = msghdr{};
    in_->msgs[i].msg_hdr.msg_iov = &in_->iov[i];
    in_->msgs[i].msg_hdr.msg_iovlen = 1;
    in_->msgs[i].msg_hdr.msg_name = &in_->addr[i];
    in_->msgs[i].msg_hdr.msg_namelen = sizeof in_->addr[i];
    out_->msgs[i].msg_hdr = msghdr{};
    out_->msgs[i].msg_hdr.msg_iov = &out_->iov[i];
    out_->msgs[i].msg_hdr.msg_iovlen = 1;
    out_->msgs[i].msg_hdr.msg_name = &out_->addr[i];
  }
  if (uv_poll_init_socket(loop_, poll_.get(), fd_) != 0) return "uv_poll_init_socket failed";
  poll_.mark_initialized();
  poll_.get()->data = this;
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* p, int status, int) {
    auto* self = static_cast<UdpListener*>(p->data);
    if (self && status >= 0) self->on_readable();
  });
  uv_check_init(loop_, flush_after_poll_.get());
  flush_after_poll_.mark_initialized();
  flush_after_poll_.get()->data = this;
  uv_check_start(flush_after_poll_.get(), [](uv_check_t* c) {
    auto* self = static_cast<UdpListener*>(c->data);
    if (self && self->queued_) self->flush();
  });
  uv_prepare_init(loop_, flush_before_poll_.get());
  flush_before_poll_.mark_initialized();
  flush_before_poll_.get()->data = this;
  uv_prepare_start(flush_before_poll_.get(), [](uv_prepare_t* p) {
    auto* self = static_cast<UdpListener*>(p->data);
    if (self && self->queued_) self->flush();
  });
  // The flushers alone must not keep the loop running.
  uv_unref(flush_after_poll_.base());
  uv_unref(flush_before_poll_.base());
  return {};
}

void UdpListener::stop_reading() {
  if (poll_.initialized()) {
    uv_poll_stop(poll_.get());
    poll_.reset();
  }
}

void UdpListener::close() {
  flush();
  stop_reading();
  flush_after_poll_.reset();
  flush_before_poll_.reset();
  if (fd_ >= 0) {
    // libuv stops watching the fd when the poll handle closes; the fd is ours.
    ::close(fd_);
    fd_ = -1;
  }
}

void UdpListener::on_readable() {
  for (int round = 0; round < kRoundsPerWake && fd_ >= 0; ++round) {
    // The kernel only rewrites msg_namelen, msg_flags and msg_len of the
    // entries it filled; the rest was set up once in bind().
    int n = ::recvmmsg(fd_, in_->msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;  // EAGAIN (drained) or a transient error: wait for the next wake-up
    handler_.on_batch();
    for (int i = 0; i < n; ++i) {
      const msghdr& h = in_->msgs[i].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) {  // no real query is this large
        if (options_.oversized) options_.oversized->inc();
        continue;
      }
      std::span<const uint8_t> packet(in_->data + static_cast<size_t>(i) * kSlot,
                                      in_->msgs[i].msg_len);
      handler_.on_datagram(*this, packet, in_->addr[i], h.msg_namelen);
    }
    for (int i = 0; i < n; ++i) in_->msgs[i].msg_hdr.msg_namelen = sizeof in_->addr[i];
    if (queued_) flush();
    // A dense batch means more queries probably arrived while we answered:
    // read again at once instead of going back through epoll.
    if (n < kDenseBatch) break;
  }
}

uint8_t* UdpListener::reply_slot(size_t& cap) {
  if (queued_ == kBatch || sizeof out_->data - used_ < kMaxReply) flush();
  cap = kMaxReply;  // the largest datagram an answer may be
  return out_->data + used_;
}

void UdpListener::commit(const sockaddr_storage& peer, socklen_t peer_len, size_t len) {
  if (len == 0 || used_ + len > sizeof out_->data) return;
  std::memcpy(&out_->addr[queued_], &peer, peer_len);
  out_->msgs[queued_].msg_hdr.msg_namelen = peer_len;
  out_->iov[queued_] = {out_->data + used_, len};
  used_ += len;
  ++queued_;
  if (queued_ == kBatch) flush();
}

void UdpListener::flush() {
  int sent = 0;
  while (sent < queued_ && fd_ >= 0) {
    int n = ::sendmmsg(fd_, out_->msgs + sent, static_cast<unsigned>(queued_ - sent), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      // EAGAIN (buffer full) or an error tied to the first message (e.g. an
      // unreachable peer): drop that one answer, as a lost datagram, and go on.
      if (options_.send_drops) options_.send_drops->inc();
      ++sent;
      continue;
    }
    sent += n;
  }
  queued_ = 0;
  used_ = 0;
}

}  // namespace cairn::net
