// memberlist's transport on a libuv loop: one UDP socket and one TCP
// listener on the same address and port (Consul: 8301 LAN, 8302 WAN).
//
// Datagrams go to the PacketHandler as they arrive. A TCP connection is read
// until its StreamParser says one message is whole, handed to on_stream(),
// its reply (if any) written, and closed, as memberlist does.
//
// Inbound streams arrive before we know who sent them, so each costs little
// and is bounded (StreamLimits): connections beyond the total or
// per-source-address count are closed as soon as they are accepted, each
// has a deadline, a message that would exceed max_message_bytes is refused
// as soon as a length prefix or count shows it, and all streams together
// buffer at most max_buffered_bytes. StreamStats counts each refusal.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "agent/gossip/config.h"
#include "agent/gossip/transport.h"
#include "common/uv_handle.h"

namespace cairn::gossip {

// What happened to inbound TCP streams (the agent's consul.memberlist.tcp.*).
struct StreamStats {
  uint64_t accepted = 0;
  uint64_t refused_total = 0;       // max_streams were open
  uint64_t refused_per_source = 0;  // max_streams_per_source from that address were open
  uint64_t oversized = 0;           // the message would exceed max_message_bytes
  uint64_t over_budget = 0;         // all streams' buffers would exceed max_buffered_bytes
  uint64_t timed_out = 0;           // no whole message within the stream timeout
  uint64_t malformed = 0;           // framing that can never become a message
  size_t open = 0;                  // inbound streams open now
  size_t buffered_bytes = 0;        // memory their buffers hold now
};

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
  // Applies to streams accepted (and replies read) from now on.
  void set_stream_limits(const StreamLimits& l) { limits_ = l; }

  // Transport
  void send_packet(const Address& to, Bytes data) override;
  void send_stream(const Address& to, std::string data, Duration timeout, bool want_reply,
                   StreamDone done) override;

  uint64_t send_errors() const { return send_errors_; }
  const StreamStats& stream_stats() const { return stream_stats_; }

 private:
  struct Conn;
  friend struct Conn;
  void on_udp(ssize_t n, const uv_buf_t* buf, const sockaddr* from);
  void on_accept();
  // Whether another inbound stream from ip may open now (counts the refusal).
  bool admit(uint32_t ip);
  void forget(Conn* c);

  uv_loop_t* loop_;
  PacketHandler* handler_;
  Address bound_;
  UvHandle<uv_udp_t> udp_;
  UvHandle<uv_tcp_t> listener_;
  Duration inbound_timeout_ = std::chrono::seconds(10);
  StreamLimits limits_;
  std::unordered_set<Conn*> conns_;
  std::unordered_map<uint32_t, size_t> inbound_per_source_;  // open inbound streams by IP
  StreamStats stream_stats_;
  // One datagram, and one TCP read, at a time: streams copy what they got
  // into their own buffers, so an idle connection holds no 64 KiB.
  std::string recv_buf_ = std::string(65536, '\0');
  std::string stream_buf_ = std::string(65536, '\0');
  uint64_t send_errors_ = 0;
};

}  // namespace cairn::gossip
