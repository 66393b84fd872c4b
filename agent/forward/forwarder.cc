#include "agent/forward/forwarder.h"

#include <algorithm>

#include "agent/forward/forward_service.h"
#include "agent/forward/http_envelope.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/net/address.h"

namespace cairn::forward {

namespace {

constexpr uint64_t kDefaultWaitMs = 5 * 60 * 1000;
constexpr uint64_t kMaxWaitMs = 10 * 60 * 1000;
constexpr uint64_t kBlockingMarginMs = 15'000;

void answer_error(const std::shared_ptr<http::Exchange>& ex, std::string message) {
  ex->respond(http::Response::text(500, std::move(message)));
}

bool is_read(const http::Request& r) {
  return r.method == "GET" || r.method == "HEAD";
}

}  // namespace

struct Forwarder::Call {
  std::string method;
  std::string body;
  uint64_t timeout_ms = 0;
  bool idempotent = false;
  size_t attempts = 0;
  Done done;
};

uint64_t forward_timeout_ms(const http::Request& request, uint64_t call_timeout_ms) {
  if (!request.has_param("index")) return call_timeout_ms;
  uint64_t wait = kDefaultWaitMs;
  if (const std::string* w = request.param("wait"))
    if (auto d = parse_duration(*w); d && *d > 0) wait = static_cast<uint64_t>(*d / kMillisecond);
  wait = std::min(wait, kMaxWaitMs);
  return wait + wait / 16 + std::max(call_timeout_ms, kBlockingMarginMs);
}

Forwarder::Forwarder(uv_loop_t* loop, Settings settings)
    : loop_(loop),
      settings_(std::move(settings)),
      servers_(settings_.seed),
      rebalance_timer_(loop) {}

Forwarder::~Forwarder() {
  *alive_ = false;
}

void Forwarder::set_servers(std::vector<ServerEntry> servers) {
  servers_.update(std::move(servers));
  // Connections to servers that are gone end their calls (retried elsewhere).
  for (auto it = connections_.begin(); it != connections_.end();) {
    bool known = std::any_of(servers_.servers().begin(), servers_.servers().end(),
                             [&](const ServerEntry& s) { return s.name == it->first; });
    it = known ? std::next(it) : connections_.erase(it);
  }
  rebalance_later();
}

void Forwarder::rebalance_later() {
  if (rebalance_timer_.active() || servers_.servers().size() < 2) return;
  double jitter = static_cast<double>(uv_hrtime() % 1000) / 1000.0;
  uint64_t ms = ServerList::rebalance_interval_ms(servers_.servers().size(), 0, jitter);
  rebalance_timer_.start(ms, 0, [this] {
    servers_.rebalance();
    rebalance_later();
  });
}

rpc::Connection& Forwarder::connection_to(const ServerEntry& server) {
  auto& conn = connections_[server.name];
  if (!conn) {
    auto endpoint = net::endpoint_of(server.address, static_cast<uint16_t>(server.port));
    conn = std::make_unique<rpc::Connection>(loop_, endpoint ? *endpoint : net::Endpoint{},
                                             rpc::ConnectionSettings{});
  }
  return *conn;
}

void Forwarder::forward(const std::shared_ptr<http::Exchange>& ex) {
  std::string envelope;
  encode_request(ex->request, settings_.origin_node, envelope);
  ++forwarded_;
  call(kForwardMethod, std::move(envelope),
       forward_timeout_ms(ex->request, settings_.call_timeout_ms), is_read(ex->request),
       [this, ex](const rpc::Status& status, std::string body) {
         answer_forwarded(ex, status, std::move(body));
       });
}

void Forwarder::answer_forwarded(const std::shared_ptr<http::Exchange>& ex,
                                 const rpc::Status& status, std::string body) {
  if (ex->closed()) return;
  if (status.ok()) {
    http::Response response;
    EnvelopeStatus st = decode_response(body, response);
    if (!st.ok()) return answer_error(ex, "rpc error: a server's answer: " + st.message);
    ex->respond(std::move(response));
    return;
  }
  if (status.code == rpc::Status::Code::unknown_outcome)
    return answer_error(ex,
                        "rpc error: lost the connection to the server after sending the "
                        "request; the outcome is unknown (" +
                            status.message + ")");
  if (status.code == rpc::Status::Code::unavailable && servers_.current() == nullptr)
    return answer_error(ex, "No known Consul servers");
  answer_error(ex, "rpc error: " + status.to_string());
}

rpc::Stream Forwarder::open_stream(std::string_view method, std::string body,
                                   rpc::Connection::MessageCallback on_message,
                                   rpc::Connection::EndCallback on_end) {
  const ServerEntry* server = servers_.current();
  if (server == nullptr) return {};
  ++rpcs_;
  return connection_to(*server).open_stream(method, std::move(body), std::move(on_message),
                                            std::move(on_end));
}

void Forwarder::server_failed() {
  if (const ServerEntry* server = servers_.current()) {
    ++failovers_;
    servers_.failed(std::string(server->name));
  }
}

void Forwarder::call(std::string_view method, std::string body, uint64_t timeout_ms,
                     bool idempotent, Done done) {
  ++rpcs_;
  auto c = std::make_shared<Call>();
  c->method = std::string(method);
  c->body = std::move(body);
  c->timeout_ms = timeout_ms;
  c->idempotent = idempotent;
  c->done = std::move(done);
  attempt(c);
}

void Forwarder::attempt(const std::shared_ptr<Call>& call) {
  const ServerEntry* server = servers_.current();
  if (server == nullptr)
    return call->done({rpc::Status::Code::unavailable, "No known Consul servers"}, {});
  if (call->attempts++ > servers_.servers().size())
    return call->done({rpc::Status::Code::unavailable, "no server of the datacenter answered"}, {});
  std::string name = server->name;
  connection_to(*server).call(
      call->method, call->body, call->timeout_ms,
      [this, call, name, alive = alive_](rpc::Status status, std::string body) {
        if (!*alive) return;
        on_answer(call, name, std::move(status), std::move(body));
      });
}

void Forwarder::on_answer(const std::shared_ptr<Call>& call, const std::string& server,
                          rpc::Status status, std::string body) {
  if (status.ok()) {
    last_contact_ms_ = uv_now(loop_);
    return call->done(status, std::move(body));
  }
  bool retry =
      status.not_sent() || (status.code == rpc::Status::Code::unknown_outcome && call->idempotent);
  ++rpc_failures_;  // each failed attempt, retried or not, as Consul counts them
  if (!retry) return call->done(status, std::move(body));
  log::warn("agent", "a server did not answer; trying another",
            {{"server", server}, {"error", status.to_string()}});
  ++failovers_;
  servers_.failed(server);
  attempt(call);
}

}  // namespace cairn::forward
