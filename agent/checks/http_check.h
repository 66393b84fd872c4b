// HTTP and HTTPS checks, as Consul runs them: one request per run on a new
// connection (no reuse), User-Agent "Consul Health Check", redirects
// followed as Go's http.Client follows them (up to 10, 301/302/303 turn
// into GET), 2xx passing, 429 warning, anything else critical, and the
// output "HTTP GET <url>: 200 OK Output: <body>" with the body capped at
// output_max_size. TLS with SNI, tls_server_name and tls_skip_verify.
//
// The request bytes are built once at registration and reused every run;
// responses are read into the agent-wide read buffer and only the status
// line, the Location header and the capped body are kept.
#pragma once

#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/check_url.h"
#include "agent/checks/http_response.h"
#include "agent/checks/interval_check.h"
#include "agent/checks/probe_connection.h"

namespace cairn::checks {

// Go's http.Client gives up after this many redirects.
inline constexpr int kMaxRedirects = 10;

class HttpCheck : public IntervalCheck, private ProbeConnection::Owner {
 public:
  HttpCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);

 private:
  // IntervalCheck
  void probe() override;
  void timed_out() override;
  // ProbeConnection::Owner
  void on_connected() override;
  void on_ready() override;
  void on_connect_failed(const std::string& error) override;

  // One request of the run (the first, or one after a redirect).
  void send(const CheckUrl& url);
  void connect(const CheckUrl& url);
  void write_pending();
  void on_response();
  bool follow_redirect();
  void report_response();
  void fail(const std::string& error);
  void build_request(const CheckUrl& url, bool same_host_as_first, bool custom_host,
                     bool with_body);

  // As configured.
  std::string url_text_;
  std::string method_;
  std::string body_;
  std::map<std::string, std::vector<std::string>> header_;
  std::string host_header_;  // a "Host" entry of Header, if any
  std::string tls_server_name_;
  bool tls_skip_verify_ = false;
  bool disable_redirects_ = false;
  std::string config_error_;  // a URL or method that can never work: critical every run

  CheckUrl first_url_;
  std::string first_request_;  // built once, sent every run
  AddressList first_addresses_;
  bool first_literal_ = false;

  // This run.
  std::string current_url_;  // for error texts, as Go's url.Error names it
  CheckUrl redirect_url_;
  std::string request_;  // only after a redirect
  const std::string* sending_ = nullptr;
  size_t written_ = 0;
  std::string request_method_;
  bool request_has_body_ = true;
  int redirects_ = 0;
  AddressList addresses_;
  TlsTarget tls_;
  HostResolver resolver_;
  ProbeConnection conn_;
  HttpResponseParser parser_;
  std::string output_;
};

// Why an HTTP check definition can never run ("" when it can), for a 400 at registration.
std::string validate_http_check(const std::string& url, const std::string& method);

}  // namespace cairn::checks
