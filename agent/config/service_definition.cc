#include "agent/config/service_definition.h"

#include <cctype>
#include <cstdint>

#include "common/json_writer.h"
#include "common/utf8.h"

namespace cairn::config {

namespace {

void decode_meta(Decoder& d, const Value& v, std::map<std::string, std::string>& out) {
  out = d.string_map(v);
}

// Consul's config files default each missing weight to 1; an HTTP body is
// decoded by Go into a struct, so there a missing weight is 0 (and Passing 0
// is refused by validate_service, as Consul's agent endpoint refuses it).
state::Weights decode_weights(Decoder& d, const Value& v) {
  const bool http_body = d.file().empty();
  state::Weights w;
  if (http_body) w = {0, 0};
  if (v.is_null()) return http_body ? state::Weights{} : w;
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "passing") w.passing = static_cast<int>(d.integer(f, INT32_MIN, INT32_MAX));
    else if (k == "warning") w.warning = static_cast<int>(d.integer(f, INT32_MIN, INT32_MAX));
    else return false;
    return true;
  });
  return w;
}

std::map<std::string, state::ServiceAddress> decode_tagged(Decoder& d, const Value& v) {
  std::map<std::string, state::ServiceAddress> out;
  if (v.is_null()) return out;
  if (!v.is_object()) d.fail(v, "expected a map of {address, port}");
  for (const auto& [key, item] : v.fields) {
    Decoder::Scope s(d, key);
    if (!is_valid_utf8(key)) d.fail(item, "key is not valid UTF-8");
    state::ServiceAddress a;
    d.object(item, [&](std::string_view k, const Value& f) {
      if (k == "address") a.address = d.str(f);
      else if (k == "port") a.port = static_cast<int>(d.integer(f, 0, 65535));
      else return false;
      return true;
    });
    out[key] = a;
  }
  return out;
}

// Mesh fields are stored and echoed, never interpreted: keep them as compact JSON.
void append_json(Decoder& d, const Value& v, JsonWriter& w) {
  switch (v.kind) {
    case Value::Kind::null: w.null(); break;
    case Value::Kind::boolean: w.boolean(v.b); break;
    case Value::Kind::integer: w.number(v.i); break;
    case Value::Kind::uinteger: w.number(v.u); break;
    case Value::Kind::number: w.number(v.d); break;
    case Value::Kind::string:
    case Value::Kind::scalar: w.string(d.str(v)); break;
    case Value::Kind::array:
      w.begin_array();
      for (const auto& item : v.items) append_json(d, item, w);
      w.end_array();
      break;
    case Value::Kind::object:
      w.begin_object();
      for (const auto& [k, item] : v.fields) {
        if (!is_valid_utf8(k)) d.fail(item, "key is not valid UTF-8");
        w.key(k);
        append_json(d, item, w);
      }
      w.end_object();
      break;
  }
}

std::string to_json(Decoder& d, const Value& v) {
  if (v.is_null()) return "";
  std::string out;
  JsonWriter w(out);
  append_json(d, v, w);
  return out;
}

int small_int(Decoder& d, const Value& v) { return static_cast<int>(d.integer(v, 0, 1 << 20)); }

}  // namespace

std::string CheckSpec::type() const {
  if (def->ttl > 0) return "ttl";
  if (!def->alias_service.empty() || !def->alias_node.empty()) return "alias";
  if (!def->docker_container_id.empty()) return "docker";
  if (!def->args.empty()) return "script";
  if (!def->http.empty()) return "http";
  if (!def->tcp.empty()) return "tcp";
  if (!def->udp.empty()) return "udp";
  if (!def->grpc.empty()) return "grpc";
  if (!def->h2ping.empty()) return "h2ping";
  return "";
}

