#include "common/net/tcp_listener.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace cairn::net {

namespace {
constexpr size_t kFrameMax = 2 + 65535;
constexpr size_t kReadChunk = 8192;
}  // namespace

struct TcpListener::Conn {
  TcpListener* owner;
  uint32_t slot;
  uint32_t generation;
  uv_tcp_t tcp{};
  uv_timer_t idle{};
  int open_handles = 2;
  bool closing = false;
  bool reading = false;
  bool eof = false;
  std::vector<uint8_t> in;
  size_t in_len = 0;
  uint32_t in_flight = 0;
  uint32_t pending_writes = 0;
  sockaddr_storage peer{};
  socklen_t peer_len = 0;

  struct Write {
    uv_write_t req;
    Conn* conn;
    std::unique_ptr<uint8_t[]> data;
  };

  Conn(TcpListener* o, uint32_t s, uint32_t g) : owner(o), slot(s), generation(g) {}

  void close() {
    if (closing) return;
    closing = true;
    if (owner) owner->release(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), on_close);
    uv_close(reinterpret_cast<uv_handle_t*>(&idle), on_close);
  }
  static void on_close(uv_handle_t* h) {
    auto* c = static_cast<Conn*>(h->data);
    if (--c->open_handles == 0) delete c;
  }
  void touch() {
    if (closing || !owner) return;
    uv_timer_start(
        &idle,
        [](uv_timer_t* t) {
          auto* c = static_cast<Conn*>(t->data);
          if (c->in_flight == 0 && c->pending_writes == 0) {
            if (c->owner && c->owner->counters_.idle_closed) c->owner->counters_.idle_closed->inc();
            c->close();
          } else {
            c->touch();  // busy: answers still owed; wait for them
          }
        },
        owner->limits_.idle_timeout_ms, 0);
  }
  void maybe_finish() {
    if (eof && in_flight == 0 && pending_writes == 0) close();
  }
  void start_reading();
  void on_data(ssize_t n);
};

void TcpListener::Conn::start_reading() {
  if (reading || closing || eof) return;
  reading = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* c = static_cast<Conn*>(h->data);
        if (c->in.size() - c->in_len < 2048)
          c->in.resize(std::min<size_t>(c->in_len + kReadChunk, kFrameMax + kReadChunk));
        *buf = uv_buf_init(reinterpret_cast<char*>(c->in.data() + c->in_len),
                           static_cast<unsigned>(c->in.size() - c->in_len));
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t*) { static_cast<Conn*>(s->data)->on_data(n); });
}

void TcpListener::Conn::on_data(ssize_t n) {
  if (closing) return;
  if (n == UV_EOF) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    reading = false;
    eof = true;
    maybe_finish();
    return;
  }
  if (n < 0) {
    close();
    return;
  }
  in_len += static_cast<size_t>(n);
  touch();
  size_t pos = 0;
  while (in_len - pos >= 2 && !closing && owner) {
    size_t frame = (size_t{in[pos]} << 8) | in[pos + 1];
    if (frame == 0) {  // no DNS message is empty: the framing cannot be trusted
      close();
      return;
    }
    if (in_len - pos - 2 < frame) break;
    ++in_flight;
    TcpConnRef ref{slot, generation};
    bool handled = owner->handler_.on_message(
        *owner, std::span<const uint8_t>(in.data() + pos + 2, frame), ref, peer, peer_len);
    pos += 2 + frame;
    if (!handled) {  // malformed: RFC 7766 §6.2.1 lets us close the connection
      if (in_flight) --in_flight;
      close();
      return;
    }
  }
  if (closing) return;
  if (pos > 0) {
    std::memmove(in.data(), in.data() + pos, in_len - pos);
    in_len -= pos;
  }
  if (owner && in_flight >= owner->limits_.max_in_flight && reading) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    reading = false;
    if (owner->counters_.reads_paused) owner->counters_.reads_paused->inc();
  }
}

TcpListener::TcpListener(uv_loop_t* loop, Handler& handler, Limits limits, Counters counters)
    : loop_(loop), handler_(handler), limits_(limits), counters_(counters), frame_(kFrameMax) {}

TcpListener::~TcpListener() {
  close_all();
}

std::string TcpListener::bind(const Endpoint& at) {
  endpoint_ = at;
  uv_tcp_init_ex(loop_, server_.get(), at.family());
  server_.mark_initialized();
  server_.get()->data = this;
  unsigned flags = at.family() == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
  int rc = uv_tcp_bind(server_.get(), at.sa(), flags);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(server_.get()), 256,
                   [](uv_stream_t* s, int status) {
                     auto* self = static_cast<TcpListener*>(s->data);
                     if (self && status == 0) self->on_connection();
                   });
  if (rc != 0) {
    server_.reset();
    return "bind " + at.to_string() + "/tcp: " + uv_strerror(rc);
  }
  if (at.port() == 0) {
    int len = sizeof endpoint_.addr;
    uv_tcp_getsockname(server_.get(), reinterpret_cast<sockaddr*>(&endpoint_.addr), &len);
  }
  return {};
}

