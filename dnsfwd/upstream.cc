#include "dnsfwd/upstream.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.h"

namespace cairn::dnsfwd {

namespace {

constexpr int kRecvBatch = 32;
// We advertise at most 4096 bytes of EDNS buffer; a larger datagram is cut
// (MSG_TRUNC) and the query retried over TCP.
constexpr size_t kRecvSlot = 4096;
constexpr uint32_t kMaxTcpPerUpstream = 32;
constexpr uint64_t kTcpIdleMs = 10000;

// One receive area for every upstream socket: the loop handles one socket at
// a time and every datagram is consumed before the next read.
struct RecvArea {
  bool ready = false;
  mmsghdr msgs[kRecvBatch];
  iovec iov[kRecvBatch];
  uint8_t data[kRecvBatch][kRecvSlot];
};
thread_local RecvArea g_recv;

uint32_t g_next_serial = 1;

constexpr int kSendBatch = 64;
constexpr size_t kSendSlot = 512;  // our queries: header, name, question, OPT

// Reads and clears a socket's pending error (an ICMP error on a connected
// UDP socket waits there until read). 0 when there was none.
int take_socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

}  // namespace

UpstreamStats::UpstreamStats(MetricsRegistry& r, const std::string& group,
                             const std::string& address)
    : sent(r.counter("cairn.dnsfwd.upstream_queries_total", "Queries sent to the upstream",
                     {{"group", group}, {"upstream", address}})),
      answers(r.counter("cairn.dnsfwd.upstream_answers_total",
                        "Valid answers received from the upstream",
                        {{"group", group}, {"upstream", address}})),
      timeouts(r.counter("cairn.dnsfwd.upstream_timeouts_total", "Attempts that timed out",
                         {{"group", group}, {"upstream", address}})),
      errors(r.counter("cairn.dnsfwd.upstream_errors_total",
                       "Socket errors (refused, unreachable, send failures)",
                       {{"group", group}, {"upstream", address}})),
      socket_errors(r.counter("cairn.dnsfwd.upstream_socket_errors_total",
                              "Errors on UDP sockets to the upstream (ICMP unreachable, receive "
                              "and send errors); the socket is read on",
                              {{"group", group}, {"upstream", address}})),
      sockets_replaced(r.counter("cairn.dnsfwd.upstream_sockets_replaced_total",
                                 "UDP sockets replaced because they could not be polled again",
                                 {{"group", group}, {"upstream", address}})),
      malformed(r.counter("cairn.dnsfwd.upstream_malformed_total", "Answers dropped as malformed",
                          {{"group", group}, {"upstream", address}})),
      mismatched(r.counter("cairn.dnsfwd.upstream_mismatched_total",
                           "Answers dropped for a wrong ID or question (possible spoofing)",
                           {{"group", group}, {"upstream", address}})),
      tcp_fallbacks(r.counter("cairn.dnsfwd.upstream_tcp_fallbacks_total",
                              "Truncated answers retried over TCP",
                              {{"group", group}, {"upstream", address}})),
      rate_limited(r.counter("cairn.dnsfwd.upstream_rate_limited_total",
                             "Attempts not sent because of max_qps",
                             {{"group", group}, {"upstream", address}})),
      rtt(r.summary("cairn.dnsfwd.upstream_rtt_seconds", "Round-trip time of answered queries",
                    {{"group", group}, {"upstream", address}})),
      healthy(r.gauge("cairn.dnsfwd.upstream_healthy", "1 when the upstream is considered up",
                      {{"group", group}, {"upstream", address}})),
      srtt(r.gauge("cairn.dnsfwd.upstream_srtt_seconds", "Smoothed round-trip time",
                   {{"group", group}, {"upstream", address}})) {}

struct Upstream::UdpSocket {
  Upstream* owner = nullptr;
  uint32_t serial = 0;
  int fd = -1;
  UvHandle<uv_poll_t> poll;
  uint32_t uses = 0;
  uint64_t retired_ms = 0;
  // EPOLLERR reports in a row without an error to read (see on_udp_poll_error).
  uint8_t unexplained_errors = 0;

