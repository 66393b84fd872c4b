#include "agent/checks/http_check.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstring>

#include "agent/checks/go_text.h"
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

HttpCheck::HttpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : IntervalCheck(env, std::move(id), def),
      url_text_(def.http),
      method_(def.method.empty() ? "GET" : def.method),
      body_(def.body),
      header_(def.header),
      tls_server_name_(def.tls_server_name),
      tls_skip_verify_(def.tls_skip_verify),
      disable_redirects_(def.disable_redirects),
      resolver_(env.loop),
      conn_(env.loop, *this) {
  // Consul: a Host entry in Header becomes the request's Host.
  for (auto it = header_.begin(); it != header_.end();) {
    if (iequals(it->first, "host")) {
      if (!it->second.empty()) host_header_ = it->second.front();
      it = header_.erase(it);
    } else {
      ++it;
    }
  }
  std::string err;
  if (auto u = parse_check_url(url_text_, &err)) {
    first_url_ = std::move(*u);
  } else {
    config_error_ = "parse " + go_quote(url_text_) + ": " + err;
  }
  if (config_error_.empty() && !valid_method(method_))
    config_error_ = "net/http: invalid method " + go_quote(method_);
  if (config_error_.empty()) {
    request_method_ = method_;
    build_request(first_url_, true, true, true);
    first_request_ = std::move(request_);
    first_literal_ = literal_addresses(first_url_.host, first_url_.port, first_addresses_);
  }
  start();
}

