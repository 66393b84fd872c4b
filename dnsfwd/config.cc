#include "dnsfwd/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "common/decode.h"
#include "common/dns/name.h"
#include "common/dns/wire.h"
#include "common/duration.h"
#include "common/files.h"
#include "common/log.h"
#include "dnsfwd/router.h"

namespace cairn::dnsfwd {

namespace {

std::vector<uint8_t> wire(const char* text) {
  std::vector<uint8_t> out;
  std::string err;
  dns::from_text(text, out, err);
  return out;
}

// Durations are Go duration strings ("400ms", "1h"); a bare number means seconds.
uint64_t millis(const Decoder& d, const Value& v, uint64_t max_ms) {
  uint64_t ms = 0;
  if (v.kind == Value::Kind::integer || v.kind == Value::Kind::uinteger ||
      (v.kind == Value::Kind::scalar && !v.s.empty() &&
       std::all_of(v.s.begin(), v.s.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))) {
    ms = static_cast<uint64_t>(d.integer(v, 0, static_cast<int64_t>(max_ms / 1000))) * 1000;
  } else {
    std::string s = d.str(v);
    auto parsed = parse_duration(s);
    if (!parsed) d.fail(v, "expected a duration such as \"400ms\" or \"30s\", got \"" + s + "\"");
    if (*parsed < 0) d.fail(v, "must not be negative");
    ms = static_cast<uint64_t>(*parsed / kMillisecond);
  }
  if (ms > max_ms)
    d.fail(v, "must be at most " + format_duration(static_cast<Nanos>(max_ms) * kMillisecond));
  return ms;
}

uint32_t seconds(const Decoder& d, const Value& v) {
  return static_cast<uint32_t>(millis(d, v, uint64_t{0x7fffffff} * 1000) / 1000);
}

uint64_t bytes(const Decoder& d, const Value& v) {
  if (v.kind == Value::Kind::integer) return static_cast<uint64_t>(d.integer(v, 0, INT64_MAX));
  std::string s = d.str(v);
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  uint64_t n = 0;
  auto parsed = std::from_chars(s.data(), s.data() + i, n);
  if (i == 0 || parsed.ec != std::errc())
    d.fail(v, "expected a size such as 16777216 or \"16MiB\", got \"" + s + "\"");
  std::string unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  uint64_t mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KiB" || unit == "k")
    mult = 1024;
  else if (unit == "M" || unit == "MB" || unit == "MiB")
    mult = 1024 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GiB")
    mult = 1024ull * 1024 * 1024;
  else
    d.fail(v, "unknown size unit \"" + unit + "\" (use B, KiB, MiB or GiB)");
  if (n > (uint64_t{1} << 50) / mult) d.fail(v, "size too large");
  return n * mult;
}

std::vector<std::string> string_or_list(Decoder& d, const Value& v) {
  if (v.kind == Value::Kind::array) return d.strings(v);
  std::string s = d.str(v);
  if (s.empty()) return {};
  return {s};
}

std::vector<Endpoint> endpoints(Decoder& d, const Value& v) {
  std::vector<Endpoint> out;
  size_t i = 0;
  for (const auto& text : string_or_list(d, v)) {
    auto e = parse_endpoint(text, 53);
    const Value& at = v.kind == Value::Kind::array ? v.items[i] : v;
    if (!e)
      d.fail(at, "invalid address \"" + text + "\" (expected IP, IP:port, IP#port or [IPv6]:port)");
    out.push_back(*e);
    ++i;
  }
  return out;
}

uint16_t rr_type(const Decoder& d, const Value& v) {
  std::string s = d.str(v);
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s == "A") return dns::kTypeA;
  if (s == "NS") return dns::kTypeNS;
  if (s == "SOA") return dns::kTypeSOA;
  if (s == "AAAA") return dns::kTypeAAAA;
  if (s == "TXT") return dns::kTypeTXT;
  d.fail(v, "probe type must be one of A, AAAA, NS, SOA, TXT");
}

void decode_cache_rules(Decoder& d, const Value& v, CacheRules& c) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "minttl")
      c.min_ttl = seconds(d, f);
    else if (k == "maxttl")
      c.max_ttl = seconds(d, f);
    else if (k == "negativemaxttl")
      c.negative_max_ttl = seconds(d, f);
    else if (k == "negativettlwithoutsoa")
      c.negative_ttl_without_soa = seconds(d, f);
    else if (k == "servfailttl")
      c.servfail_ttl = seconds(d, f);
    else if (k == "servestale")
      c.serve_stale = d.boolean(f);
    else if (k == "stalemaxage")
      c.stale_max_age = seconds(d, f);
    else
      return false;
    return true;
  });
  if (c.min_ttl > c.max_ttl) d.fail(v, "min_ttl is larger than max_ttl");
}