  ~UdpSocket() {
    if (poll.initialized()) uv_poll_stop(poll.get());
    poll.reset();  // uv_close invalidates the fd in the loop before we close it
    if (fd >= 0) ::close(fd);
  }
};

struct Upstream::SendBatch {
  UdpSocket* socket = nullptr;
  int count = 0;
  mmsghdr msgs[kSendBatch];
  iovec iov[kSendBatch];
  uint8_t data[kSendBatch][kSendSlot];
};

// A TCP connection to the upstream. Heap-allocated and deleted from the
// close callback, because pending connect/write requests live inside it and
// libuv calls them back (with ECANCELED) before the handle is closed.
struct Upstream::TcpConn {
  Upstream* owner;
  uv_tcp_t tcp{};
  uv_timer_t idle{};
  uv_connect_t connect_req{};
  uv_write_t write_req{};
  std::vector<uint8_t> out;
  std::vector<uint8_t> in;
  size_t in_len = 0;
  uint64_t cookie = 0;
  bool busy = false;
  bool connected = false;
  bool closing = false;
  int open_handles = 0;

  explicit TcpConn(Upstream* o) : owner(o) {}

  void close() {
    if (closing) return;
    closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), on_close);
    uv_close(reinterpret_cast<uv_handle_t*>(&idle), on_close);
  }
  static void on_close(uv_handle_t* h) {
    auto* c = static_cast<TcpConn*>(h->data);
    if (--c->open_handles == 0) delete c;
  }
  void fail(int err) {
    if (busy && owner) {
      busy = false;
      uint64_t ck = cookie;
      Upstream* o = owner;
      close();
      o->tcp_closed(this);
      o->handler_->on_tcp_error(*o, ck, err);
      return;
    }
    if (owner) owner->tcp_closed(this);
    close();
  }
  void write_query() {
    uv_buf_t b =
        uv_buf_init(reinterpret_cast<char*>(out.data()), static_cast<unsigned>(out.size()));
    write_req.data = this;
    int rc = uv_write(&write_req, reinterpret_cast<uv_stream_t*>(&tcp), &b, 1,
                      [](uv_write_t* req, int status) {
                        auto* c = static_cast<TcpConn*>(req->data);
                        if (c->closing) return;
                        if (status < 0) c->fail(status);
                      });
    if (rc < 0) fail(rc);
  }
  void start_reading() {
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&tcp),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* c = static_cast<TcpConn*>(h->data);
          if (c->in.size() - c->in_len < 4096)
            c->in.resize(std::min<size_t>(c->in_len + 16384, 65537 + 4096));
          *buf = uv_buf_init(reinterpret_cast<char*>(c->in.data() + c->in_len),
                             static_cast<unsigned>(c->in.size() - c->in_len));
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t*) {
          auto* c = static_cast<TcpConn*>(s->data);
          if (c->closing) return;
          if (n < 0) {
            c->fail(static_cast<int>(n));
            return;
          }
          c->in_len += static_cast<size_t>(n);
          if (c->in_len < 2) return;
          size_t frame = (size_t{c->in[0]} << 8) | c->in[1];
          if (c->in_len < 2 + frame) return;
          if (!c->busy) {  // an answer nobody waits for: the stream is out of step
            c->fail(UV_EPROTO);
            return;
          }
          c->busy = false;
          uint64_t ck = c->cookie;
          c->in_len = 0;
          uv_timer_start(
              &c->idle, [](uv_timer_t* t) { static_cast<TcpConn*>(t->data)->fail(0); }, kTcpIdleMs,
              0);
          c->owner->handler_->on_tcp_answer(*c->owner, ck, c->in.data() + 2, frame);
        });
  }
};