CheckSpec decode_check(Decoder& d, const Value& v) {
  CheckSpec c;
  c.line = v.line;
  state::CheckDefinition def;  // shared, immutable, once decoded
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "id" || k == "checkid") c.id = d.str(f);
    else if (k == "name") c.name = d.str(f);
    else if (k == "notes") c.notes = d.str(f);
    else if (k == "status") c.status = d.str(f);
    else if (k == "serviceid") c.service_id = d.str(f);
    else if (k == "token") c.token = d.str(f);
    else if (k == "http") def.http = d.str(f);
    else if (k == "method") def.method = d.str(f);
    else if (k == "header") def.header = d.string_list_map(f);
    else if (k == "body") def.body = d.str(f);
    else if (k == "tlsservername") def.tls_server_name = d.str(f);
    else if (k == "tlsskipverify") def.tls_skip_verify = d.boolean(f);
    else if (k == "disableredirects") def.disable_redirects = d.boolean(f);
    else if (k == "tcp") def.tcp = d.str(f);
    else if (k == "udp") def.udp = d.str(f);
    else if (k == "grpc") def.grpc = d.str(f);
    else if (k == "grpcusetls") def.grpc_use_tls = d.boolean(f);
    else if (k == "h2ping") def.h2ping = d.str(f);
    else if (k == "h2pingusetls") def.h2ping_use_tls = d.boolean(f);
    else if (k == "args" || k == "scriptargs") def.args = d.strings(f);
    else if (k == "script") {
      // Consul's legacy form: one shell command line.
      std::string cmd = d.str(f);
      if (!cmd.empty()) def.args = {"/bin/sh", "-c", cmd};
    } else if (k == "shell") def.shell = d.str(f);
    else if (k == "dockercontainerid") def.docker_container_id = d.str(f);
    else if (k == "aliasnode") def.alias_node = d.str(f);
    else if (k == "aliasservice") def.alias_service = d.str(f);
    else if (k == "ttl") def.ttl = d.duration(f);
    else if (k == "interval") def.interval = d.duration(f);
    else if (k == "timeout") def.timeout = d.duration(f);
    else if (k == "deregistercriticalserviceafter") def.deregister_critical_service_after = d.duration(f);
    else if (k == "successbeforepassing") def.success_before_passing = small_int(d, f);
    else if (k == "failuresbeforewarning") def.failures_before_warning = small_int(d, f);
    else if (k == "failuresbeforecritical") def.failures_before_critical = small_int(d, f);
    else if (k == "outputmaxsize") def.output_max_size = small_int(d, f);
    else if (k == "definition") {
      // Catalog-style checks nest the runner fields under Definition.
      CheckSpec inner = decode_check(d, f);
      state::CheckDefinition outer = def;
      def = *inner.def;
      // Thresholds live beside Definition, not in it; keep what was already read.
      if (!def.success_before_passing) def.success_before_passing = outer.success_before_passing;
      if (!def.failures_before_warning) def.failures_before_warning = outer.failures_before_warning;
      if (!def.failures_before_critical)
        def.failures_before_critical = outer.failures_before_critical;
    } else if (k == "type" || k == "exposedport" || k == "node" || k == "servicename" ||
               k == "servicetags" || k == "output" || k == "createindex" || k == "modifyindex" ||
               k == "namespace" || k == "partition" || k == "peername")
      return !d.strict();  // catalog/read-back fields: tolerated in bodies, not in files
    else return false;
    return true;
  });
  c.def = std::move(def);
  return c;
}

state::Locality decode_locality(Decoder& d, const Value& v) {
  state::Locality l;
  if (v.is_null()) return l;
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "region") l.region = d.str(f);
    else if (k == "zone") l.zone = d.str(f);
    else return false;
    return true;
  });
  return l;
}

ServiceDefinition decode_service(Decoder& d, const Value& v) {
  ServiceDefinition def;
  def.file = d.file();
  def.line = v.line;
  state::Service& s = def.service;
  bool saw_check = false;
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "id") s.id = d.str(f);
    else if (k == "name" || k == "service") s.name = d.str(f);
    else if (k == "kind") s.kind = d.str(f);
    else if (k == "tags") s.tags = d.strings(f);
    else if (k == "address") s.address = d.str(f);
    else if (k == "taggedaddresses") s.tagged_addresses = decode_tagged(d, f);
    else if (k == "meta") decode_meta(d, f, s.meta);
    else if (k == "port") s.port = static_cast<int>(d.integer(f, 0, 65535));
    else if (k == "socketpath") s.socket_path = d.str(f);
    else if (k == "weights") s.weights = decode_weights(d, f);
    else if (k == "enabletagoverride") s.enable_tag_override = d.boolean(f);
    else if (k == "proxy") s.proxy_json = to_json(d, f);
    else if (k == "connect") s.connect_json = to_json(d, f);
    else if (k == "locality") s.locality = decode_locality(d, f);
    else if (k == "token") def.token = d.str(f);
    else if (k == "check") {
      if (!f.is_null()) {
        def.checks.insert(def.checks.begin(), decode_check(d, f));
        saw_check = true;
      }
    } else if (k == "checks") {
      d.array(f, [&](const Value& item) { def.checks.push_back(decode_check(d, item)); });
    } else if (k == "namespace" || k == "partition" || k == "enabletagoverrides" ||
               k == "datacenter" || k == "contenthash" || k == "createindex" ||
               k == "modifyindex" || k == "peername")
      return !d.strict();
    else return false;
    return true;
  });
  (void)saw_check;
  return def;
}

