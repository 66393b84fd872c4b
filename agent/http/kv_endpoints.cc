// /v1/kv: the key/value store (reference section 5).
#include <optional>
#include <set>
#include <variant>

#include "agent/agent.h"
#include "agent/http/blocking.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"
#include "agent/ops/kv_key.h"
#include "agent/ops/kv_write.h"
#include "agent/state/encode.h"
#include "agent/state/kv_ops.h"

namespace cairn::http_api {

namespace {

void kv_get(Agent& agent, const ExchangePtr& ex, const std::string& key) {
  if (auto e = state::check_kv_key(key)) {
    respond_limit_error(ex, agent, *e);
    return;
  }
  QueryOptions o;
  std::string err = parse_query_options(ex->request, o);
  if (err.empty()) {
    if (auto e = ops::validate_kv_key(key)) err = e->message;
  }
  if (!err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  const http::Request& req = ex->request;
  bool recurse = req.has_param("recurse");
  bool keys = req.has_param("keys");
  bool raw = req.has_param("raw");
  std::string sep;
  if (const std::string* s = req.param("separator")) sep = *s;
  else if (const std::string* s2 = req.param("seperator")) sep = *s2;
  if (key.empty() && !recurse && !keys) {
    respond_error(ex, 400, "Missing key name");
    return;
  }
  serve_read(agent, ex, o, [&agent, key, recurse, keys, raw, sep, pretty = o.pretty] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.watch = {state::kv_watch_key(key)};
    std::string body;
    JsonWriter w(body, pretty);
    if (keys) {
      res.index = st.kv_prefix_index(key);
      std::vector<std::string> names;
      std::set<std::string> seen;
      const auto& kvs = st.kvs();
      for (auto it = kvs.lower_bound(key);
           it != kvs.end() && it->first.compare(0, key.size(), key) == 0; ++it) {
        std::string name = it->first;
        if (!sep.empty()) {
          size_t pos = name.find(sep, key.size());
          if (pos != std::string::npos) name = name.substr(0, pos + sep.size());
        }
        if (seen.insert(name).second) names.push_back(name);
      }
      if (names.empty() && !key.empty()) {
        res.response = http::Response::text(404, "");
        return res;
      }
      w.begin_array();
      for (const auto& n : names) w.string(n);
      w.end_array();
    } else if (recurse) {
      res.index = st.kv_prefix_index(key);
      const auto& kvs = st.kvs();
      auto it = kvs.lower_bound(key);
      if (it == kvs.end() || it->first.compare(0, key.size(), key) != 0) {
        res.response = http::Response::text(404, "");
        return res;
      }
      w.begin_array();
      for (; it != kvs.end() && it->first.compare(0, key.size(), key) == 0; ++it)
        state::write_kv(w, it->second);
      w.end_array();
    } else {
      res.index = st.kv_key_index(key);
      const state::KVEntry* e = st.kv(key);
      if (!e) {
        res.response = http::Response::text(404, "");
        return res;
      }
      if (raw) {
        http::Response r;
        r.body = e->value;
        r.set_header("Content-Type", "text/plain");
        r.set_header("X-Content-Type-Options", "nosniff");
        r.set_header("Content-Security-Policy", "sandbox");
        res.response = std::move(r);
        return res;
      }
      w.begin_array();
      state::write_kv(w, *e);
      w.end_array();
    }
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

void run_kv_op(Agent& agent, const ExchangePtr& ex, state::KVOp op) {
  agent.writer().write(
      [op](const state::Store& store, int64_t now, state::Batch& out) -> server::PlanStatus {
        state::TxnPlan plan = state::plan_kv_txn(store, {op}, now);
        if (!plan.ok()) {
          const auto& e = plan.errors.front();
          // A condition that did not hold is an answer (false), not an error.
          if (e.condition) return server::PlanStatus::condition_failed();
          return e.what;
        }
        out = std::move(plan.batch);
        return {};
      },
      respond_written_true(ex));
}

// The query string after '?': Consul's "Conflicting flags" text repeats it.
std::string query_string(const http::Request& req) {
  return req.target.substr(req.target.find('?') + 1);
}

std::optional<std::string> optional_param(const http::Request& req, const char* name) {
  if (const std::string* v = req.param(name)) return *v;
  return std::nullopt;
}

// Answers a refused request, or runs the op.
void run_checked_kv_op(Agent& agent, const ExchangePtr& ex, ops::KVOpOrError checked) {
  if (auto* e = std::get_if<ops::OpError>(&checked)) {
    respond_op_error(ex, agent, *e);
    return;
  }
  run_kv_op(agent, ex, std::get<state::KVOp>(std::move(checked)));
}

void kv_put(Agent& agent, const ExchangePtr& ex, const std::string& key) {
  const http::Request& req = ex->request;
  ops::KVPutParams params;
  params.flags = optional_param(req, "flags");
  params.cas = optional_param(req, "cas");
  params.acquire = optional_param(req, "acquire");
  params.release = optional_param(req, "release");
  params.query = query_string(req);
  run_checked_kv_op(agent, ex, ops::kv_put_op(key, params, req.body));
}

void kv_delete(Agent& agent, const ExchangePtr& ex, const std::string& key) {
  const http::Request& req = ex->request;
  ops::KVDeleteParams params;
  params.recurse = req.has_param("recurse");
  params.cas = optional_param(req, "cas");
  params.query = query_string(req);
  run_checked_kv_op(agent, ex, ops::kv_delete_op(key, params));
}

}  // namespace

void add_kv_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/kv/", bind_endpoint(agent, kv_get));
  r.add("PUT", "/v1/kv/", bind_endpoint(agent, kv_put));
  r.add("DELETE", "/v1/kv/", bind_endpoint(agent, kv_delete));
  // "/v1/kv" without a trailing slash: the root, for ?recurse and ?keys (rest is "").
  r.add("GET", "/v1/kv", bind_endpoint(agent, kv_get));
}

}  // namespace cairn::http_api
