// resolv.conf(5) as far as a forwarder and setup-resolv need it: the
// nameserver lines (in order) and every other line kept verbatim, so
// setup-resolv can rewrite the file without losing search, domain, options
// or sortlist settings. /etc/cairn/resolv.upstream uses the same format;
// there a nameserver may carry a port ("nameserver 127.0.0.1:5353",
// "nameserver [::1]:5353" or dnsmasq's "127.0.0.1#5353").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cairn::dnsfwd {

struct ResolvConf {
  std::vector<std::string> nameservers;  // the address token of each nameserver line
  std::vector<std::string> other_lines;  // search/domain/options/sortlist, in order
  bool has_marker = false;               // written by setup-resolv
};

inline constexpr std::string_view kResolvMarker = "# cairn-dnsfwd setup-resolv";

ResolvConf parse_resolv_conf(std::string_view text);

}  // namespace cairn::dnsfwd
