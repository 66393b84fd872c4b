#include "common/http/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <variant>

#include "common/http/request_parser.h"
#include "common/log.h"

namespace cairn::http {

namespace {

// Date header text, rebuilt at most once a second.
const std::string& http_date() {
  static thread_local time_t cached_at = 0;
  static thread_local std::string cached;
  time_t now = time(nullptr);
  if (now != cached_at) {
    tm t{};
    gmtime_r(&now, &t);
    char buf[64];
    strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &t);
    cached = buf;
    cached_at = now;
  }
  return cached;
}

std::string peer_ip(uv_tcp_t* tcp) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET)
    uv_ip4_name(reinterpret_cast<sockaddr_in*>(&ss), buf, sizeof buf);
  else
    uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&ss), buf, sizeof buf);
  return buf;
}

}  // namespace

namespace {

void serialize_status_and_headers(const Response& r, std::string& out) {
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += reason_phrase(r.status);
  out += "\r\n";
  for (const auto& [k, v] : r.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "Date: ";
  out += http_date();
  out += "\r\n";
}

}  // namespace

void serialize_head(const Response& r, bool keep_alive, std::string& out) {
  serialize_status_and_headers(r, out);
  out += "Content-Length: ";
  out += std::to_string(r.body_view().size());
  out += "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
}

void serialize_stream_head(const Response& r, bool keep_alive, std::string& out) {
  serialize_status_and_headers(r, out);
  out += "Transfer-Encoding: chunked\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
}

// A connection's socket: TCP, or a unix socket (Consul's addresses.http = "unix://...").
class StreamHandle {
 public:
  explicit StreamHandle(UvHandle<uv_tcp_t>&& tcp) : handle_(std::move(tcp)) {}
  explicit StreamHandle(UvHandle<uv_pipe_t>&& pipe) : handle_(std::move(pipe)) {}

  uv_stream_t* stream() const {
    return std::visit([](const auto& h) { return reinterpret_cast<uv_stream_t*>(h.get()); },
                      handle_);
  }
  void reset() {
    std::visit([](auto& h) { h.reset(); }, handle_);
  }

 private:
  std::variant<UvHandle<uv_tcp_t>, UvHandle<uv_pipe_t>> handle_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // ip: the TCP peer's address; empty for a unix socket, which no per-client
  // limit counts (its clients are local processes, told apart by permissions).
  Connection(Server& server, std::string ip, StreamHandle&& socket)
      : server_(server),
        ip_(std::move(ip)),
        socket_(std::move(socket)),
        timer_(server.loop_),
        parser_({server.limits_.max_header_bytes, server.limits_.max_body_bytes}) {
    // The whole request must arrive within the request timeout.
    parser_.on_message_begin = [this] {
      arm_timeout(server_.limits_.request_timeout_ms, server_.stats_.request_timeouts);
    };
    // curl waits for "100 Continue" before sending larger bodies.
    parser_.on_expect_continue = [this] {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      uv_buf_t b = uv_buf_init(const_cast<char*>(kContinue), sizeof kContinue - 1);
      uv_try_write(stream(), &b, 1);
    };
  }

  const std::string& ip() const { return ip_; }

  void start() {
    stream()->data = this;
    // Idle connections that never send a byte hold a per-client slot: they
    // get a much shorter grace than keep-alive connections between requests.
    arm_timeout(server_.limits_.first_byte_timeout_ms, server_.stats_.first_byte_timeouts);
    start_reading();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.stop();
    if (exchange_) {
      auto ex = std::move(exchange_);
      ex->client_gone();
    }
    socket_.reset();
    server_.remove(this);
  }

  // A streamed answer (Exchange::start_stream and friends).
  bool start_stream(Response&& r) {
    if (closed_) return false;
    for (const auto& [name, value] : server_.response_headers_)
      if (!r.header(name)) r.headers.emplace_back(name, value);
    std::string head;
    serialize_stream_head(r, keep_alive_, head);
    write_bytes(std::move(head));
    return !closed_;
  }

