#include "agent/rpc/client_session.h"

#include <algorithm>

namespace cairn::rpc {

namespace {

nghttp2_nv nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

// The status a server put in cairn-status / cairn-message.
Status parse_status(bool present, const std::string& name, const std::string& message,
                    int http_status) {
  if (!present)
    return Status(Status::Code::version_mismatch,
                  "not a cairn RPC server (HTTP status " + std::to_string(http_status) + ")");
  Status::Code code;
  if (!parse_code(name, code))
    return Status(Status::Code::internal, "unknown status '" + name.substr(0, 64) + "'");
  return Status(code, message);
}

}  // namespace

ClientSession::ClientSession(uv_loop_t* loop, std::unique_ptr<Transport> transport,
                             const ConnectionSettings& settings, std::weak_ptr<Owner> owner)
    : Http2Session(loop, std::move(transport), settings),
      settings_(settings),
      owner_(std::move(owner)) {}

ClientSession::~ClientSession() {
  owner_.reset();
  close(Status(Status::Code::cancelled, "connection dropped"));
}

bool ClientSession::start() {
  nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.stream_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(settings_.max_header_bytes)},
  };
  // Manual window updates: a paused stream holds its window shut.
  return open(false, entries, sizeof entries / sizeof entries[0], true);
}

bool ClientSession::submit(const std::shared_ptr<ClientCall>& call) {
  if (!accepting()) return false;
  std::string path = std::string(wire::kPathPrefix) + call->method;
  std::string length = std::to_string(call->body_size);
  nghttp2_nv nva[8] = {nv(":method", "POST"),
                       nv(":scheme", "http"),
                       nv(":path", path),
                       nv(":authority", settings_.authority),
                       nv(wire::kVersionHeader, wire::kVersion),
                       nv("content-length", length),
                       nv(wire::kTokenHeader, call->token)};
  size_t count = call->token.empty() ? 6 : 7;
  nghttp2_data_provider provider = call->request.provider();
  int32_t id = nghttp2_submit_request(session_, nullptr, nva, count,
                                      call->body_size == 0 ? nullptr : &provider, nullptr);
  if (id < 0) return false;
  call->session = this;
  call->stream_id = id;
  if (call->streaming)
    call->reader = std::make_unique<wire::MessageReader>(settings_.max_message_bytes);
  calls_[id] = call;
  schedule_flush();
  return true;
}

std::shared_ptr<ClientCall> ClientSession::find(int32_t stream_id) const {
  auto it = calls_.find(stream_id);
  return it == calls_.end() ? nullptr : it->second;
}

void ClientSession::cancel(ClientCall& call) {
  call.finished = true;
  if (call.session != this || closed()) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call.stream_id, NGHTTP2_CANCEL);
  schedule_flush();
}

void ClientSession::resume(ClientCall& call) {
  call.paused = false;
  if (call.session != this || closed() || call.held.empty()) return;
  std::string held = std::move(call.held);
  call.held.clear();
  auto self = find(call.stream_id);
  if (!self) return;
  deliver(self, reinterpret_cast<const uint8_t*>(held.data()), held.size());
  if (!closed()) {
    nghttp2_session_consume(session_, call.stream_id, held.size());
    schedule_flush();
  }
}

void ClientSession::retire() {
  retired_ = true;
  close_if_retired();
}

void ClientSession::close_if_retired() {
  if (!retired_ || !calls_.empty() || closed()) return;
  // GOAWAY, then nghttp2 wants nothing more and the session closes.
  nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
  schedule_flush();
}

void ClientSession::abandon() {
  owner_.reset();
  close(Status(Status::Code::cancelled, "connection dropped"));
}

void ClientSession::finish(const std::shared_ptr<ClientCall>& call, Status status,
                           std::string body) {
  if (call->finished) return;
  if (auto owner = owner_.lock()) {
    owner->finish(call, std::move(status), std::move(body));
  }
  call->finished = true;
}

void ClientSession::fail(const std::shared_ptr<ClientCall>& call, Status status) {
  if (call->finished) return;
  if (!closed()) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call->stream_id, NGHTTP2_CANCEL);
    schedule_flush();
  }
  finish(call, std::move(status), {});
}

int ClientSession::on_begin_headers(const nghttp2_frame&) {
  return 0;
}

int ClientSession::on_header(const nghttp2_frame& frame, std::string_view name,
                             std::string_view value) {
  if (frame.hd.type != NGHTTP2_HEADERS) return 0;
  auto call = find(frame.hd.stream_id);
  if (!call) return 0;
  call->header_bytes += name.size() + value.size() + 32;
  if (call->header_bytes > settings_.max_header_bytes) return 0;  // the rest is ignored
  value = value.substr(0, wire::kMaxStatusMessage);
  bool trailers = frame.headers.cat == NGHTTP2_HCAT_HEADERS;
  if (name == ":status") {
    int s = 0;
    for (char c : value) s = s * 10 + (c - '0');  // nghttp2 checked: three digits
    call->http_status = s;
  } else if (name == wire::kStatusHeader) {
    (trailers ? call->trailer_status : call->status_name) = value;
    (trailers ? call->got_trailers : call->got_status) = true;
  } else if (name == wire::kMessageHeader) {
    (trailers ? call->trailer_message : call->status_message) = value;
  }
  return 0;
}

