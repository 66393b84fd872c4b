// The X-Consul-Index of /v1/event/list: Consul derives it from the last
// listed event's ID (the XOR of the UUID's two 64-bit halves, its agent's
// uuidToUint64 and the Go client's Event.IDToIndex), so a client can turn an
// event it fired into the index it then blocks on. The index is not
// monotonic; a blocking list only waits while it is unchanged.
#pragma once

#include <cstdint>
#include <string_view>

namespace cairn {

// The index of an event ID. An ID that is not a UUID (a peer may gossip
// anything) gets a hash of its text instead: still stable, never a crash.
uint64_t user_event_index(std::string_view id);

}  // namespace cairn
