// Extra loops answering DNS over UDP (dns_config.udp_loops > 1), so the DNS
// rate can grow with cores. Each runs on its own thread with its own libuv
// loop, its own UDP sockets bound to the agent's DNS port with SO_REUSEPORT
// (the kernel spreads clients across the loops by address and port), and its
// own replica of the catalog, seeded from the agent's store and kept equal to
// it by replaying every batch the store applies. Nothing is shared on the
// answer path; the only locks guard each loop's inbox (touched once per
// catalog write or reload, not per query) and its published metrics (once a
// second). TCP stays on the agent's loop. A question for another datacenter
// (rare, and a network round trip anyway) is handed to the agent's loop,
// which fetches its rows and posts them back.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/dns/remote_records.h"
#include "agent/state/mutation.h"
#include "agent/state/store.h"
#include "common/metrics.h"
#include "common/uv_handle.h"

namespace cairn::dns {

class DnsLoops {
 public:
  // Starts `count` loops answering on `port` at every client_addr. Null and
  // error set when a loop cannot bind.
  // remote (may be null) answers names of other datacenters on the agent's
  // loop, main_loop: the loops hand such questions over and get the rows back.
  static std::unique_ptr<DnsLoops> start(const state::Store& store, const config::Config& cfg,
                                         int port, int count, std::string& error,
                                         uv_loop_t* main_loop = nullptr,
                                         RemoteRecords* remote = nullptr);
  ~DnsLoops();  // stops every loop and joins its thread
  DnsLoops(const DnsLoops&) = delete;
  DnsLoops& operator=(const DnsLoops&) = delete;

  size_t size() const { return loops_.size(); }
  // Replays one batch the agent's store applied into every replica.
  void replicate(std::span<const state::Mutation> batch, uint64_t index);
  // Replaces every replica with rows (a server's watch cache re-listed).
  void replace(std::span<const state::Mutation> rows, uint64_t index);
  // A client agent's partial view: the services the replicas now hold
  // (in order with the batches replicated before it).
  void set_coverage(const std::vector<std::string>& held);
  // The agent's loop: services the loops answered from the view, reported
  // at most once a second (they keep the subscriptions alive).
  void set_used_listener(std::function<void(const std::vector<std::string>&)> listener) {
    used_listener_ = std::move(listener);
  }
  // New dns_config, domains and recursors (already validated by the agent's loop).
  void reload(const config::Config& cfg);
  // Adds every loop's DNS metrics, as each published them (at most 1 s old).
  void add_metrics_to(MetricsRegistry& into) const;

 private:
  struct Loop;
  class Relay;
  struct Ask {
    Loop* from;
    uint64_t id;
    RemoteQuestion question;
  };
  DnsLoops() = default;
  // Any thread: a loop's question for the agent's loop.
  void ask(Ask ask);
  // Any thread: services a loop answered from the view.
  void used(std::vector<std::string> names);
  // The agent's loop: fetches what the loops asked for.
  void answer_asks();

  std::vector<std::unique_ptr<Loop>> loops_;
  RemoteRecords* remote_ = nullptr;
  UvHandle<uv_async_t> asks_wake_;
  std::mutex asks_mu_;
  std::vector<Ask> asks_;
  std::vector<std::string> used_;
  std::function<void(const std::vector<std::string>&)> used_listener_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::dns
