#include "dnsfwd/resolv_conf.h"

namespace cairn::dnsfwd {

ResolvConf parse_resolv_conf(std::string_view text) {
  ResolvConf out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with(kResolvMarker)) out.has_marker = true;
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) continue;
    std::string_view body = line.substr(start);
    if (body.front() == '#' || body.front() == ';') continue;
    size_t end = body.find_first_of(" \t");
    std::string_view keyword = body.substr(0, end);
    if (keyword == "nameserver") {
      if (end == std::string_view::npos) continue;
      std::string_view rest = body.substr(end);
      size_t a = rest.find_first_not_of(" \t");
      if (a == std::string_view::npos) continue;
      rest = rest.substr(a);
      // "#" starts a comment only after whitespace: keep dnsmasq's addr#port.
      size_t b = rest.find_first_of(" \t;");
      out.nameservers.emplace_back(rest.substr(0, b));
    } else {
      out.other_lines.emplace_back(body);
    }
  }
  return out;
}

}  // namespace cairn::dnsfwd