Upstream::Upstream(uv_loop_t* loop, const Endpoint& endpoint, const Group& rules,
                   const std::string& group_name, UpstreamHandler* handler,
                   MetricsRegistry& metrics)
    : loop_(loop),
      endpoint_(endpoint),
      address_(endpoint.to_string()),
      group_name_(group_name),
      handler_(handler),
      health_(rules.health, rules.timeouts),
      bucket_(rules.max_qps),
      stats_(metrics, group_name, address_) {
  reconfigure(rules);
  stats_.healthy.set(1);
  uv_check_init(loop_, flush_after_poll_.get());
  flush_after_poll_.mark_initialized();
  flush_after_poll_.get()->data = this;
  uv_check_start(flush_after_poll_.get(), [](uv_check_t* h) {
    if (h->data) static_cast<Upstream*>(h->data)->flush();
  });
  uv_unref(flush_after_poll_.base());
  uv_prepare_init(loop_, flush_before_poll_.get());
  flush_before_poll_.mark_initialized();
  flush_before_poll_.get()->data = this;
  uv_prepare_start(flush_before_poll_.get(), [](uv_prepare_t* h) {
    if (h->data) static_cast<Upstream*>(h->data)->flush();
  });
  uv_unref(flush_before_poll_.base());
}

Upstream::~Upstream() {
  shutdown();
  flush_after_poll_.reset();
  flush_before_poll_.reset();
}

void Upstream::reconfigure(const Group& rules) {
  health_.reconfigure(rules.health, rules.timeouts);
  bucket_.reset(rules.max_qps);
  bool loop = endpoint_.loopback();
  socket_count_ = rules.udp_sockets ? rules.udp_sockets : (loop ? 4 : 16);
  rotate_after_ = rules.rotate_after ? rules.rotate_after : (loop ? 0 : 100);
  grace_ms_ = rules.timeouts.total_ms + 1000;
}

std::unique_ptr<Upstream::UdpSocket> Upstream::open_udp(int& err) {
  int fd = ::socket(endpoint_.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return nullptr;
  }
  // Answers to a burst of queries arrive together; give them room.
  int rcvbuf = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (::connect(fd, endpoint_.sa(), endpoint_.len()) != 0) {
    err = errno;
    ::close(fd);
    return nullptr;
  }
  auto s = std::make_unique<UdpSocket>();
  s->owner = this;
  s->fd = fd;
  s->serial = g_next_serial++;
  if (g_next_serial == 0) g_next_serial = 1;
  int rc = uv_poll_init_socket(loop_, s->poll.get(), fd);
  if (rc < 0) {
    err = -rc;
    return nullptr;  // the destructor closes fd
  }
  s->poll.mark_initialized();
  s->poll.get()->data = s.get();
  if (!start_polling(*s)) {
    err = EIO;
    return nullptr;
  }
  return s;
}

bool Upstream::start_polling(UdpSocket& s) {
  return uv_poll_start(s.poll.get(), UV_READABLE, on_udp_poll) == 0;
}

void Upstream::on_udp_poll(uv_poll_t* poll, int status, int) {
  auto* sock = static_cast<UdpSocket*>(poll->data);
  if (!sock) return;
  if (status < 0) {
    sock->owner->on_udp_poll_error(*sock);
    return;
  }
  sock->unexplained_errors = 0;
  sock->owner->on_udp_readable(*sock);
}

// libuv stops a uv_poll_t for good when epoll reports EPOLLERR and calls back
// with UV_EBADF, whatever the socket's real error. On a connected UDP socket
// that is an ICMP error (port unreachable: the agent is restarting), pending
// until read. So: clear it, poll again, read what was queued before it, then
// fail the queries that were waiting on the socket. A socket that cannot be
// polled again is replaced.
void Upstream::on_udp_poll_error(UdpSocket& s) {
  uint32_t serial = s.serial;
  int err = take_socket_error(s.fd);
  // No error to read happens once when a send on this socket took the error
  // first (and reported it); twice in a row means a condition that reading
  // SO_ERROR does not clear, and polling again would only spin.
  s.unexplained_errors = err ? 0 : static_cast<uint8_t>(s.unexplained_errors + 1);
  if (s.unexplained_errors >= 2 || !start_polling(s)) {
    replace_socket(s);  // s is retired: still alive, no longer used
    report_udp_error(serial, err ? err : EIO, SocketFate::replaced);
    return;
  }
  on_udp_readable(s);
  if (err) report_udp_error(serial, err, SocketFate::kept);
}

