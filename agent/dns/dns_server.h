// The agent's DNS interface: UDP and TCP listeners on ports.dns at every
// client_addr, the answer builder reading the agent's store, the recursor for
// other names, and the DNS counters. Runs on the agent's loop and owns
// nothing the rest of the agent uses; the Agent starts it, reloads it and
// shuts it down.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/dns/answer.h"
#include "agent/dns/counters.h"
#include "agent/dns/recursor.h"
#include "agent/dns/remote_records.h"
#include "agent/state/store.h"
#include "common/metrics.h"
#include "common/net/tcp_listener.h"
#include "common/net/udp_listener.h"

namespace cairn::dns {

class DnsServer : public net::UdpListener::Handler, public net::TcpListener::Handler {
 public:
  // all: UDP and TCP (the agent's loop). udp_only: an extra UDP loop (DnsLoops).
  enum class Role { all, udp_only };
  DnsServer(uv_loop_t* loop, const state::Store& store, MetricsRegistry& metrics,
            Role role = Role::all);
  ~DnsServer() override;
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Validates the DNS settings and binds every client address. "" or an error.
  std::string start(const config::Config& cfg);
  // Applies new dns_config, domains and recursors; listeners stay as they are.
  // "" or an error (the running settings are kept).
  std::string reload(const config::Config& cfg);
  void close();
  // Where names of other datacenters are fetched; null (the default):
  // they are NXDOMAIN, as for a datacenter there is no path to.
  void set_remote(RemoteRecords* remote);
  // A client agent's partial view of the catalog (see AnswerBuilder::set_view).
  void set_view(ViewCoverage* view) { builder_.set_view(view); }
  // The bound port (UDP and TCP share it), 0 before start.
  int port() const;

  // net::UdpListener::Handler
  void on_datagram(net::UdpListener& from, std::span<const uint8_t> packet,
                   const sockaddr_storage& peer, socklen_t peer_len) override;
  void on_batch() override;
  // net::TcpListener::Handler
  bool on_message(net::TcpListener& from, std::span<const uint8_t> message,
                  const net::TcpConnRef& conn, const sockaddr_storage& peer,
                  socklen_t peer_len) override;

 private:
  std::string configure(const config::Config& cfg, bool start);
  Outcome answer(std::span<const uint8_t> packet, Transport transport, const sockaddr_storage& peer,
                 std::span<uint8_t> out);
  void resolve_remote(std::span<const uint8_t> packet, Transport transport,
                      const sockaddr_storage& peer, Recursor::Done deliver);
  void log_all_failed(const Query& q, const sockaddr_storage& peer, Transport transport);

  uv_loop_t* loop_;
  const state::Store& store_;
  Role role_;
  Counters counters_;
  AnswerBuilder builder_;
  Recursor recursor_;
  std::vector<std::unique_ptr<net::UdpListener>> udp_;
  std::vector<std::unique_ptr<net::TcpListener>> tcp_;
  net::TcpListener::Limits tcp_limits_;  // dns_config limits, applied on reload too
  uint32_t now_ = 0;           // Unix seconds, refreshed per batch (SOA serial)
  // The operators' alert line is rate limited: a flood of unanswerable
  // questions must not turn into a flood of log writes.
  uint64_t log_window_ms_ = 0;
  int log_lines_ = 0;
  uint64_t log_suppressed_ = 0;
  RemoteRecords* remote_ = nullptr;
  std::vector<uint8_t> remote_out_;  // answers for other datacenters, reused
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::dns
