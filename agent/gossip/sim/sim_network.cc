#include "agent/gossip/sim/sim_network.h"

namespace cairn::gossip::sim {

class SimTransport : public Transport {
 public:
  SimTransport(SimNetwork& net, Address self) : net_(net), self_(self) {}
  ~SimTransport() override { *alive_ = false; }

  void send_packet(const Address& to, Bytes data) override {
    auto& me = net_.endpoints_[self_].traffic;
    me.bytes_out += data.size();
    ++me.packets_out;
    if (net_.cfg_.loss > 0 && net_.rng_.unit() < net_.cfg_.loss) return;
    if (net_.reachable(self_, to) == nullptr) return;
    std::string copy(as_view(data));
    const Address from = self_;
    SimNetwork* net = &net_;
    net_.world_.schedule_at(net_.world_.now() + net_.delay(),
                            [net, to, from, copy = std::move(copy)] {
                              // Looked up again at delivery: the node may have died meanwhile.
                              SimNetwork::Endpoint* e = net->reachable(from, to);
                              if (e == nullptr) return;
                              e->traffic.bytes_in += copy.size();
                              ++e->traffic.packets_in;
                              e->handler->on_packet(from, as_bytes(copy), net->world_.now());
                            });
  }

  void send_stream(const Address& to, std::string data, Duration timeout, bool want_reply,
                   StreamDone done) override {
    net_.endpoints_[self_].traffic.bytes_out += data.size();
    SimNetwork* net = &net_;
    const Address from = self_;
    auto alive = alive_;
    auto fail_after = [net, alive, done](Duration d) {
      net->world_.schedule_at(net->world_.now() + d, [alive, done] {
        if (*alive) done(false, {});
      });
    };
    SimNetwork::Endpoint* e = net_.reachable(from, to);
    if (e == nullptr) {
      // A partition drops the SYN: the dial times out. A down node refuses at once.
      const bool down = net_.endpoints_.count(to) && net_.endpoints_[to].handler == nullptr &&
                        net_.endpoints_[to].group == net_.endpoints_[from].group;
      fail_after(down ? net_.delay() * 2 : std::min(timeout, net_.cfg_.connect_timeout));
      return;
    }
    const Duration rtt_half = net_.delay();
    net_.world_.schedule_at(
        net_.world_.now() + rtt_half * 2,  // handshake, then the request
        [net, from, to, alive, want_reply, timeout, data = std::move(data), done] {
          SimNetwork::Endpoint* dst = net->reachable(from, to);
          if (dst == nullptr) {
            if (*alive) done(false, {});
            return;
          }
          dst->traffic.bytes_in += data.size();
          std::string reply = dst->handler->on_stream(from, as_bytes(data));
          dst->traffic.bytes_out += reply.size();
          if (!want_reply) {
            if (*alive) done(true, {});
            return;
          }
          if (reply.empty()) {
            net->world_.schedule_at(net->world_.now() + net->delay(), [alive, done] {
              if (*alive) done(false, {});
            });
            return;
          }
          (void)timeout;
          net->world_.schedule_at(net->world_.now() + net->delay(),
                                  [net, from, alive, done, reply = std::move(reply)] {
                                    if (!*alive) return;
                                    net->endpoints_[from].traffic.bytes_in += reply.size();
                                    done(true, as_bytes(reply));
                                  });
        });
  }

 private:
  SimNetwork& net_;
  Address self_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

SimNetwork::Endpoint* SimNetwork::reachable(const Address& from, const Address& to) {
  auto it = endpoints_.find(to);
  if (it == endpoints_.end() || it->second.handler == nullptr) return nullptr;
  auto src = endpoints_.find(from);
  const int g = src == endpoints_.end() ? 0 : src->second.group;
  return it->second.group == g ? &it->second : nullptr;
}

std::unique_ptr<Transport> SimNetwork::transport_for(const Address& self) {
  endpoints_[self];
  return std::make_unique<SimTransport>(*this, self);
}

}  // namespace cairn::gossip::sim
