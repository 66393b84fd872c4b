// /v1/agent: this agent's own view and its local services and checks
// (reference section 2).
#include <ctime>

#include "agent/agent.h"
#include "agent/consul_version.h"
#include "agent/http/blocking.h"
#include "agent/http/decode_body.h"
#include "agent/http/endpoints.h"
#include "agent/http/read_helpers.h"
#include "agent/http/reply.h"
#include "agent/membership.h"
#include "agent/state/encode.h"
#include "cairn_version.h"
#include "common/decode.h"

namespace cairn::http_api {

namespace {

std::string content_hash(std::string_view s) {
  // FNV-1a, 64 bit: the hash only has to change when the content does.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void write_agent_service(JsonWriter& w, const Agent& agent, const local::LocalService& s) {
  state::write_service(w, s.service, agent.config().datacenter, /*with_indexes=*/false);
}

// Worst first, as the Go client's AggregatedStatus orders them.
int severity(const std::string& s) {
  if (s == state::kMaintenance) return 3;
  if (s == state::kCritical) return 2;
  if (s == state::kWarning) return 1;
  return 0;
}

std::string aggregate(const std::vector<const local::LocalCheck*>& checks) {
  std::string worst = state::kPassing;
  for (const local::LocalCheck* c : checks) {
    std::string s = c->check.type == "maintenance" ? state::kMaintenance : c->check.status;
    if (severity(s) > severity(worst)) worst = s;
  }
  return worst;
}

int status_code_for(const std::string& aggregated) {
  if (aggregated == state::kPassing) return 200;
  if (aggregated == state::kWarning) return 429;
  return 503;
}

}  // namespace

namespace {

OpDone reply_with(const ExchangePtr& ex) {
  return [ex](OpResult r) {
    if (r.ok())
      respond_empty(ex);
    else
      respond_error(ex, r.status, r.message);
  };
}

void health_by_service(Agent& agent, const ExchangePtr& ex,
                       const std::vector<const local::LocalService*>& services, bool single,
                       const std::string& not_found) {
  bool text = false;
  if (const std::string* f = ex->request.param("format")) text = *f == "text";
  if (const std::string* a = ex->request.header("accept"))
    text = text || a->find("text/plain") != std::string::npos;
  if (services.empty()) {
    http::Response r = text ? http::Response::text(404, not_found)
                            : http::Response::json(single ? "{}" : "[]", 404);
    respond(ex, std::move(r));
    return;
  }
  const local::LocalState& local = agent.local();
  std::string worst = state::kPassing;
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  if (!single) w.begin_array();
  for (const local::LocalService* s : services) {
    std::vector<const local::LocalCheck*> checks = local.checks_of_service(s->service.id);
    for (const auto& [cid, c] : local.checks())
      if (c.check.service_id.empty()) checks.push_back(&c);  // node-level checks count too
    std::string status = aggregate(checks);
    if (severity(status) > severity(worst)) worst = status;
    w.begin_object();
    w.field("AggregatedStatus", status);
    w.key("Service");
    write_agent_service(w, agent, *s);
    w.key("Checks");
    w.begin_array();
    for (const local::LocalCheck* c : checks) state::write_check(w, c->check);
    w.end_array();
    w.end_object();
  }
  if (!single) w.end_array();
  int code = status_code_for(worst);
  respond(ex, text ? http::Response::text(code, worst) : http::Response::json(std::move(body), code));
}

bool parse_enable(const ExchangePtr& ex, bool& enable) {
  const std::string* e = ex->request.param("enable");
  if (!e) {
    respond_error(ex, 400, "Missing value for enable");
    return false;
  }
  if (!parse_bool_param(*e, enable)) {
    respond_error(ex, 400, "Invalid value for enable: \"" + *e + "\"");
    return false;
  }
  return true;
}

void agent_version(Agent&, const ExchangePtr& ex, const std::string&) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_object();
  w.field("SHA", CAIRN_REVISION);
  w.field("BuildDate", "");
  w.field("HumanVersion", std::string(kConsulCompatVersion) + " (cairn " + CAIRN_VERSION + ")");
  w.field("FIPS", "");
  w.end_object();
  respond_json(ex, std::move(body));
}

void agent_services(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions o;
  std::shared_ptr<ResultFilter> filter;
  if (!read_options(ex, agent, o, filter)) return;
  std::string body;
  ResultWriter out(body, o.pretty, filter.get());
  out.json().begin_object();
  for (const auto& entry : agent.local().services()) {
    const local::LocalService& s = entry.second;
    out.entry(entry.first, [&](JsonWriter& w) { write_agent_service(w, agent, s); });
  }
  out.json().end_object();
  respond_json(ex, std::move(body));
}

void agent_service(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  QueryOptions o;
  std::string err = parse_query_options(ex->request, o);
  if (!err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  // Hash-based blocking rides on the index machinery: index 1 means "the hash the
  // client has", 2 means "something else".
  std::string want = o.hash;
  if (!want.empty()) o.index = 1;
  serve_read(agent, ex, o, [&agent, id, want, pretty = o.pretty] {
    ReadResult res;
    res.watch = {state::node_key(agent.identity().name)};
    const local::LocalService* s = agent.local().service(id);
    if (!s) {
      res.index = 2;
      res.response = http::Response::text(404, "unknown service ID: " + id);
      return res;
    }
    std::string plain;
    JsonWriter pw(plain);
    write_agent_service(pw, agent, *s);
    std::string hash = content_hash(plain);
    res.index = hash == want ? 1 : 2;
    std::string body;
    JsonWriter w(body, pretty);
    // Same object with ContentHash added before the closing brace.
    state::Service svc = s->service;
    w.begin_object();
    if (!svc.kind.empty()) w.field("Kind", svc.kind);
    w.field("ID", svc.id);
    w.field("Service", svc.name);
    w.string_array("Tags", svc.tags);
    w.key("Meta");
    w.begin_object();
    for (const auto& [k, v] : svc.meta) w.field(k, v);
    w.end_object();
    w.field("Port", svc.port);
    w.field("Address", svc.address);
    w.key("Weights");
    w.begin_object();
    w.field("Passing", svc.weights.passing);
    w.field("Warning", svc.weights.warning);
    w.end_object();
    w.field("EnableTagOverride", svc.enable_tag_override);
    state::write_locality(w, "Locality", svc.locality);
    w.field("ContentHash", hash);
    w.field("Datacenter", agent.config().datacenter);
    w.end_object();
    res.response = http::Response::json(std::move(body));
    res.response.set_header("X-Consul-ContentHash", hash);
    return res;
  });
}

void agent_checks(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions o;
  std::shared_ptr<ResultFilter> filter;
  if (!read_options(ex, agent, o, filter)) return;
  std::string body;
  ResultWriter out(body, o.pretty, filter.get());
  out.json().begin_object();
  for (const auto& entry : agent.local().checks()) {
    const local::LocalCheck& c = entry.second;
    out.entry(entry.first, [&](JsonWriter& w) { state::write_check(w, c.check); });
  }
  out.json().end_object();
  respond_json(ex, std::move(body));
}

void agent_service_register(Agent& agent, const ExchangePtr& ex, const std::string&) {
  config::ServiceDefinition def;
  if (!decode_json_body(
          ex, [&](Decoder& d, const Value& body) { def = config::decode_service(d, body); }))
    return;
  if (auto e = config::check_definition_limits(def)) {
    respond_limit_error(ex, agent, *e);
    return;
  }
  bool replace = false;
  if (const std::string* p = ex->request.param("replace-existing-checks"))
    parse_bool_param(*p, replace);
  agent.local_agent().register_service(std::move(def), local::Source::api, replace, reply_with(ex));
}

void agent_service_deregister(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  agent.local_agent().deregister_service(id, reply_with(ex));
}

void agent_check_register(Agent& agent, const ExchangePtr& ex, const std::string&) {
  config::CheckSpec spec;
  if (!decode_json_body(
          ex, [&](Decoder& d, const Value& body) { spec = config::decode_check(d, body); }))
    return;
  if (auto e = config::check_spec_limits("", spec)) {
    respond_limit_error(ex, agent, *e);
    return;
  }
  agent.local_agent().register_check(std::move(spec), local::Source::api, reply_with(ex));
}

void agent_check_deregister(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  agent.local_agent().deregister_check(id, reply_with(ex));
}

// PUT /v1/agent/check/{pass,warn,fail}/<id>: a TTL check's new status.
void agent_check_ttl(Agent& agent, const ExchangePtr& ex, const std::string& id,
                     const std::string& status) {
  const std::string* note = ex->request.param("note");
  reply_with(ex)(agent.local_agent().ttl_update(id, status, note ? *note : ""));
}

void agent_check_pass(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  agent_check_ttl(agent, ex, id, state::kPassing);
}

void agent_check_warn(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  agent_check_ttl(agent, ex, id, state::kWarning);
}

void agent_check_fail(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  agent_check_ttl(agent, ex, id, state::kCritical);
}

void agent_check_update(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  std::string status, output;
  if (!decode_json_body(ex, [&](Decoder& d, const Value& body) {
        d.object(body, [&](std::string_view k, const Value& f) {
          if (k == "status") status = d.str(f);
          else if (k == "output") output = d.str(f);
          return true;
        });
      }))
    return;
  if (!state::is_valid_status(status)) {
    respond_error(ex, 400, "Invalid check status: '" + status + "'");
    return;
  }
  reply_with(ex)(agent.local_agent().ttl_update(id, status, std::move(output)));
}

void agent_maintenance(Agent& agent, const ExchangePtr& ex, const std::string&) {
  bool enable = false;
  if (!parse_enable(ex, enable)) return;
  const std::string* reason = ex->request.param("reason");
  agent.local_agent().node_maintenance(enable, reason ? *reason : "", reply_with(ex));
}

void agent_service_maintenance(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  if (id.empty()) {
    respond_error(ex, 400, "Missing service ID");
    return;
  }
  bool enable = false;
  if (!parse_enable(ex, enable)) return;
  const std::string* reason = ex->request.param("reason");
  agent.local_agent().service_maintenance(id, enable, reason ? *reason : "", reply_with(ex));
}

void agent_reload(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::string err = agent.reload();
  if (err.empty())
    respond_empty(ex);
  else
    respond_error(ex, 500, "Failed reloading config: " + err);
}

void agent_health_by_name(Agent& agent, const ExchangePtr& ex, const std::string& name) {
  if (name.empty()) {
    respond_error(ex, 400, "Missing service Name");
    return;
  }
  std::vector<const local::LocalService*> found;
  for (const auto& [_, s] : agent.local().services())
    if (state::lower(s.service.name) == state::lower(name)) found.push_back(&s);
  health_by_service(agent, ex, found, false, "ServiceName " + name + " Not Found");
}

void agent_health_by_id(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  if (id.empty()) {
    respond_error(ex, 400, "Missing serviceID");
    return;
  }
  std::vector<const local::LocalService*> found;
  if (const local::LocalService* s = agent.local().service(id)) found.push_back(s);
  health_by_service(agent, ex, found, true, "ServiceId " + id + " not found");
}

void agent_metrics(Agent& agent, const ExchangePtr& ex, const std::string&) {
  bool prometheus = false;
  if (const std::string* f = ex->request.param("format")) prometheus = *f == "prometheus";
  if (const std::string* a = ex->request.header("accept"))
    prometheus = prometheus || a->find("openmetrics") != std::string::npos ||
                 a->find("version=0.0.4") != std::string::npos;
  MetricsRegistry all;
  agent.collect_metrics(all);
  if (prometheus) {
    http::Response resp;
    resp.body = all.prometheus();
    resp.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    respond(ex, std::move(resp));
    return;
  }
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  all.write_json(w, static_cast<int64_t>(time(nullptr)));
  respond_json(ex, std::move(body));
}

}  // namespace

void add_agent_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/agent/version", bind_endpoint(agent, agent_version));
  r.add("GET", "/v1/agent/services", bind_endpoint(agent, agent_services));
  r.add("GET", "/v1/agent/service/", bind_endpoint(agent, agent_service));
  r.add("GET", "/v1/agent/checks", bind_endpoint(agent, agent_checks));
  r.add("PUT", "/v1/agent/service/register", bind_endpoint(agent, agent_service_register));
  r.add("PUT", "/v1/agent/service/deregister/", bind_endpoint(agent, agent_service_deregister));
  r.add("PUT", "/v1/agent/check/register", bind_endpoint(agent, agent_check_register));
  r.add("PUT", "/v1/agent/check/deregister/", bind_endpoint(agent, agent_check_deregister));
  r.add("PUT", "/v1/agent/check/pass/", bind_endpoint(agent, agent_check_pass));
  r.add("PUT", "/v1/agent/check/warn/", bind_endpoint(agent, agent_check_warn));
  r.add("PUT", "/v1/agent/check/fail/", bind_endpoint(agent, agent_check_fail));
  r.add("PUT", "/v1/agent/check/update/", bind_endpoint(agent, agent_check_update));
  r.add("PUT", "/v1/agent/maintenance", bind_endpoint(agent, agent_maintenance));
  r.add("PUT", "/v1/agent/service/maintenance/", bind_endpoint(agent, agent_service_maintenance));
  r.add("PUT", "/v1/agent/reload", bind_endpoint(agent, agent_reload));
  r.add("GET", "/v1/agent/health/service/name/", bind_endpoint(agent, agent_health_by_name));
  r.add("GET", "/v1/agent/health/service/id/", bind_endpoint(agent, agent_health_by_id));
  r.add("GET", "/v1/agent/metrics", bind_endpoint(agent, agent_metrics));
}

}  // namespace cairn::http_api
