#include "agent/cli/client.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/files.h"
#include "common/http/url.h"

namespace cairn::cli {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The CLI's HTTP client has no TLS yet: a TLS setting (flag, Consul's
// environment variable or an https:// address) must not quietly become a
// plain-text connection. "" or why the client refuses.
std::string tls_refusal(const std::string& what) {
  return what + ": TLS for the CLI arrives with the security issue; refusing to connect in "
                "plain text";
}

std::string tls_from_environment() {
  for (const char* name : {"CONSUL_CACERT", "CONSUL_CAPATH", "CONSUL_CLIENT_CERT",
                           "CONSUL_CLIENT_KEY", "CONSUL_TLS_SERVER_NAME"})
    if (!env(name).empty()) return tls_refusal(name);
  std::string ssl = env("CONSUL_HTTP_SSL");
  if (ssl == "true" || ssl == "1") return tls_refusal("CONSUL_HTTP_SSL");
  return "";
}

}  // namespace

ApiClient ApiClient::from_args(std::vector<std::string>& args) {
  ApiClient c;
  if (auto v = env("CONSUL_HTTP_ADDR"); !v.empty()) c.address = v;
  if (auto v = env("CAIRN_HTTP_ADDR"); !v.empty()) c.address = v;
  if (auto v = env("CONSUL_HTTP_TOKEN_FILE"); !v.empty()) c.token_file = v;
  if (auto v = env("CONSUL_HTTP_TOKEN"); !v.empty()) c.token = v;
  if (auto v = env("CAIRN_HTTP_TOKEN"); !v.empty()) c.token = v;
  c.refusal = tls_from_environment();
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string name = a;
    while (!name.empty() && name[0] == '-') name.erase(0, 1);
    std::string value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    bool ours =
        a.size() > 1 && a[0] == '-' &&
        (name == "http-addr" || name == "token" || name == "ca-file" || name == "client-cert" ||
         name == "client-key" || name == "tls-server-name" || name == "token-file");
    if (!ours) {
      rest.push_back(a);
      continue;
    }
    if (!inline_value && i + 1 < args.size()) value = args[++i];
    if (name == "http-addr") c.address = value;
    else if (name == "token") c.token = value;
    else if (name == "token-file") c.token_file = value;
    else if (c.refusal.empty()) c.refusal = tls_refusal("-" + name);
  }
  if (c.address.rfind("https://", 0) == 0 && c.refusal.empty())
    c.refusal = tls_refusal(c.address);
  // Consul: -token wins over -token-file; the file holds the token alone.
  if (c.token.empty() && !c.token_file.empty() && c.refusal.empty()) {
    std::string err;
    if (!read_file(c.token_file, c.token, err)) c.refusal = "-token-file: " + err;
    while (!c.token.empty() &&
           (c.token.back() == '\n' || c.token.back() == '\r' || c.token.back() == ' '))
      c.token.pop_back();
  }
  args = rest;
  return c;
}

bool ApiClient::request(const std::string& method, const std::string& target,
                        const std::string& body, http::ClientResponse& resp, std::string& error,
                        int timeout_ms) const {
  if (!refusal.empty()) {
    error = refusal;
    return false;
  }
  http::ClientRequest req;
  req.method = method;
  req.target = target;
  req.body = body;
  req.timeout_ms = timeout_ms;
  if (!token.empty()) req.headers.emplace_back("X-Consul-Token", token);
  return http::http_request(address, req, resp, error);
}

bool ApiClient::stream(const std::string& target,
                       const std::function<bool(std::string_view)>& on_body,
                       http::ClientResponse& resp, std::string& error) const {
  if (!refusal.empty()) {
    error = refusal;
    return false;
  }
  http::ClientRequest req;
  req.target = target;
  req.timeout_ms = 0;
  req.on_body = on_body;
  if (!token.empty()) req.headers.emplace_back("X-Consul-Token", token);
  return http::http_request(address, req, resp, error);
}

bool ApiClient::get_json(const std::string& target, Value& out) const {
  http::ClientResponse resp;
  std::string err;
  if (!request("GET", target, "", resp, err)) {
    fail("Error querying agent at " + address + ": " + err);
    return false;
  }
  if (resp.status != 200) {
    fail("Unexpected response code: " + std::to_string(resp.status) + " (" + resp.body + ")");
    return false;
  }
  ParseError perr;
  if (!parse_json(resp.body, out, perr)) {
    fail("Error decoding the agent's answer: " + perr.message);
    return false;
  }
  return true;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  return 1;
}

bool stdout_is_terminal() {
  return isatty(STDOUT_FILENO) == 1;
}

std::string colour(const std::string& text, const char* code) {
  static const bool enabled = stdout_is_terminal() && std::getenv("NO_COLOR") == nullptr;
  if (!enabled) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

namespace {
// Display width ignoring ANSI escapes.
size_t visible_width(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\033') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}
}  // namespace

std::string columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], visible_width(r[i]));
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(widths[i] - visible_width(r[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

bool FlagSet::has(const std::string& name) const {
  return std::any_of(values.begin(), values.end(), [&](const auto& p) { return p.first == name; });
}

std::string FlagSet::get(const std::string& name, const std::string& fallback) const {
  for (auto it = values.rbegin(); it != values.rend(); ++it)
    if (it->first == name) return it->second;
  return fallback;
}

std::vector<std::string> FlagSet::all(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : values)
    if (k == name) out.push_back(v);
  return out;
}

std::string parse_flags(const std::vector<std::string>& args,
                        const std::vector<std::string>& known_bool,
                        const std::vector<std::string>& known_value, FlagSet& out) {
  auto known = [](const std::vector<std::string>& list, const std::string& n) {
    return std::find(list.begin(), list.end(), n) != list.end();
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-' || !out.positional.empty()) {
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (known(known_bool, name)) {
      out.values.emplace_back(name, inline_value ? value : "true");
    } else if (known(known_value, name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return "flag needs an argument: -" + name;
        value = args[++i];
      }
      out.values.emplace_back(name, value);
    } else {
      return "flag provided but not defined: -" + name;
    }
  }
  return "";
}

std::string str(const Value* v) {
  if (!v) return "";
  if (v->kind == Value::Kind::string || v->kind == Value::Kind::scalar) return v->s;
  if (v->kind == Value::Kind::integer) return std::to_string(v->i);
  if (v->kind == Value::Kind::uinteger) return std::to_string(v->u);
  if (v->kind == Value::Kind::boolean) return v->b ? "true" : "false";
  return "";
}

uint64_t num(const Value* v) {
  if (!v) return 0;
  if (v->kind == Value::Kind::integer) return static_cast<uint64_t>(v->i);
  if (v->kind == Value::Kind::uinteger) return v->u;
  return 0;
}

std::string kv_path(const std::string& key) {
  return "/v1/kv/" + http::percent_encode(key, true);
}

}  // namespace cairn::cli
