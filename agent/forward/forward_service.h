// The server's side of forwarding: the RPC method a client agent sends its
// Consul API requests to. Each request runs through this server's own HTTP
// API handler, through an exchange whose answer goes back as the RPC reply,
// so a forwarded blocking query parks here (on one multiplexed connection,
// not one TCP connection per query) and every header is this server's truth.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "agent/rpc/server.h"
#include "common/http/server.h"

namespace cairn::forward {

inline constexpr std::string_view kForwardMethod = "Http.Forward";

// Paths a client agent forwards: everything that reads or writes the
// datacenter's replicated state. /v1/agent/* and /v1/event/* stay local.
bool forwarded_path(std::string_view path);

// Registers kForwardMethod on server; dispatch is the HTTP API's handler.
void serve_forwarded_requests(rpc::Server& server, http::Handler dispatch);

}  // namespace cairn::forward