  bool write_chunk(std::string_view data) {
    if (closed_) return false;
    if (data.empty()) return true;  // an empty chunk would end the body
    char size[24];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    std::string chunk;
    chunk.reserve(static_cast<size_t>(n) + data.size() + 2);
    chunk.append(size, static_cast<size_t>(n)).append(data).append("\r\n");
    write_bytes(std::move(chunk));
    return !closed_;
  }

  void end_stream() {
    if (closed_) return;
    exchange_.reset();
    write_bytes("0\r\n\r\n");
    if (closed_) return;
    if (!keep_alive_) {
      close_after_write_ = true;
      if (writes_in_flight_ == 0) close();
      return;
    }
    arm_idle();
    pump();
  }

  size_t backlog() const { return closed_ ? 0 : uv_stream_get_write_queue_size(socket_.stream()); }

  // Called by Exchange::respond, now or later.
  void send(Response&& r) {
    if (closed_) return;
    exchange_.reset();
    for (const auto& [name, value] : server_.response_headers_)
      if (!r.header(name)) r.headers.emplace_back(name, value);
    write_response(r, keep_alive_);
    if (!keep_alive_) {
      close_after_write_ = true;
      if (writes_in_flight_ == 0) close();
      return;
    }
    arm_idle();
    pump();  // whatever the client already pipelined
  }

 private:
  uv_stream_t* stream() { return socket_.stream(); }

  void start_reading() {
    reading_ = true;
    uv_read_start(
        stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* c = static_cast<Connection*>(h->data);
          std::string& rb = c->server_.read_buffer_;
          buf->base = rb.data();
          buf->len = rb.size();
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* c = static_cast<Connection*>(s->data);
          if (c == nullptr) return;
          auto keep = c->shared_from_this();
          if (n < 0) {
            c->close();
            return;
          }
          if (n > 0) c->on_data(buf->base, static_cast<size_t>(n));
        });
  }

  void stop_reading() {
    if (!reading_) return;
    reading_ = false;
    uv_read_stop(stream());
  }

  // Reads resume once both the unparsed input and the unsent output are small again.
  void maybe_resume_reading() {
    if (reading_ || closed_) return;
    if (pending_in_.size() - pending_off_ > server_.limits_.max_header_bytes) return;
    if (uv_stream_get_write_queue_size(stream()) > server_.limits_.max_pending_output) return;
    start_reading();
  }

  void arm_idle() { arm_timeout(server_.limits_.idle_timeout_ms, server_.stats_.idle_timeouts); }

  // Closes the connection after ms unless re-armed or stopped; counts the kind.
  void arm_timeout(uint64_t ms, uint64_t& kind_counter) {
    timer_.start(ms, 0, [this, &kind_counter] {
      kind_counter++;
      server_.stats_.timeouts++;
      close();
    });
  }

  void on_data(const char* data, size_t len) {
    if (draining_) {
      drained_ += len;
      if (drained_ > kMaxDrainBytes) close();
      return;
    }
    if (pending_off_ > 0 && pending_off_ * 2 >= pending_in_.size()) {
      pending_in_.erase(0, pending_off_);
      pending_off_ = 0;
    }
    pending_in_.append(data, len);
    if (pending_in_.size() - pending_off_ >
        server_.limits_.max_header_bytes + server_.limits_.max_body_bytes)
      stop_reading();
    pump();
  }

  // Parses and dispatches buffered requests one at a time, in order, iteratively.
  void pump() {
    if (pumping_) return;
    pumping_ = true;
    while (!closed_ && !exchange_ && pending_off_ < pending_in_.size()) {
      size_t used = 0;
      auto result = parser_.feed(pending_in_.data() + pending_off_,
                                 pending_in_.size() - pending_off_, used);
      pending_off_ += used;
      if (pending_off_ >= pending_in_.size()) {
        pending_in_.clear();
        pending_off_ = 0;
      }
      if (result == RequestParser::Result::need_more) break;
      if (result == RequestParser::Result::error) {
        fail_request();
        break;
      }
      timer_.stop();
      dispatch();
    }
    pumping_ = false;
    if (!closed_) maybe_resume_reading();
  }

