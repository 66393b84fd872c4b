// systemd's readiness protocol (Type=notify) without libsystemd: one datagram
// to $NOTIFY_SOCKET. A no-op when not started by systemd.
#pragma once

#include <string>

namespace cairn {

// Sends e.g. "READY=1" or "STOPPING=1" or "RELOADING=1". Returns false on failure.
bool sd_notify(const std::string& state);

}  // namespace cairn
