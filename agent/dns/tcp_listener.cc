#include "agent/dns/tcp_listener.h"

#include <arpa/inet.h>

#include <cstring>

#include "common/dns/wire.h"
#include "common/net/address.h"

namespace cairn::dns {

namespace {

struct WriteReq {
  uv_write_t req;
  std::vector<uint8_t> data;
};

}  // namespace

TcpConnection::TcpConnection(TcpListener& owner, uint64_t id)
    : owner_(owner), id_(id), idle_(owner.loop_) {}

TcpConnection::~TcpConnection() = default;

void TcpConnection::touch() {
  std::weak_ptr<TcpConnection> weak = weak_from_this();
  idle_.start(owner_.limits_.idle_timeout_ms, 0, [weak] {
    auto c = weak.lock();
    if (!c) return;
    if (Counter* idle = c->owner_.counters_.idle_closed) idle->inc();
    c->close();
  });
}

void TcpConnection::close() {
  if (!open_) return;
  open_ = false;
  auto self = shared_from_this();  // forget() drops the listener's reference
  idle_.stop();
  tcp_.reset();
  owner_.forget(id_);
}

void TcpConnection::send(std::span<const uint8_t> message) {
  if (!open_ || message.size() > kMaxMessage) return;
  uint8_t prefix[2] = {static_cast<uint8_t>(message.size() >> 8),
                       static_cast<uint8_t>(message.size())};
  uv_buf_t bufs[2] = {uv_buf_init(reinterpret_cast<char*>(prefix), 2),
                      uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(message.data())),
                                  static_cast<unsigned>(message.size()))};
  auto* stream = reinterpret_cast<uv_stream_t*>(tcp_.get());
  size_t total = message.size() + 2;
  size_t written = 0;
  if (uv_stream_get_write_queue_size(stream) == 0) {
    int r = uv_try_write(stream, bufs, 2);
    if (r > 0)
      written = static_cast<size_t>(r);
    else if (r != UV_EAGAIN) {
      close();
      return;
    }
  }
  if (written == total) return;
  if (uv_stream_get_write_queue_size(stream) > owner_.limits_.max_queued_bytes) {
    if (Counter* slow = owner_.counters_.slow_reader_closed) slow->inc();
    close();
    return;
  }
  auto* w = new WriteReq;
  w->data.reserve(total - written);
  for (size_t i = written; i < total; ++i) w->data.push_back(i < 2 ? prefix[i] : message[i - 2]);
  uv_buf_t buf =
      uv_buf_init(reinterpret_cast<char*>(w->data.data()), static_cast<unsigned>(w->data.size()));
  if (uv_write(&w->req, stream, &buf, 1,
               [](uv_write_t* req, int) { delete reinterpret_cast<WriteReq*>(req); }) != 0) {
    delete w;
    close();
  }
}

void TcpConnection::on_data(const uint8_t* data, size_t len) {
  auto self = shared_from_this();
  in_.insert(in_.end(), data, data + len);
  size_t off = 0;
  while (open_ && in_.size() - off >= 2) {
    size_t msg_len = (size_t{in_[off]} << 8) | in_[off + 1];
    if (msg_len == 0) {  // no DNS message is empty
      close();
      return;
    }
    if (in_.size() - off < 2 + msg_len) break;
    touch();
    std::span<const uint8_t> msg(in_.data() + off + 2, msg_len);
    size_t n = owner_.handler_.on_message(self, msg, owner_.out_);
    if (n > 0) send(std::span<const uint8_t>(owner_.out_.data(), n));
    off += 2 + msg_len;
  }
  if (off > 0 && open_) in_.erase(in_.begin(), in_.begin() + static_cast<long>(off));
}

TcpListener::TcpListener(uv_loop_t* loop, Handler& handler, Limits limits,
                         LimitCounters counters)
    : loop_(loop),
      handler_(handler),
      limits_(limits),
      counters_(counters),
      out_(kMaxMessage),
      read_(kMaxMessage + 2) {}

TcpListener::~TcpListener() {
  close();
}

std::string TcpListener::listen(const std::string& host, int port) {
  auto at = net::endpoint_of(host, static_cast<uint16_t>(port));
  if (!at) return "invalid address \"" + host + "\"";
  unsigned flags = at->family() == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
  uv_tcp_init(loop_, server_.get());
  server_.mark_initialized();
  server_.get()->data = this;
  int r = uv_tcp_bind(server_.get(), at->sa(), flags);
  if (r == 0)
    r = uv_listen(reinterpret_cast<uv_stream_t*>(server_.get()), 128,
                  [](uv_stream_t* s, int status) {
                    auto* self = static_cast<TcpListener*>(s->data);
                    if (self && status == 0) self->on_connection();
                  });
  if (r != 0) return "bind " + host + ":" + std::to_string(port) + "/tcp: " + uv_strerror(r);
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(server_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return "";
}

void TcpListener::close() {
  server_.reset();
  auto conns = std::move(conns_);
  conns_.clear();
  for (auto& [_, c] : conns) c->close();
}

void TcpListener::forget(uint64_t id) {
  conns_.erase(id);
}

void TcpListener::on_connection() {
  uint64_t id = next_id_++;
  auto conn = std::make_shared<TcpConnection>(*this, id);
  uv_tcp_init(loop_, conn->tcp_.get());
  conn->tcp_.mark_initialized();
  auto* stream = reinterpret_cast<uv_stream_t*>(conn->tcp_.get());
  if (uv_accept(reinterpret_cast<uv_stream_t*>(server_.get()), stream) != 0) return;
  if (conns_.size() >= limits_.max_connections) {
    if (counters_.rejected) counters_.rejected->inc();
    return;  // closed as conn goes out of scope
  }
  int len = sizeof conn->peer_;
  uv_tcp_getpeername(conn->tcp_.get(), reinterpret_cast<sockaddr*>(&conn->peer_), &len);
  uv_tcp_nodelay(conn->tcp_.get(), 1);
  conn->tcp_.get()->data = conn.get();
  conns_[id] = conn;
  conn->touch();
  uv_read_start(
      stream,
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* c = static_cast<TcpConnection*>(h->data);
        if (!c) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        auto& rb = c->owner_.read_;
        *buf = uv_buf_init(reinterpret_cast<char*>(rb.data()), static_cast<unsigned>(rb.size()));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* c = static_cast<TcpConnection*>(s->data);
        if (!c) return;
        if (nread < 0) {
          c->close();
          return;
        }
        if (nread > 0)
          c->on_data(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread));
      });
}

}  // namespace cairn::dns
