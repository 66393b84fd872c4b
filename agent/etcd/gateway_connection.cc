#include "agent/etcd/gateway_connection.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>

namespace cairn::etcd {

namespace {

constexpr size_t kReadChunk = 64 * 1024;

GatewayConnection* owner(llhttp_t* p) {
  return static_cast<GatewayConnection*>(p->data);
}

// A write in flight. The connection may be gone when it completes (closing
// the stream cancels it): the callback then only frees the request.
struct WriteRequest {
  uv_write_t req;
};

}  // namespace

std::string ClientEndpoint::describe() const {
  if (!unix_socket.empty()) return "unix:" + unix_socket;
  return host + ":" + std::to_string(port);
}

GatewayConnection::GatewayConnection(uv_loop_t* loop, ClientEndpoint endpoint, size_t max_body)
    : loop_(loop), endpoint_(std::move(endpoint)), max_body_(max_body), timeout_(loop) {}

GatewayConnection::~GatewayConnection() {
  *alive_ = false;
  close_socket();
}

const llhttp_settings_t& GatewayConnection::parser_settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t v;
    llhttp_settings_init(&v);
    v.on_message_begin = on_message_begin;
    v.on_headers_complete = on_headers_complete;
    v.on_body = on_body;
    v.on_message_complete = on_message_complete;
    return v;
  }();
  return s;
}

void GatewayConnection::call(std::string_view path, std::string_view body, uint64_t timeout_ms,
                             Handlers handlers) {
  busy_ = true;
  handlers_ = std::move(handlers);
  result_ = CallResult{};
  message_complete_ = false;
  request_.clear();
  request_.reserve(path.size() + body.size() + 128);
  request_.append("POST ").append(path).append(" HTTP/1.1\r\nHost: etcd\r\n");
  request_.append("Content-Type: application/json\r\nContent-Length: ");
  request_.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  llhttp_init(&parser_, HTTP_RESPONSE, &parser_settings());
  parser_.data = this;
  if (timeout_ms > 0) timeout_.start(timeout_ms, 0, [this] { on_timeout(); });
  if (phase_ == Phase::connected) {
    send_request();
  } else if (phase_ == Phase::disconnected) {
    connect();
  }
}

void GatewayConnection::cancel() {
  if (busy_) {
    CallResult r;
    r.transport = CallResult::Transport::closed;
    r.detail = "cancelled";
    finish(std::move(r), false);
  } else {
    close_socket();
  }
}

namespace {

// A socket address holds 107 bytes of path. A longer one (a deep data dir)
// is reached through its directory's /proc/self/fd entry, which is short;
// libuv connects inside uv_pipe_connect, so the descriptor can close after.
class SocketPath {
 public:
  explicit SocketPath(const std::string& path) : path_(path) {
    if (path.size() < 100) return;
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return;
    dir_fd_ = ::open(path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ >= 0) path_ = "/proc/self/fd/" + std::to_string(dir_fd_) + path.substr(slash);
  }
  ~SocketPath() {
    if (dir_fd_ >= 0) ::close(dir_fd_);
  }
  SocketPath(const SocketPath&) = delete;
  SocketPath& operator=(const SocketPath&) = delete;
  const char* c_str() const { return path_.c_str(); }

 private:
  std::string path_;
  int dir_fd_ = -1;
};

}  // namespace

void GatewayConnection::connect() {
  phase_ = Phase::connecting;
  auto* req = new uv_connect_t{};
  int rc = 0;
  if (!endpoint_.unix_socket.empty()) {
    auto& pipe = pipe_.emplace();
    rc = uv_pipe_init(loop_, pipe.get(), 0);
    if (rc == 0) {
      pipe.mark_initialized();
      pipe.get()->data = this;
      stream_ = reinterpret_cast<uv_stream_t*>(pipe.get());
      SocketPath path(endpoint_.unix_socket);
      uv_pipe_connect(req, pipe.get(), path.c_str(), [](uv_connect_t* r, int st) {
        auto* self = static_cast<GatewayConnection*>(r->handle->data);
        delete r;
        if (self != nullptr) self->on_connected(st);
      });
      return;
    }
  } else {
    sockaddr_storage addr{};
    rc = uv_ip4_addr(endpoint_.host.c_str(), endpoint_.port, reinterpret_cast<sockaddr_in*>(&addr));
    if (rc != 0)
      rc = uv_ip6_addr(endpoint_.host.c_str(), endpoint_.port,
                       reinterpret_cast<sockaddr_in6*>(&addr));
    auto& tcp = tcp_.emplace();
    if (rc == 0) rc = uv_tcp_init(loop_, tcp.get());
    if (rc == 0) {
      tcp.mark_initialized();
      tcp.get()->data = this;
      uv_tcp_nodelay(tcp.get(), 1);
      stream_ = reinterpret_cast<uv_stream_t*>(tcp.get());
      rc = uv_tcp_connect(req, tcp.get(), reinterpret_cast<const sockaddr*>(&addr),
                          [](uv_connect_t* r, int st) {
                            auto* self = static_cast<GatewayConnection*>(r->handle->data);
                            delete r;
                            if (self != nullptr) self->on_connected(st);
                          });
      if (rc == 0) return;
    }
  }
  delete req;
  CallResult r;
  r.transport = CallResult::Transport::connect_failed;
  r.detail = std::string("connect to ") + endpoint_.describe() + ": " + uv_strerror(rc);
  finish(std::move(r), false);
}

