// The socket address of a check's target: IPv4 or IPv6 only, so it takes
// 28 bytes where sockaddr_storage takes 128. Every HTTP and TCP check keeps
// its target's addresses for as long as it runs.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

namespace cairn::checks {

union SocketAddress {
  sockaddr sa;
  sockaddr_in v4;
  sockaddr_in6 v6;

  sa_family_t family() const { return sa.sa_family; }
  // What connect() and friends take as the address length.
  socklen_t size() const { return family() == AF_INET6 ? sizeof v6 : sizeof v4; }
};

}  // namespace cairn::checks
