#include "dnsfwd/udp_listener.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn::dnsfwd {

UdpListener::UdpListener(uv_loop_t* loop, uint32_t id, QueryHandler* handler, Stats& stats)
    : loop_(loop),
      id_(id),
      handler_(handler),
      stats_(stats),
      // Default-initialized: the 512 KiB of slots become resident only as used.
      in_(new Batch),
      out_(new Batch) {}

UdpListener::~UdpListener() {
  flush();
  stop_reading();
  flush_after_poll_.reset();
  flush_before_poll_.reset();
  if (fd_ >= 0) ::close(fd_);
}

std::string UdpListener::bind(const Endpoint& at) {
  endpoint_ = at;
  fd_ = ::socket(at.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return "udp socket: " + std::string(std::strerror(errno));
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (at.family() == AF_INET6) setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  // Bursts from many clients (A and AAAA in parallel, search lists) queue here.
  int buf = 4 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (::bind(fd_, at.sa(), at.len()) != 0) {
    std::string err = "bind udp " + at.to_string() + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return err;
  }
  if (at.port() == 0) {  // tests bind port 0; learn the real one
    socklen_t len = sizeof endpoint_.addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&endpoint_.addr), &len);
  }
  for (int i = 0; i < kBatch; ++i) {
    in_->iov[i] = {in_->data[i], kSlot};
    in_->msgs[i].msg_hdr = msghdr{};
    in_->msgs[i].msg_hdr.msg_iov = &in_->iov[i];
    in_->msgs[i].msg_hdr.msg_iovlen = 1;
    in_->msgs[i].msg_hdr.msg_name = &in_->addr[i];
    in_->msgs[i].msg_hdr.msg_namelen = sizeof in_->addr[i];
    out_->iov[i].iov_base = out_->data[i];
    out_->msgs[i].msg_hdr = msghdr{};
    out_->msgs[i].msg_hdr.msg_iov = &out_->iov[i];
    out_->msgs[i].msg_hdr.msg_iovlen = 1;
    out_->msgs[i].msg_hdr.msg_name = &out_->addr[i];
  }
  uv_poll_init_socket(loop_, poll_.get(), fd_);
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

void UdpListener::on_readable() {
  // Bounded rounds: upstream answers and timers get their turn under load.
  for (int round = 0; round < 16; ++round) {
    // The kernel only rewrites msg_namelen, msg_flags and msg_len of the
    // entries it filled; the rest was set up once in bind().
    int n = ::recvmmsg(fd_, in_->msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    ClientRef client;
    client.transport = Transport::udp;
    client.listener = id_;
    for (int i = 0; i < n; ++i) {
      const msghdr& h = in_->msgs[i].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) {  // no real query is this large
        stats_.malformed_queries.inc();
        continue;
      }
      std::memcpy(&client.peer, &in_->addr[i], h.msg_namelen);
      client.peer_len = h.msg_namelen;
      handler_->on_query(in_->data[i], in_->msgs[i].msg_len, client);
    }
    for (int i = 0; i < n; ++i) in_->msgs[i].msg_hdr.msg_namelen = sizeof in_->addr[i];
    if (queued_) flush();
    // A dense batch means more queries probably arrived while we answered:
    // read again at once instead of going back through epoll. A sparse one
    // (the usual case below saturation) means the socket is drained.
    if (n < kDenseBatch) break;
  }
}

uint8_t* UdpListener::reply_slot(size_t& cap) {
  if (queued_ == kBatch) flush();
  cap = kSlot;
  return out_->data[queued_];
}

void UdpListener::commit(const ClientRef& to, size_t len) {
  std::memcpy(&out_->addr[queued_], &to.peer, to.peer_len);
  out_->msgs[queued_].msg_hdr.msg_namelen = to.peer_len;
  out_->iov[queued_].iov_len = len;
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
      // unreachable peer): drop that one answer, keep the rest of the batch.
      stats_.udp_send_drops.inc();
      ++sent;
      continue;
    }
    sent += n;
  }
  queued_ = 0;
}

}  // namespace cairn::dnsfwd
