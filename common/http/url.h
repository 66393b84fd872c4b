// Percent-decoding and query-string parsing as Go's net/url does it, because
// Consul routes on the decoded path and reads parameters with url.ParseQuery.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::http {

using Params = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX; with plus_as_space also '+' -> ' ' (query strings). nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_as_space);
// Encodes everything except unreserved characters (and '/' when keep_slash).
std::string percent_encode(std::string_view s, bool keep_slash = false);
// "a=1&b&c=x%20y" -> {a,1},{b,""},{c,"x y"}; false on a bad escape.
bool parse_query(std::string_view query, Params& out);

}  // namespace cairn::http
