// The Consul version cairn answers as. Clients gate features on it, and
// Consul writes it where they read it: /v1/agent/self, the gossip "build"
// tag, the agent's own node meta (consul-version), `cairn version`.
#pragma once

#include "cairn_version.h"  // CAIRN_CONSUL_API_VERSION, from meson.build

namespace cairn {

inline constexpr const char* kConsulCompatVersion = CAIRN_CONSUL_API_VERSION;

}  // namespace cairn