void HttpCheck::build_request(const CheckUrl& url, bool same_host_as_first, bool custom_host,
                              bool with_body) {
  std::string& out = request_;
  out.clear();
  out.append(request_method_).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ");
  append_clean(out, custom_host && !host_header_.empty() ? host_header_ : url.authority);
  out.append("\r\n");
  bool has_agent = false, has_accept = false, has_auth = false;
  for (const auto& [key, values] : header_) {
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
  bool body = with_body && !body_.empty();
  // Go announces an empty body for the methods that normally carry one.
  bool empty_length = !body && (request_method_ == "POST" || request_method_ == "PUT" ||
                                request_method_ == "PATCH");
  if (body)
    out.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n");
  else if (empty_length)
    out.append("Content-Length: 0\r\n");
  // Consul disables keep-alives: a connection per run, closed by the server.
  out.append("Connection: close\r\n\r\n");
  if (body) out.append(body_);
}

void HttpCheck::probe() {
  if (!config_error_.empty()) {
    finish(state::kCritical, config_error_);
    return;
  }
  redirects_ = 0;
  current_url_.assign(url_text_);
  request_method_ = method_;
  request_has_body_ = true;
  sending_ = &first_request_;
  send(first_url_);
}

void HttpCheck::send(const CheckUrl& url) {
  parser_.reset(output_max_, request_method_ == "HEAD");
  written_ = 0;
  if (&url == &first_url_ && first_literal_) {
    connect(url);
    return;
  }
  resolver_.resolve(url.host, url.port, &addresses_, [this, &url](const std::string& err) {
    if (!err.empty()) {
      fail("dial tcp: " + err);
      return;
    }
    connect(url);
  });
}

void HttpCheck::connect(const CheckUrl& url) {
  const AddressList& addrs =
      (&url == &first_url_ && first_literal_) ? first_addresses_ : addresses_;
  const TlsTarget* tls = nullptr;
  if (url.https) {
    std::string err;
    tls_.ctx = env_.tls.get(!tls_skip_verify_, Alpn::http1, &err);
    if (!tls_.ctx) {
      fail(err);
      return;
    }
    tls_.verify = !tls_skip_verify_;
    tls_.server_name.assign(tls_server_name_.empty() ? url.host : tls_server_name_);
    tls = &tls_;
  }
  conn_.open(addrs, SOCK_STREAM, tls);
}

void HttpCheck::on_connect_failed(const std::string& error) {
  fail(error);
}

void HttpCheck::on_connected() {
  write_pending();
  if (conn_.connected()) conn_.want(true, written_ < sending_->size());
}

void HttpCheck::write_pending() {
  while (written_ < sending_->size()) {
    ssize_t n = conn_.write(sending_->data() + written_, sending_->size() - written_);
    if (n == ProbeConnection::kWouldBlock) return;
    if (n == ProbeConnection::kFailed) {
      // The server may have answered and closed before reading everything
      // (a 413, say): read what it sent before judging.
      written_ = sending_->size();
      return;
    }
    written_ += static_cast<size_t>(n);
  }
}

void HttpCheck::on_ready() {
  if (written_ < sending_->size()) write_pending();
  char* buf = env_.read_buffer.data();
  size_t cap = env_.read_buffer.size();
  for (;;) {
    ssize_t n = conn_.read(buf, cap);
    if (n == ProbeConnection::kWouldBlock) {
      conn_.want(true, written_ < sending_->size());
      return;
    }
    HttpResponseParser::State st;
    if (n == ProbeConnection::kFailed) {
      if (!parser_.headers_complete()) {
        std::string err = conn_.error();
        conn_.close();
        fail(err);
        return;
      }
      st = parser_.finish_eof();  // Consul reports what it read of the body
    } else if (n == 0) {
      st = parser_.finish_eof();
    } else {
      st = parser_.feed(buf, static_cast<size_t>(n));
    }
    if (st == HttpResponseParser::State::incomplete) continue;
    conn_.close();
    if (st == HttpResponseParser::State::error) {
      fail(parser_.error());
      return;
    }
    on_response();
    return;
  }
}

void HttpCheck::on_response() {
  if (follow_redirect()) return;
  report_response();
}

bool HttpCheck::follow_redirect() {
  int code = parser_.status_code();
  if (disable_redirects_ || !parser_.has_location()) return false;
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) return false;
  const std::string& loc = parser_.location();
  auto next = resolve_location(current_url_, loc);
  if (!next) {
    fail("failed to parse Location header " + go_quote(loc));
    return true;
  }
  // Go's default CheckRedirect: at most 10 requests in all.
  if (redirects_ + 1 >= kMaxRedirects) {
    fail("stopped after " + std::to_string(kMaxRedirects) + " redirects");
    return true;
  }
  bool relative = !(starts_with_ci(loc, "http://") || starts_with_ci(loc, "https://") ||
                    loc.rfind("//", 0) == 0);
  bool with_body = request_has_body_;
  if (code == 301 || code == 302 || code == 303) {
    with_body = false;
    if (request_method_ != "GET" && request_method_ != "HEAD") request_method_ = "GET";
  }
  request_has_body_ = with_body;
  std::string err;
  auto url = parse_check_url(*next, &err);
  if (!url) {
    fail("failed to parse Location header " + go_quote(loc) + ": " + err);
    return true;
  }
  redirect_url_ = std::move(*url);
  ++redirects_;
  current_url_ = std::move(*next);
  build_request(redirect_url_, same_or_subdomain(redirect_url_.host, first_url_.host), relative,
                with_body);
  sending_ = &request_;
  send(redirect_url_);
  return true;
}

void HttpCheck::report_response() {
  int code = parser_.status_code();
  std::string_view status = code >= 200 && code <= 299 ? state::kPassing
                            : code == 429              ? state::kWarning
                                                       : state::kCritical;
  output_.assign("HTTP ").append(method_).append(" ").append(url_text_).append(": ");
  output_.append(parser_.status_text()).append(" Output: ").append(parser_.body());
  finish(status, output_);
}

void HttpCheck::fail(const std::string& error) {
  output_.assign(url_error_op(method_)).append(" ").append(go_quote(current_url_));
  output_.append(": ").append(error);
  finish(state::kCritical, output_);
}

void HttpCheck::timed_out() {
  resolver_.cancel();
  bool have_headers = parser_.headers_complete();
  conn_.close();
  if (have_headers) {
    report_response();  // the body was still coming: report what arrived, as Consul does
    return;
  }
  fail("context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
}

}  // namespace cairn::checks