void decode_timeouts(Decoder& d, const Value& v, Timeouts& t) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "initial")
      t.initial_ms = static_cast<uint32_t>(millis(d, f, 60000));
    else if (k == "min")
      t.min_ms = static_cast<uint32_t>(millis(d, f, 60000));
    else if (k == "max")
      t.max_ms = static_cast<uint32_t>(millis(d, f, 60000));
    else if (k == "total")
      t.total_ms = static_cast<uint32_t>(millis(d, f, 60000));
    else
      return false;
    return true;
  });
  if (t.min_ms == 0) d.fail(v, "min must be above 0");
  if (t.min_ms > t.max_ms) d.fail(v, "min is larger than max");
  if (t.total_ms < t.min_ms) d.fail(v, "total is shorter than min");
}

void decode_health(Decoder& d, const Value& v, HealthRules& h) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "maxfails")
      h.max_fails = static_cast<uint32_t>(d.integer(f, 1, 1000));
    else if (k == "probeinterval")
      h.probe_interval_ms = static_cast<uint32_t>(millis(d, f, 3600000));
    else if (k == "probename") {
      std::string err;
      if (!dns::from_text(d.str(f), h.probe_name, err)) d.fail(f, err);
    } else if (k == "probetype")
      h.probe_type = rr_type(d, f);
    else
      return false;
    return true;
  });
  if (h.probe_interval_ms < 50) d.fail(v, "probe_interval must be at least 50ms");
}

// Fields shared by the default group and route groups. Returns false for other keys.
bool decode_group_field(Decoder& d, std::string_view k, const Value& f, Group& g) {
  if (k == "servers") {
    g.servers = endpoints(d, f);
    if (g.servers.size() > kMaxGroupUpstreams)
      d.fail(f, "at most " + std::to_string(kMaxGroupUpstreams) + " servers per group");
  } else if (k == "policy") {
    if (!parse_policy(d.str(f), g.policy))
      d.fail(f, "unknown policy \"" + d.str(f) + "\" (sequential, round_robin, random, fastest)");
  } else if (k == "timeout" || k == "timeouts") {
    decode_timeouts(d, f, g.timeouts);
  } else if (k == "attempts") {
    g.timeouts.attempts = static_cast<uint32_t>(d.integer(f, 1, 8));
  } else if (k == "health") {
    decode_health(d, f, g.health);
  } else if (k == "cache") {
    decode_cache_rules(d, f, g.cache);
  } else if (k == "maxpending") {
    g.max_pending = static_cast<uint32_t>(d.integer(f, 1, 1'000'000));
  } else if (k == "maxqps") {
    g.max_qps = static_cast<uint32_t>(d.integer(f, 0, 10'000'000));
  } else if (k == "trustad") {
    g.trust_ad = d.boolean(f);
  } else if (k == "udpsockets") {
    g.udp_sockets = static_cast<uint32_t>(d.integer(f, 0, 256));
  } else if (k == "rotateafter") {
    g.rotate_after = static_cast<uint32_t>(d.integer(f, 0, 1'000'000));
  } else {
    return false;
  }
  return true;
}

Group default_group() {
  Group g;
  g.name = "default";
  g.server_files = {kResolvUpstreamPath, kResolvConfPath};
  g.health.probe_name = wire(".");
  g.health.probe_type = dns::kTypeNS;
  return g;
}

}  // namespace

void apply_agent_defaults(Group& g, const std::vector<uint8_t>& domain) {
  g.timeouts.initial_ms = 250;
  g.timeouts.min_ms = 100;
  g.cache.negative_max_ttl = 5;  // a service registered a moment ago must resolve
  g.cache.negative_ttl_without_soa = 0;
  g.trust_ad = false;  // Consul does not sign; never pass AD for its names
  g.health.probe_name = domain;
  g.health.probe_type = dns::kTypeSOA;
}