void Upstream::replace_socket(const UdpSocket& s) {
  auto slot = std::find_if(sockets_.begin(), sockets_.end(),
                           [&s](const std::unique_ptr<UdpSocket>& p) { return p.get() == &s; });
  if (slot == sockets_.end()) return;  // retired already: closed after its grace time
  stats_.sockets_replaced.inc();
  if (uv_is_active(s.poll.base())) uv_poll_stop(s.poll.get());
  (*slot)->retired_ms = uv_now(loop_);
  retired_.push_back(std::move(*slot));
  int err = 0;
  auto fresh = open_udp(err);
  if (fresh) {
    *slot = std::move(fresh);
  } else {
    sockets_.erase(slot);  // next_socket() opens one when the pool is short
    next_socket_ = 0;
  }
}

// Every UDP socket error ends here: counted once, logged at most once a
// second per upstream, then the forwarder fails the waiting queries over.
void Upstream::report_udp_error(uint32_t serial, int err, SocketFate fate) {
  stats_.errors.inc();
  stats_.socket_errors.inc();
  if (socket_error_log_.allow(uv_now(loop_))) {
    std::string suppressed = std::to_string(socket_error_log_.suppressed());
    log::warn("dnsfwd", "upstream socket error",
              {{"upstream", address_},
               {"group", group_name_},
               {"error", std::strerror(err)},
               {"socket", fate == SocketFate::kept ? "kept" : "replaced"},
               {"suppressed", suppressed}});
  }
  handler_->on_udp_error(*this, serial, err);
}

Upstream::UdpSocket* Upstream::next_socket(int& err) {
  if (sockets_.size() < socket_count_) {
    auto s = open_udp(err);
    if (!s) return nullptr;
    sockets_.push_back(std::move(s));
    next_socket_ = sockets_.size() - 1;
  } else {
    next_socket_ = (next_socket_ + 1) % sockets_.size();
  }
  auto& slot = sockets_[next_socket_];
  if (rotate_after_ && slot->uses >= rotate_after_) {
    auto fresh = open_udp(err);
    if (fresh) {
      slot->retired_ms = uv_now(loop_);
      retired_.push_back(std::move(slot));
      slot = std::move(fresh);
    }
  }
  return slot.get();
}

uint32_t Upstream::send_udp(const uint8_t* query, size_t len, int& err) {
  if (len > kSendSlot) {
    err = EMSGSIZE;
    return 0;
  }
  if (!batch_) batch_.reset(new SendBatch);  // default-initialized: no 32 KiB memset
  if (batch_->count == kSendBatch) flush();
  if (batch_->count == 0) {
    // One socket per batch: one sendmmsg. Rotation picks the next per batch.
    batch_->socket = next_socket(err);
    if (!batch_->socket) return 0;
  }
  UdpSocket* s = batch_->socket;
  int i = batch_->count++;
  std::memcpy(batch_->data[i], query, len);
  batch_->iov[i] = {batch_->data[i], len};
  batch_->msgs[i].msg_hdr = msghdr{};
  batch_->msgs[i].msg_hdr.msg_iov = &batch_->iov[i];
  batch_->msgs[i].msg_hdr.msg_iovlen = 1;
  ++s->uses;
  stats_.sent.inc();
  return s->serial;
}

void Upstream::flush() {
  if (!batch_ || batch_->count == 0) return;
  UdpSocket* s = batch_->socket;
  int count = batch_->count;
  int sent = 0;
  while (sent < count) {
    int n =
        ::sendmmsg(s->fd, batch_->msgs + sent, static_cast<unsigned>(count - sent), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      uint32_t serial = s->serial;
      batch_->count = 0;  // the handler may queue retries right away
      report_udp_error(serial, err, SocketFate::kept);
      return;
    }
    sent += n;
  }
  batch_->count = 0;
}