namespace {

bool valid_meta_key(const std::string& k) {
  if (k.empty() || k.size() > kMaxMetaKeyLength) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

state::LimitCheck check_spec_limits(std::string_view field, const CheckSpec& c) {
  std::string f(field);
  if (auto e = state::check_identifier(f + "CheckID", c.id)) return e;
  if (auto e = state::check_identifier(f + "Name", c.name)) return e;
  return state::check_identifier(f + "ServiceID", c.service_id);
}

state::LimitCheck check_definition_limits(const ServiceDefinition& def) {
  if (auto e = state::check_service(def.service)) return e;
  if (auto e = state::check_check_count(def.checks.size())) return e;
  for (size_t i = 0; i < def.checks.size(); ++i)
    if (auto e = check_spec_limits("Checks[" + std::to_string(i) + "].", def.checks[i])) return e;
  return std::nullopt;
}

std::string validate_check(CheckSpec& c, bool standalone) {
  using state::kCritical;
  const state::CheckDefinition& def = *c.def;
  // Embedded checks were bounded with their service, before their IDs and
  // names were derived from it.
  if (standalone)
    if (auto e = check_spec_limits("", c)) return e->message;
  if (standalone && c.name.empty()) return "Missing check name";
  if (!c.status.empty() && !state::is_valid_status(c.status))
    return "Status: invalid check status \"" + c.status + "\" (passing, warning or critical)";
  int kinds = (def.ttl > 0) + (!def.http.empty()) + (!def.tcp.empty()) + (!def.udp.empty()) +
              (!def.grpc.empty()) + (!def.h2ping.empty()) + (!def.args.empty()) +
              (!def.docker_container_id.empty() && def.args.empty()) +
              (!def.alias_service.empty() || !def.alias_node.empty());
  if (def.ttl < 0) return "TTL must be > 0 for TTL checks";
  if (kinds == 0)
    return "Invalid check: exactly one of TTL, HTTP, TCP, UDP, GRPC, H2PING, Args, "
           "AliasService/AliasNode must be set";
  if (kinds > 1)
    return "Invalid check: only one of TTL, HTTP, TCP, UDP, GRPC, H2PING, Args, "
           "AliasService/AliasNode may be set";
  std::string type = c.type();
  bool needs_interval = type == "http" || type == "tcp" || type == "udp" || type == "grpc" ||
                        type == "h2ping" || type == "script" || type == "docker";
  if (needs_interval && def.interval <= 0)
    return "Interval: required and must be > 0 for " + type + " checks";
  if (def.timeout < 0) return "Timeout: must not be negative";
  if (def.deregister_critical_service_after < 0)
    return "DeregisterCriticalServiceAfter: must not be negative";
  if (!def.http.empty() && def.http.rfind("http://", 0) != 0 && def.http.rfind("https://", 0) != 0)
    return "HTTP: \"" + def.http + "\" is not an http:// or https:// URL";
  (void)kCritical;
  return "";
}

std::string validate_weights(const state::Weights& w) {
  if (w.passing < 1) return "Passing must be greater than 0";
  if (w.warning < 0) return "Warning must be greater or equal than 0";
  if (w.passing > 65535 || w.warning > 65535) return "DNS Weight must be between 0 and 65535";
  return "";
}

std::string validate_service(ServiceDefinition& def) {
  state::Service& s = def.service;
  if (s.name.empty()) return "Missing service name";
  if (s.id.empty()) s.id = s.name;
  if (auto e = check_definition_limits(def)) return e->message;
  if (s.meta.size() > kMaxMetaPairs)
    return "Meta: at most " + std::to_string(kMaxMetaPairs) + " pairs are allowed";
  for (const auto& [k, val] : s.meta) {
    if (!valid_meta_key(k))
      return "Meta: key \"" + k + "\" must be 1-128 characters of [A-Za-z0-9_-]";
    if (k.rfind("consul-", 0) == 0) return "Meta: key \"" + k + "\" uses the reserved consul- prefix";
    if (val.size() > kMaxMetaValueLength)
      return "Meta: value of \"" + k + "\" is longer than 512 characters";
  }
  if (std::string e = validate_weights(s.weights); !e.empty()) return "Invalid Weights: " + e;
  for (size_t i = 0; i < def.checks.size(); ++i) {
    CheckSpec& c = def.checks[i];
    if (c.id.empty())
      c.id = def.checks.size() == 1 ? "service:" + s.id : "service:" + s.id + ":" + std::to_string(i + 1);
    if (c.name.empty()) c.name = "Service '" + s.name + "' check";
    c.service_id = s.id;
    std::string err = validate_check(c, false);
    if (!err.empty()) return "Checks[" + std::to_string(i) + "]: " + err;
  }
  return "";
}

}  // namespace cairn::config