  void fail_request() {
    ServerStats& st = server_.stats_;
    st.bad_requests++;
    switch (parser_.error()) {
      case RequestParser::Error::header_too_large:
        st.header_too_large++;
        break;
      case RequestParser::Error::body_too_large:
        st.body_too_large++;
        break;
      case RequestParser::Error::unsupported_transfer_coding:
        st.unsupported_transfer_coding++;
        break;
      case RequestParser::Error::malformed:
      case RequestParser::Error::none:
        st.malformed_requests++;
        break;
    }
    log::debug("http", "rejected request", {{"from", ip_}, {"reason", parser_.error_message()}});
    Response r = Response::text(parser_.error_status(), parser_.error_message());
    write_response(r, false);
    linger();
  }

  // After an error answer the client may still be sending (a body we refused).
  // Closing with unread input makes the kernel send RST, and the client would
  // lose our answer; so stop writing, then read and discard for a moment.
  void linger() {
    draining_ = true;
    pending_in_.clear();
    pending_off_ = 0;
    if (!reading_) start_reading();
    timer_.start(kLingerMs, 0, [this] { close(); });
    auto* req = new uv_shutdown_t;
    req->data = nullptr;
    if (uv_shutdown(req, stream(), [](uv_shutdown_t* r, int) { delete r; }) != 0) delete req;
  }

  void dispatch() {
    server_.stats_.requests++;
    auto ex = std::make_shared<Exchange>(weak_from_this());
    exchange_ = ex;
    bool valid = parser_.take(ex->request);
    ex->request.remote_ip = ip_;
    keep_alive_ = parser_.keep_alive();
    if (!valid) {
      ex->respond(Response::text(400, "Invalid URL"));
      return;
    }
    server_.handler_(ex);
  }

  void write_response(Response& r, bool keep_alive) {
    auto* w = new WriteReq;
    serialize_head(r, keep_alive, w->head);
    if (r.shared_body)
      w->shared_body = std::move(r.shared_body);
    else
      w->body = std::move(r.body);
    std::string_view body = w->body_view();
    uv_buf_t bufs[2] = {uv_buf_init(w->head.data(), static_cast<unsigned>(w->head.size())),
                        uv_buf_init(const_cast<char*>(body.data()),
                                    static_cast<unsigned>(body.size()))};
    int nbufs = body.empty() ? 1 : 2;
    // Most answers fit the socket buffer: try without queueing first.
    if (writes_in_flight_ == 0) {
      int n = uv_try_write(stream(), bufs, nbufs);
      if (n > 0) {
        size_t sent = static_cast<size_t>(n);
        if (sent == w->head.size() + body.size()) {
          delete w;
          return;
        }
        if (sent < w->head.size()) {
          bufs[0].base += sent;
          bufs[0].len -= sent;
        } else {
          sent -= w->head.size();
          bufs[0] = uv_buf_init(bufs[1].base + sent, static_cast<unsigned>(body.size() - sent));
          nbufs = 1;
        }
      }
    }
    queue_write(w, bufs, nbufs);
  }

  struct WriteReq;
  // Queues what uv_try_write did not send; w owns the bytes bufs point into.
  void queue_write(WriteReq* w, uv_buf_t* bufs, int nbufs) {
    w->owner = shared_from_this();
    w->req.data = w;
    writes_in_flight_++;
    int rc = uv_write(
        &w->req, stream(), bufs, static_cast<unsigned>(nbufs), [](uv_write_t* req, int status) {
          auto* wr = static_cast<WriteReq*>(req->data);
          auto conn = std::move(wr->owner);
          delete wr;
          conn->writes_in_flight_--;
          if (conn->closed_) return;
          if (status < 0 || (conn->close_after_write_ && conn->writes_in_flight_ == 0)) {
            conn->close();
            return;
          }
          conn->maybe_resume_reading();
        });
    if (rc != 0) {
      writes_in_flight_--;
      w->owner.reset();
      delete w;
      close();
      return;
    }
    if (uv_stream_get_write_queue_size(stream()) > server_.limits_.max_pending_output)
      stop_reading();
  }

