// Where TCP, UDP, gRPC and HTTP checks connect: "host:port" as Consul reads
// it (Go's net.SplitHostPort), and the socket addresses it stands for.
//
// IP literals and "localhost" are turned into addresses without any lookup.
// Other names are resolved for every run, as Consul does, but off the loop:
// uv_getaddrinfo runs getaddrinfo() on libuv's thread pool, so a slow DNS
// server delays only the check that needs it.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/checks/socket_address.h"

namespace cairn::checks {

using AddressList = std::vector<SocketAddress>;

struct HostPort {
  std::string host;  // without IPv6 brackets
  uint16_t port = 0;
};

// "10.0.0.1:80", "[::1]:80", "db.local:5432". nullopt and a reason otherwise.
std::optional<HostPort> split_host_port(std::string_view text, std::string* error);
// Fills out for IP literals (one address) and "localhost" (127.0.0.1, then ::1).
// Returns false when the host is a name that needs a lookup.
bool literal_addresses(const std::string& host, uint16_t port, AddressList& out);
bool is_ip_literal(const std::string& host);

// One lookup at a time for one check. Destroying it abandons a lookup in
// flight: its result is dropped when the thread pool hands it back.
class HostResolver {
 public:
  // status 0 and addresses in the list given to resolve(), or a Go-style error text.
  using Done = std::function<void(const std::string& error)>;

  explicit HostResolver(uv_loop_t* loop) : loop_(loop) {}
  ~HostResolver() { cancel(); }
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  // Literals complete inside this call; names complete later on the loop.
  void resolve(const std::string& host, uint16_t port, AddressList* out, Done done);
  void cancel();

 private:
  struct Lookup;
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);

  uv_loop_t* loop_;
  Lookup* pending_ = nullptr;
};

}  // namespace cairn::checks
