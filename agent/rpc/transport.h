// The seam between a socket and an HTTP/2 session: ordered bytes in, ordered
// bytes out. The HTTP/2 code only sees this interface, so a TLS layer (an
// OpenSSL memory-BIO Transport wrapping the TCP one) slots in between without
// touching it, and a fuzzer or test drives a session with no socket at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cairn::rpc {

class Transport {
 public:
  // The session above. Each callback is the last thing the transport does
  // before returning to the loop, so the receiver may destroy the transport
  // from inside it.
  class Receiver {
   public:
    virtual ~Receiver() = default;
    virtual void on_transport_read(const uint8_t* data, size_t len) = 0;
    // Everything written so far has left (queued_bytes() is 0).
    virtual void on_transport_drained() = 0;
    // The peer closed (error empty) or the connection failed. No callback follows.
    virtual void on_transport_closed(const std::string& error) = 0;
  };

  virtual ~Transport() = default;

  // Starts reading into the receiver.
  virtual void start(Receiver& receiver) = 0;
  // Queues bytes, in order after everything before. False once closed.
  virtual bool write(std::string bytes) = 0;
  // Written but not yet taken by the kernel (or by the layer below).
  virtual size_t queued_bytes() const = 0;
  // Stops or resumes reading: a peer that does not read our answers is not
  // allowed to make us produce more of them.
  virtual void set_reading(bool on) = 0;
  // Closes now, dropping what is queued. Idempotent; no callback follows.
  virtual void close() = 0;
  // "127.0.0.1:51234", for requests and logs.
  virtual const std::string& peer() const = 0;
};

}  // namespace cairn::rpc