void TcpListener::on_connection() {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(nullptr);
  }
  auto* c = new Conn(this, slot, ++generations_);
  uv_tcp_init(loop_, &c->tcp);
  uv_timer_init(loop_, &c->idle);
  c->tcp.data = c;
  c->idle.data = c;
  slots_[slot] = c;
  ++open_;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(server_.get()),
                reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    c->close();
    return;
  }
  int len = sizeof c->peer;
  uv_tcp_getpeername(&c->tcp, reinterpret_cast<sockaddr*>(&c->peer), &len);
  c->peer_len = static_cast<socklen_t>(len);
  if (open_ > limits_.max_connections ||
      !handler_.allow_client(reinterpret_cast<const sockaddr*>(&c->peer))) {
    if (counters_.rejected) counters_.rejected->inc();
    c->close();
    return;
  }
  if (counters_.accepted) counters_.accepted->inc();
  uv_tcp_nodelay(&c->tcp, 1);
  c->touch();
  c->start_reading();
}

void TcpListener::release(Conn* c) {
  if (c->slot < slots_.size() && slots_[c->slot] == c) {
    slots_[c->slot] = nullptr;
    free_slots_.push_back(c->slot);
    --open_;
  }
  c->owner = nullptr;
}

TcpListener::Conn* TcpListener::find(const TcpConnRef& ref) const {
  if (ref.slot >= slots_.size()) return nullptr;
  Conn* c = slots_[ref.slot];
  if (!c || c->generation != ref.generation || c->closing) return nullptr;
  return c;
}

uint8_t* TcpListener::reply_slot(size_t& cap) {
  cap = kFrameMax - 2;
  return frame_.data() + 2;
}

void TcpListener::answered(Conn* c) {
  c->touch();
  if (!c->reading && !c->eof && c->in_flight < limits_.max_in_flight) c->start_reading();
  c->maybe_finish();
}

void TcpListener::skip(const TcpConnRef& to) {
  Conn* c = find(to);
  if (!c) return;
  if (c->in_flight) --c->in_flight;
  answered(c);
}

void TcpListener::commit(const TcpConnRef& to, size_t len) {
  Conn* c = find(to);
  if (!c) return;
  if (c->in_flight) --c->in_flight;
  if (len == 0 || len > kFrameMax - 2) {
    answered(c);
    return;
  }
  frame_[0] = static_cast<uint8_t>(len >> 8);
  frame_[1] = static_cast<uint8_t>(len);
  size_t total = len + 2;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(frame_.data()), static_cast<unsigned>(total));
  // Most answers fit the socket buffer at once: no copy, no allocation. Once
  // something is queued, later answers queue behind it to keep their order.
  int n = uv_stream_get_write_queue_size(stream) == 0 ? uv_try_write(stream, &buf, 1) : UV_EAGAIN;
  if (n < 0 && n != UV_EAGAIN) {
    c->close();
    return;
  }
  size_t done = n > 0 ? static_cast<size_t>(n) : 0;
  if (done < total) {
    if (uv_stream_get_write_queue_size(stream) + (total - done) > limits_.max_queued_bytes) {
      if (counters_.slow_reader_closed) counters_.slow_reader_closed->inc();
      c->close();
      return;
    }
    auto* w = new Conn::Write{};
    w->conn = c;
    w->data.reset(new uint8_t[total - done]);
    std::memcpy(w->data.get(), frame_.data() + done, total - done);
    w->req.data = w;
    uv_buf_t rest =
        uv_buf_init(reinterpret_cast<char*>(w->data.get()), static_cast<unsigned>(total - done));
    ++c->pending_writes;
    int rc = uv_write(&w->req, stream, &rest, 1, [](uv_write_t* req, int status) {
      auto* wr = static_cast<Conn::Write*>(req->data);
      Conn* conn = wr->conn;
      delete wr;
      --conn->pending_writes;
      if (conn->closing) return;
      if (status < 0)
        conn->close();
      else
        conn->maybe_finish();
    });
    if (rc < 0) {
      --c->pending_writes;
      delete w;
      c->close();
      return;
    }
  }
  answered(c);
}

void TcpListener::stop_accepting() {
  server_.reset();
}

void TcpListener::close_all() {
  server_.reset();
  for (Conn* c : slots_)
    if (c) c->close();
}

}  // namespace cairn::net
