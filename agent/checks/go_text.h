// Consul is written in Go and users grep its messages: the pieces of Go's
// error and formatting texts that check outputs are made of.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "agent/checks/socket_address.h"

namespace cairn::checks {

// Go's text for an errno ("connection refused": strerror, lower-cased as Go's table has it).
std::string errno_text(int err);
// Go's %q: a double-quoted string with Go escapes.
std::string go_quote(std::string_view s);
// net/url.Error's Op for a method: "Get", "Post", "Head".
std::string url_error_op(std::string_view method);
// "127.0.0.1:80" or "[::1]:80", as Go prints a socket address.
std::string address_text(const SocketAddress& addr);

}  // namespace cairn::checks
