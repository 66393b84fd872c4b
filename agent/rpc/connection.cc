#include "agent/rpc/connection.h"

#include <algorithm>
#include <deque>
#include <map>
#include <unordered_map>
#include <vector>

#include "agent/rpc/client_session.h"
#include "agent/rpc/tcp_transport.h"
#include "common/uv_handle.h"

namespace cairn::rpc {

Dialer tcp_dialer(const net::Endpoint& server, uint64_t connect_timeout_ms) {
  return [server, connect_timeout_ms](uv_loop_t* loop, DialCallback done) {
    return std::static_pointer_cast<void>(
        std::make_shared<TcpConnect>(loop, server, connect_timeout_ms, std::move(done)));
  };
}

// Outlives the Connection facade while a callback from the loop is running
// (sessions hold it weakly and lock it for each use).
class ConnectionImpl final : public ClientSession::Owner,
                             public std::enable_shared_from_this<ConnectionImpl> {
 public:
  ConnectionImpl(uv_loop_t* loop, std::string target, Dialer dialer, ConnectionSettings settings)
      : loop_(loop),
        target_(std::move(target)),
        dialer_(std::move(dialer)),
        settings_(std::move(settings)),
        deadline_timer_(loop) {}

  uint64_t add(std::shared_ptr<ClientCall> call, uint64_t timeout_ms);
  void cancel(uint64_t id);
  void set_paused(uint64_t id, bool paused);
  bool active(uint64_t id) const { return calls_.count(id) != 0; }
  void close(const Status& why);
  void detach();
  bool connected() const { return session_ && !session_->closed(); }
  uint64_t last_contact_ms() const {
    return session_ && !session_->closed() ? session_->last_read_ms() : last_contact_;
  }
  size_t pending() const { return calls_.size(); }
  const std::string& target() const { return target_; }

  // ClientSession::Owner
  void finish(const std::shared_ptr<ClientCall>& call, Status status, std::string body) override;
  void retry(const std::shared_ptr<ClientCall>& call) override;
  void on_goaway(ClientSession& session) override;
  void on_session_closed(ClientSession& session) override;

 private:
  void start(const std::shared_ptr<ClientCall>& call);
  void retire_current();
  void dial();
  void on_dialed(std::unique_ptr<Transport> transport, Status status);
  void arm_deadline_timer();
  void on_deadlines();
  void forget_deadline(const ClientCall& call);
  void note_contact();

  uv_loop_t* loop_;
  std::string target_;
  Dialer dialer_;
  ConnectionSettings settings_;
  std::shared_ptr<void> dialing_;
  std::shared_ptr<ClientSession> session_;
  // Sessions that got GOAWAY: they finish their calls, then close.
  std::vector<std::shared_ptr<ClientSession>> draining_;
  std::unordered_map<uint64_t, std::shared_ptr<ClientCall>> calls_;
  std::deque<std::shared_ptr<ClientCall>> waiting_;  // for the connection to be up
  std::multimap<uint64_t, uint64_t> deadlines_;      // loop ms -> call id
  Timer deadline_timer_;
  uint64_t next_id_ = 1;
  uint64_t last_contact_ = 0;
  bool detached_ = false;
};

uint64_t ConnectionImpl::add(std::shared_ptr<ClientCall> call, uint64_t timeout_ms) {
  call->id = next_id_++;
  calls_[call->id] = call;
  if (timeout_ms > 0) {
    call->deadline_ms = uv_now(loop_) + timeout_ms;
    deadlines_.emplace(call->deadline_ms, call->id);
    arm_deadline_timer();
  }
  start(call);
  return call->id;
}

void ConnectionImpl::start(const std::shared_ptr<ClientCall>& call) {
  if (session_ && session_->accepting()) {
    if (session_->submit(call)) return;
    // Out of stream ids (after 2^30 calls) or broken: finish there, go on anew.
    retire_current();
  }
  waiting_.push_back(call);
  dial();
}

void ConnectionImpl::retire_current() {
  if (!session_) return;
  std::shared_ptr<ClientSession> s = std::move(session_);
  session_.reset();
  draining_.push_back(s);
  s->retire();
}

void ConnectionImpl::dial() {
  if (dialing_ || detached_) return;
  if (session_ && session_->accepting()) return;
  std::weak_ptr<ConnectionImpl> weak = weak_from_this();
  dialing_ = dialer_(loop_, [weak](std::unique_ptr<Transport> transport, Status status) {
    if (auto self = weak.lock()) self->on_dialed(std::move(transport), std::move(status));
  });
}

void ConnectionImpl::on_dialed(std::unique_ptr<Transport> transport, Status status) {
  auto keep = std::move(dialing_);  // the attempt is finishing its own callback
  dialing_.reset();
  std::deque<std::shared_ptr<ClientCall>> waiting = std::move(waiting_);
  waiting_.clear();
  if (status.ok() && transport) {
    retire_current();
    session_ =
        std::make_shared<ClientSession>(loop_, std::move(transport), settings_, weak_from_this());
    if (!session_->start()) {
      session_.reset();
      status = Status(Status::Code::internal, "cannot start an HTTP/2 session");
    }
  }
  if (!session_) {
    if (status.ok()) status = Status(Status::Code::unavailable, "connect failed");
    for (auto& call : waiting) finish(call, status, {});
    return;
  }
  note_contact();
  for (auto& call : waiting) {
    if (call->finished) continue;
    if (!session_->submit(call))
      finish(call, Status(Status::Code::unavailable, "connection closed"), {});
  }
}

void ConnectionImpl::note_contact() {
  last_contact_ = uv_now(loop_);
}

void ConnectionImpl::finish(const std::shared_ptr<ClientCall>& call, Status status,
                            std::string body) {
  if (call->finished) return;
  call->finished = true;
  calls_.erase(call->id);
  forget_deadline(*call);
  if (call->session && !call->session->closed()) last_contact_ = call->session->last_read_ms();
  if (detached_) return;
  if (call->streaming) {
    auto on_end = std::move(call->on_end);
    call->on_message = nullptr;
    if (on_end) on_end(std::move(status));
  } else {
    auto done = std::move(call->on_done);
    if (done) done(std::move(status), std::move(body));
  }
}

void ConnectionImpl::forget_deadline(const ClientCall& call) {
  if (call.deadline_ms == 0) return;
  auto [b, e] = deadlines_.equal_range(call.deadline_ms);
  for (auto it = b; it != e; ++it) {
    if (it->second == call.id) {
      deadlines_.erase(it);
      break;
    }
  }
}

void ConnectionImpl::arm_deadline_timer() {
  if (deadlines_.empty()) {
    deadline_timer_.stop();
    return;
  }
  uint64_t now = uv_now(loop_);
  uint64_t first = deadlines_.begin()->first;
  deadline_timer_.start(first > now ? first - now : 0, 0, [this] {
    auto self = shared_from_this();
    on_deadlines();
  });
}

void ConnectionImpl::on_deadlines() {
  uint64_t now = uv_now(loop_);
  std::vector<std::shared_ptr<ClientCall>> expired;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    auto it = calls_.find(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    if (it != calls_.end()) expired.push_back(it->second);
  }
  for (auto& call : expired) {
    if (call->finished) continue;
    call->deadline_ms = 0;  // already out of deadlines_
    Status status =
        call->sent
            ? Status(Status::Code::unknown_outcome, "deadline passed after the request was sent")
            : Status(Status::Code::timeout, "deadline passed before the request was sent");
    if (call->session) call->session->cancel(*call);
    call->finished = false;  // cancel() marks it; the caller is told below
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), call), waiting_.end());
    finish(call, std::move(status), {});
  }
  if (!detached_) arm_deadline_timer();
}

