// memberlist's transport on a libuv loop: one UDP socket and one TCP
// listener on the same address and port (Consul: 8301 LAN, 8302 WAN).
//
// Datagrams go to the PacketHandler as they arrive. A TCP connection is read
// until stream_message_size() says one message is whole, handed to
// on_stream(), its reply (if any) written, and closed, as memberlist does.
// Every connection has a deadline and a size cap, so a slow or hostile peer
// costs one timer and a bounded buffer.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <unordered_set>

#include "agent/gossip/transport.h"
#include "common/uv_handle.h"

namespace cairn::gossip {

class UvTransport : public Transport {
 public:
  UvTransport(uv_loop_t* loop, PacketHandler* handler = nullptr) : loop_(loop), handler_(handler) {}
  ~UvTransport() override;
  UvTransport(const UvTransport&) = delete;
  UvTransport& operator=(const UvTransport&) = delete;

  // Binds UDP and TCP on addr (port 0 picks one; bound_port() tells which).
  // Returns a libuv error code (0 on success).
  int bind(const Address& addr);
  uint16_t bound_port() const { return bound_.port; }
  void set_handler(PacketHandler* h) { handler_ = h; }
  // Deadline for inbound connections (memberlist TCPTimeout).
  void set_stream_timeout(Duration d) { inbound_timeout_ = d; }

  // Transport
  void send_packet(const Address& to, Bytes data) override;
  void send_stream(const Address& to, std::string data, Duration timeout, bool want_reply,
                   StreamDone done) override;

  uint64_t send_errors() const { return send_errors_; }

 private:
  struct Conn;
  friend struct Conn;
  void on_udp(ssize_t n, const uv_buf_t* buf, const sockaddr* from);
  void on_accept();
  void forget(Conn* c) { conns_.erase(c); }

  uv_loop_t* loop_;
  PacketHandler* handler_;
  Address bound_;
  UvHandle<uv_udp_t> udp_;
  UvHandle<uv_tcp_t> listener_;
  Duration inbound_timeout_ = std::chrono::seconds(10);
  std::unordered_set<Conn*> conns_;
  std::string recv_buf_ = std::string(65536, '\0');  // one datagram at a time
  uint64_t send_errors_ = 0;
};

}  // namespace cairn::gossip
