#include "agent/gossip/uv_transport.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "agent/gossip/stream_parser.h"

namespace cairn::gossip {

namespace {

sockaddr_in to_sockaddr(const Address& a) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(a.port);
  sa.sin_addr.s_addr = htonl(a.ip);
  return sa;
}

Address from_sockaddr(const sockaddr* sa) {
  if (sa == nullptr || sa->sa_family != AF_INET) return {};
  const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
  return Address{ntohl(in->sin_addr.s_addr), ntohs(in->sin_port)};
}

}  // namespace

// One TCP connection, either direction. Owned by the transport until its
// handle is closed; freed from the close callback.
struct UvTransport::Conn {
  UvTransport* owner;
  uv_tcp_t tcp{};
  uv_connect_t connect_req{};
  Timer deadline;
  std::vector<uint8_t> in;  // the message so far (vector: reserve() gives exactly what it asks)
  std::string out;
  StreamParser parser;
  Address peer;
  bool inbound;
  bool admitted = false;  // counted in the transport's inbound totals
  size_t charged = 0;     // of in's capacity, counted in buffered_bytes (inbound only)
  bool want_reply = false;
  bool closing = false;
  StreamDone done;

  Conn(UvTransport* o, bool in_bound)
      : owner(o),
        deadline(o->loop_),
        parser(o->limits_.max_message_bytes,
               o->handler_ != nullptr && o->handler_->streams_must_be_encrypted()),
        inbound(in_bound) {
    uv_tcp_init(o->loop_, &tcp);
    tcp.data = this;
    connect_req.data = this;
  }

  void finish(bool ok, Bytes reply) {
    if (done) {
      auto d = std::move(done);
      done = nullptr;
      d(ok, reply);
    }
  }

  void close() {
    if (closing) return;
    closing = true;
    deadline.stop();
    if (owner) owner->forget(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
  }

  void fail() {
    finish(false, {});
    close();
  }

  void timed_out() {
    if (owner && inbound) ++owner->stream_stats_.timed_out;
    fail();
  }

  void start_reading() {
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&tcp),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* c = static_cast<Conn*>(h->data);
          std::string& scratch = c->owner->stream_buf_;
          *buf = uv_buf_init(scratch.data(), unsigned(scratch.size()));
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* c = static_cast<Conn*>(s->data);
          if (n < 0) {
            c->fail();  // EOF or error before a whole message
            return;
          }
          if (n > 0) c->on_data(std::string_view(buf->base, size_t(n)));
        });
  }

  // Appends what one read brought and lets the parser look at the new bytes.
  void on_data(std::string_view got) {
    if (closing || owner == nullptr) return;
    StreamStats& st = owner->stream_stats_;
    grow_for(got.size());
    in.insert(in.end(), got.begin(), got.end());
    // The budget counts what the buffers hold in memory (their capacity,
    // which grows geometrically), not just the bytes received.
    if (inbound && in.capacity() > charged) {
      const size_t grown = in.capacity() - charged;
      if (st.buffered_bytes + grown > owner->limits_.max_buffered_bytes) {
        ++st.over_budget;
        fail();
        return;
      }
      st.buffered_bytes += grown;
      charged = in.capacity();
    }
    const Bytes received(in.data(), in.size());
    switch (parser.feed(received)) {
      case StreamParser::Status::need_more:
        return;
      case StreamParser::Status::too_large:
        if (inbound) ++st.oversized;
        fail();
        return;
      case StreamParser::Status::malformed:
        if (inbound) ++st.malformed;
        fail();
        return;
      case StreamParser::Status::complete:
      case StreamParser::Status::unencrypted:
        break;
    }
    const size_t size = parser.size();
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    if (!inbound) {
      finish(true, received.subspan(0, size));
      close();
      return;
    }
    std::string reply;
    if (owner->handler_) reply = owner->handler_->on_stream(peer, received.subspan(0, size));
    release_buffer();
    if (reply.empty()) {
      close();
      return;
    }
    write(std::move(reply));
  }

  // Makes room for n more bytes: doubling, as containers do, but never past
  // the size the parser already knows the message will have, so a message
  // of known length (encrypted frame, user message, push/pull user state)
  // ends in a buffer of its own size.
  void grow_for(size_t n) {
    const size_t need = in.size() + n;
    if (need <= in.capacity()) return;
    size_t target = std::max<size_t>(2 * in.capacity(), 4096);
    if (const uint64_t known = parser.min_size(); known >= need && known < target)
      target = size_t(known);
    in.reserve(std::max(need, target));
  }

  // The message was handled: its buffer no longer counts against the budget.
  void release_buffer() {
    if (owner) owner->stream_stats_.buffered_bytes -= charged;
    charged = 0;
    std::vector<uint8_t>().swap(in);
  }

  void write(std::string data) {
    out = std::move(data);
    auto* req = new uv_write_t;
    req->data = this;
    uv_buf_t b = uv_buf_init(out.data(), unsigned(out.size()));
    const int rc =
        uv_write(req, reinterpret_cast<uv_stream_t*>(&tcp), &b, 1, [](uv_write_t* r, int status) {
          auto* c = static_cast<Conn*>(r->data);
          delete r;
          if (c->closing) return;
          if (status < 0) {
            c->fail();
          } else if (c->inbound || !c->want_reply) {
            c->finish(true, {});
            c->close();
          } else {
            c->start_reading();
          }
        });
    if (rc != 0) {
      delete req;
      fail();
    }
  }
};

UvTransport::~UvTransport() {
  // Pending callbacks of open connections must not reach us any more.
  for (Conn* c : std::unordered_set<Conn*>(conns_)) {
    c->done = nullptr;
    c->owner = nullptr;
    c->close();
  }
}

