// Where a client's query came from and where its answer goes: the seam
// between the listeners (UDP batches, TCP connections) and the forwarder.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace cairn::dnsfwd {

enum class Transport : uint8_t { udp, tcp };

struct ClientRef {
  Transport transport = Transport::udp;
  uint32_t listener = 0;    // stable listener id
  uint32_t conn = 0;        // TCP: connection slot
  uint32_t generation = 0;  // TCP: slot generation, so a reused slot never gets a stale answer
  sockaddr_storage peer{};  // UDP: reply address; TCP: the peer, for logs
  socklen_t peer_len = 0;

  const sockaddr* peer_sa() const { return reinterpret_cast<const sockaddr*>(&peer); }
};

// Implemented by the listeners. The forwarder writes an answer straight into
// the buffer it is given (a slot of the UDP send batch, or the TCP frame
// scratch) and then commits it, so answers are never copied on the UDP path.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // A buffer for one answer; cap receives its size (>= 4096 for UDP, 65535 for TCP).
  virtual uint8_t* reply_buffer(const ClientRef& client, size_t& cap) = 0;
  virtual void send_reply(const ClientRef& client, size_t len) = 0;
};

// Implemented by the forwarder.
class QueryHandler {
 public:
  virtual ~QueryHandler() = default;
  // Returns false when the query was dropped without an answer (malformed):
  // a TCP listener then closes the connection.
  virtual bool on_query(const uint8_t* data, size_t len, const ClientRef& client) = 0;
  virtual bool allow_client(const sockaddr* peer) const = 0;
};

}  // namespace cairn::dnsfwd
