#include "dnsfwd/listeners.h"

#include "common/log.h"

namespace cairn::dnsfwd {

std::string Listeners::apply(const std::vector<ListenAddr>& addrs, const Limits& limits,
                             bool skip_missing_v6) {
  // Bind what is new first; the running set changes only if all of it works.
  std::vector<int> existing(addrs.size(), -1);
  std::vector<Pair> fresh(addrs.size());
  for (size_t i = 0; i < addrs.size(); ++i) {
    const ListenAddr& a = addrs[i];
    for (size_t j = 0; j < pairs_.size(); ++j)
      if (pairs_[j].endpoint == a.endpoint) existing[i] = static_cast<int>(j);
    if (existing[i] >= 0) continue;
    Pair p;
    p.endpoint = a.endpoint;
    p.udp = std::make_unique<UdpListener>(loop_, next_id_++, handler_, stats_);
    p.tcp = std::make_unique<TcpListener>(loop_, next_id_++, handler_, stats_, limits);
    std::string err = p.udp->bind(a.endpoint);
    if (err.empty()) err = p.tcp->bind(a.endpoint);
    if (!err.empty()) {
      bool v6_missing = a.endpoint.family() == AF_INET6 &&
                        (err.find("Cannot assign requested address") != std::string::npos ||
                         err.find("address not available") != std::string::npos ||
                         err.find("not supported") != std::string::npos);
      if (skip_missing_v6 && v6_missing) {
        log::warn("dnsfwd", "skipping listen address", {{"address", a.text}, {"error", err}});
        continue;
      }
      return err;
    }
    fresh[i] = std::move(p);
  }
  std::vector<Pair> next;
  for (size_t i = 0; i < addrs.size(); ++i) {
    if (existing[i] >= 0) {
      Pair& p = pairs_[static_cast<size_t>(existing[i])];
      if (!p.udp) continue;  // listed twice
      p.tcp->set_limits(limits);
      next.push_back(std::move(p));
    } else if (fresh[i].udp) {
      log::info("dnsfwd", "listening", {{"address", fresh[i].endpoint.to_string()}});
      next.push_back(std::move(fresh[i]));
    }
  }
  if (next.empty()) return "no listen address could be bound";
  pairs_.swap(next);  // what is left in next was removed from the config
  for (auto& old : next) {
    if (!old.udp) continue;
    log::info("dnsfwd", "stopped listening", {{"address", old.endpoint.to_string()}});
    old.udp->flush();
  }
  return {};
}

std::vector<Endpoint> Listeners::bound() const {
  std::vector<Endpoint> out;
  for (const auto& p : pairs_) out.push_back(p.udp->endpoint());
  return out;
}

void Listeners::stop_accepting() {
  for (auto& p : pairs_) {
    p.udp->stop_reading();
    p.tcp->stop_accepting();
  }
}

void Listeners::close_all() {
  for (auto& p : pairs_) {
    p.udp->flush();
    p.tcp->close_all();
  }
  pairs_.clear();
}

UdpListener* Listeners::udp_by_id(uint32_t id) {
  for (auto& p : pairs_)
    if (p.udp && p.udp->id() == id) return p.udp.get();
  return nullptr;
}

TcpListener* Listeners::tcp_by_id(uint32_t id) {
  for (auto& p : pairs_)
    if (p.tcp && p.tcp->id() == id) return p.tcp.get();
  return nullptr;
}

uint8_t* Listeners::reply_buffer(const ClientRef& client, size_t& cap) {
  if (client.transport == Transport::udp) {
    if (UdpListener* l = udp_by_id(client.listener)) return l->reply_slot(cap);
  } else if (TcpListener* l = tcp_by_id(client.listener)) {
    return l->reply_slot(cap);
  }
  cap = sizeof discard_;
  return discard_;
}

void Listeners::send_reply(const ClientRef& client, size_t len) {
  if (client.transport == Transport::udp) {
    if (UdpListener* l = udp_by_id(client.listener)) l->commit(client, len);
  } else if (TcpListener* l = tcp_by_id(client.listener)) {
    l->commit(client, len);
  }
}

}  // namespace cairn::dnsfwd