int ClientSession::on_frame_recv(const nghttp2_frame& frame) {
  if (frame.hd.type == NGHTTP2_GOAWAY) {
    goaway_ = true;
    if (auto owner = owner_.lock()) owner->on_goaway(*this);
    return 0;
  }
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
  if ((frame.hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  auto call = find(frame.hd.stream_id);
  if (call && !call->finished) complete(call);
  return 0;
}

// The server ended its side: the answer is whole.
void ClientSession::complete(const std::shared_ptr<ClientCall>& call) {
  // Still sending a body the server no longer wants (it answered early).
  if (nghttp2_session_get_stream_local_close(session_, call->stream_id) == 0) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call->stream_id, NGHTTP2_NO_ERROR);
    schedule_flush();
  }
  Status status =
      parse_status(call->got_status, call->status_name, call->status_message, call->http_status);
  if (!call->streaming) {
    buffered_ -= call->response.size();
    std::string body = std::move(call->response);
    call->response.clear();
    finish(call, std::move(status), std::move(body));
    return;
  }
  // Paused or not, what arrived is delivered before the end: the window
  // no longer matters once the server is done.
  if (!call->held.empty()) {
    std::string held = std::move(call->held);
    call->held.clear();
    nghttp2_session_consume(session_, call->stream_id, held.size());
    deliver(call, reinterpret_cast<const uint8_t*>(held.data()), held.size());
    if (call->finished || closed()) return;
  }
  if (status.ok() && call->got_trailers)
    status = parse_status(true, call->trailer_status, call->trailer_message, call->http_status);
  else if (status.ok() && call->reader && call->reader->mid_message())
    status = Status(Status::Code::internal, "stream ended inside a message");
  finish(call, std::move(status), {});
}

int ClientSession::on_data_chunk(uint8_t, int32_t stream_id, const uint8_t* data, size_t len) {
  auto call = find(stream_id);
  if (!call || call->finished) {
    nghttp2_session_consume(session_, stream_id, len);
    return 0;
  }
  if (call->streaming) {
    if (call->paused) {
      call->held.append(reinterpret_cast<const char*>(data), len);  // bounded by the window
      return 0;
    }
    deliver(call, data, len);
    if (!closed()) nghttp2_session_consume(session_, stream_id, len);
    return closed() ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
  }
  nghttp2_session_consume(session_, stream_id, len);
  if (call->response.size() + len > settings_.max_message_bytes) {
    buffered_ -= call->response.size();
    call->response.clear();
    fail(call, Status(Status::Code::too_large,
                      "answer over " + std::to_string(settings_.max_message_bytes) + " bytes"));
    return 0;
  }
  if (buffered_ + len > settings_.max_buffered_bytes) {
    buffered_ -= call->response.size();
    call->response.clear();
    fail(call, Status(Status::Code::exhausted, "answers being received over " +
                                                   std::to_string(settings_.max_buffered_bytes) +
                                                   " bytes"));
    return 0;
  }
  call->response.append(reinterpret_cast<const char*>(data), len);
  buffered_ += len;
  return 0;
}

void ClientSession::deliver(const std::shared_ptr<ClientCall>& call, const uint8_t* data,
                            size_t len) {
  auto result = call->reader->feed(data, len, [&](std::string_view message) {
    if (!call->finished && call->on_message) call->on_message(message);
  });
  if (result == wire::MessageReader::Result::too_large && !call->finished)
    fail(call,
         Status(Status::Code::too_large,
                "stream message over " + std::to_string(settings_.max_message_bytes) + " bytes"));
}

void ClientSession::on_frame_send(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS || frame.headers.cat != NGHTTP2_HCAT_REQUEST) return;
  if (auto call = find(frame.hd.stream_id)) call->sent = true;
}

int ClientSession::on_stream_close(int32_t stream_id, uint32_t error_code) {
  auto it = calls_.find(stream_id);
  if (it == calls_.end()) return 0;
  std::shared_ptr<ClientCall> call = std::move(it->second);
  calls_.erase(it);
  call->session = nullptr;
  // Bytes held for a paused stream still count against the connection window.
  if (!call->held.empty()) {
    nghttp2_session_consume_connection(session_, call->held.size());
    call->held.clear();
  }
  if (!call->streaming) {
    buffered_ -= call->response.size();
    call->response.clear();
  }
  close_if_retired();
  if (call->finished) return 0;
  Status status;
  if (error_code == NGHTTP2_REFUSED_STREAM) {
    status = Status(Status::Code::unavailable, "refused by the server (not processed)");
  } else if (error_code == NGHTTP2_ENHANCE_YOUR_CALM) {
    status = Status(Status::Code::exhausted, "the server reset the stream: client not reading");
  } else {
    std::string what = "stream reset by the server (" + h2_error_name(error_code) + ")";
    status = call->sent ? Status(Status::Code::unknown_outcome, what)
                        : Status(Status::Code::unavailable, what);
  }
  finish(call, std::move(status), {});
  return 0;
}

void ClientSession::on_closed(const Status& why) {
  std::vector<std::shared_ptr<ClientCall>> open;
  for (auto& [id, call] : calls_) open.push_back(call);
  for (auto& call : open) {
    call->session = nullptr;
    if (call->finished) continue;
    finish(call,
           call->sent ? Status(Status::Code::unknown_outcome,
                               "connection lost after the request was sent: " + why.message)
                      : Status(Status::Code::unavailable,
                               "connection lost before the request was sent: " + why.message),
           {});
  }
  if (auto owner = owner_.lock()) owner->on_session_closed(*this);
}

}  // namespace cairn::rpc