void GatewayConnection::on_connected(int status) {
  if (status != 0) {
    CallResult r;
    r.transport = CallResult::Transport::connect_failed;
    r.detail = std::string("connect to ") + endpoint_.describe() + ": " + uv_strerror(status);
    finish(std::move(r), false);
    return;
  }
  phase_ = Phase::connected;
  start_reading();
  if (busy_) send_request();
}

void GatewayConnection::start_reading() {
  uv_read_start(
      stream_,
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<GatewayConnection*>(h->data);
        if (self == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        self->read_buffer_.resize(kReadChunk);
        *buf = uv_buf_init(self->read_buffer_.data(), kReadChunk);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<GatewayConnection*>(s->data);
        if (self != nullptr) self->on_read(nread, buf);
      });
}

void GatewayConnection::send_request() {
  auto* w = new WriteRequest{};
  uv_buf_t buf = uv_buf_init(request_.data(), static_cast<unsigned>(request_.size()));
  int rc = uv_write(&w->req, stream_, &buf, 1, [](uv_write_t* req, int status) {
    auto* self = static_cast<GatewayConnection*>(req->handle->data);
    delete reinterpret_cast<WriteRequest*>(req);
    if (self == nullptr || status == 0 || status == UV_ECANCELED) return;
    CallResult r;
    r.transport = CallResult::Transport::closed;
    r.detail = std::string("write: ") + uv_strerror(status);
    self->finish(std::move(r), false);
  });
  if (rc != 0) {
    delete w;
    CallResult r;
    r.transport = CallResult::Transport::closed;
    r.detail = std::string("write: ") + uv_strerror(rc);
    finish(std::move(r), false);
  }
}

void GatewayConnection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    if (!busy_) {
      // The member closed an idle keep-alive connection: reconnect on the next call.
      close_socket();
      return;
    }
    CallResult r;
    r.transport = CallResult::Transport::closed;
    r.detail = std::string("read: ") + uv_strerror(static_cast<int>(nread));
    finish(std::move(r), false);
    return;
  }
  if (!busy_) {
    // Bytes nobody asked for: the connection is out of step; drop it.
    close_socket();
    return;
  }
  std::shared_ptr<bool> alive = alive_;
  llhttp_errno_t err = llhttp_execute(&parser_, buf->base, static_cast<size_t>(nread));
  if (!*alive || !busy_) return;  // a stream handler ended the call (or this connection)
  if (message_complete_) {
    bool keep = llhttp_should_keep_alive(&parser_) != 0;
    result_.transport = CallResult::Transport::ok;
    finish(std::move(result_), keep);
    return;
  }
  if (err != HPE_OK) {
    CallResult r;
    r.transport = CallResult::Transport::bad_response;
    r.http_status = result_.http_status;
    r.detail = result_.detail.empty() ? llhttp_errno_name(err) : result_.detail;
    finish(std::move(r), false);
  }
}

void GatewayConnection::on_timeout() {
  CallResult r;
  r.transport = CallResult::Transport::timed_out;
  r.detail = "no answer from etcd in time";
  finish(std::move(r), false);
}

void GatewayConnection::finish(CallResult result, bool keep_connection) {
  if (!busy_) return;
  busy_ = false;
  timeout_.stop();
  if (!keep_connection) close_socket();
  Handlers done = std::move(handlers_);
  handlers_ = {};
  if (done.on_done) done.on_done(std::move(result));  // last: it may destroy this
}

void GatewayConnection::close_socket() {
  stream_ = nullptr;
  phase_ = Phase::disconnected;
  tcp_.reset();
  pipe_.reset();
}

int GatewayConnection::on_message_begin(llhttp_t* p) {
  owner(p)->result_.body.clear();
  return 0;
}

int GatewayConnection::on_headers_complete(llhttp_t* p) {
  auto* self = owner(p);
  int code = llhttp_get_status_code(p);
  if (code == 100) return 0;  // 100 Continue: the real answer follows
  self->result_.http_status = code;
  return 0;
}

int GatewayConnection::on_body(llhttp_t* p, const char* at, size_t len) {
  auto* self = owner(p);
  if (self->handlers_.on_body && self->result_.http_status == 200) {
    self->handlers_.on_body(std::string_view(at, len));
    return self->busy_ ? 0 : -1;  // the stream's owner may have cancelled it
  }
  if (self->result_.body.size() + len > self->max_body_) {
    self->result_.detail = "answer over the size bound";
    return -1;
  }
  self->result_.body.append(at, len);
  return 0;
}

int GatewayConnection::on_message_complete(llhttp_t* p) {
  auto* self = owner(p);
  if (self->result_.http_status == 0) return 0;  // 100 Continue's end
  self->message_complete_ = true;
  return HPE_PAUSED;  // stop here: nothing may follow an answer we did not ask for
}

}  // namespace cairn::etcd
