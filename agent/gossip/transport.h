// How the gossip core reaches the network: datagrams and short
// request/response streams, as memberlist's Transport does. The agent binds
// it to UDP and TCP sockets on a libuv loop (UvTransport); the simulator to
// an in-memory network with loss, delay and partitions.
//
// Inbound traffic goes the other way, from the transport to the core:
// PacketHandler::on_packet for datagrams, on_stream for a complete stream
// message (framed by StreamParser) whose reply, if any, is written
// back before the connection is closed.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "agent/gossip/msgpack_codec.h"
#include "agent/gossip/types.h"

namespace cairn::gossip {

class Transport {
 public:
  // ok is false on connect failure, timeout, or a connection closed before
  // a complete reply; reply is valid only during the call.
  using StreamDone = std::function<void(bool ok, Bytes reply)>;

  virtual ~Transport() = default;
  virtual void send_packet(const Address& to, Bytes data) = 0;
  // Connects to `to`, writes data, and if want_reply reads one complete
  // stream message back; done runs exactly once (unless the transport is
  // destroyed first), never before send_stream returns.
  virtual void send_stream(const Address& to, std::string data, Duration timeout, bool want_reply,
                           StreamDone done) = 0;
};

class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  virtual void on_packet(const Address& from, Bytes data, Time received) = 0;
  // A complete inbound stream message; returns the reply to write (empty:
  // none) before the connection is closed.
  virtual std::string on_stream(const Address& from, Bytes msg) = 0;
  // True when every stream must arrive encrypted: the transport then hands
  // over a stream whose type byte says otherwise at once (label and type
  // only), for on_stream to refuse, instead of buffering the rest of it.
  virtual bool streams_must_be_encrypted() const { return false; }
};

}  // namespace cairn::gossip