  // Queues raw bytes (a stream's head or chunks).
  void write_bytes(std::string bytes) {
    auto* w = new WriteReq;
    w->head = std::move(bytes);
    uv_buf_t buf = uv_buf_init(w->head.data(), static_cast<unsigned>(w->head.size()));
    if (writes_in_flight_ == 0) {
      int n = uv_try_write(stream(), &buf, 1);
      if (n > 0 && static_cast<size_t>(n) == w->head.size()) {
        delete w;
        return;
      }
      if (n > 0) {
        buf.base += n;
        buf.len -= static_cast<unsigned>(n);
      }
    }
    queue_write(w, &buf, 1);
  }

  struct WriteReq {
    uv_write_t req;
    std::string head;
    std::string body;
    std::shared_ptr<const std::string> shared_body;
    std::shared_ptr<Connection> owner;
    std::string_view body_view() const { return shared_body ? *shared_body : body; }
  };

  Server& server_;
  std::string ip_;
  StreamHandle socket_;
  Timer timer_;
  RequestParser parser_;
  std::shared_ptr<Exchange> exchange_;
  std::string pending_in_;  // received, not yet parsed (pipelined requests)
  size_t pending_off_ = 0;
  int writes_in_flight_ = 0;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool close_after_write_ = false;
  bool pumping_ = false;
  bool reading_ = false;
  bool draining_ = false;
  size_t drained_ = 0;
  static constexpr uint64_t kLingerMs = 2000;
  static constexpr size_t kMaxDrainBytes = 64 * 1024 * 1024;
};

void Exchange::time_response(const std::array<Summary*, kMaxTimers>& timers) {
  timers_ = timers;
  timed_from_ns_ = uv_hrtime();
}

void Exchange::respond(Response response) {
  if (responded_) return;
  responded_ = true;
  close_hook_ = nullptr;
  if (timers_[0] || timers_[1] || timers_[2]) {
    double ms = static_cast<double>(uv_hrtime() - timed_from_ns_) / 1e6;
    for (Summary* t : timers_)
      if (t) t->observe(ms);
  }
  if (sink_) {
    auto sink = std::move(sink_);
    sink(std::move(response));
  } else if (auto c = conn_.lock()) {
    c->send(std::move(response));
  }
}

bool Exchange::start_stream(Response head) {
  if (responded_ || sink_) return false;
  auto c = conn_.lock();
  if (!c) return false;
  responded_ = true;
  return c->start_stream(std::move(head));
}

bool Exchange::write_chunk(std::string_view data) {
  if (closed_) return false;
  auto c = conn_.lock();
  return c && c->write_chunk(data);
}

void Exchange::end_stream() {
  close_hook_ = nullptr;
  if (auto c = conn_.lock()) c->end_stream();
}

size_t Exchange::stream_backlog() const {
  auto c = conn_.lock();
  return c ? c->backlog() : 0;
}

void Exchange::client_gone() {
  closed_ = true;
  if (auto hook = std::move(close_hook_)) hook();
}

Server::Server(uv_loop_t* loop, ServerLimits limits, Handler handler)
    : loop_(loop), limits_(limits), handler_(std::move(handler)), reaper_(loop) {
  read_buffer_.resize(64 * 1024);
}

Server::~Server() { close(); }

std::string Server::listen(const std::string& host, int port) {
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0)
    return "invalid listen address " + host;
  auto l = std::make_unique<UvHandle<uv_tcp_t>>();
  uv_tcp_init(loop_, l->get());
  l->mark_initialized();
  l->get()->data = this;
  int rc = uv_tcp_bind(l->get(), reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(l->get()), 1024, [](uv_stream_t* s, int status) {
      if (status == 0 && s->data) static_cast<Server*>(s->data)->on_connection(s);
    });
  if (rc != 0) return "listen on " + host + ":" + std::to_string(port) + ": " + uv_strerror(rc);
  listeners_.push_back(std::move(l));
  return {};
}

