// An HTTP request as handlers see it, and the response they give back.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/url.h"

namespace cairn::http {

struct Request {
  std::string method;
  std::string target;  // as sent: path and query, still encoded
  std::string path;    // percent-decoded
  std::string raw_path;  // still encoded (KV keys need to see %2F)
  Params query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_ip;
  // Set only on a request a client agent forwarded to this server: the
  // client's node, which "_agent" (?near=_agent, a session's node) means.
  std::string origin_node;

  bool has_param(std::string_view name) const;
  // The first value of a parameter, or nullptr.
  const std::string* param(std::string_view name) const;
  std::vector<std::string> params(std::string_view name) const;
  // Header lookup by lower-case name.
  const std::string* header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A body shared with a cache (written without a copy); used when set.
  std::shared_ptr<const std::string> shared_body;

  void set_header(std::string name, std::string value);
  const std::string* header(std::string_view name) const;
  std::string_view body_view() const { return shared_body ? *shared_body : body; }

  static Response text(int status, std::string body);
  static Response json(std::string body, int status = 200);
};

std::string_view reason_phrase(int status);

}  // namespace cairn::http
