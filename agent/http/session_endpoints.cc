// /v1/session: sessions for locks and leader election (reference section 6).
#include "agent/agent.h"
#include "agent/http/blocking.h"
#include "agent/http/decode_body.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"
#include "agent/ops/session_create.h"
#include "agent/server/session_timers.h"
#include "agent/state/encode.h"
#include "agent/state/session_ops.h"
#include "common/decode.h"
#include "common/random.h"

namespace cairn::http_api {

namespace {

// LockDelay: a Go duration string, or a number (< 1000 means seconds, else nanoseconds).
Nanos decode_lock_delay(Decoder& d, const Value& v) {
  if (v.kind == Value::Kind::integer || v.kind == Value::Kind::number) {
    double n = d.number(v);
    if (n < 0) d.fail(v, "must not be negative");
    return n < 1000 ? static_cast<Nanos>(n * kSecond) : static_cast<Nanos>(n);
  }
  return d.duration(v);
}

void write_sessions(JsonWriter& w, const std::vector<const state::Session*>& list) {
  w.begin_array();
  for (const state::Session* s : list) state::write_session(w, *s);
  w.end_array();
}

// The fields of a /v1/session/create body; checks_given says whether the
// body named the node checks (ops::validate_session_create fills in the
// defaults for what it left out).
void decode_session(Decoder& d, const Value& body, state::Session& s, bool& checks_given) {
  d.object(body, [&](std::string_view k, const Value& f) {
    if (k == "node") {
      if (std::string n = d.str(f); !n.empty()) s.node = n;
    } else if (k == "name") s.name = d.str(f);
    else if (k == "lockdelay") s.lock_delay = decode_lock_delay(d, f);
    else if (k == "behavior") {
      if (std::string b = d.str(f); !b.empty()) s.behavior = b;
    } else if (k == "ttl") {
      std::string t = d.str(f);
      if (!t.empty()) {
        auto parsed = parse_duration(t);
        if (!parsed) d.fail(f, duration_error(t));
        s.ttl = *parsed;
      }
    } else if (k == "checks" || k == "nodechecks") {
      if (!f.is_null()) {
        checks_given = true;
        for (auto& c : d.strings(f)) s.node_checks.push_back(c);
      }
    } else if (k == "servicechecks") {
      d.array(f, [&](const Value& item) {
        state::ServiceCheckRef ref;
        d.object(item, [&](std::string_view rk, const Value& rv) {
          if (rk == "id") ref.id = d.str(rv);
          else if (rk == "namespace") ref.ns = d.str(rv);
          return true;
        });
        s.service_checks.push_back(ref);
      });
    }
    return true;
  });
}

void session_create(Agent& agent, const ExchangePtr& ex, const std::string&) {
  state::Session s;
  s.id = random_uuid();
  bool checks_given = false;
  if (!decode_json_body(
          ex, [&](Decoder& d, const Value& body) { decode_session(d, body, s, checks_given); },
          /*allow_empty=*/true))
    return;
  Nanos ttl_min = agent.config().session_ttl_min;
  // A session created through a client agent belongs to the client's node.
  const std::string& origin = ex->request.origin_node;
  const std::string& node = origin.empty() ? agent.identity().name : origin;
  if (auto e = ops::validate_session_create(s, checks_given, {node, ttl_min})) {
    respond_op_error(ex, agent, *e);
    return;
  }
  agent.writer().write(
      [s, ttl_min](const state::Store& store, int64_t, state::Batch& out) {
        return state::plan_session_create(store, s, out, ttl_min);
      },
      respond_written(
          ex,
          [&agent, ex, s] {
            // On a server over etcd the session's lease keeps its TTL.
            if (!agent.replicated()) agent.session_timers().arm(s.id, s.ttl);
            std::string out;
            JsonWriter w(out);
            w.begin_object();
            w.field("ID", s.id);
            w.end_object();
            respond_json(ex, std::move(out));
          },
          "Failed to create session: "));
}

void session_list(Agent& agent, const ExchangePtr& ex, const std::string& scope,
                  const std::string& arg) {
  QueryOptions o;
  if (std::string err = parse_query_options(ex->request, o); !err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  serve_read(agent, ex, o, [&agent, scope, arg, pretty = o.pretty] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.index = st.table_index({state::kSessionsTable});
    res.watch = {std::string(state::kSessionsTable)};
    std::vector<const state::Session*> list;
    if (scope == "info") {
      if (const state::Session* s = st.session(arg)) list.push_back(s);
    } else if (scope == "node") {
      list = st.sessions_of_node(arg);
    } else {
      for (const auto& [_, s] : st.sessions()) list.push_back(&s);
    }
    std::string body;
    JsonWriter w(body, pretty);
    write_sessions(w, list);
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

void session_destroy(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  if (!is_uuid(id)) {
    respond_error(ex, 400, "Session ID must be a valid UUID: \"" + id + "\"");
    return;
  }
  agent.session_timers().cancel(id);
  agent.writer().write(
      [id](const state::Store& store, int64_t now, state::Batch& out) {
        state::plan_session_invalidate(store, id, now, out);
        return std::string();
      },
      respond_written_true(ex));
}

void respond_session(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  const state::Session* s = agent.store().session(id);
  if (!s) {
    respond_error(ex, 404, "Session id '" + id + "' not found");
    return;
  }
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  write_sessions(w, {s});
  respond_json(ex, std::move(body));
}

void session_renew(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  server::ReplicatedState* rs = agent.replicated();
  if (rs != nullptr) {
    // The session may have been created on another server a moment ago: read
    // it after a barrier, then renew its lease (no lease, no TTL: nothing to renew).
    rs->barrier([&agent, ex, id, rs](bool) {
      const state::Session* s = agent.store().session(id);
      if (!s) {
        respond_error(ex, 404, "Session id '" + id + "' not found");
        return;
      }
      if (s->ttl <= 0) {
        respond_session(agent, ex, id);
        return;
      }
      rs->renew_session(id, [&agent, ex, id](bool found) {
        if (!found) {
          respond_error(ex, 404, "Session id '" + id + "' not found");
          return;
        }
        respond_session(agent, ex, id);
      });
    });
    return;
  }
  const state::Session* s = agent.store().session(id);
  if (!s) {
    respond_error(ex, 404, "Session id '" + id + "' not found");
    return;
  }
  {
    agent.session_timers().arm(id, s->ttl);
    respond_session(agent, ex, id);
  }
}

void session_info(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  session_list(agent, ex, "info", id);
}

void session_node(Agent& agent, const ExchangePtr& ex, const std::string& node) {
  session_list(agent, ex, "node", node);
}

void session_list_all(Agent& agent, const ExchangePtr& ex, const std::string&) {
  session_list(agent, ex, "list", "");
}

}  // namespace

void add_session_routes(Router& r, Agent& agent) {
  r.add("PUT", "/v1/session/create", bind_endpoint(agent, session_create));
  r.add("PUT", "/v1/session/destroy/", bind_endpoint(agent, session_destroy));
  r.add("PUT", "/v1/session/renew/", bind_endpoint(agent, session_renew));
  r.add("GET", "/v1/session/info/", bind_endpoint(agent, session_info));
  r.add("GET", "/v1/session/node/", bind_endpoint(agent, session_node));
  r.add("GET", "/v1/session/list", bind_endpoint(agent, session_list_all));
}

}  // namespace cairn::http_api
