// The server's CatalogWriter: plans against the watch cache, commits to etcd.
//
// Optimistic concurrency (reference etcd.md §8.3): a plan runs against this
// server's copy of the store; its batch becomes one etcd transaction guarded
// by the revisions of every row it writes and of the rows those writes
// depend on (the node of a service, check or session; the session of a
// lock). If another server moved any of them first, the transaction fails,
// the writer waits until the cache has caught up with that revision and
// plans again, a bounded number of times. A committed write is answered only
// once the cache has applied its revision, so the client reads its write on
// this server.
//
// Outcomes are typed (write_result.h). Nothing sent is ever called failed
// when it may have been applied: a call that times out or loses its
// connection after being sent is `unknown_outcome`, never retried.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/etcd/gateway_client.h"
#include "agent/etcd/gateway_types.h"
#include "agent/server/catalog_writer.h"
#include "agent/server/etcd_restore.h"
#include "agent/server/etcd_txn.h"

namespace cairn::server {

// Where the writer learns how far the cache has got.
class AppliedRevision {
 public:
  virtual ~AppliedRevision() = default;
  virtual uint64_t applied_revision() const = 0;
  // Runs done(true) once the cache has applied revision, or done(false)
  // after timeout_ms.
  virtual void when_applied(uint64_t revision, uint64_t timeout_ms,
                            std::function<void(bool reached)> done) = 0;
};

struct EtcdWriterCounters {
  uint64_t commits = 0;
  uint64_t conflicts = 0;  // guarded transactions that lost a race and were planned again
  uint64_t unavailable = 0;
  uint64_t unknown = 0;
};

// The guards of a batch: each written row and the rows it depends on, at the
// revision this cache holds (0: absent). Pure.
std::vector<ReadGuard> guards_for(const state::Store& store, const state::Batch& batch);

class EtcdWriter : public CatalogWriter {
 public:
  using Clock = std::function<int64_t()>;
  struct Settings {
    uint64_t call_timeout_ms = 5000;  // cairn's own bound, below etcd's 7 s no-leader hang
    uint64_t catch_up_ms = 5000;      // waiting for the cache to apply a revision
    int max_attempts = 8;
  };

  EtcdWriter(state::Store& store, etcd::GatewayClient& client, AppliedRevision& applied,
             Clock wall_clock_ms, Settings settings);
  EtcdWriter(const EtcdWriter&) = delete;
  EtcdWriter& operator=(const EtcdWriter&) = delete;
  ~EtcdWriter() override { *alive_ = false; }

  // CatalogWriter
  void write(Plan plan, WriteDone done) override;
  // A leader-only write (reference §8.9): the transaction also compares the
  // leader key's create revision, so a deposed leader that has not noticed
  // yet cannot write. still_leader() is asked before each retry.
  void write_fenced(Plan plan, WriteDone done, etcd::LeaderKey fence,
                    std::function<bool()> still_leader);

  // Snapshot restore as one guarded transaction (etcd_restore.h, etcd_restore.cc).
  void restore(state::Batch rows, WriteDone done) override;

  const EtcdWriterCounters& counters() const { return counters_; }

 private:
  struct RestoreAttempt;
  void restore_run(std::shared_ptr<RestoreAttempt> a);
  void restore_grant(std::shared_ptr<RestoreAttempt> a, std::vector<RestoreLease> leases,
                     std::shared_ptr<std::string> body, std::vector<int64_t> revoke);
  void restore_commit(std::shared_ptr<RestoreAttempt> a, std::shared_ptr<std::string> body,
                      std::vector<int64_t> revoke);
  void restore_finish(const std::shared_ptr<RestoreAttempt>& a, WriteResult r);

  struct Attempt {
    Plan plan;
    WriteDone done;
    int tries = 0;
    std::optional<etcd::LeaderKey> fence;
    std::function<bool()> still_leader;
  };
  void run(std::shared_ptr<Attempt> a);
  // A new session with a TTL needs its lease before the transaction that
  // puts its row on it; grants them one by one, then sends body.
  struct Lease {
    int64_t id;
    int64_t ttl_seconds;
  };
  void grant_then_commit(std::shared_ptr<Attempt> a, std::vector<Lease> leases, std::string body,
                         std::vector<int64_t> revoke);
  void commit(std::shared_ptr<Attempt> a, std::string body, std::vector<int64_t> revoke);
  void revoke_leases(const std::vector<int64_t>& leases);
  void on_committed(std::shared_ptr<Attempt> a, etcd::CallResult result,
                    std::vector<int64_t> revoke);
  void finish(const std::shared_ptr<Attempt>& a, WriteResult r);

  state::Store& store_;
  etcd::GatewayClient& client_;
  AppliedRevision& applied_;
  Clock now_ms_;
  Settings settings_;
  EtcdWriterCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// What an etcd answer to a write transaction means for cairn. Pure.
struct TxnOutcome {
  enum class Kind : uint8_t { committed, guards_failed, not_applied, unknown };
  Kind kind = Kind::unknown;
  uint64_t revision = 0;  // committed: the write's; guards_failed: etcd's at the time
  std::string message;
};
TxnOutcome classify_txn_answer(const etcd::CallResult& result);

}  // namespace cairn::server
