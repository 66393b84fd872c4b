// PUT /v1/txn: KV, Node, Service and Check operations applied all or nothing
// (reference section 7).
#include "agent/agent.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"
#include "agent/http/txn_body.h"
#include "agent/ops/txn_result.h"

namespace cairn::http_api {

namespace {

// Answers a transaction that was applied (200 with its results) or whose
// operations failed (409 with the errors).
void respond_txn(Agent& agent, const ExchangePtr& ex, const state::TxnPlan& plan,
                 bool read_only) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  if (ops::write_txn_result(w, agent.store(), plan) == ops::TxnOutcome::rolled_back) {
    respond_json(ex, std::move(body), 409);
    return;
  }
  http::Response resp = http::Response::json(std::move(body));
  if (read_only) {
    resp.set_header("X-Consul-Knownleader", "true");
    resp.set_header("X-Consul-Lastcontact", "0");
  }
  respond(ex, std::move(resp));
}

void txn_apply(Agent& agent, const ExchangePtr& ex, const std::string&) {
  TxnBody txn;
  ops::OpError err;
  if (!parse_txn_body(ex->request.body, txn, err, agent.config().datacenter)) {
    respond_op_error(ex, agent, err);
    return;
  }
  auto plan = std::make_shared<state::TxnPlan>();
  agent.writer().write(
      [ops = txn.ops, plan](const state::Store& store, int64_t now, state::Batch& out) {
        *plan = state::plan_txn(store, ops, now);
        if (plan->ok()) out = std::move(plan->batch);
        return std::string();
      },
      respond_written(ex, [&agent, ex, plan, read_only = txn.read_only] {
        respond_txn(agent, ex, *plan, read_only);
      }));
}

}  // namespace

void add_txn_routes(Router& r, Agent& agent) {
  r.add("PUT", "/v1/txn", bind_endpoint(agent, txn_apply));
}

}  // namespace cairn::http_api
