// The URL of an HTTP check, parsed once at registration, and the redirect
// targets it leads to. Pure: no sockets, no lookups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::checks {

struct CheckUrl {
  bool https = false;
  std::string host;       // without IPv6 brackets
  uint16_t port = 0;      // explicit, or 80/443
  std::string authority;  // host[:port] as written: the Host header
  std::string target;     // the request-target: path and query, escaped; "/" when empty
  std::string userinfo;   // "user:password" (sent as Basic auth), usually empty
};

// Parses an absolute http:// or https:// URL. nullopt and a reason otherwise.
std::optional<CheckUrl> parse_check_url(std::string_view url, std::string* error);

// Resolves a Location header against the URL of the response that carried it
// (RFC 3986 section 5.2, as Go's URL.ResolveReference). Returns the absolute
// URL text, or nullopt when it is not a usable http(s) URL.
std::optional<std::string> resolve_location(std::string_view base_url, std::string_view location);

}  // namespace cairn::checks
