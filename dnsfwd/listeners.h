// The set of client-facing sockets (UDP and TCP on each listen address) and
// the ReplySink that routes an answer back to the listener its query came
// from. A reload adds and removes listeners without touching the ones whose
// address did not change, so no query is lost on SIGHUP.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "dnsfwd/client.h"
#include "dnsfwd/config.h"
#include "dnsfwd/stats.h"
#include "dnsfwd/tcp_listener.h"
#include "dnsfwd/udp_listener.h"

namespace cairn::dnsfwd {

class Listeners : public ReplySink {
 public:
  Listeners(uv_loop_t* loop, QueryHandler* handler, Stats& stats)
      : loop_(loop), handler_(handler), stats_(stats) {}

  // Makes the listener set match addrs. New sockets are bound first; if any
  // fails nothing changes and the error is returned. IPv6 addresses that the
  // host does not have are skipped with a warning when skip_missing_v6.
  std::string apply(const std::vector<ListenAddr>& addrs, const Limits& limits,
                    bool skip_missing_v6);
  // Stop taking new queries (graceful shutdown); answers still go out.
  void stop_accepting();
  void close_all();
  std::vector<Endpoint> bound() const;

  // ReplySink
  uint8_t* reply_buffer(const ClientRef& client, size_t& cap) override;
  void send_reply(const ClientRef& client, size_t len) override;

 private:
  struct Pair {
    Endpoint endpoint;
    std::unique_ptr<UdpListener> udp;
    std::unique_ptr<TcpListener> tcp;
  };
  UdpListener* udp_by_id(uint32_t id);
  TcpListener* tcp_by_id(uint32_t id);

  uv_loop_t* loop_;
  QueryHandler* handler_;
  Stats& stats_;
  std::vector<Pair> pairs_;
  uint32_t next_id_ = 1;
  uint8_t discard_[65536];  // answers for a listener that has gone away
};

}  // namespace cairn::dnsfwd