void ConnectionImpl::cancel(uint64_t id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  std::shared_ptr<ClientCall> call = it->second;
  calls_.erase(it);
  forget_deadline(*call);
  call->finished = true;
  call->on_message = nullptr;
  call->on_end = nullptr;
  call->on_done = nullptr;
  if (call->session) call->session->cancel(*call);
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), call), waiting_.end());
}

void ConnectionImpl::set_paused(uint64_t id, bool paused) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  std::shared_ptr<ClientCall> call = it->second;
  if (paused) {
    call->paused = true;
  } else if (call->session) {
    call->session->resume(*call);
  } else {
    call->paused = false;
  }
}

void ConnectionImpl::retry(const std::shared_ptr<ClientCall>& call) {
  if (call->finished || detached_) return;
  call->reset_attempt();
  start(call);
}

void ConnectionImpl::on_goaway(ClientSession& session) {
  // It finishes what it has; new calls go to a new connection.
  if (session_.get() == &session) retire_current();
}

void ConnectionImpl::on_session_closed(ClientSession& session) {
  if (session_.get() == &session) {
    last_contact_ = session.last_read_ms();
    session_.reset();
  } else {
    draining_.erase(std::remove_if(draining_.begin(), draining_.end(),
                                   [&](const auto& s) { return s.get() == &session; }),
                    draining_.end());
  }
}

