#include "agent/dns/dns_server.h"

#include <arpa/inet.h>

#include <cstring>
#include <ctime>
#include <sstream>

#include "agent/config/listen_addresses.h"
#include "common/dns/name.h"
#include "common/log.h"
#include "common/random.h"

namespace cairn::dns {

namespace {

// At most this many "all resolvers failed" lines per second; the rest are counted.
constexpr int kFailLogsPerSecond = 10;

std::string peer_text(const sockaddr_storage& peer) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (peer.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(peer);
    inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
    port = ntohs(a.sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto& a = reinterpret_cast<const sockaddr_in6&>(peer);
  inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof host);
  port = ntohs(a.sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

std::string type_text(uint16_t t) {
  switch (t) {
    case kTypeA:
      return "A";
    case kTypeNS:
      return "NS";
    case kTypeCNAME:
      return "CNAME";
    case kTypeSOA:
      return "SOA";
    case kTypePTR:
      return "PTR";
    case kTypeMX:
      return "MX";
    case kTypeTXT:
      return "TXT";
    case kTypeAAAA:
      return "AAAA";
    case kTypeSRV:
      return "SRV";
    case kTypeANY:
      return "ANY";
    default:
      return "TYPE" + std::to_string(t);
  }
}

}  // namespace

DnsServer::DnsServer(uv_loop_t* loop, const state::Store& store, MetricsRegistry& metrics,
                     Role role)
    : loop_(loop),
      store_(store),
      role_(role),
      counters_(metrics),
      builder_(random_u64()),
      recursor_(loop, counters_) {}

DnsServer::~DnsServer() {
  *alive_ = false;
  close();
}

void DnsServer::set_remote(RemoteRecords* remote) {
  remote_ = remote;
  builder_.set_remote_enabled(remote != nullptr);
}

std::string DnsServer::configure(const config::Config& cfg, bool) {
  Settings s;
  if (std::string err = make_settings(cfg, s); !err.empty()) return err;
  std::vector<Upstream> ups;
  for (const auto& r : cfg.recursors) {
    Upstream u;
    if (std::string err = parse_upstream(r, u); !err.empty()) return "recursors: " + err;
    ups.push_back(u);
  }
  const std::string& strategy = cfg.dns_config.recursor_strategy;
  if (strategy != "sequential" && strategy != "random")
    return "dns_config.recursor_strategy: \"" + strategy + "\" must be sequential or random";
  builder_.set_settings(s);
  const config::DnsLimits& lim = cfg.dns_config.limits;
  recursor_.configure(std::move(ups), cfg.dns_config.recursor_timeout, strategy == "random",
                      lim.recursor_max_in_flight);
  tcp_limits_.max_connections = lim.tcp_max_connections;
  tcp_limits_.idle_timeout_ms = static_cast<uint64_t>(lim.tcp_idle_timeout / kMillisecond);
  tcp_limits_.max_queued_bytes = lim.tcp_max_queued_bytes;
  tcp_limits_.max_in_flight = lim.tcp_max_in_flight;
  for (auto& t : tcp_) t->set_limits(tcp_limits_);
  return "";
}

std::string DnsServer::start(const config::Config& cfg) {
  if (std::string err = configure(cfg, true); !err.empty()) return err;
  now_ = static_cast<uint32_t>(time(nullptr));
  int port = cfg.ports.dns;
  const bool reuse_port = cfg.dns_config.udp_loops > 1;
  // addresses.dns, else client_addr (Consul's rule).
  for (const config::ListenAddress& listen_at : config::dns_listen_addresses(cfg)) {
    const std::string& host = listen_at.ip;
    auto at = net::endpoint_of(host, static_cast<uint16_t>(port));
    if (!at) return "invalid address \"" + host + "\"";
    auto udp = std::make_unique<net::UdpListener>(
        loop_, *this,
        net::UdpListener::Options{.reuse_port = reuse_port,
                                  .oversized = &counters_.malformed_counter(),
                                  .send_drops = &counters_.udp_send_drops()});
    if (std::string err = udp->bind(*at); !err.empty()) return err;
    port = udp->endpoint().port();
    udp_.push_back(std::move(udp));
    if (role_ == Role::udp_only) continue;
    // With port 0 the TCP listener takes the port UDP was given.
    auto tcp = std::make_unique<net::TcpListener>(loop_, *this, tcp_limits_, counters_.tcp());
    if (std::string err = tcp->bind(*net::endpoint_of(host, static_cast<uint16_t>(port)));
        !err.empty())
      return err;
    log::info("dns", "listening",
              {{"address", host + ":" + std::to_string(port)}, {"network", "udp,tcp"}});
    tcp_.push_back(std::move(tcp));
  }
  return "";
}

std::string DnsServer::reload(const config::Config& cfg) {
  std::string err = configure(cfg, false);
  if (!err.empty())
    log::error("dns", "reload failed, keeping the running DNS settings", {{"error", err}});
  return err;
}

void DnsServer::close() {
  recursor_.close();
  for (auto& u : udp_) u->close();
  for (auto& t : tcp_) t->close_all();
}

int DnsServer::port() const {
  return udp_.empty() ? 0 : udp_.front()->endpoint().port();
}

void DnsServer::on_batch() {
  now_ = static_cast<uint32_t>(time(nullptr));
}

void DnsServer::log_all_failed(const Query& q, const sockaddr_storage& peer, Transport transport) {
  uint64_t now = uv_now(loop_);
  if (now - log_window_ms_ >= 1000) {
    log_window_ms_ = now;
    log_lines_ = 0;
  }
  if (++log_lines_ > kFailLogsPerSecond) {
    ++log_suppressed_;
    return;
  }
  std::string question = to_text(q.qname.data(), q.qname_len) + " IN " + type_text(q.qtype);
  std::string client = peer_text(peer);
  const char* network = transport == Transport::udp ? "udp" : "tcp";
  if (log_suppressed_ == 0) {
    log::error("dns", "all resolvers failed for question from client",
               {{"question", question}, {"client", client}, {"client_network", network}});
    return;
  }
  std::string suppressed = std::to_string(log_suppressed_);
  log_suppressed_ = 0;
  log::error("dns", "all resolvers failed for question from client",
             {{"question", question},
              {"client", client},
              {"client_network", network},
              {"suppressed_since_last", suppressed}});
}

Outcome DnsServer::answer(std::span<const uint8_t> packet, Transport transport,
                          const sockaddr_storage& peer, std::span<uint8_t> out) {
  uint64_t t0 = uv_hrtime();
  Outcome o = builder_.answer(
      packet, transport, net::ip_of(reinterpret_cast<const sockaddr*>(&peer)), store_, now_, out);
  if (o.no_recursors) log_all_failed(builder_.query(), peer, transport);
  // A question for another datacenter is counted once answered.
  if (o.action == Outcome::Action::remote) return o;
  counters_.record(o, static_cast<double>(uv_hrtime() - t0) / 1e6);
  return o;
}

void DnsServer::on_datagram(net::UdpListener& from, std::span<const uint8_t> packet,
                            const sockaddr_storage& peer, socklen_t peer_len) {
  size_t cap = 0;
  uint8_t* out = from.reply_slot(cap);
  Outcome o = answer(packet, Transport::udp, peer, std::span<uint8_t>(out, cap));
  if (o.action == Outcome::Action::reply) {
    from.commit(peer, peer_len, o.size);
    return;
  }
  if (o.action != Outcome::Action::recurse && o.action != Outcome::Action::remote) return;
  std::vector<uint8_t> query(packet.begin(), packet.end());
  net::UdpListener* listener = &from;
  Recursor::Done deliver = [this, listener, peer, peer_len, query](std::span<const uint8_t> reply) {
    size_t room = 0;
    uint8_t* slot = listener->reply_slot(room);
    if (!reply.empty()) {
      if (reply.size() <= room) {
        std::memcpy(slot, reply.data(), reply.size());
        listener->commit(peer, peer_len, reply.size());
      }
      return;
    }
    size_t n = builder_.recursion_failed(query, std::span<uint8_t>(slot, room));
    log_all_failed(builder_.query(), peer, Transport::udp);
    listener->commit(peer, peer_len, n);
  };
  if (o.action == Outcome::Action::remote)
    return resolve_remote(packet, Transport::udp, peer, std::move(deliver));
  if (recursor_.resolve(packet, Transport::udp, std::move(deliver))) return;
  from.commit(peer, peer_len, builder_.recursion_failed(packet, std::span<uint8_t>(out, cap)));
}

bool DnsServer::on_message(net::TcpListener& from, std::span<const uint8_t> message,
                           const net::TcpConnRef& conn, const sockaddr_storage& peer, socklen_t) {
  now_ = static_cast<uint32_t>(time(nullptr));
  size_t cap = 0;
  uint8_t* out = from.reply_slot(cap);
  Outcome o = answer(message, Transport::tcp, peer, std::span<uint8_t>(out, cap));
  if (o.action == Outcome::Action::reply) {
    from.commit(conn, o.size);
    return true;
  }
  // Garbage on a stream: the framing cannot be trusted either; close.
  if (o.action != Outcome::Action::recurse && o.action != Outcome::Action::remote) return false;
  std::vector<uint8_t> query(message.begin(), message.end());
  net::TcpListener* listener = &from;
  Recursor::Done deliver = [this, listener, conn, peer, query](std::span<const uint8_t> reply) {
    size_t room = 0;
    uint8_t* slot = listener->reply_slot(room);
    if (!reply.empty()) {
      if (reply.size() > room) return listener->skip(conn);
      std::memcpy(slot, reply.data(), reply.size());
      return listener->commit(conn, reply.size());
    }
    size_t n = builder_.recursion_failed(query, std::span<uint8_t>(slot, room));
    log_all_failed(builder_.query(), peer, Transport::tcp);
    listener->commit(conn, n);
  };
  if (o.action == Outcome::Action::remote) {
    resolve_remote(message, Transport::tcp, peer, std::move(deliver));
    return true;
  }
  if (!recursor_.resolve(message, Transport::tcp, std::move(deliver)))
    from.commit(conn, builder_.recursion_failed(message, std::span<uint8_t>(out, cap)));
  return true;
}

// A question for another datacenter: its rows are fetched (over the server
// RPC), then answered as that datacenter's servers would, from a store that
// holds only them. The reply goes out through deliver, as a recursor's does.
void DnsServer::resolve_remote(std::span<const uint8_t> packet, Transport transport,
                               const sockaddr_storage& peer, Recursor::Done deliver) {
  uint64_t t0 = uv_hrtime();
  auto answer_fetched = [this, alive = alive_, query = std::vector<uint8_t>(packet.begin(), packet.end()),
                         transport, peer, t0, deliver = std::move(deliver)](RemoteRows fetched) {
    if (!*alive) return;
    remote_out_.resize(kMaxMessage);
    std::span<uint8_t> out(remote_out_.data(), remote_out_.size());
    Outcome o;
    if (fetched.result == RemoteRows::Result::found) {
      state::Store rows;
      rows.apply(fetched.rows, 1);
      o = AnswerBuilder::answer_remote(builder_.settings(), fetched.datacenter, query, transport,
                                       net::ip_of(reinterpret_cast<const sockaddr*>(&peer)), rows,
                                       now_, out);
    } else {
      o = builder_.remote_failed(query, transport, fetched.result == RemoteRows::Result::no_path,
                                 now_, out);
    }
    counters_.record(o, static_cast<double>(uv_hrtime() - t0) / 1e6);
    deliver(o.action == Outcome::Action::reply ? std::span<const uint8_t>(remote_out_.data(), o.size)
                                               : std::span<const uint8_t>());
  };
  remote_->fetch(builder_.remote_question(), std::move(answer_fetched));
}

}  // namespace cairn::dns