int UvTransport::bind(const Address& addr) {
  sockaddr_in sa = to_sockaddr(addr);
  int rc = uv_tcp_init(loop_, listener_.get());
  if (rc != 0) return rc;
  listener_.mark_initialized();
  listener_.get()->data = this;
  rc = uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&sa), 0);
  if (rc != 0) return rc;
  rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), 128,
                 [](uv_stream_t* s, int status) {
                   if (status == 0 && s->data) static_cast<UvTransport*>(s->data)->on_accept();
                 });
  if (rc != 0) return rc;
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  bound_ = from_sockaddr(reinterpret_cast<sockaddr*>(&bound));

  rc = uv_udp_init(loop_, udp_.get());
  if (rc != 0) return rc;
  udp_.mark_initialized();
  udp_.get()->data = this;
  sa.sin_port = htons(bound_.port);
  rc = uv_udp_bind(udp_.get(), reinterpret_cast<const sockaddr*>(&sa), 0);
  if (rc != 0) return rc;
  // memberlist raises the receive buffer to 2 MiB when the OS allows.
  int size = 2 * 1024 * 1024;
  uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(udp_.get()), &size);
  return uv_udp_recv_start(
      udp_.get(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* t = static_cast<UvTransport*>(h->data);
        *buf = uv_buf_init(t->recv_buf_.data(), unsigned(t->recv_buf_.size()));
      },
      [](uv_udp_t* u, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
        if (u->data) static_cast<UvTransport*>(u->data)->on_udp(n, buf, from);
      });
}

void UvTransport::on_udp(ssize_t n, const uv_buf_t* buf, const sockaddr* from) {
  if (n <= 0 || from == nullptr || handler_ == nullptr) return;
  handler_->on_packet(from_sockaddr(from), Bytes(reinterpret_cast<uint8_t*>(buf->base), size_t(n)),
                      Time(int64_t(uv_hrtime())));
}

void UvTransport::send_packet(const Address& to, Bytes data) {
  if (!udp_.initialized()) return;
  sockaddr_in sa = to_sockaddr(to);
  uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data.data())),
                           unsigned(data.size()));
  const int rc = uv_udp_try_send(udp_.get(), &b, 1, reinterpret_cast<const sockaddr*>(&sa));
  if (rc >= 0) return;
  if (rc != UV_EAGAIN) {
    ++send_errors_;
    return;
  }
  // The socket buffer is full: queue a copy.
  struct Req {
    uv_udp_send_t req;
    std::string data;
  };
  auto* r = new Req{{}, std::string(as_view(data))};
  b = uv_buf_init(r->data.data(), unsigned(r->data.size()));
  if (uv_udp_send(&r->req, udp_.get(), &b, 1, reinterpret_cast<const sockaddr*>(&sa),
                  [](uv_udp_send_t* q, int) { delete reinterpret_cast<Req*>(q); }) != 0) {
    delete r;
    ++send_errors_;
  }
}

void UvTransport::forget(Conn* c) {
  conns_.erase(c);
  if (!c->admitted) return;
  c->release_buffer();
  --stream_stats_.open;
  auto it = inbound_per_source_.find(c->peer.ip);
  if (it != inbound_per_source_.end() && --it->second == 0) inbound_per_source_.erase(it);
}

bool UvTransport::admit(uint32_t ip) {
  if (stream_stats_.open >= limits_.max_streams) {
    ++stream_stats_.refused_total;
    return false;
  }
  auto it = inbound_per_source_.find(ip);
  if (it != inbound_per_source_.end() && it->second >= limits_.max_streams_per_source) {
    ++stream_stats_.refused_per_source;
    return false;
  }
  return true;
}

void UvTransport::on_accept() {
  // Accepted even when it will be refused: that takes it off the backlog.
  auto* c = new Conn(this, true);
  conns_.insert(c);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_.get()),
                reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    c->close();
    return;
  }
  sockaddr_storage peer{};
  int len = sizeof peer;
  uv_tcp_getpeername(&c->tcp, reinterpret_cast<sockaddr*>(&peer), &len);
  c->peer = from_sockaddr(reinterpret_cast<sockaddr*>(&peer));
  if (!admit(c->peer.ip)) {
    c->close();
    return;
  }
  c->admitted = true;
  ++stream_stats_.accepted;
  ++stream_stats_.open;
  ++inbound_per_source_[c->peer.ip];
  const auto ms =
      uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(inbound_timeout_).count());
  c->deadline.start(ms, 0, [c] { c->timed_out(); });
  c->start_reading();
}

void UvTransport::send_stream(const Address& to, std::string data, Duration timeout,
                              bool want_reply, StreamDone done) {
  auto* c = new Conn(this, false);
  conns_.insert(c);
  c->peer = to;
  c->want_reply = want_reply;
  c->done = std::move(done);
  c->out = std::move(data);
  const auto ms =
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
  c->deadline.start(uint64_t(ms), 0, [c] { c->fail(); });
  sockaddr_in sa = to_sockaddr(to);
  const int rc = uv_tcp_connect(&c->connect_req, &c->tcp, reinterpret_cast<const sockaddr*>(&sa),
                                [](uv_connect_t* req, int status) {
                                  auto* conn = static_cast<Conn*>(req->data);
                                  if (conn->closing) return;
                                  if (status < 0) {
                                    conn->fail();
                                    return;
                                  }
                                  conn->write(std::move(conn->out));
                                });
  if (rc != 0) {
    // Report asynchronously: callers expect done after send_stream returns.
    c->deadline.start(0, 0, [c] { c->fail(); });
  }
}

}  // namespace cairn::gossip
