#include "agent/checks/http_check.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstring>

#include "agent/checks/go_text.h"
#include "agent/checks/http_response.h"
#include "agent/checks/probe_connection.h"
#include "common/http/url.h"

namespace cairn::checks {

namespace {

// Consul's checks.UserAgent and the Accept header it adds.
constexpr std::string_view kUserAgent = "Consul Health Check";
constexpr std::string_view kAccept = "text/plain, text/*, */*";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool valid_method(std::string_view m) {
  if (m.empty()) return false;
  for (unsigned char c : m)
    if (!(std::isalnum(c) || (c && std::strchr("!#$%&'*+-.^_`|~", c)))) return false;
  return true;
}

// Headers Go drops when a redirect leaves the original host.
bool sensitive_header(std::string_view k) {
  return iequals(k, "authorization") || iequals(k, "www-authenticate") || iequals(k, "cookie") ||
         iequals(k, "cookie2");
}

// Go's isDomainOrSubdomain: "sub.example.com" is within "example.com".
bool same_or_subdomain(std::string_view sub, std::string_view parent) {
  if (iequals(sub, parent)) return true;
  if (sub.size() <= parent.size() + 1) return false;
  return sub[sub.size() - parent.size() - 1] == '.' &&
         iequals(sub.substr(sub.size() - parent.size()), parent);
}

void append_clean(std::string& out, std::string_view v) {
  for (char c : v)
    if (c != '\r' && c != '\n') out += c;  // no header injection through a value
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

std::string validate_http_check(const std::string& url, const std::string& method) {
  std::string err;
  if (!parse_check_url(url, &err)) return "HTTP: \"" + url + "\" is not a valid URL: " + err;
  if (!method.empty() && !valid_method(method))
    return "Method: \"" + method + "\" is not a valid HTTP method";
  return "";
}

struct HttpRun final : RunPool::Item, private ProbeConnection::Owner {
  explicit HttpRun(CheckEnv& env) : resolver(env.loop), conn(env.sockets, *this) {}

  void start(HttpCheck& c);
  void timed_out();

  // ProbeConnection::Owner
  void on_connected() override;
  void on_ready() override;
  void on_connect_failed(const std::string& error) override { fail(error); }

  void send();
  void connect();
  void write_pending();
  bool follow_redirect();
  void report_response();
  void fail(const std::string& error);
  void done(std::string_view status) { check->run_done(status); }

  HttpCheck* check = nullptr;  // the borrower
  HostResolver resolver;
  ProbeConnection conn;
  HttpResponseParser parser;
  std::string current_url;  // for error texts, as Go's url.Error names it
  CheckUrl url;             // being requested: the check's own, then each redirect's target
  std::string request;      // only after a redirect
  std::string request_method;
  const std::string* sending = nullptr;
  size_t written = 0;
  bool has_body = true;
  int redirects = 0;
  AddressList addresses;
  TlsTarget tls;
  std::string output;
};

HttpCheck::HttpCheck(CheckEnv& env, std::string id, state::SharedCheckDefinition def)
    : PooledRunCheck(env, std::move(id), *def), def_(std::move(def)) {
  // Consul: a Host entry in Header becomes the request's Host (and is not sent twice).
  for (const auto& [key, values] : def_->header)
    if (iequals(key, "host") && !values.empty()) host_header_ = &values.front();
  std::string err;
  std::optional<CheckUrl> url = parse_check_url(def_->http, &err);
  if (!url)
    config_error_ = "parse " + go_quote(def_->http) + ": " + err;
  else if (!valid_method(method()))
    config_error_ = "net/http: invalid method " + go_quote(method());
  if (config_error_.empty()) {
    build_request(first_request_, method(), *url, true, true, true);
    first_request_.shrink_to_fit();
    first_literal_ = literal_addresses(url->host, url->port, first_addresses_);
    first_addresses_.shrink_to_fit();
  }
  start();
}

HttpCheck::~HttpCheck() = default;

std::string_view HttpCheck::method() const {
  return def_->method.empty() ? std::string_view("GET") : std::string_view(def_->method);
}

void HttpCheck::build_request(std::string& out, std::string_view method, const CheckUrl& url,
                              bool same_host_as_first, bool custom_host, bool with_body) const {
  out.clear();
  out.append(method).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ");
  append_clean(
      out, custom_host && host_header_ && !host_header_->empty() ? *host_header_ : url.authority);
  out.append("\r\n");
  bool has_agent = false, has_accept = false, has_auth = false;
  for (const auto& [key, values] : def_->header) {
    if (iequals(key, "host")) continue;  // it is the Host line above
    if (!same_host_as_first && sensitive_header(key)) continue;
    has_agent = has_agent || iequals(key, "user-agent");
    has_accept = has_accept || iequals(key, "accept");
    has_auth = has_auth || iequals(key, "authorization");
    for (const auto& v : values) {
      append_clean(out, key);
      out.append(": ");
      append_clean(out, v);
      out.append("\r\n");
    }
  }
  if (!has_agent) out.append("User-Agent: ").append(kUserAgent).append("\r\n");
  if (!has_accept) out.append("Accept: ").append(kAccept).append("\r\n");
  if (!has_auth && !url.userinfo.empty()) {
    auto decoded = http::percent_decode(url.userinfo, false);
    out.append("Authorization: Basic ").append(base64(decoded ? *decoded : url.userinfo));
    out.append("\r\n");
  }
  const std::string& body_text = def_->body;
  bool body = with_body && !body_text.empty();
  // Go announces an empty body for the methods that normally carry one.
  bool empty_length = !body && (method == "POST" || method == "PUT" || method == "PATCH");
  if (body)
    out.append("Content-Length: ").append(std::to_string(body_text.size())).append("\r\n");
  else if (empty_length)
    out.append("Content-Length: 0\r\n");
  // Consul disables keep-alives: a connection per run, closed by the server.
  out.append("Connection: close\r\n\r\n");
  if (body) out.append(body_text);
}

void HttpCheck::probe() {
  if (!config_error_.empty()) {
    finish(state::kCritical, config_error_);
    return;
  }
  start_run();
}

void HttpRun::start(HttpCheck& c) {
  check = &c;
  redirects = 0;
  current_url.assign(c.def_->http);
  request_method.assign(c.method());
  has_body = true;
  sending = &c.first_request_;
  // Valid: the check would not run otherwise (config_error_).
  url = *parse_check_url(c.def_->http, nullptr);
  send();
}

void HttpRun::send() {
  parser.reset(check->output_max_, request_method == "HEAD");
  written = 0;
  if (redirects == 0 && check->first_literal_) {
    connect();
    return;
  }
  resolver.resolve(url.host, url.port, &addresses, [this](const std::string& err) {
    if (!err.empty()) {
      fail("dial tcp: " + err);
      return;
    }
    connect();
  });
}

void HttpRun::connect() {
  bool literal = redirects == 0 && check->first_literal_;
  const AddressList& addrs = literal ? check->first_addresses_ : addresses;
  const TlsTarget* tls_target = nullptr;
  if (url.https) {
    std::string err;
    const state::CheckDefinition& def = *check->def_;
    tls.ctx = check->env_.tls.get(!def.tls_skip_verify, Alpn::http1, &err);
    if (!tls.ctx) {
      fail(err);
      return;
    }
    tls.verify = !def.tls_skip_verify;
    tls.server_name.assign(def.tls_server_name.empty() ? url.host : def.tls_server_name);
    tls_target = &tls;
  }
  conn.open(addrs, SOCK_STREAM, tls_target);
}

void HttpRun::on_connected() {
  write_pending();
  conn.watch();
}

void HttpRun::write_pending() {
  while (written < sending->size()) {
    ssize_t n = conn.write(sending->data() + written, sending->size() - written);
    if (n == ProbeConnection::kWouldBlock) return;
    if (n == ProbeConnection::kFailed) {
      // The server may have answered and closed before reading everything
      // (a 413, say): read what it sent before judging.
      written = sending->size();
      return;
    }
    written += static_cast<size_t>(n);
  }
}

void HttpRun::on_ready() {
  if (written < sending->size()) write_pending();
  std::vector<char>& buffer = check->env_.read_buffer;
  for (;;) {
    ssize_t n = conn.read(buffer.data(), buffer.size());
    if (n == ProbeConnection::kWouldBlock) return;  // the watcher calls again
    HttpResponseParser::State st;
    if (n == ProbeConnection::kFailed) {
      if (!parser.headers_complete()) {
        std::string err = conn.error();
        conn.close();
        fail(err);
        return;
      }
      st = parser.finish_eof();  // Consul reports what it read of the body
    } else if (n == 0) {
      st = parser.finish_eof();
    } else {
      st = parser.feed(buffer.data(), static_cast<size_t>(n));
    }
    if (st == HttpResponseParser::State::incomplete) continue;
    conn.close();
    if (st == HttpResponseParser::State::error) {
      fail(parser.error());
      return;
    }
    if (!follow_redirect()) report_response();
    return;
  }
}

bool HttpRun::follow_redirect() {
  int code = parser.status_code();
  if (check->def_->disable_redirects || !parser.has_location()) return false;
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) return false;
  const std::string& loc = parser.location();
  auto next = resolve_location(current_url, loc);
  if (!next) {
    fail("failed to parse Location header " + go_quote(loc));
    return true;
  }
  // Go's default CheckRedirect: at most 10 requests in all.
  if (redirects + 1 >= kMaxRedirects) {
    fail("stopped after " + std::to_string(kMaxRedirects) + " redirects");
    return true;
  }
  bool relative = !(starts_with_ci(loc, "http://") || starts_with_ci(loc, "https://") ||
                    loc.rfind("//", 0) == 0);
  bool with_body = has_body;
  if (code == 301 || code == 302 || code == 303) {
    with_body = false;
    if (request_method != "GET" && request_method != "HEAD") request_method = "GET";
  }
  has_body = with_body;
  std::string err;
  auto next_url = parse_check_url(*next, &err);
  if (!next_url) {
    fail("failed to parse Location header " + go_quote(loc) + ": " + err);
    return true;
  }
  // Sensitive headers (Authorization, Cookie...) go on to the check's own host
  // and its subdomains only, as Go sends them.
  auto first_url = parse_check_url(check->def_->http, nullptr);  // valid, as in start()
  bool same_host = same_or_subdomain(next_url->host, first_url->host);
  url = std::move(*next_url);
  ++redirects;
  current_url = std::move(*next);
  check->build_request(request, request_method, url, same_host, relative, with_body);
  sending = &request;
  send();
  return true;
}

void HttpRun::report_response() {
  int code = parser.status_code();
  std::string_view status = code >= 200 && code <= 299 ? state::kPassing
                            : code == 429              ? state::kWarning
                                                       : state::kCritical;
  output.assign("HTTP ").append(check->method()).append(" ").append(check->def_->http);
  output.append(": ").append(parser.status_text()).append(" Output: ").append(parser.body());
  done(status);
}

void HttpRun::fail(const std::string& error) {
  output.assign(url_error_op(check->method())).append(" ").append(go_quote(current_url));
  output.append(": ").append(error);
  done(state::kCritical);
}

void HttpRun::timed_out() {
  resolver.cancel();
  bool have_headers = parser.headers_complete();
  conn.close();
  if (have_headers) {
    report_response();  // the body was still coming: report what arrived, as Consul does
    return;
  }
  fail("context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
}

}  // namespace cairn::checks
