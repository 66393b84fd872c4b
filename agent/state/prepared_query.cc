#include "agent/state/prepared_query.h"

#include <algorithm>
#include <functional>

#include "agent/state/store.h"
#include "common/duration.h"
#include "common/random.h"

namespace cairn::state {

bool PreparedQuery::same_content(const PreparedQuery& o) const {
  return id == o.id && name == o.name && session == o.session && token == o.token &&
         tmpl == o.tmpl && service == o.service && dns_ttl == o.dns_ttl;
}

namespace {

// Consul's redacted token text: a definition read back from a list must not be
// stored with it.
constexpr const char* kRedactedToken = "<hidden>";
constexpr const char* kNodeMaintenanceID = "_node_maintenance";
constexpr const char* kServiceMaintenancePrefix = "_service_maintenance:";

// Variables a template may use (HIL's ${...} syntax, the subset Consul defines).
struct TemplateVars {
  std::string_view full, prefix, suffix, segment;
  const std::vector<std::string>* matches = nullptr;
};

// Interpolates one string; with vars == nullptr only checks the syntax.
// Returns "" or the error.
std::string interpolate(std::string_view in, const TemplateVars* vars, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < in.size()) {
    if (in.compare(i, 3, "$${") == 0) {  // HIL's escape for a literal "${"
      out += "${";
      i += 3;
      continue;
    }
    if (in.compare(i, 2, "${") != 0) {
      out += in[i++];
      continue;
    }
    size_t close = in.find('}', i + 2);
    if (close == std::string_view::npos) return "expected \"}\" but found end of string";
    std::string_view expr = in.substr(i + 2, close - i - 2);
    while (!expr.empty() && expr.front() == ' ') expr.remove_prefix(1);
    while (!expr.empty() && expr.back() == ' ') expr.remove_suffix(1);
    i = close + 1;
    if (expr == "name.full" || expr == "name.prefix" || expr == "name.suffix" ||
        expr == "agent.segment") {
      if (!vars) continue;
      if (expr == "name.full")
        out += vars->full;
      else if (expr == "name.prefix")
        out += vars->prefix;
      else if (expr == "name.suffix")
        out += vars->suffix;
      else
        out += vars->segment;
      continue;
    }
    if (expr.rfind("match(", 0) == 0 && expr.back() == ')') {
      std::string_view arg = expr.substr(6, expr.size() - 7);
      if (arg.empty() || arg.size() > 6 ||
          !std::all_of(arg.begin(), arg.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return "match() expects one integer argument, got \"" + std::string(arg) + "\"";
      if (!vars) continue;
      size_t n = std::stoul(std::string(arg));
      if (vars->matches && n < vars->matches->size()) out += (*vars->matches)[n];
      continue;
    }
    return "unknown variable accessed: " + std::string(expr);
  }
  return "";
}

// Visits every string field of a ServiceQuery, as Consul's template walker
// does, with a Go-like field path for messages.
void walk(ServiceQuery& q, const std::function<void(const std::string& path, std::string&)>& f) {
  f(".Service", q.service);
  for (size_t i = 0; i < q.failover.datacenters.size(); ++i)
    f(".Failover.Datacenters[" + std::to_string(i) + "]", q.failover.datacenters[i]);
  for (size_t i = 0; i < q.ignore_check_ids.size(); ++i)
    f(".IgnoreCheckIDs[" + std::to_string(i) + "]", q.ignore_check_ids[i]);
  f(".Near", q.near);
  for (size_t i = 0; i < q.tags.size(); ++i) f(".Tags[" + std::to_string(i) + "]", q.tags[i]);
  for (auto& [k, v] : q.node_meta) f(".NodeMeta[" + k + "]", v);
  for (auto& [k, v] : q.service_meta) f(".ServiceMeta[" + k + "]", v);
  f(".Peer", q.peer);
}

bool has_tag_ci(const Service& s, const std::string& lc_tag) {
  for (const auto& t : s.tags)
    if (lower(t) == lc_tag) return true;
  return false;
}

bool meta_matches(const std::map<std::string, std::string>& have,
                  const std::map<std::string, std::string>& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

std::string validate_query(const PreparedQuery& q) {
  if (q.name.empty() && q.tmpl.type.empty() && q.session.empty())
    return "Must be bound to a session";
  if (q.token == kRedactedToken)
    return std::string("Bad Token '") + kRedactedToken +
           "', it looks like a query definition with a redacted token was submitted";
  if (q.service.service.empty()) return "Must provide a Service name to query";
  if (q.service.failover.nearest_n < 0)
    return "Bad NearestN '" + std::to_string(q.service.failover.nearest_n) + "', must be >= 0";
  bool has_targets = !q.service.failover.targets_json.empty() &&
                     q.service.failover.targets_json != "null" &&
                     q.service.failover.targets_json != "[]";
  if ((q.service.failover.nearest_n != 0 || !q.service.failover.datacenters.empty()) && has_targets)
    return "Targets cannot be populated with NearestN or Datacenters";
  if (!q.dns_ttl.empty()) {
    auto ttl = parse_duration(q.dns_ttl);
    if (!ttl)
      return "Bad DNS TTL '" + q.dns_ttl + "': time: invalid duration \"" + q.dns_ttl + "\"";
    if (*ttl < 0) return "DNS TTL '" + std::to_string(*ttl) + "', must be >=0";
  }
  if (q.is_template()) {
    if (q.tmpl.type != kTemplateNamePrefixMatch) return "Bad Template.Type '" + q.tmpl.type + "'";
    ServiceQuery copy = q.service;
    std::string err, scratch;
    walk(copy, [&](const std::string& path, std::string& v) {
      if (!err.empty()) return;
      std::string e = interpolate(v, nullptr, scratch);
      if (!e.empty()) err = "Bad format '" + v + "' in Service" + path + ": " + e;
    });
    if (!err.empty()) return err;
    if (!q.tmpl.regexp.empty()) {
      RegexError bad;
      if (!Regex::compile(q.tmpl.regexp, bad)) return "Bad Regexp: " + bad.message;
    }
  }
  return "";
}

void compile_template(QueryTemplate& t) {
  t.compiled.reset();
  if (t.type.empty() || t.regexp.empty()) return;
  RegexError bad;
  t.compiled = Regex::compile(t.regexp, bad);
}

std::string render_template(const PreparedQuery& tmpl, std::string_view name,
                            std::string_view agent_segment, PreparedQuery& out) {
  out = tmpl;
  std::vector<std::string> matches;
  if (!tmpl.tmpl.regexp.empty()) {
    std::shared_ptr<const Regex> re = tmpl.tmpl.compiled;
    if (!re || re->pattern() != tmpl.tmpl.regexp) {  // a definition that was never stored
      RegexError bad;
      re = Regex::compile(tmpl.tmpl.regexp, bad);
      if (!re) return "Bad Regexp: " + bad.message;
    }
    re->search_groups(name, matches);  // Go's FindStringSubmatch: empty when nothing matches
  }
  TemplateVars vars;
  vars.full = name;
  vars.prefix = tmpl.name;
  bool prefixed = name.size() >= tmpl.name.size() &&
                  lower(name.substr(0, tmpl.name.size())) == lower(tmpl.name);
  vars.suffix = prefixed ? name.substr(tmpl.name.size()) : name;
  vars.segment = agent_segment;
  vars.matches = &matches;
  std::string err, rendered;
  walk(out.service, [&](const std::string& path, std::string& v) {
    if (!err.empty()) return;
    std::string e = interpolate(v, &vars, rendered);
    if (!e.empty()) {
      err = "Bad evaluation for '" + v + "' in Service" + path + ": " + e;
      return;
    }
    v = rendered;
  });
  if (!err.empty()) return err;
  if (tmpl.tmpl.remove_empty_tags)
    std::erase_if(out.service.tags, [](const std::string& t) { return t.empty(); });
  return "";
}

std::optional<PreparedQuery> resolve_query(const Store& store, std::string_view id_or_name,
                                           std::string* error) {
  if (id_or_name.empty()) return std::nullopt;
  if (is_uuid(id_or_name))
    if (const PreparedQuery* q = store.prepared_query(id_or_name)) return *q;
  std::string lc = lower(id_or_name);
  auto render = [&](const PreparedQuery& t) -> std::optional<PreparedQuery> {
    PreparedQuery out;
    std::string err = render_template(t, id_or_name, "", out);
    if (!err.empty()) {
      if (error) *error = err;
      return std::nullopt;
    }
    return out;
  };
  if (const PreparedQuery* q = store.prepared_query_longest_prefix(lc)) {
    if (lower(q->name) == lc) return *q;
    if (q->is_template()) return render(*q);
  }
  if (const PreparedQuery* wild = store.prepared_query_wild()) return render(*wild);
  return std::nullopt;
}

std::vector<QueryResultNode> execute_query(const Store& store, const ServiceQuery& q) {
  std::vector<QueryResultNode> out;
  // Mesh endpoints and peers are not served by cairn yet: nothing matches.
  if (q.connect || !q.peer.empty()) return out;
  std::vector<std::string> must, must_not;
  for (const auto& t : q.tags) {
    std::string lc = lower(t);
    if (!lc.empty() && lc[0] == '!')
      must_not.push_back(lc.substr(1));
    else
      must.push_back(lc);
  }
  for (const Service* s : store.service_instances(q.service)) {
    const Node* n = store.node(s->node);
    if (!n) continue;
    QueryResultNode r;
    r.node = n;
    r.service = s;
    r.checks = store.node_checks(s->node);
    for (const Check* c : store.instance_checks(s->node, s->id)) r.checks.push_back(c);
    std::sort(r.checks.begin(), r.checks.end(),
              [](const Check* a, const Check* b) { return a->check_id < b->check_id; });
    bool healthy = true;
    for (const Check* c : r.checks) {
      if (std::find(q.ignore_check_ids.begin(), q.ignore_check_ids.end(), c->check_id) !=
          q.ignore_check_ids.end())
        continue;
      if (c->status == kCritical || (q.only_passing && c->status != kPassing)) {
        healthy = false;
        break;
      }
    }
    if (!healthy) continue;
    if (!meta_matches(n->meta, q.node_meta) || !meta_matches(s->meta, q.service_meta)) continue;
    bool tags_ok = std::all_of(must.begin(), must.end(),
                               [&](const std::string& t) { return has_tag_ci(*s, t); }) &&
                   std::none_of(must_not.begin(), must_not.end(),
                                [&](const std::string& t) { return has_tag_ci(*s, t); });
    if (!tags_ok) continue;
    out.push_back(std::move(r));
  }
  return out;
}

void move_node_first(std::vector<QueryResultNode>& nodes, std::string_view node) {
  if (node.empty()) return;
  std::string lc = lower(node);
  for (size_t i = 0; i < nodes.size() && i < 10; ++i) {
    if (lower(nodes[i].node->name) == lc) {
      std::swap(nodes[0], nodes[i]);
      return;
    }
  }
}

std::string aggregated_status(const std::vector<const Check*>& checks) {
  bool warning = false, critical = false, maintenance = false;
  for (const Check* c : checks) {
    if (c->check_id == kNodeMaintenanceID || c->check_id.rfind(kServiceMaintenancePrefix, 0) == 0)
      maintenance = true;
    else if (c->status == kCritical)
      critical = true;
    else if (c->status == kWarning)
      warning = true;
  }
  if (maintenance) return kMaintenance;
  if (critical) return kCritical;
  if (warning) return kWarning;
  return kPassing;
}

}  // namespace cairn::state