void Upstream::on_udp_readable(UdpSocket& s) {
  uint32_t serial = s.serial;
  // A few batches at most, so one busy upstream cannot starve the loop.
  if (!g_recv.ready) {  // connected sockets: no addresses, so set up once
    for (int i = 0; i < kRecvBatch; ++i) {
      g_recv.iov[i] = {g_recv.data[i], kRecvSlot};
      g_recv.msgs[i].msg_hdr = msghdr{};
      g_recv.msgs[i].msg_hdr.msg_iov = &g_recv.iov[i];
      g_recv.msgs[i].msg_hdr.msg_iovlen = 1;
    }
    g_recv.ready = true;
  }
  for (int round = 0; round < 8; ++round) {
    int n = ::recvmmsg(s.fd, g_recv.msgs, kRecvBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return;
      // Reading cleared the error (it is reported once); datagrams may still be queued.
      report_udp_error(serial, err, SocketFate::kept);
      continue;
    }
    for (int i = 0; i < n; ++i) {
      bool cut = g_recv.msgs[i].msg_hdr.msg_flags & MSG_TRUNC;
      handler_->on_udp_answer(*this, serial, g_recv.data[i], g_recv.msgs[i].msg_len, cut);
    }
    if (n < kRecvBatch) return;
  }
}

bool Upstream::send_tcp(const uint8_t* query, size_t len, uint64_t cookie, int& err) {
  TcpConn* conn = nullptr;
  for (TcpConn* c : tcp_)
    if (!c->busy && !c->closing && c->connected) conn = c;
  if (!conn) {
    if (tcp_.size() >= kMaxTcpPerUpstream) {
      err = EAGAIN;
      return false;
    }
    conn = new TcpConn(this);
    uv_tcp_init(loop_, &conn->tcp);
    uv_timer_init(loop_, &conn->idle);
    conn->open_handles = 2;
    conn->tcp.data = conn;
    conn->idle.data = conn;
    conn->connect_req.data = conn;
    tcp_.push_back(conn);
    int rc = uv_tcp_connect(&conn->connect_req, &conn->tcp, endpoint_.sa(),
                            [](uv_connect_t* req, int status) {
                              auto* c = static_cast<TcpConn*>(req->data);
                              if (c->closing) return;
                              if (status < 0) {
                                c->fail(status);
                                return;
                              }
                              c->connected = true;
                              uv_tcp_nodelay(&c->tcp, 1);
                              c->start_reading();
                              if (c->busy) c->write_query();
                            });
    if (rc < 0) {
      tcp_closed(conn);
      conn->close();
      err = -rc;
      return false;
    }
  }
  conn->out.resize(len + 2);
  conn->out[0] = static_cast<uint8_t>(len >> 8);
  conn->out[1] = static_cast<uint8_t>(len);
  std::memcpy(conn->out.data() + 2, query, len);
  conn->cookie = cookie;
  conn->busy = true;
  conn->in_len = 0;
  uv_timer_stop(&conn->idle);
  stats_.sent.inc();
  if (conn->connected) conn->write_query();
  return true;
}

void Upstream::cancel_tcp(uint64_t cookie) {
  for (TcpConn* c : tcp_) {
    if (c->busy && c->cookie == cookie) {
      c->busy = false;
      tcp_closed(c);
      c->close();
      return;
    }
  }
}

void Upstream::tcp_closed(TcpConn* c) {
  for (size_t i = 0; i < tcp_.size(); ++i) {
    if (tcp_[i] == c) {
      tcp_[i] = tcp_.back();
      tcp_.pop_back();
      break;
    }
  }
  c->owner = nullptr;
}

void Upstream::maintain(uint64_t now_ms) {
  while (!retired_.empty() && retired_.front()->retired_ms + grace_ms_ <= now_ms)
    retired_.pop_front();
  // A safety net: errors re-arm their socket above, but a socket that is no
  // longer polled for any reason would leave its answers unread for good.
  for (size_t i = 0; i < sockets_.size(); ++i) {
    UdpSocket& s = *sockets_[i];
    if (uv_is_active(s.poll.base())) continue;
    uint32_t serial = s.serial;
    replace_socket(s);  // retired: alive until after the loop
    report_udp_error(serial, EIO, SocketFate::replaced);
    break;  // the handler may have changed the pool; the rest at the next tick
  }
  stats_.healthy.set(health_.up() ? 1 : 0);
  stats_.srtt.set(health_.srtt_us() / 1e6);
}

void Upstream::shutdown() {
  if (batch_) batch_->count = 0;
  sockets_.clear();
  retired_.clear();
  auto conns = tcp_;
  tcp_.clear();
  for (TcpConn* c : conns) {
    c->owner = nullptr;
    c->busy = false;
    c->close();
  }
}

}  // namespace cairn::dnsfwd
