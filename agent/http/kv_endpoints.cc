// /v1/kv: the key/value store (reference section 5).
#include <set>

#include "agent/agent.h"
#include "agent/http/blocking.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"
#include "agent/state/encode.h"
#include "agent/state/kv_ops.h"
#include "common/http/url.h"
#include "common/utf8.h"

namespace cairn::http_api {

namespace {

constexpr size_t kMaxValueBytes = 512 * 1024;  // kv_max_value_size

// Consul rejects path traversal; cairn also rejects a leading slash, which
// Consul would store as a distinct key that tools then mangle.
std::string validate_key(const std::string& key) {
  if (!is_valid_utf8(key)) return "Invalid key: not valid UTF-8";
  if (!key.empty() && key[0] == '/') return "Invalid key: must not begin with '/'";
  if (key == ".." || key.rfind("../", 0) == 0 || key.find("/../") != std::string::npos ||
      (key.size() >= 3 && key.compare(key.size() - 3, 3, "/..") == 0))
    return "Invalid key: path traversal is not allowed";
  return "";
}

void kv_get(Agent& agent, const ExchangePtr& ex, const std::string& key) {
  if (auto e = state::check_kv_key(key)) {
    respond_limit_error(ex, agent, *e);
    return;
  }
  QueryOptions o;
  std::string err = parse_query_options(ex->request, o);
  if (err.empty()) err = validate_key(key);
  if (!err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  if (!check_datacenter(ex, agent, o.datacenter)) return;
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

bool parse_uint(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (out > (UINT64_MAX - 9) / 10) return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
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

void kv_put(Agent& agent, const ExchangePtr& ex, const std::string& key) {
  const http::Request& req = ex->request;
  if (key.empty()) {
    respond_error(ex, 400, "Missing key name");
    return;
  }
  if (auto e = state::check_kv_key(key)) {
    respond_limit_error(ex, agent, *e);
    return;
  }
  if (std::string err = validate_key(key); !err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  int modes = req.has_param("cas") + req.has_param("acquire") + req.has_param("release");
  if (modes > 1) {
    respond_error(ex, 400, "Conflicting flags: " + req.target.substr(req.target.find('?') + 1));
    return;
  }
  if (req.body.size() > kMaxValueBytes) {
    respond_error(ex, 413,
                  "Request body(" + std::to_string(req.body.size()) +
                      " bytes) too large, max size: 524288 bytes. See "
                      "https://developer.hashicorp.com/docs/agent/config/"
                      "config-files#kv_max_value_size.");
    return;
  }
  state::KVOp op;
  op.key = key;
  op.value = req.body;
  if (const std::string* f = req.param("flags")) {
    if (!parse_uint(*f, op.flags)) {
      respond_error(ex, 400, "Invalid flags: \"" + *f + "\"");
      return;
    }
  }
  if (const std::string* c = req.param("cas")) {
    op.verb = state::KVVerb::cas;
    if (!parse_uint(*c, op.index)) {
      respond_error(ex, 400, "Invalid cas index: \"" + *c + "\"");
      return;
    }
  } else if (const std::string* a = req.param("acquire")) {
    op.verb = state::KVVerb::lock;
    op.session = *a;
  } else if (const std::string* r = req.param("release")) {
    op.verb = state::KVVerb::unlock;
    op.session = *r;
  }
  if (auto e = state::check_identifier("Session", op.session)) {
    respond_limit_error(ex, agent, *e);
    return;
  }
  run_kv_op(agent, ex, std::move(op));
}

void kv_delete(Agent& agent, const ExchangePtr& ex, const std::string& key) {
  const http::Request& req = ex->request;
  if (auto e = state::check_kv_key(key)) {
    respond_limit_error(ex, agent, *e);
    return;
  }
  if (std::string err = validate_key(key); !err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  bool recurse = req.has_param("recurse");
  const std::string* cas = req.param("cas");
  if (recurse && cas) {
    respond_error(ex, 400, "Conflicting flags: " + req.target.substr(req.target.find('?') + 1));
    return;
  }
  if (key.empty() && !recurse) {
    respond_error(ex, 400, "Missing key name");
    return;
  }
  state::KVOp op;
  op.key = key;
  op.verb = recurse ? state::KVVerb::delete_tree : state::KVVerb::del;
  if (cas) {
    op.verb = state::KVVerb::delete_cas;
    if (!parse_uint(*cas, op.index)) {
      respond_error(ex, 400, "Invalid cas index: \"" + *cas + "\"");
      return;
    }
  }
  run_kv_op(agent, ex, std::move(op));
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