Config default_config() {
  Config c;
  c.listen.push_back({*parse_endpoint("127.0.0.1:53", 53), "127.0.0.1:53"});
  c.listen.push_back({*parse_endpoint("[::1]:53", 53), "[::1]:53"});
  c.metrics = parse_endpoint("127.0.0.1:8653", 0);
  c.groups.push_back(default_group());
  Group agent;
  agent.name = "consul";
  agent.servers.push_back(*parse_endpoint("127.0.0.1:8600", 53));
  apply_agent_defaults(agent, wire("consul."));
  c.groups.push_back(agent);
  c.routes.push_back({wire("consul."), "consul", 1});
  return c;
}

Config decode_config(const Value& doc, const std::string& file) {
  Config c = default_config();
  c.source = file;
  Decoder d(file, /*strict=*/true);
  bool routes_given = false;
  std::vector<Group> route_groups;
  std::vector<Route> routes;

  d.object(doc, [&](std::string_view k, const Value& f) {
    if (k == "listen") {
      c.listen.clear();
      for (const auto& text : string_or_list(d, f)) {
        auto e = parse_endpoint(text, 53);
        if (!e) d.fail(f, "invalid listen address \"" + text + "\"");
        c.listen.push_back({*e, text});
      }
      if (c.listen.empty()) d.fail(f, "at least one listen address is needed");
    } else if (k == "allownetworks") {
      c.allow_networks.clear();
      for (const auto& text : string_or_list(d, f)) {
        auto n = parse_cidr(text);
        if (!n) d.fail(f, "invalid network \"" + text + "\" (expected CIDR such as 10.0.0.0/8)");
        c.allow_networks.push_back(*n);
      }
    } else if (k == "allowloopback") {
      c.allow_loopback = d.boolean(f);
    } else if (k == "metricsaddr" || k == "metrics") {
      std::string s = d.str(f);
      if (s.empty() || s == "off" || s == "false") {
        c.metrics.reset();
      } else {
        c.metrics = parse_endpoint(s, 8653);
        if (!c.metrics) d.fail(f, "invalid address \"" + s + "\"");
      }
    } else if (k == "loglevel") {
      c.log_level = d.str(f);
      log::Level l;
      if (!log::parse_level(c.log_level, l)) d.fail(f, "unknown log level \"" + c.log_level + "\"");
    } else if (k == "logjson") {
      c.log_json = d.boolean(f);
    } else if (k == "upstreams") {
      Group& g = c.groups[0];
      if (f.kind == Value::Kind::array || f.kind == Value::Kind::string ||
          f.kind == Value::Kind::scalar) {
        g.servers = endpoints(d, f);  // shorthand: a plain list of servers
      } else {
        d.object(f, [&](std::string_view gk, const Value& gf) {
          if (gk == "files") {
            g.server_files = string_or_list(d, gf);
            return true;
          }
          return decode_group_field(d, gk, gf, g);
        });
      }
      if (g.servers.empty() && g.server_files.empty())
        d.fail(f, "no servers and no files to read them from");
    } else if (k == "routes") {
      routes_given = true;
      d.array(f, [&](const Value& rv) {
        Group g = default_group();
        g.server_files.clear();
        std::vector<std::string> domains;
        std::vector<Cidr> reverse;
        bool agent = false;
        d.object(rv, [&](std::string_view rk, const Value& rf) {
          if (rk == "domain" || rk == "domains") {
            domains = string_or_list(d, rf);
          } else if (rk == "reverse") {
            for (const auto& text : string_or_list(d, rf)) {
              auto n = parse_cidr(text);
              if (!n) d.fail(rf, "invalid network \"" + text + "\"");
              reverse.push_back(*n);
            }
          } else if (rk == "agent") {
            agent = d.boolean(rf);
          }
          return true;  // group fields are decoded (and unknown keys caught) below
        });
        if (domains.empty() && reverse.empty())
          d.fail(rv, "a route needs domains or reverse networks");
        uint32_t index = static_cast<uint32_t>(route_groups.size() + 1);
        std::vector<std::vector<uint8_t>> suffixes;
        std::vector<std::string> texts;
        for (const auto& text : domains) {
          std::vector<uint8_t> w;
          std::string err;
          if (!dns::from_text(text, w, err)) d.fail(rv, err);
          suffixes.push_back(w);
          texts.push_back(text);
        }
        for (const auto& net : reverse) {
          for (auto& z : reverse_zones(net)) {
            texts.push_back(dns::to_text(z.data(), z.size()));
            suffixes.push_back(std::move(z));
          }
        }
        g.name = domains.empty() ? texts.front() : domains.front();
        if (agent)
          apply_agent_defaults(g, suffixes.front());
        else
          g.health.probe_name = suffixes.front(), g.health.probe_type = dns::kTypeSOA;
        // Group fields after "agent" so explicit settings win over its defaults.
        d.object(rv, [&](std::string_view rk, const Value& rf) {
          if (rk == "domain" || rk == "domains" || rk == "reverse" || rk == "agent") return true;
          return decode_group_field(d, rk, rf, g);
        });
        if (g.servers.empty()) d.fail(rv, "a route needs servers");
        for (size_t i = 0; i < suffixes.size(); ++i)
          routes.push_back({suffixes[i], texts[i], index});
        route_groups.push_back(std::move(g));
      });
    } else if (k == "cache") {
      d.object(f, [&](std::string_view ck, const Value& cf) {
        if (ck == "maxentries")
          c.cache.max_entries = static_cast<uint32_t>(d.integer(cf, 1, 100'000'000));
        else if (ck == "maxbytes")
          c.cache.max_bytes = bytes(d, cf);
        else if (ck == "stalereplyttl")
          c.cache.stale_reply_ttl = seconds(d, cf);
        else if (ck == "staleanswertimeout")
          c.cache.stale_answer_timeout_ms = static_cast<uint32_t>(millis(d, cf, 60000));
        else if (ck == "stalerefreshbackoff")
          c.cache.stale_refresh_backoff = seconds(d, cf);
        else if (ck == "prefetch") {
          d.object(cf, [&](std::string_view pk, const Value& pf) {
            if (pk == "enabled")
              c.cache.prefetch.enabled = d.boolean(pf);
            else if (pk == "minttl")
              c.cache.prefetch.min_ttl = seconds(d, pf);
            else if (pk == "minhits")
              c.cache.prefetch.min_hits = static_cast<uint32_t>(d.integer(pf, 0, 1'000'000));
            else if (pk == "percentleft")
              c.cache.prefetch.percent_left = static_cast<uint32_t>(d.integer(pf, 1, 90));
            else
              return false;
            return true;
          });
        } else
          return false;
        return true;
      });
      if (c.cache.max_bytes < 64 * 1024) d.fail(f, "max_bytes must be at least 64KiB");
    } else if (k == "limits") {
      d.object(f, [&](std::string_view lk, const Value& lf) {
        if (lk == "maxudpsize")
          c.limits.max_udp_size = static_cast<uint16_t>(d.integer(lf, 512, 4096));
        else if (lk == "ednsudpsize")
          c.limits.edns_udp_size = static_cast<uint16_t>(d.integer(lf, 512, 4096));
        else if (lk == "tcpmaxconnections")
          c.limits.tcp_max_connections = static_cast<uint32_t>(d.integer(lf, 1, 100'000));
        else if (lk == "tcpidletimeout")
          c.limits.tcp_idle_timeout_ms = static_cast<uint32_t>(millis(d, lf, 3600000));
        else if (lk == "tcpmaxinflight")
          c.limits.tcp_max_in_flight = static_cast<uint32_t>(d.integer(lf, 1, 65535));
        else if (lk == "maxwaitersperquery")
          c.limits.max_waiters_per_query = static_cast<uint32_t>(d.integer(lf, 1, 65535));
        else
          return false;
        return true;
      });
    } else if (k == "upstreampollinterval") {
      c.upstream_poll_ms = static_cast<uint32_t>(millis(d, f, 3600000));
      if (c.upstream_poll_ms < 100) d.fail(f, "must be at least 100ms");
    } else {
      return false;
    }
    return true;
  });

  if (routes_given) {
    c.groups.resize(1);
    for (auto& g : route_groups) c.groups.push_back(std::move(g));
    c.routes = std::move(routes);
  }
  std::set<std::vector<uint8_t>> seen;
  for (const auto& r : c.routes)
    if (!seen.insert(r.suffix).second)
      throw DecodeError(file, 0, "routes", "domain \"" + r.text + "\" is routed twice");
  if (c.groups.size() > 1000) throw DecodeError(file, 0, "routes", "at most 999 routes");
  return c;
}

bool load_config(const std::string& path, Config& out, std::string& error) {
  std::string text;
  if (!read_file(path, text, error)) return false;
  Value doc;
  ParseError perr;
  if (!parse_yaml(text, doc, perr)) {
    error = path + ":" + std::to_string(perr.line) + ": " + perr.message;
    return false;
  }
  try {
    out = decode_config(doc, path);
  } catch (const DecodeError& e) {
    error = format_decode_error(e);
    return false;
  }
  return true;
}

}  // namespace cairn::dnsfwd
