// The HTTP API: Consul's /v1 routes on the agent's HTTP listener.
#pragma once

#include "agent/http/router.h"
#include "common/metrics.h"

namespace cairn {
class Agent;
}

namespace cairn::http_api {

class Api {
 public:
  explicit Api(Agent& agent);
  void handle(const ExchangePtr& ex);

 private:
  bool answers_from_view(const http::Request& r) const;
  void add_server_timers();

  Agent& agent_;
  Router router_;
  Counter& requests_;
  Counter& client_errors_;
  Counter& rpc_queries_;
};

}  // namespace cairn::http_api
