// A client agent's anti-entropy towards the servers: whenever its local
// services or checks change (and on the periodic full sync), the whole local
// state goes to a server as one idempotent Catalog.SyncNode call. One call
// is in flight at a time; changes meanwhile make one more call after it; a
// failed call is tried again after a pause.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

#include "agent/forward/forwarder.h"
#include "common/uv_handle.h"

namespace cairn::forward {

class CatalogPush {
 public:
  static constexpr uint64_t kRetryMs = 2000;
  static constexpr uint64_t kCallTimeoutMs = 15'000;

  // encode_state writes the node sync body (encode_node_sync) for now.
  CatalogPush(uv_loop_t* loop, Forwarder& forwarder, std::function<std::string()> encode_state);
  ~CatalogPush();
  CatalogPush(const CatalogPush&) = delete;
  CatalogPush& operator=(const CatalogPush&) = delete;

  // The local state changed (or a full sync is due): push it.
  void changed();
  // A server became known: push now rather than after the retry pause.
  void server_found();
  // Loop time (ms) of the last push the servers applied; 0 before any.
  uint64_t last_synced_ms() const { return last_synced_ms_; }
  bool in_sync() const { return !dirty_ && !in_flight_ && last_synced_ms_ > 0; }

 private:
  void push();
  void on_pushed(const rpc::Status& status, const std::string& body);

  uv_loop_t* loop_;
  Forwarder& forwarder_;
  std::function<std::string()> encode_state_;
  Timer retry_timer_;
  bool in_flight_ = false;
  bool dirty_ = false;
  uint64_t last_synced_ms_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::forward
