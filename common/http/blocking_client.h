// A small synchronous HTTP/1.1 client for the CLI: one request per
// connection, a deadline for the whole exchange. Daemons never use it (they
// must not block their loop).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::http {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  const std::string* header(std::string_view lower_name) const;
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query, already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int timeout_ms = 30'000;  // for the whole exchange; <= 0: none (a stream read until it ends)
  // Set: a 200 answer's body goes here as it arrives (`cairn monitor`)
  // instead of into ClientResponse::body; returning false stops reading.
  std::function<bool(std::string_view)> on_body;
};

// address: "host:port", "[v6]:port", "http://host:port" or "unix:///path".
// Returns false and sets error when the exchange fails (no response).
bool http_request(const std::string& address, const ClientRequest& req, ClientResponse& resp,
                  std::string& error);

}  // namespace cairn::http
