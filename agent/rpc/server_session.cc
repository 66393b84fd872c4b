#include "agent/rpc/server_session.h"

#include <charconv>
#include <exception>

#include "agent/rpc/wire.h"
#include "common/log.h"

namespace cairn::rpc {

namespace {

constexpr std::string_view kLog = "agent.rpc";
constexpr std::string_view kPost = "POST";

// A header nghttp2 copies on submit.
nghttp2_nv nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

ServerSession::ServerSession(uv_loop_t* loop, std::unique_ptr<Transport> transport,
                             const ServerSettings& settings, const Router& router,
                             ServerStats& stats, Owner* owner)
    : Http2Session(loop, std::move(transport), settings),
      settings_(settings),
      router_(&router),
      stats_(stats),
      owner_(owner) {}

ServerSession::~ServerSession() {
  owner_ = nullptr;
  close(Status(Status::Code::unavailable, "server stopped"));
}

bool ServerSession::start() {
  nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.stream_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(settings_.max_header_bytes)},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  idle_since_ = now();
  return open(true, entries, sizeof entries / sizeof entries[0], false);
}

ServerCall* ServerSession::find(int32_t stream_id) const {
  auto it = calls_.find(stream_id);
  return it == calls_.end() ? nullptr : it->second.get();
}

int ServerSession::on_begin_headers(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS || frame.headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto call = std::make_shared<ServerCall>();
  call->session = this;
  call->stream_id = frame.hd.stream_id;
  call->out.count_in(&queued_total_);
  calls_[frame.hd.stream_id] = std::move(call);
  return 0;
}

int ServerSession::on_header(const nghttp2_frame& frame, std::string_view name,
                             std::string_view value) {
  ServerCall* call = find(frame.hd.stream_id);
  if (call == nullptr) return 0;
  // HPACK's own accounting: 32 bytes of overhead per field.
  call->header_bytes += name.size() + value.size() + 32;
  if (call->header_bytes > settings_.max_header_bytes) {
    if (call->reject.ok())
      call->reject =
          Status(Status::Code::too_large,
                 "request headers over " + std::to_string(settings_.max_header_bytes) + " bytes");
    return 0;
  }
  if (frame.headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers: nothing we use
  if (name == ":method") {
    call->http_method = value;
  } else if (name == ":path") {
    call->path = value;
  } else if (name == wire::kVersionHeader) {
    call->version = value;
  } else if (name == wire::kTokenHeader) {
    call->token = value;
  } else if (name == "content-length") {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec == std::errc() && end == value.data() + value.size() &&
        n > settings_.max_message_bytes && call->reject.ok())
      call->reject =
          Status(Status::Code::too_large, "request body of " + std::to_string(n) + " bytes over " +
                                              std::to_string(settings_.max_message_bytes));
  }
  return 0;
}

void ServerSession::check_request(ServerCall& call) {
  using Code = Status::Code;
  if (!call.reject.ok()) return;
  if (call.version != wire::kVersion) {
    call.reject =
        Status(Code::version_mismatch,
               "server speaks cairn-rpc " + std::string(wire::kVersion) +
                   (call.version.empty() ? ", request has none" : ", request has " + call.version));
    return;
  }
  if (call.http_method != kPost) {
    call.reject = Status(Code::bad_request, "method must be POST");
    return;
  }
  std::string_view path = call.path;
  if (path.substr(0, wire::kPathPrefix.size()) != wire::kPathPrefix ||
      !wire::valid_method(path.substr(wire::kPathPrefix.size()))) {
    call.reject = Status(Code::bad_request, "path must be /cairn/v1/<Method>");
    return;
  }
  call.method = path.substr(wire::kPathPrefix.size());
  call.route = router_ ? router_->find(call.method) : nullptr;
  if (call.route == nullptr) call.reject = Status(Code::not_found, "no method " + call.method);
}

void ServerSession::reject(ServerCall& call, Status status) {
  ++stats_.rejected_calls;
  switch (status.code) {
    case Status::Code::version_mismatch:
      ++stats_.version_mismatches;
      break;
    case Status::Code::not_found:
      ++stats_.not_found;
      break;
    case Status::Code::too_large:
      ++stats_.too_large;
      break;
    default:
      ++stats_.bad_requests;
  }
  drop_request_body(call);
  call.reset_after_answer = !call.request_ended;
  respond(call, std::move(status), {});
}

int ServerSession::on_frame_recv(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
  auto it = calls_.find(frame.hd.stream_id);
  if (it == calls_.end()) return 0;
  std::shared_ptr<ServerCall> call = it->second;
  bool ended = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (ended) call->request_ended = true;
  if (frame.hd.type == NGHTTP2_HEADERS && frame.headers.cat == NGHTTP2_HCAT_REQUEST) {
    check_request(*call);
    if (!call->reject.ok()) {
      reject(*call, call->reject);
      return 0;
    }
  }
  if (ended && !call->answered && !call->dispatched && call->reject.ok()) dispatch(call);
  return 0;
}

int ServerSession::on_data_chunk(uint8_t, int32_t stream_id, const uint8_t* data, size_t len) {
  ServerCall* call = find(stream_id);
  if (call == nullptr || call->answered || call->dispatched) return 0;  // discarded
  if (call->body.size() + len > settings_.max_message_bytes) {
    reject(*call,
           Status(Status::Code::too_large,
                  "request body over " + std::to_string(settings_.max_message_bytes) + " bytes"));
    return 0;
  }
  if (buffered_ + len > settings_.max_buffered_bytes) {
    // Nothing of this call ran: the client may retry it (unavailable).
    ++stats_.refused_buffer_full;
    drop_request_body(*call);
    call->answered = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
    return 0;
  }
  call->body.append(reinterpret_cast<const char*>(data), len);
  buffered_ += len;
  return 0;
}

void ServerSession::drop_request_body(ServerCall& call) {
  buffered_ -= call.body.size();
  call.body.clear();
  call.body.shrink_to_fit();
}

void ServerSession::dispatch(const std::shared_ptr<ServerCall>& call) {
  call->dispatched = true;
  buffered_ -= call->body.size();
  Request request{call->method, std::move(call->body), std::move(call->token), peer()};
  call->body.clear();
  const Route* route = call->route;
  ++stats_.calls;
  if (route->stream) ++stats_.streams;
  auto handle = std::make_shared<detail::CallHandle>(call, route->stream != nullptr);
  // Handlers must not throw; one that does must not unwind through nghttp2's
  // C frames. (handle stays alive here so a throw answers with its message.)
  try {
    if (route->stream)
      route->stream(std::move(request), StreamWriter(handle));
    else
      route->unary(std::move(request), Responder(handle));
  } catch (const std::exception& e) {
    log::error(kLog, "RPC handler threw", {{"method", call->method}, {"error", e.what()}});
    if (call->response_started)
      end_stream(*call, Status(Status::Code::internal, e.what()));
    else
      respond(*call, Status(Status::Code::internal, e.what()), {});
  }
}

void ServerSession::respond(ServerCall& call, Status status, std::string body) {
  if (call.session != this || call.answered || closed()) return;
  call.answered = true;
  if (body.size() > settings_.max_message_bytes) {
    log::warn(kLog, "RPC answer over the message bound",
              {{"method", call.method}, {"bytes", std::to_string(body.size())}});
    status = Status(Status::Code::too_large, "response of " + std::to_string(body.size()) +
                                                 " bytes over " +
                                                 std::to_string(settings_.max_message_bytes));
    body.clear();
  }
  std::string code(code_name(status.code));
  std::string message = wire::header_safe(status.message);
  std::string length = std::to_string(body.size());
  nghttp2_nv nva[4] = {nv(":status", "200"), nv(wire::kStatusHeader, code),
                       nv("content-length", length), nv(wire::kMessageHeader, message)};
  size_t count = message.empty() ? 3 : 4;
  int rv;
  if (body.empty()) {
    rv = nghttp2_submit_response(session_, call.stream_id, nva, count, nullptr);
  } else {
    call.out.assign(std::move(body));
    call.out.finish();
    nghttp2_data_provider provider = call.out.provider();
    rv = nghttp2_submit_response(session_, call.stream_id, nva, count, &provider);
  }
  if (rv != 0) {
    call.out.clear();
    return;
  }
  if (over_connection_budget()) return;
  schedule_flush();
}

void ServerSession::start_stream_response(ServerCall& call) {
  call.response_started = true;
  std::string code(code_name(Status::Code::ok));
  nghttp2_nv nva[2] = {nv(":status", "200"), nv(wire::kStatusHeader, code)};
  nghttp2_data_provider provider = call.out.provider();
  nghttp2_submit_response(session_, call.stream_id, nva, 2, &provider);
}

size_t ServerSession::send(ServerCall& call, std::string_view message) {
  if (call.session != this || call.answered || closed()) return 0;
  if (message.size() > settings_.max_message_bytes) {
    end_stream(call, Status(Status::Code::too_large,
                            "message of " + std::to_string(message.size()) + " bytes over " +
                                std::to_string(settings_.max_message_bytes)));
    return 0;
  }
  if (!call.response_started) start_stream_response(call);
  std::string prefix;
  wire::append_message(prefix, {});
  auto n = static_cast<uint32_t>(message.size());
  prefix[0] = static_cast<char>(n >> 24);
  prefix[1] = static_cast<char>(n >> 16);
  prefix[2] = static_cast<char>(n >> 8);
  prefix[3] = static_cast<char>(n);
  bool resume = call.out.append(prefix);
  resume = call.out.append(message) || resume;
  if (resume) nghttp2_session_resume_data(session_, call.stream_id);
  if (call.out.pending() > settings_.max_stream_queued_bytes) {
    ++stats_.streams_exhausted;
    reset_stream(call, NGHTTP2_ENHANCE_YOUR_CALM,
                 Status(Status::Code::exhausted,
                        "client not reading: over " +
                            std::to_string(settings_.max_stream_queued_bytes) + " bytes queued"));
    return 0;
  }
  if (over_connection_budget()) return 0;
  if (call.out.pending() > StreamWriter::kWritableLowWater && !call.wants_writable) {
    call.wants_writable = true;
    writable_watch_.push_back(call.stream_id);
  }
  schedule_flush();
  return call.out.pending();
}

void ServerSession::end_stream(ServerCall& call, Status status) {
  if (call.session != this || call.answered || closed()) return;
  if (!call.response_started) {
    respond(call, std::move(status), {});
    return;
  }
  call.answered = true;
  if (call.out.finish_with_trailers(std::string(code_name(status.code)),
                                    wire::header_safe(status.message)))
    nghttp2_session_resume_data(session_, call.stream_id);
  schedule_flush();
}

bool ServerSession::over_connection_budget() {
  if (queued_total_ <= settings_.max_connection_queued_bytes) return false;
  ++stats_.slow_readers_closed;
  log::warn(kLog, "RPC client not reading its answers; closing the connection",
            {{"peer", peer()}, {"queued_bytes", std::to_string(queued_total_)}});
  close(Status(Status::Code::exhausted, "client not reading"));
  return true;
}

void ServerSession::reset_stream(ServerCall& call, uint32_t h2_error, const Status& why) {
  call.out.clear();
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call.stream_id, h2_error);
  cancel(call, why);
  schedule_flush();
}

