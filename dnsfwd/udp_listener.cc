#include "dnsfwd/udp_listener.h"

#include <cstring>

namespace cairn::dnsfwd {

UdpListener::UdpListener(uv_loop_t* loop, uint32_t id, QueryHandler* handler, Stats& stats)
    : id_(id),
      handler_(handler),
      socket_(loop, *this,
              net::UdpListener::Options{.reuse_port = false,
                                        .oversized = &stats.malformed_queries,
                                        .send_drops = &stats.udp_send_drops}) {
  client_.transport = Transport::udp;
  client_.listener = id;
}

UdpListener::~UdpListener() = default;

void UdpListener::on_datagram(net::UdpListener&, std::span<const uint8_t> packet,
                              const sockaddr_storage& peer, socklen_t peer_len) {
  std::memcpy(&client_.peer, &peer, peer_len);
  client_.peer_len = peer_len;
  handler_->on_query(packet.data(), packet.size(), client_);
}

}  // namespace cairn::dnsfwd