std::string Server::listen_unix(const std::string& path) {
  // A socket left by an earlier run is replaced, as Consul does; any other
  // file at the path is not ours to remove.
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return "listen on unix://" + path + ": exists and is not a socket";
    if (unlink(path.c_str()) != 0)
      return "listen on unix://" + path + ": cannot replace the old socket: " + strerror(errno);
  }
  auto l = std::make_unique<UvHandle<uv_pipe_t>>();
  uv_pipe_init(loop_, l->get(), 0);
  l->mark_initialized();
  l->get()->data = this;
  int rc = uv_pipe_bind(l->get(), path.c_str());
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(l->get()), 1024, [](uv_stream_t* s, int status) {
      if (status == 0 && s->data) static_cast<Server*>(s->data)->on_unix_connection(s);
    });
  if (rc != 0) return "listen on unix://" + path + ": " + uv_strerror(rc);
  unix_listeners_.push_back(std::move(l));
  unix_paths_.push_back(path);
  return {};
}

int Server::bound_port() const {
  if (listeners_.empty()) return 0;
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getsockname(listeners_.front()->get(), reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

bool Server::admit(uv_stream_t* client, const std::string& ip) {
  size_t count = 0;
  if (!ip.empty()) {
    auto from_ip = per_ip_.find(ip);
    count = from_ip == per_ip_.end() ? 0 : from_ip->second;
  }
  bool over_total = connections_.size() >= limits_.max_connections;
  if (!over_total && (ip.empty() || count < limits_.max_connections_per_ip)) return true;
  stats_.connections_rejected++;
  (over_total ? stats_.rejected_max_connections : stats_.rejected_per_ip)++;
  // Tell the client why before hanging up, as Consul's limiter does with 429.
  static constexpr char kBusy[] =
      "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  uv_buf_t b = uv_buf_init(const_cast<char*>(kBusy), sizeof kBusy - 1);
  uv_try_write(client, &b, 1);
  return false;
}

void Server::add_connection(std::shared_ptr<Connection> conn, const std::string& ip) {
  if (!ip.empty()) per_ip_[ip]++;
  stats_.connections_accepted++;
  stats_.connections_open++;
  connections_.emplace(conn.get(), conn);
  conn->start();
}

void Server::on_connection(uv_stream_t* listener) {
  UvHandle<uv_tcp_t> tcp;
  uv_tcp_init(loop_, tcp.get());
  tcp.mark_initialized();
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(tcp.get())) != 0) return;
  uv_tcp_nodelay(tcp.get(), 1);
  std::string ip = peer_ip(tcp.get());
  // A peer whose address cannot be read still counts against a per-client slot.
  if (ip.empty()) ip = "?";
  if (!admit(reinterpret_cast<uv_stream_t*>(tcp.get()), ip)) return;  // tcp's destructor closes it
  add_connection(std::make_shared<Connection>(*this, ip, StreamHandle(std::move(tcp))), ip);
}

void Server::on_unix_connection(uv_stream_t* listener) {
  UvHandle<uv_pipe_t> pipe;
  uv_pipe_init(loop_, pipe.get(), 0);
  pipe.mark_initialized();
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(pipe.get())) != 0) return;
  if (!admit(reinterpret_cast<uv_stream_t*>(pipe.get()), "")) return;
  add_connection(std::make_shared<Connection>(*this, "", StreamHandle(std::move(pipe))), "");
}

void Server::remove(Connection* c) {
  auto it = connections_.find(c);
  if (it == connections_.end()) return;
  auto ip = c->ip().empty() ? per_ip_.end() : per_ip_.find(c->ip());
  if (ip != per_ip_.end() && --ip->second == 0) per_ip_.erase(ip);
  stats_.connections_open--;
  // The caller may be running inside this connection (a timer or read callback):
  // free it on the next loop turn, not now.
  graveyard_.push_back(std::move(it->second));
  connections_.erase(it);
  if (!reaper_.active()) reaper_.start(0, 0, [this] { graveyard_.clear(); });
}

void Server::close() {
  listeners_.clear();
  unix_listeners_.clear();
  // The sockets' files go with the listeners, as Go's do when Consul stops.
  for (const auto& path : unix_paths_) unlink(path.c_str());
  unix_paths_.clear();
  std::vector<std::shared_ptr<Connection>> all;
  for (auto& [_, c] : connections_) all.push_back(c);
  for (auto& c : all) c->close();
}

}  // namespace cairn::http
