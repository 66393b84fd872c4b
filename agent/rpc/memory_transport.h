// A Transport with no socket: the test or fuzzer pushes the peer's bytes
// in with deliver() and takes what the session wrote from written(). It is
// how the server session is driven by arbitrary input.
#pragma once

#include <string>
#include <utility>

#include "agent/rpc/transport.h"

namespace cairn::rpc {

class MemoryTransport final : public Transport {
 public:
  explicit MemoryTransport(std::string peer = "memory") : peer_(std::move(peer)) {}

  // The peer's side.
  void deliver(const uint8_t* data, size_t len) {
    if (receiver_ && !closed_) receiver_->on_transport_read(data, len);
  }
  void deliver_eof() {
    if (receiver_ && !closed_) receiver_->on_transport_closed({});
  }
  std::string take_written() { return std::exchange(written_, {}); }
  bool is_closed() const { return closed_; }
  bool reading() const { return reading_; }

  // Transport
  void start(Receiver& receiver) override { receiver_ = &receiver; }
  bool write(std::string bytes) override {
    if (closed_) return false;
    written_ += bytes;
    return true;
  }
  size_t queued_bytes() const override { return 0; }
  void set_reading(bool on) override { reading_ = on; }
  void close() override { closed_ = true; }
  const std::string& peer() const override { return peer_; }

 private:
  Receiver* receiver_ = nullptr;
  std::string peer_;
  std::string written_;
  bool closed_ = false;
  bool reading_ = true;
};

}  // namespace cairn::rpc
