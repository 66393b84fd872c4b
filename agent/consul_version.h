// The Consul version cairn answers as. Clients gate features on it, and
// Consul writes it where they read it: /v1/agent/self, the gossip "build"
// tag, the agent's own node meta (consul-version).
#pragma once

namespace cairn {

inline constexpr const char* kConsulCompatVersion = "1.17.0";

}  // namespace cairn
