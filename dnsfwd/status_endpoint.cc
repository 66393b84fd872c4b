#include "dnsfwd/status_endpoint.h"

#include "common/json_writer.h"
#include "dnsfwd/policy.h"

namespace cairn::dnsfwd {

StatusEndpoint::StatusEndpoint(uv_loop_t* loop, MetricsRegistry& metrics, Forwarder& forwarder)
    : loop_(loop), metrics_(metrics), forwarder_(forwarder), started_ms_(uv_now(loop)) {}

std::string StatusEndpoint::listen(const Endpoint& at) {
  std::string want = at.to_string();
  if (server_ && want == bound_) return {};
  http::ServerLimits limits;
  limits.max_connections = 64;
  limits.max_body_bytes = 0;
  auto server = std::make_unique<http::Server>(
      loop_, limits, [this](const std::shared_ptr<http::Exchange>& ex) { handle(ex); });
  std::string err = server->listen(address_text(at.sa()), at.port());
  if (!err.empty()) return err;
  if (server_) server_->close();
  server_ = std::move(server);
  bound_ = want;
  return {};
}

void StatusEndpoint::close() {
  if (server_) server_->close();
  server_.reset();
  bound_.clear();
}

std::string StatusEndpoint::status_json() {
  forwarder_.update_gauges();
  std::string out;
  JsonWriter w(out);
  bool healthy = true;
  w.begin_object();
  w.key("Groups");
  w.begin_array();
  for (const auto& g : forwarder_.groups()) {
    bool any_up = false;
    w.begin_object();
    w.field("Name", g->config.name);
    w.field("Policy", policy_name(g->config.policy));
    w.field("Source", g->source);
    w.field("Pending", static_cast<uint64_t>(g->pending));
    w.key("Upstreams");
    w.begin_array();
    for (const auto& u : g->upstreams) {
      any_up |= u->health().up();
      w.begin_object();
      w.field("Address", u->address());
      w.field("Healthy", u->health().up());
      w.field("ConsecutiveFailures", static_cast<uint64_t>(u->health().consecutive_failures()));
      w.field("SrttMs", u->health().srtt_us() / 1000.0);
      w.field("Sent", u->stats().sent.value);
      w.field("Answers", u->stats().answers.value);
      w.field("Timeouts", u->stats().timeouts.value);
      w.field("Errors", u->stats().errors.value);
      w.end_object();
    }
    w.end_array();
    w.field("Healthy", any_up);
    w.end_object();
    healthy = healthy && any_up;
  }
  w.end_array();
  w.field("Healthy", healthy);
  w.key("Cache");
  w.begin_object();
  w.field("Entries", static_cast<uint64_t>(forwarder_.cache().size()));
  w.field("Bytes", forwarder_.cache().bytes());
  w.field("MaxEntries", static_cast<uint64_t>(forwarder_.cache().max_entries()));
  w.end_object();
  w.field("UptimeSeconds", static_cast<uint64_t>((uv_now(loop_) - started_ms_) / 1000));
  w.end_object();
  return out;
}

void StatusEndpoint::handle(const std::shared_ptr<http::Exchange>& ex) {
  const auto& req = ex->request;
  if (req.method != "GET" && req.method != "HEAD") {
    ex->respond(http::Response::text(405, "method not allowed\n"));
    return;
  }
  if (req.path == "/metrics") {
    forwarder_.update_gauges();
    auto r = http::Response::text(200, metrics_.prometheus());
    r.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    ex->respond(std::move(r));
  } else if (req.path == "/status" || req.path == "/v1/status") {
    ex->respond(http::Response::json(status_json()));
  } else {
    ex->respond(http::Response::text(404, "not found: try /metrics or /status\n"));
  }
}

}  // namespace cairn::dnsfwd
