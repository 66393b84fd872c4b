// Where catalog writes go. A write is a plan: a pure function that reads the
// current store and produces a batch (or an error). -dev runs the plan and
// applies the batch at the next index at once; servers will run it against
// their watch cache and commit it to etcd guarded by the revisions it read,
// re-planning on conflict (ARCHITECTURE.md, "Same path in dev and cluster").
// Every writer appends the sessions a batch invalidates (session_ops.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/server/write_result.h"
#include "agent/state/store.h"

namespace cairn::server {

// now_ms is wall-clock time in milliseconds (lock delays compare against it).
using Plan = std::function<PlanStatus(const state::Store&, int64_t now_ms, state::Batch&)>;
using WriteDone = std::function<void(const WriteResult&)>;

// Runs a plan and appends the sessions its batch invalidates: what every
// writer does before it applies or commits a batch.
PlanStatus plan_write(const Plan& plan, const state::Store& store, int64_t now_ms,
                      state::Batch& out);

// Sets every Put row's CreateIndex and ModifyIndex to index (a restore).
void stamp_rows(state::Batch& rows, uint64_t index);

class CatalogWriter {
 public:
  virtual ~CatalogWriter() = default;
  virtual void write(Plan plan, WriteDone done) = 0;
  // Replaces every replicated table with rows (the Put mutations of a
  // snapshot, agent/snapshot/) at one new index, all or nothing: readers see
  // the old tables or the new ones, never a mix. Every row gets the new
  // index as its CreateIndex and ModifyIndex, so indexes only move forward.
  // Writers that hold no authoritative copy refuse (the default).
  virtual void restore(state::Batch rows, WriteDone done);
};

// -dev: the store numbers its own changes.
class DevWriter : public CatalogWriter {
 public:
  using Clock = std::function<int64_t()>;
  DevWriter(state::Store& store, Clock wall_clock_ms)
      : store_(store), now_ms_(std::move(wall_clock_ms)) {}
  // CatalogWriter
  void write(Plan plan, WriteDone done) override;
  void restore(state::Batch rows, WriteDone done) override;

 private:
  state::Store& store_;
  Clock now_ms_;
};

// A client agent: its store mirrors a server's catalog (the streamed local
// view), so local writes are not applied here; its anti-entropy pushes the
// local state to the servers instead (agent/forward/catalog_push.h).
class MirrorWriter : public CatalogWriter {
 public:
  void write(Plan, WriteDone done) override {
    if (done) done(WriteResult{});
  }
};

}  // namespace cairn::server
