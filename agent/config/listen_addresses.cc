#include "agent/config/listen_addresses.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <sstream>

namespace cairn::config {

namespace {

constexpr std::string_view kUnixScheme = "unix://";

bool is_ip_literal(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

ListenStatus listen_error(ListenStatus::Code code, std::string_view key, const std::string& why) {
  return {code, std::string(key) + ": " + why};
}

std::vector<ListenAddress> addresses_or_client(std::string_view key, const std::string& listener,
                                               const std::string& client_addr, bool allow_unix) {
  std::vector<ListenAddress> out;
  const bool own = !listener.empty();
  parse_listen_addresses(own ? key : "client_addr", own ? listener : client_addr, allow_unix, out);
  return out;
}

}  // namespace

std::string ListenAddress::str() const {
  if (is_unix()) return std::string(kUnixScheme) + unix_path;
  if (ip.find(':') != std::string::npos) return "[" + ip + "]";
  return ip;
}

ListenStatus parse_listen_addresses(std::string_view key, std::string_view list, bool allow_unix,
                                    std::vector<ListenAddress>& out) {
  out.clear();
  std::istringstream words{std::string(list)};
  std::string word;
  while (words >> word) {
    ListenAddress a;
    if (word.rfind(kUnixScheme, 0) == 0) {
      if (!allow_unix)
        return listen_error(ListenStatus::Code::unix_refused, key,
                            "\"" + word + "\": a unix socket cannot serve DNS; give IP addresses");
      a.unix_path = word.substr(kUnixScheme.size());
      // sun_path holds the path and its terminating NUL.
      if (a.unix_path.empty() || a.unix_path.size() >= sizeof(sockaddr_un{}.sun_path))
        return listen_error(ListenStatus::Code::bad_path, key,
                            "\"" + word + "\": a unix socket path must be 1 to " +
                                std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
    } else if (is_ip_literal(word)) {
      a.ip = word;
    } else {
      return listen_error(ListenStatus::Code::not_an_ip, key,
                          "\"" + word + "\" is not an IP address" +
                              (allow_unix ? " or a unix:// socket path" : "") +
                              " (go-sockaddr templates are not read)");
    }
    out.push_back(std::move(a));
  }
  if (out.empty()) return listen_error(ListenStatus::Code::empty, key, "no address given");
  return {};
}

std::vector<ListenAddress> http_listen_addresses(const Config& cfg) {
  return addresses_or_client("addresses.http", cfg.addresses.http, cfg.client_addr, true);
}

std::vector<ListenAddress> dns_listen_addresses(const Config& cfg) {
  return addresses_or_client("addresses.dns", cfg.addresses.dns, cfg.client_addr, false);
}

ListenStatus check_listen_addresses(const Config& cfg) {
  std::vector<ListenAddress> scratch;
  // client_addr is only used where an addresses.* key does not replace it.
  const bool client_used = (cfg.ports.http > 0 && cfg.addresses.http.empty()) ||
                           (cfg.ports.dns > 0 && cfg.addresses.dns.empty());
  if (client_used) {
    if (auto s = parse_listen_addresses("client_addr", cfg.client_addr, false, scratch); !s.ok())
      return s;
  }
  if (!cfg.addresses.http.empty()) {
    if (auto s = parse_listen_addresses("addresses.http", cfg.addresses.http, true, scratch);
        !s.ok())
      return s;
  }
  if (!cfg.addresses.dns.empty()) {
    if (auto s = parse_listen_addresses("addresses.dns", cfg.addresses.dns, false, scratch);
        !s.ok())
      return s;
  }
  return {};
}

bool parse_socket_mode(std::string_view text, unsigned& mode) {
  if (text.empty() || text.size() > 4) return false;
  unsigned m = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return false;
    m = m * 8 + static_cast<unsigned>(c - '0');
  }
  mode = m;
  return true;
}

}  // namespace cairn::config
