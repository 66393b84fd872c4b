// The loopback HTTP endpoint: GET /metrics (Prometheus text) and GET /status
// (JSON: overall health, each group's upstreams with health and RTT, cache
// fill), which `cairn status` reads. Readable without root, unlike
// dnsmasq's SIGUSR1 dump.
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "common/http/server.h"
#include "common/metrics.h"
#include "dnsfwd/address.h"
#include "dnsfwd/forwarder.h"

namespace cairn::dnsfwd {

class StatusEndpoint {
 public:
  StatusEndpoint(uv_loop_t* loop, MetricsRegistry& metrics, Forwarder& forwarder);
  // (Re)binds; an unchanged address keeps the socket. Returns an error message.
  std::string listen(const Endpoint& at);
  void close();

  // The /status document (also used by tests and -check).
  std::string status_json();

 private:
  void handle(const std::shared_ptr<http::Exchange>& ex);

  uv_loop_t* loop_;
  MetricsRegistry& metrics_;
  Forwarder& forwarder_;
  std::unique_ptr<http::Server> server_;
  std::string bound_;
  uint64_t started_ms_;
};

}  // namespace cairn::dnsfwd
