#include "agent/rpc/tcp_transport.h"

#include <memory>

namespace cairn::rpc {

namespace {

// One read takes at most this much; a session consumes it before the next.
constexpr size_t kReadBufferBytes = 64 * 1024;

std::string peer_of(uv_tcp_t* tcp) {
  net::Endpoint e;
  int len = sizeof e.addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&e.addr), &len) != 0) return "unknown";
  return e.to_string();
}

}  // namespace

// A queued write keeps its bytes until libuv is done with them; the
// transport may be gone by then (its socket closed cancels the write).
struct TcpTransport::WriteRequest {
  uv_write_t req{};
  std::string data;
  std::shared_ptr<TcpTransport*> owner;
};

TcpTransport::TcpTransport(UvHandle<uv_tcp_t> socket) : socket_(std::move(socket)) {
  socket_.get()->data = this;
  uv_tcp_nodelay(socket_.get(), 1);
  peer_ = peer_of(socket_.get());
  self_ = std::make_shared<TcpTransport*>(this);
}

TcpTransport::~TcpTransport() {
  close();
}

void TcpTransport::start(Receiver& receiver) {
  receiver_ = &receiver;
  set_reading(true);
}

void TcpTransport::set_reading(bool on) {
  if (write_failed_) on = true;  // only the read side can tell how it ended
  if (closed_ || on == reading_) return;
  reading_ = on;
  if (on)
    uv_read_start(stream(), on_alloc, on_read);
  else
    uv_read_stop(stream());
}

void TcpTransport::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<TcpTransport*>(h->data);
  if (self->read_buffer_.size() < kReadBufferBytes) self->read_buffer_.resize(kReadBufferBytes);
  *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(self->read_buffer_.size()));
}

void TcpTransport::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<TcpTransport*>(s->data);
  if (self == nullptr || self->closed_ || n == 0) return;
  if (n < 0) {
    uv_read_stop(s);
    self->reading_ = false;
    self->receiver_->on_transport_closed(n == UV_EOF ? std::string()
                                                     : uv_strerror(static_cast<int>(n)));
    return;
  }
  self->receiver_->on_transport_read(reinterpret_cast<const uint8_t*>(buf->base),
                                     static_cast<size_t>(n));
}

void TcpTransport::write_failed() {
  // The peer is gone, but what it sent before (a GOAWAY saying which calls
  // it never ran) may still wait to be read: the read side reports the end.
  write_failed_ = true;
  set_reading(true);
}

bool TcpTransport::write(std::string bytes) {
  if (closed_) return false;
  if (bytes.empty() || write_failed_) return true;
  size_t done = 0;
  if (queued_ == 0) {
    uv_buf_t b = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
    int n = uv_try_write(stream(), &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
      write_failed();
      return true;
    }
    if (n > 0) done = static_cast<size_t>(n);
    if (done == bytes.size()) return true;
  }
  auto* w = new WriteRequest;
  w->data = done == 0 ? std::move(bytes) : bytes.substr(done);
  w->owner = self_;
  w->req.data = w;
  queued_ += w->data.size();
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  if (uv_write(&w->req, stream(), &b, 1, on_written) != 0) {
    queued_ -= w->data.size();
    delete w;
    write_failed();
  }
  return true;
}

void TcpTransport::on_written(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> w(static_cast<WriteRequest*>(req->data));
  TcpTransport* self = *w->owner;
  if (self == nullptr || self->closed_) return;
  self->queued_ -= w->data.size();
  if (status < 0) self->write_failed();
  if (self->queued_ == 0) self->receiver_->on_transport_drained();
}

void TcpTransport::close() {
  if (closed_ && !socket_.initialized()) return;
  closed_ = true;
  *self_ = nullptr;
  socket_.reset();
}

// --- connect ---

struct TcpConnect::Request {
  uv_connect_t req{};
  UvHandle<uv_tcp_t> socket;
  TcpConnect* owner = nullptr;
};

TcpConnect::TcpConnect(uv_loop_t* loop, const net::Endpoint& to, uint64_t timeout_ms, Callback done)
    : timer_(loop), target_(to.to_string()), done_(std::move(done)) {
  auto* r = new Request;
  r->owner = this;
  r->req.data = r;
  uv_tcp_init(loop, r->socket.get());
  r->socket.mark_initialized();
  int rc = uv_tcp_connect(&r->req, r->socket.get(), to.sa(), on_connected);
  if (rc != 0) {
    delete r;
    // Reported from the loop, never from inside the constructor.
    timer_.start(0, 0, [this, rc] {
      finish(nullptr,
             Status(Status::Code::unavailable, "connect " + target_ + ": " + uv_strerror(rc)));
    });
    return;
  }
  request_ = r;
  timer_.start(timeout_ms, 0, [this] {
    finish(nullptr, Status(Status::Code::unavailable, "connect " + target_ + ": timed out"));
  });
}

TcpConnect::~TcpConnect() {
  if (request_) {
    request_->owner = nullptr;
    request_->socket.reset();  // the connect callback runs with UV_ECANCELED and frees it
  }
}

void TcpConnect::finish(std::unique_ptr<Transport> t, Status s) {
  timer_.stop();
  if (request_) {
    request_->owner = nullptr;
    request_->socket.reset();
    request_ = nullptr;
  }
  Callback done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(t), std::move(s));  // may destroy this
}

void TcpConnect::on_connected(uv_connect_t* req, int status) {
  auto* r = static_cast<Request*>(req->data);
  TcpConnect* owner = r->owner;
  if (owner == nullptr) {
    delete r;
    return;
  }
  owner->request_ = nullptr;
  owner->timer_.stop();
  if (status != 0) {
    delete r;
    owner->finish(nullptr, Status(Status::Code::unavailable,
                                  "connect " + owner->target_ + ": " + uv_strerror(status)));
    return;
  }
  auto t = std::make_unique<TcpTransport>(std::move(r->socket));
  delete r;
  owner->finish(std::move(t), Status());
}

}  // namespace cairn::rpc
