// unix_sockets {user, group, mode}: who may use the unix sockets the agent
// serves its HTTP API on (addresses.http = "unix:///path"), applied right
// after the socket is created, as Consul does. Connecting to a unix socket
// needs write permission on it, so the mode is the access control.
#pragma once

#include <string>

#include "agent/config/config.h"

namespace cairn {

// Applies owner, group and mode to path; unset parts are left alone. Returns
// "" or an error naming the setting (an unknown user or group, a failed chown).
std::string apply_unix_socket_owner(const std::string& path, const config::UnixSockets& owner);

}  // namespace cairn