void ServerSession::cancel(ServerCall& call, const Status& why) {
  if (call.answered) return;
  call.answered = true;
  if (call.dispatched) ++stats_.cancelled;
  fire_cancel(call, why);
}

void ServerSession::fire_cancel(ServerCall& call, const Status& why) {
  if (auto hook = std::move(call.on_cancel)) hook(why);
}

void ServerSession::on_frame_send(const nghttp2_frame& frame) {
  // An early answer (a rejected call) is out: ask the client to stop
  // sending the rest of its body (RFC 9113 §8.1, RST_STREAM NO_ERROR).
  if ((frame.hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return;
  ServerCall* call = find(frame.hd.stream_id);
  if (call && call->reset_after_answer && !call->request_ended) {
    call->reset_after_answer = false;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call->stream_id, NGHTTP2_NO_ERROR);
  }
}

int ServerSession::on_stream_close(int32_t stream_id, uint32_t error_code) {
  auto it = calls_.find(stream_id);
  if (it == calls_.end()) return 0;
  std::shared_ptr<ServerCall> call = std::move(it->second);
  calls_.erase(it);
  if (!call->dispatched) drop_request_body(*call);
  call->out.clear();
  call->session = nullptr;
  if (calls_.empty()) idle_since_ = now();
  if (!call->answered) {
    cancel(*call, Status(Status::Code::cancelled,
                         error_code == NGHTTP2_NO_ERROR
                             ? "stream closed by client"
                             : "stream reset by client (" + h2_error_name(error_code) + ")"));
  }
  return 0;
}

void ServerSession::after_send() {
  if (writable_watch_.empty()) return;
  std::vector<int32_t> watch = std::move(writable_watch_);
  writable_watch_.clear();
  for (int32_t id : watch) {
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    std::shared_ptr<ServerCall> call = it->second;
    if (call->answered) continue;
    if (call->out.pending() > StreamWriter::kWritableLowWater) {
      writable_watch_.push_back(id);
      continue;
    }
    call->wants_writable = false;
    if (call->on_writable) call->on_writable();
  }
}

void ServerSession::shutdown() {
  if (closed() || draining_) return;
  draining_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  // Subscriptions end now so their clients resubscribe elsewhere; unary
  // calls already received still get their answers.
  std::vector<std::shared_ptr<ServerCall>> open;
  for (auto& [id, call] : calls_)
    if (call->dispatched && call->route && call->route->stream && !call->answered)
      open.push_back(call);
  Status why(Status::Code::unavailable, "server shutting down");
  for (auto& call : open) {
    end_stream(*call, why);
    fire_cancel(*call, why);  // the writer hears it too
  }
  flush();
}

void ServerSession::refuse() {
  if (closed()) return;
  draining_ = true;
  nghttp2_session_terminate_session2(session_, 0, NGHTTP2_REFUSED_STREAM);
  flush();
}

void ServerSession::abandon() {
  owner_ = nullptr;
  router_ = nullptr;
  close(Status(Status::Code::unavailable, "server stopped"));
}

void ServerSession::on_tick() {
  if (draining_ || !calls_.empty()) return;
  if (now() - idle_since_ < settings_.idle_timeout_ms) return;
  ++stats_.idle_closed;
  draining_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  flush();
}

void ServerSession::on_closed(const Status& why) {
  if (why.code == Status::Code::bad_request) ++stats_.protocol_errors;
  if (why.code == Status::Code::timeout) ++stats_.keepalive_closed;
  std::vector<std::shared_ptr<ServerCall>> open;
  for (auto& [id, call] : calls_) open.push_back(call);
  Status cancelled(Status::Code::cancelled, "connection closed: " + why.message);
  for (auto& call : open) {
    call->session = nullptr;
    cancel(*call, cancelled);
  }
  if (Owner* owner = owner_) {
    owner_ = nullptr;
    owner->on_session_closed(*this);
  }
}

// --- the handles ---

namespace detail {
CallHandle::~CallHandle() {
  ServerSession* session = call->session;
  if (session == nullptr || call->answered) return;
  Status dropped(Status::Code::internal, "handler dropped the call");
  if (stream)
    session->end_stream(*call, dropped);
  else
    session->respond(*call, dropped, {});
}
}  // namespace detail

void Responder::reply(std::string body) {
  if (!handle_) return;
  ServerCall& call = *handle_->call;
  if (call.session) call.session->respond(call, Status(), std::move(body));
}

void Responder::fail(Status status, std::string body) {
  if (!handle_) return;
  ServerCall& call = *handle_->call;
  if (call.session) call.session->respond(call, std::move(status), std::move(body));
}

void Responder::on_cancel(std::function<void(const Status&)> hook) {
  if (handle_) handle_->call->on_cancel = std::move(hook);
}

bool Responder::active() const {
  return handle_ && handle_->call->session && !handle_->call->answered;
}

size_t StreamWriter::send(std::string_view message) {
  if (!handle_) return 0;
  ServerCall& call = *handle_->call;
  return call.session ? call.session->send(call, message) : 0;
}

void StreamWriter::close(Status status) {
  if (!handle_) return;
  ServerCall& call = *handle_->call;
  if (call.session) call.session->end_stream(call, std::move(status));
}

bool StreamWriter::open() const {
  return handle_ && handle_->call->session && !handle_->call->answered;
}

size_t StreamWriter::queued_bytes() const {
  return handle_ && handle_->call->session ? handle_->call->out.pending() : 0;
}

void StreamWriter::on_cancel(std::function<void(const Status&)> hook) {
  if (handle_) handle_->call->on_cancel = std::move(hook);
}

void StreamWriter::on_writable(std::function<void()> hook) {
  if (handle_) handle_->call->on_writable = std::move(hook);
}

}  // namespace cairn::rpc
