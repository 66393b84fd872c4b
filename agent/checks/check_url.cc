#include "agent/checks/check_url.h"

#include <cctype>
#include <charconv>
#include <vector>

namespace cairn::checks {

namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// Bytes Go's URL.RequestURI would escape; everything else passes as written.
bool needs_escape(unsigned char c) {
  return c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
         c == '`' || c == '{' || c == '|' || c == '}';
}

std::string escape_target(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (needs_escape(c)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::optional<CheckUrl> parse_check_url(std::string_view url, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<CheckUrl> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  CheckUrl u;
  std::string_view rest;
  if (starts_with_ci(url, "http://")) {
    rest = url.substr(7);
  } else if (starts_with_ci(url, "https://")) {
    u.https = true;
    rest = url.substr(8);
  } else {
    return fail("unsupported protocol scheme (want http:// or https://)");
  }
  for (unsigned char c : url)
    if (c < 0x20 || c == 0x7f) return fail("invalid control character in URL");
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    u.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) return fail("no host in URL");
  std::string_view port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("missing ']' in host");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("invalid character after host");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      if (authority.find(':') != colon) return fail("invalid port in host");
      port = authority.substr(colon + 1);
      u.host = std::string(authority.substr(0, colon));
    } else {
      u.host = std::string(authority);
    }
  }
  if (u.host.empty()) return fail("no host in URL");
  for (unsigned char c : u.host)
    if (c <= 0x20 || c == '/' || c == '\\' || c == '%' || c >= 0x7f)
      return fail("invalid character in host name");
  if (port.empty()) {
    u.port = u.https ? 443 : 80;
  } else {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || end != port.data() + port.size() || v == 0 || v > 65535)
      return fail("invalid port \"" + std::string(port) + "\"");
    u.port = static_cast<uint16_t>(v);
  }
  u.authority = std::string(authority);
  if (!port.empty() && authority.back() == ':') u.authority.pop_back();
  u.target = escape_target(path);
  if (u.target.empty() || u.target.front() == '?') u.target.insert(0, "/");
  return u;
}

namespace {

// RFC 3986 5.2.4.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> out;
  bool absolute = !path.empty() && path.front() == '/';
  bool trailing = false;
  size_t i = absolute ? 1 : 0;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    std::string_view seg =
        path.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i);
    trailing = false;
    if (seg == ".") {
      trailing = true;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else {
      out.push_back(seg);
    }
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  std::string result = absolute ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k) result += '/';
    result += out[k];
  }
  if (trailing && (result.empty() || result.back() != '/')) result += '/';
  return result;
}

}  // namespace

std::optional<std::string> resolve_location(std::string_view base_url, std::string_view loc) {
  size_t hash = loc.find('#');
  if (hash != std::string_view::npos) loc = loc.substr(0, hash);
  // Absolute: any scheme; only http(s) is usable.
  size_t colon = loc.find(':');
  size_t first_delim = loc.find_first_of("/?");
  if (colon != std::string_view::npos && colon > 0 &&
      (first_delim == std::string_view::npos || colon < first_delim)) {
    bool scheme_ok = std::isalpha(static_cast<unsigned char>(loc[0]));
    for (size_t i = 1; i < colon && scheme_ok; ++i) {
      unsigned char c = static_cast<unsigned char>(loc[i]);
      scheme_ok = std::isalnum(c) || c == '+' || c == '-' || c == '.';
    }
    if (scheme_ok) {
      if (!starts_with_ci(loc, "http://") && !starts_with_ci(loc, "https://")) return std::nullopt;
      std::string err;
      if (!parse_check_url(loc, &err)) return std::nullopt;
      return std::string(loc);
    }
  }
  std::string err;
  auto base = parse_check_url(base_url, &err);
  if (!base) return std::nullopt;
  std::string scheme = base->https ? "https:" : "http:";
  if (loc.substr(0, 2) == "//") {
    std::string out = scheme + std::string(loc);
    if (!parse_check_url(out, &err)) return std::nullopt;
    return out;
  }
  // Base path and query, unescaped as written in the base request-target.
  std::string_view target = base->target;
  size_t q = target.find('?');
  std::string_view base_path = target.substr(0, q);
  std::string path;
  std::string query;
  if (loc.empty()) {
    path = std::string(base_path);
    if (q != std::string_view::npos) query = std::string(target.substr(q));
  } else if (loc.front() == '?') {
    path = std::string(base_path);
    query = std::string(loc);
  } else {
    size_t lq = loc.find('?');
    std::string_view lpath = loc.substr(0, lq);
    if (lq != std::string_view::npos) query = std::string(loc.substr(lq));
    if (!lpath.empty() && lpath.front() == '/') {
      path = remove_dot_segments(lpath);
    } else {
      size_t last = base_path.rfind('/');
      std::string merged =
          std::string(last == std::string_view::npos ? "/" : base_path.substr(0, last + 1)) +
          std::string(lpath);
      path = remove_dot_segments(merged);
    }
  }
  std::string out = scheme + "//";
  if (!base->userinfo.empty()) out += base->userinfo + "@";
  out += base->authority + path + query;
  if (!parse_check_url(out, &err)) return std::nullopt;
  return out;
}

}  // namespace cairn::checks
