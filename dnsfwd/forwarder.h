// The forwarder: from a client query to its answer.
//
//   query -> checks (client rule, well-formed, opcode, EDNS version)
//         -> route (longest suffix) -> cache (fresh: answer now; stale after a
//            failed refresh: answer stale now)
//         -> coalesce onto an identical query in flight, or start one
//            (bounded per group: beyond max_pending answer stale or SERVFAIL)
//         -> attempts: policy picks an upstream, random ID, per-attempt
//            timeout from its RTT, next upstream on timeout/error/SERVFAIL,
//            TCP when the answer is truncated, all within the total budget
//         -> the answer is checked (ID, question), prepared once, cached,
//            and composed for every waiting client
//         -> if everything fails: stale data (RFC 8767) or SERVFAIL, and the
//            log line "dnsfwd: all upstreams failed for NAME".
//
// A down upstream is probed (the group's probe name and type) until it
// answers. Everything runs on one libuv loop; nothing here takes a lock.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <vector>

#include "common/dns/message.h"
#include "common/metrics.h"
#include "common/uv_handle.h"
#include "dnsfwd/answer.h"
#include "dnsfwd/cache.h"
#include "dnsfwd/client.h"
#include "dnsfwd/client_acl.h"
#include "dnsfwd/config.h"
#include "dnsfwd/inflight.h"
#include "dnsfwd/router.h"
#include "dnsfwd/stats.h"
#include "dnsfwd/upstream.h"
#include "dnsfwd/upstream_group.h"

namespace cairn::dnsfwd {

class Forwarder : public QueryHandler, public UpstreamHandler {
 public:
  Forwarder(uv_loop_t* loop, MetricsRegistry& metrics, Stats& stats);
  ~Forwarder() override;
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  void set_sink(ReplySink* sink) { sink_ = sink; }

  // Builds the running groups for a config: upstreams of the same group and
  // address are reused (sockets, health and RTT survive a reload).
  // default_servers replaces group 0's servers when the config reads files.
  std::vector<std::shared_ptr<GroupRuntime>> make_groups(
      const Config& config, const std::vector<Endpoint>& default_servers,
      const std::string& default_source);
  // Swaps in a validated config. Cache entries whose group changed are dropped.
  void apply(const Config& config, std::vector<std::shared_ptr<GroupRuntime>> groups);

  const std::vector<std::shared_ptr<GroupRuntime>>& groups() const { return groups_; }
  const Config& config() const { return config_; }
  Cache& cache() { return cache_; }
  // Client queries still waiting for an answer (graceful shutdown waits for 0).
  size_t waiting_clients() const;
  // Refreshes gauges (called before the metrics are rendered).
  void update_gauges();
  void shutdown();

  // QueryHandler
  bool on_query(const uint8_t* data, size_t len, const ClientRef& client) override;
  bool allow_client(const sockaddr* peer) const override { return acl_.allows(peer); }

  // UpstreamHandler
  void on_udp_answer(Upstream& up, uint32_t serial, uint8_t* data, size_t len,
                     bool truncated) override;
  void on_udp_error(Upstream& up, uint32_t serial, int err) override;
  void on_tcp_answer(Upstream& up, uint64_t cookie, uint8_t* data, size_t len) override;
  void on_tcp_error(Upstream& up, uint64_t cookie, int err) override;

 private:
  void tick();
  // Replies
  void reply_question(const uint8_t* query, const dns::Message& q, uint16_t rcode,
                      const ClientRef& client);
  void reply_stored(const StoredView& view, uint32_t age_or_ttl, bool fixed_ttl,
                    const ClientAsk& ask, const ClientRef& client);
  void reply_waiter_error(const Transaction& t, const Waiter& w, uint16_t rcode);
  bool answer_stale(Transaction& t);
  void answer_waiters(Transaction& t, const StoredView& view, uint32_t age_or_ttl, bool fixed_ttl);
  // Transactions
  Transaction* start(TxnKind kind, const CacheKey& key, std::shared_ptr<GroupRuntime> group,
                     const uint8_t* qname_spelling, uint16_t flags);
  bool send_next(Transaction& t);
  bool send_tcp(Transaction& t, Upstream& up);
  void arm(Transaction& t);
  void on_timer(Transaction& t);
  void accept_answer(Transaction& t, int attempt, uint8_t* data, size_t len, bool via_tcp,
                     bool cut);
  void finish(Transaction& t, uint8_t* data);
  void fail(Transaction& t);
  void close_attempt(Transaction& t, int attempt);
  void after_attempt_failed(Transaction& t);
  void release(Transaction& t);
  bool question_matches(const Transaction& t, const uint8_t* data, const dns::Message& m) const;
  void note_health(Upstream& up, HealthChange change);
  void start_probe(const std::shared_ptr<GroupRuntime>& group, Upstream& up);
  bool decode_cookie(uint64_t cookie, Transaction*& t, int& attempt);

  uv_loop_t* loop_;
  MetricsRegistry& metrics_;
  Stats& stats_;
  ReplySink* sink_ = nullptr;
  Config config_;
  Router router_;
  std::vector<std::shared_ptr<GroupRuntime>> groups_;
  std::vector<std::shared_ptr<GroupRuntime>> retiring_;  // freed at the next tick
  ClientAcl acl_;
  Cache cache_;
  InflightPool pool_;
  IdTable ids_;
  KeyIndex keys_;
  UvHandle<uv_timer_t> tick_;

  // Scratch, reused for every packet.
  dns::Message msg_;
  std::vector<dns::Rr> rrs_;
  Prepared prepared_;
  dns::Message compose_msg_;
  std::vector<dns::Rr> compose_rrs_;
  uint8_t key_name_[dns::kMaxNameWire];

  // "all upstreams failed" is for alerting, not a flood: at most a few lines a second.
  uint64_t fail_log_second_ = 0;
  uint32_t fail_logs_this_second_ = 0;
  uint64_t fail_logs_suppressed_ = 0;
};

}  // namespace cairn::dnsfwd
