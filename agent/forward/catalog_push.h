// A client agent's anti-entropy towards the servers. A full sync (the
// periodic pass, a registration change, the first push to a server, and any
// push after a failure) sends the whole local state as one idempotent
// Catalog.SyncNode call; a change of check results alone sends only those
// checks' status and output as Catalog.SyncChecks (agent/forward/node_sync.h),
// so one check changing costs the same with 10 checks or 10,000. One call is
// in flight at a time; changes meanwhile are gathered into one more call
// after it; a failed call is tried again, as a full sync, after a pause.
#pragma once

#include <uv.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "agent/forward/forwarder.h"
#include "common/uv_handle.h"

namespace cairn::forward {

class CatalogPush {
 public:
  static constexpr uint64_t kRetryMs = 2000;
  static constexpr uint64_t kCallTimeoutMs = 15'000;

  // encode_full writes a Catalog.SyncNode body (encode_node_sync);
  // encode_checks writes a Catalog.SyncChecks body for the given checks and
  // says false when none of them is left (encode_check_sync).
  using EncodeFull = std::function<std::string()>;
  using EncodeChecks = std::function<bool(const std::vector<std::string>& ids, std::string& out)>;
  CatalogPush(uv_loop_t* loop, Forwarder& forwarder, EncodeFull encode_full,
              EncodeChecks encode_checks);
  ~CatalogPush();
  CatalogPush(const CatalogPush&) = delete;
  CatalogPush& operator=(const CatalogPush&) = delete;

  // The local state changed (or a full sync is due): push all of it.
  void changed();
  // Only the result (status, output) of check id changed: push that check.
  void check_changed(const std::string& id);
  // A server became known: push now rather than after the retry pause.
  void server_found();
  // Loop time (ms) of the last push the servers applied; 0 before any.
  uint64_t last_synced_ms() const { return last_synced_ms_; }
  bool in_sync() const {
    return !full_due_ && checks_due_.empty() && !in_flight_ && last_synced_ms_ > 0;
  }
  // Calls sent, by kind: what `Stats.rpc` shows, so churn is observable.
  uint64_t full_pushes() const { return full_pushes_; }
  uint64_t check_pushes() const { return check_pushes_; }

 private:
  bool dirty() const { return full_due_ || !checks_due_.empty(); }
  void push();
  void on_pushed(const rpc::Status& status, const std::string& body);

  uv_loop_t* loop_;
  Forwarder& forwarder_;
  EncodeFull encode_full_;
  EncodeChecks encode_checks_;
  Timer retry_timer_;
  bool in_flight_ = false;
  bool full_due_ = false;
  std::set<std::string> checks_due_;
  uint64_t last_synced_ms_ = 0;
  uint64_t full_pushes_ = 0;
  uint64_t check_pushes_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::forward
