// Every bound of the RPC, with its default and why. One SessionLimits for
// what both ends of a connection enforce, then what only a server or only a
// client needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cairn::rpc {

struct SessionLimits {
  // A request body, a unary response body, one stream message. A catalog
  // write is a few KiB; 4 MiB is Consul's own RPC bound (and our HTTP body bound).
  size_t max_message_bytes = 4 * 1024 * 1024;
  // Request headers of one call (method, token, ...).
  size_t max_header_bytes = 16 * 1024;
  // HTTP/2 flow control. A stream may have this much unacknowledged in
  // flight towards us: large enough that a 4 MiB body takes a few round
  // trips on a LAN, small enough to bound what a peer can push per stream.
  uint32_t stream_window_bytes = 1024 * 1024;
  // All streams of the connection together.
  uint32_t connection_window_bytes = 16 * 1024 * 1024;
  // Bodies being received and not yet complete, all streams together; past
  // it the stream that grows it is refused (unavailable, safe to retry).
  size_t max_buffered_bytes = 64 * 1024 * 1024;
  // Output of one connection not yet taken by the socket: past it we stop
  // reading the peer (it is not reading us) until the socket drains.
  size_t write_high_water_bytes = 256 * 1024;
  // A peer silent this long is pinged; silent for interval + timeout, it is dead.
  uint64_t keepalive_interval_ms = 15'000;
  uint64_t keepalive_timeout_ms = 10'000;
};

struct ServerSettings : SessionLimits {
  // SETTINGS_MAX_CONCURRENT_STREAMS: calls and subscriptions of one client.
  uint32_t max_concurrent_streams = 1024;
  // Client agents keep one connection each (two while failing over).
  size_t max_connections = 10'000;
  // A connection with no open stream for this long is closed; its client
  // reconnects on its next call.
  uint64_t idle_timeout_ms = 10 * 60 * 1000;
  // A stream writer may queue this much for a client that is not reading;
  // past it the stream ends with exhausted (its writer hears on_cancel).
  size_t max_stream_queued_bytes = 16 * 1024 * 1024;
  // Everything queued on one connection (answers and stream messages);
  // past it the connection is closed.
  size_t max_connection_queued_bytes = 64 * 1024 * 1024;
  // Graceful shutdown: unary calls in flight get this long to answer.
  uint64_t shutdown_grace_ms = 5'000;
};

struct ConnectionSettings : SessionLimits {
  ConnectionSettings() {
    // A client notices a dead server in about 3 s and fails over.
    keepalive_interval_ms = 1'000;
    keepalive_timeout_ms = 2'000;
  }
  uint64_t connect_timeout_ms = 2'000;
  // Sent as :authority; tells the server which name the client dialled.
  std::string authority = "cairn";
};

}  // namespace cairn::rpc
