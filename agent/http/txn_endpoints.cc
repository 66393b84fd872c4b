// PUT /v1/txn: several KV operations applied all or nothing (reference section 7).
#include "agent/agent.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"
#include "agent/http/txn_body.h"
#include "agent/state/encode.h"

namespace cairn::http_api {

namespace {

// Answers a transaction that was applied (200 with its results) or whose
// operations failed (409 with the errors).
void respond_txn(Agent& agent, const ExchangePtr& ex, const state::TxnPlan& plan,
                 bool read_only) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_object();
  if (!plan.ok()) {
    w.key("Results");
    w.null();
    w.key("Errors");
    w.begin_array();
    for (const auto& e : plan.errors) {
      w.begin_object();
      w.field("OpIndex", static_cast<uint64_t>(e.op_index));
      w.field("What", e.what);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    respond_json(ex, std::move(body), 409);
    return;
  }
  const state::Store& st = agent.store();
  w.key("Results");
  w.begin_array();
  for (const auto& rep : plan.reports) {
    auto one = [&](const state::KVEntry& e) {
      w.begin_object();
      w.key("KV");
      state::write_kv(w, e, rep.with_value);
      w.end_object();
    };
    if (rep.tree) {
      const auto& kvs = st.kvs();
      for (auto it = kvs.lower_bound(rep.key);
           it != kvs.end() && it->first.compare(0, rep.key.size(), rep.key) == 0; ++it)
        one(it->second);
    } else if (const state::KVEntry* e = st.kv(rep.key)) {
      one(*e);
    } else if (rep.may_be_missing) {
      w.begin_object();
      w.key("KV");
      w.null();
      w.end_object();
    }
  }
  w.end_array();
  w.key("Errors");
  w.null();
  w.end_object();
  http::Response resp = http::Response::json(std::move(body));
  if (read_only) {
    resp.set_header("X-Consul-Knownleader", "true");
    resp.set_header("X-Consul-Lastcontact", "0");
  }
  respond(ex, std::move(resp));
}

void txn_apply(Agent& agent, const ExchangePtr& ex, const std::string&) {
  TxnBody txn;
  TxnBodyError err;
  if (!parse_txn_body(ex->request.body, txn, err)) {
    if (!err.limit.empty())
      respond_limit_error(ex, agent, state::LimitError{err.limit, err.message});
    else
      respond_error(ex, err.status, err.message);
    return;
  }
  auto plan = std::make_shared<state::TxnPlan>();
  agent.writer().write(
      [ops = txn.ops, plan](const state::Store& store, int64_t now, state::Batch& out) {
        *plan = state::plan_kv_txn(store, ops, now);
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
