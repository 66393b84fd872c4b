// Where the HTTP API and the DNS interface listen, as Consul decides it:
// addresses.http / addresses.dns when set, else client_addr. Each is a
// space-separated list of IP literals; addresses.http may also name unix
// sockets ("unix:///run/cairn/http.sock"), which real deployments use to keep
// the API off the network.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"

namespace cairn::config {

struct ListenAddress {
  std::string ip;         // an IPv4 or IPv6 literal; empty for a unix socket
  std::string unix_path;  // the socket's path; empty for an IP

  bool is_unix() const { return !unix_path.empty(); }
  // "127.0.0.1", "[::1]" or "unix:///path": for the banner and messages.
  std::string str() const;
  bool operator==(const ListenAddress&) const = default;
};

struct ListenStatus {
  enum class Code : uint8_t {
    ok,
    empty,         // the list names no address
    not_an_ip,     // neither an IP literal nor (where allowed) unix://
    unix_refused,  // a unix socket where only IPs work (DNS)
    bad_path,      // unix:// with no path, or one longer than a socket address holds
  };
  Code code = Code::ok;
  std::string message;  // "addresses.http: ...", for the operator

  bool ok() const { return code == Code::ok; }
};

// Parses one list; key names it in messages ("addresses.http").
ListenStatus parse_listen_addresses(std::string_view key, std::string_view list, bool allow_unix,
                                    std::vector<ListenAddress>& out);

// The HTTP API's and the DNS interface's listeners for cfg (validated by
// check_listen_addresses; an address that does not parse is left out).
std::vector<ListenAddress> http_listen_addresses(const Config& cfg);
std::vector<ListenAddress> dns_listen_addresses(const Config& cfg);

// Checks client_addr and addresses.* once the configuration is merged.
ListenStatus check_listen_addresses(const Config& cfg);

// unix_sockets.mode: an octal permission string ("0770", "600"), as Consul reads it.
bool parse_socket_mode(std::string_view text, unsigned& mode);

}  // namespace cairn::config