void ConnectionImpl::close(const Status& why) {
  auto keep = shared_from_this();
  dialing_.reset();
  std::deque<std::shared_ptr<ClientCall>> waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& call : waiting) finish(call, Status(Status::Code::unavailable, why.message), {});
  if (auto s = session_) s->close(why);
  std::vector<std::shared_ptr<ClientSession>> draining = draining_;
  for (auto& s : draining) s->close(why);
}

void ConnectionImpl::detach() {
  detached_ = true;
  deadline_timer_.stop();
  dialing_.reset();
  waiting_.clear();
  for (auto& [id, call] : calls_) call->finished = true;
  calls_.clear();
  deadlines_.clear();
  if (session_) session_->abandon();
  for (auto& s : draining_) s->abandon();
  session_.reset();
  draining_.clear();
}

// --- facade ---

Connection::Connection(uv_loop_t* loop, const net::Endpoint& server, ConnectionSettings settings)
    : Connection(loop, server.to_string(), tcp_dialer(server, settings.connect_timeout_ms),
                 settings) {}

Connection::Connection(uv_loop_t* loop, std::string target, Dialer dialer,
                       ConnectionSettings settings)
    : impl_(std::make_shared<ConnectionImpl>(loop, std::move(target), std::move(dialer),
                                             std::move(settings))) {}

Connection::~Connection() {
  impl_->detach();
}

namespace {

// A call or stream's request, ready to send (and to resend once if refused unrun).
std::shared_ptr<ClientCall> new_call(std::string_view method, std::string body, std::string token) {
  auto call = std::make_shared<ClientCall>();
  call->method = method;
  call->token = std::move(token);
  call->body_size = body.size();
  call->request.assign(std::move(body));
  call->request.finish();
  call->request.keep_for_retry();
  return call;
}

}  // namespace

void Connection::call(std::string_view method, std::string body, uint64_t timeout_ms,
                      CallCallback done, std::string token) {
  auto call = new_call(method, std::move(body), std::move(token));
  call->on_done = std::move(done);
  impl_->add(std::move(call), timeout_ms);
}

Stream Connection::open_stream(std::string_view method, std::string body,
                               MessageCallback on_message, EndCallback on_end, std::string token) {
  auto call = new_call(method, std::move(body), std::move(token));
  call->streaming = true;
  call->on_message = std::move(on_message);
  call->on_end = std::move(on_end);
  uint64_t id = impl_->add(std::move(call), 0);
  return Stream(impl_, id);
}

void Connection::close() {
  impl_->close(Status(Status::Code::unavailable, "connection closed by the client"));
}

bool Connection::connected() const {
  return impl_->connected();
}

uint64_t Connection::last_contact_ms() const {
  return impl_->last_contact_ms();
}

size_t Connection::pending_calls() const {
  return impl_->pending();
}

const std::string& Connection::target() const {
  return impl_->target();
}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    cancel();
    conn_ = std::move(o.conn_);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

void Stream::cancel() {
  if (id_ == 0) return;
  if (auto c = conn_.lock()) c->cancel(id_);
  id_ = 0;
}

bool Stream::active() const {
  auto c = conn_.lock();
  return c && id_ != 0 && c->active(id_);
}

void Stream::pause() {
  if (auto c = conn_.lock()) c->set_paused(id_, true);
}

void Stream::resume() {
  if (auto c = conn_.lock()) c->set_paused(id_, false);
}

}  // namespace cairn::rpc
