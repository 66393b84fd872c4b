// HTTP and HTTPS checks, as Consul runs them: one request per run on a new
// connection (no reuse), User-Agent "Consul Health Check", redirects
// followed as Go's http.Client follows them (up to 10, 301/302/303 turn
// into GET), 2xx passing, 429 warning, anything else critical, and the
// output "HTTP GET <url>: 200 OK Output: <body>" with the body capped at
// output_max_size. TLS with SNI, tls_server_name and tls_skip_verify.
//
// A check keeps only its definition (shared with the agent's copy of the
// check, not copied), the request bytes built once at registration and the
// target's address when it is a literal. The
// socket, parser and buffers of a run are borrowed from the agent's RunPool
// while it is in flight; responses are read into the shared read buffer and
// only the status line, the Location header and the capped body are kept.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "agent/checks/check_target.h"
#include "agent/checks/check_url.h"
#include "agent/checks/pooled_run_check.h"

namespace cairn::checks {

// Go's http.Client gives up after this many requests in one chain of redirects.
inline constexpr int kMaxRedirects = 10;

struct HttpRun;  // one request (and its redirects) in flight; http_check.cc

class HttpCheck : public PooledRunCheck<HttpCheck, HttpRun> {
 public:
  HttpCheck(CheckEnv& env, std::string id, state::SharedCheckDefinition def);
  ~HttpCheck() override;

 private:
  friend struct HttpRun;

  // IntervalCheck
  void probe() override;

  void build_request(std::string& out, std::string_view method, const CheckUrl& url,
                     bool same_host_as_first, bool custom_host, bool with_body) const;
  std::string_view method() const;

  const state::SharedCheckDefinition def_;    // as configured
  const std::string* host_header_ = nullptr;  // a "Host" entry of def_->header, if any
  std::string config_error_;  // a URL or method that can never work: critical every run

  // The parsed URL is not kept (136 bytes a check): each run parses the
  // URL text again into its own pooled state.
  std::string first_request_;  // built once, sent every run
  AddressList first_addresses_;
  bool first_literal_ = false;  // first_addresses_ hold the target: no lookup per run
};

// Why an HTTP check definition can never run ("" when it can), for a 400 at registration.
std::string validate_http_check(const std::string& url, const std::string& method);

}  // namespace cairn::checks
