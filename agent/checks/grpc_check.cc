#include "agent/checks/grpc_check.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "agent/checks/go_text.h"

namespace cairn::checks {

namespace {

// grpc-go's word for a status it could not read.
constexpr std::string_view kInternal = "Internal";
constexpr std::string_view kUnavailable = "Unavailable";
constexpr size_t kMaxGrpcMessage = 1024;

nghttp2_nv header(const char* name, const std::string& value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), std::strlen(name),
          value.size(), NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

// grpc-go's mapping of an HTTP status that is not 200 to a gRPC code.
std::string_view code_for_http_status(int status) {
  switch (status) {
    case 400:
      return "Internal";
    case 401:
      return "Unauthenticated";
    case 403:
      return "PermissionDenied";
    case 404:
      return "Unimplemented";
    case 429:
    case 502:
    case 503:
    case 504:
      return "Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace

GrpcCheck::GrpcCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def, Mode mode)
    : IntervalCheck(env, std::move(id), def),
      mode_(mode),
      target_(mode == Mode::health ? def.grpc : def.h2ping),
      use_tls_(mode == Mode::health ? def.grpc_use_tls : def.h2ping_use_tls),
      tls_skip_verify_(def.tls_skip_verify),
      tls_server_name_(def.tls_server_name),
      resolver_(env.loop),
      conn_(env.sockets, *this) {
  if (mode_ == Mode::health)
    split_grpc_target(target_, server_, service_);
  else
    server_ = target_;
  std::string err;
  if (auto hp = split_host_port(server_, &err)) {
    host_port_ = *hp;
    literal_ = literal_addresses(host_port_.host, host_port_.port, addresses_);
  } else {
    config_error_ = err;
  }
  request_ = encode_health_request(service_);
  uint64_t ms = static_cast<uint64_t>(timeout_ / kMillisecond);
  timeout_header_ = std::to_string(std::max<uint64_t>(ms, 1)) + "m";
  start();
}

GrpcCheck::~GrpcCheck() {
  end_session();
}

const nghttp2_session_callbacks* GrpcCheck::callbacks() {
  // Made once and kept for the life of the process (reachable, not leaked).
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c = nullptr;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_header_callback(c, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, on_stream_close);
    return c;
  }();
  return cbs;
}

void GrpcCheck::probe() {
  if (!config_error_.empty()) {
    if (mode_ == Mode::ping)
      finish(state::kCritical, "Failed to dial to " + target_ + ": " + config_error_);
    else
      fail_rpc(kUnavailable, "connection error: desc = \"transport: Error while dialing: " +
                                 config_error_ + "\"");
    return;
  }
  http_status_ = 0;
  grpc_status_ = -1;
  grpc_message_.clear();
  reader_.reset();
  stream_closed_ = false;
  stream_error_ = 0;
  ping_acked_ = false;
  request_off_ = 0;
  pending_.clear();
  pending_off_ = 0;
  auto connect = [this] {
    const TlsTarget* tls = nullptr;
    if (use_tls_) {
      std::string err;
      tls_.ctx = env_.tls.get(!tls_skip_verify_, Alpn::h2, &err);
      if (!tls_.ctx) {
        on_connect_failed(err);
        return;
      }
      tls_.verify = !tls_skip_verify_;
      tls_.server_name.assign(tls_server_name_.empty() ? host_port_.host : tls_server_name_);
      tls = &tls_;
    }
    conn_.open(addresses_, SOCK_STREAM, tls);
  };
  if (literal_) {
    connect();
    return;
  }
  resolver_.resolve(host_port_.host, host_port_.port, &addresses_,
                    [this, connect](const std::string& err) {
                      if (!err.empty()) {
                        on_connect_failed("dial tcp: " + err);
                        return;
                      }
                      connect();
                    });
}

void GrpcCheck::on_connect_failed(const std::string& error) {
  if (mode_ == Mode::ping) {
    finish(state::kCritical, "Failed to dial to " + target_ + ": " + error);
    return;
  }
  bool tls_failure = error.rfind("tls: ", 0) == 0;
  fail_rpc(kUnavailable, "connection error: desc = \"transport: " +
                             std::string(tls_failure ? "authentication handshake failed: "
                                                     : "Error while dialing: ") +
                             error + "\"");
}

void GrpcCheck::on_connected() {
  if (nghttp2_session_client_new(&session_, callbacks(), this) != 0) {
    conn_.close();
    fail_rpc(kInternal, "cannot create an HTTP/2 session");
    return;
  }
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
  if (mode_ == Mode::ping) {
    nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
  } else {
    static const std::string kPost = "POST", kHttp = "http", kHttps = "https",
                             kGrpc = "application/grpc", kTrailers = "trailers",
                             kAgent = "grpc-cairn-health-check";
    nghttp2_nv nva[] = {header(":method", kPost),      header(":scheme", use_tls_ ? kHttps : kHttp),
                        header(":path", path_header_), header(":authority", server_),
                        header("content-type", kGrpc), header("te", kTrailers),
                        header("user-agent", kAgent),  header("grpc-timeout", timeout_header_)};
    nghttp2_data_provider body;
    body.source.ptr = nullptr;
    body.read_callback = read_request;
    stream_id_ =
        nghttp2_submit_request(session_, nullptr, nva, sizeof nva / sizeof nva[0], &body, nullptr);
    if (stream_id_ < 0) {
      std::string err = nghttp2_strerror(stream_id_);
      end_session();
      conn_.close();
      fail_rpc(kInternal, err);
      return;
    }
  }
  pump();
}

void GrpcCheck::on_ready() {
  pump();
}

bool GrpcCheck::flush() {
  for (;;) {
    if (pending_off_ < pending_.size()) {
      ssize_t n = conn_.write(pending_.data() + pending_off_, pending_.size() - pending_off_);
      if (n == ProbeConnection::kWouldBlock) return true;
      if (n == ProbeConnection::kFailed) return false;
      pending_off_ += static_cast<size_t>(n);
      continue;
    }
    pending_.clear();
    pending_off_ = 0;
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n == 0) return true;
    pending_.assign(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

bool GrpcCheck::pump() {
  char* buf = env_.read_buffer.data();
  size_t cap = env_.read_buffer.size();
  for (;;) {
    if (!flush()) {
      std::string err = conn_.error();
      end_session();
      conn_.close();
      if (mode_ == Mode::ping)
        finish(state::kCritical, "HTTP2 ping failed: " + err);
      else
        fail_rpc(kUnavailable, "connection error: desc = \"transport: " + err + "\"");
      return false;
    }
    if (stream_closed_ || ping_acked_) {
      conclude();
      return false;
    }
    ssize_t n = conn_.read(buf, cap);
    if (n == ProbeConnection::kWouldBlock) break;
    if (n == 0 || n == ProbeConnection::kFailed) {
      std::string err = n == 0 ? "EOF" : conn_.error();
      end_session();
      conn_.close();
      if (mode_ == Mode::ping)
        finish(state::kCritical, "HTTP2 ping failed: " + err);
      else
        fail_rpc(kUnavailable, "error reading from server: " + err);
      return false;
    }
    ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buf),
                                          static_cast<size_t>(n));
    if (rv < 0) {
      std::string err = nghttp2_strerror(static_cast<int>(rv));
      end_session();
      conn_.close();
      if (mode_ == Mode::ping)
        finish(state::kCritical, "HTTP2 ping failed: " + err);
      else
        fail_rpc(kInternal, "transport: " + err);
      return false;
    }
  }
  conn_.watch();
  return true;
}

void GrpcCheck::conclude() {
  end_session();
  conn_.close();
  if (mode_ == Mode::ping) {
    finish(state::kPassing, "HTTP2 ping was successful");
    return;
  }
  if (http_status_ != 200 && grpc_status_ < 0) {
    fail_rpc(code_for_http_status(http_status_),
             "unexpected HTTP status code received from server: " + std::to_string(http_status_));
    return;
  }
  if (grpc_status_ < 0) {
    if (stream_error_ != 0)
      fail_rpc(kInternal, std::string("stream terminated by RST_STREAM with error code: ") +
                              nghttp2_http2_strerror(stream_error_));
    else
      fail_rpc(kInternal, "server closed the stream without sending trailers");
    return;
  }
  if (grpc_status_ != 0) {
    fail_rpc(grpc_code_name(grpc_status_), grpc_message_);
    return;
  }
  std::string err;
  int status = reader_.status(&err);
  if (status < 0) {
    fail_rpc(kInternal, err);
    return;
  }
  if (status == 1) {
    output_.assign("gRPC check ").append(target_).append(": success");
    finish(state::kPassing, output_);
    return;
  }
  output_.assign("gRPC ").append(target_).append(" serving status: ");
  output_.append(serving_status_name(status));
  finish(state::kCritical, output_);
}

void GrpcCheck::fail_rpc(std::string_view code, const std::string& desc) {
  output_.assign("rpc error: code = ").append(code).append(" desc = ").append(desc);
  finish(state::kCritical, output_);
}

void GrpcCheck::end_session() {
  if (session_) {
    nghttp2_session_del(session_);
    session_ = nullptr;
  }
  stream_id_ = -1;
}

void GrpcCheck::timed_out() {
  resolver_.cancel();
  end_session();
  conn_.close();
  if (mode_ == Mode::ping)
    finish(state::kCritical, "HTTP2 ping failed: context deadline exceeded");
  else
    fail_rpc("DeadlineExceeded", "context deadline exceeded");
}

int GrpcCheck::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                         size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                         void* user) {
  auto* self = static_cast<GrpcCheck*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != self->stream_id_) return 0;
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  auto to_int = [](std::string_view s) {
    int out = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() ? out : -1;
  };
  if (n == ":status")
    self->http_status_ = to_int(v);
  else if (n == "grpc-status")
    self->grpc_status_ = to_int(v) < 0 ? 2 : to_int(v);
  else if (n == "grpc-message")
    self->grpc_message_ = decode_grpc_message(v.substr(0, kMaxGrpcMessage));
  return 0;
}

int GrpcCheck::on_data(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                       size_t len, void* user) {
  auto* self = static_cast<GrpcCheck*>(user);
  if (stream_id == self->stream_id_) self->reader_.append(data, len);
  return 0;
}

int GrpcCheck::on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<GrpcCheck*>(user);
  if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK))
    self->ping_acked_ = self->mode_ == Mode::ping;
  return 0;
}

int GrpcCheck::on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                               void* user) {
  auto* self = static_cast<GrpcCheck*>(user);
  if (stream_id != self->stream_id_) return 0;
  self->stream_closed_ = true;
  self->stream_error_ = error_code;
  return 0;
}

ssize_t GrpcCheck::read_request(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                uint32_t* flags, nghttp2_data_source*, void* user) {
  auto* self = static_cast<GrpcCheck*>(user);
  size_t n = std::min(length, self->request_.size() - self->request_off_);
  std::memcpy(buf, self->request_.data() + self->request_off_, n);
  self->request_off_ += n;
  if (self->request_off_ == self->request_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

}  // namespace cairn::checks
