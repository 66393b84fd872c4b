#include "agent/forward/catalog_push.h"

#include "agent/forward/node_sync.h"
#include "common/log.h"

namespace cairn::forward {

CatalogPush::CatalogPush(uv_loop_t* loop, Forwarder& forwarder,
                         std::function<std::string()> encode_state)
    : loop_(loop),
      forwarder_(forwarder),
      encode_state_(std::move(encode_state)),
      retry_timer_(loop) {}

CatalogPush::~CatalogPush() {
  *alive_ = false;
}

void CatalogPush::changed() {
  dirty_ = true;
  if (!in_flight_ && !retry_timer_.active()) push();
}

void CatalogPush::server_found() {
  retry_timer_.stop();
  dirty_ = true;
  if (!in_flight_) push();
}

void CatalogPush::push() {
  dirty_ = false;
  in_flight_ = true;
  forwarder_.call(kSyncNodeMethod, encode_state_(), kCallTimeoutMs, /*idempotent=*/true,
                  [this, alive = alive_](const rpc::Status& status, std::string body) {
                    if (!*alive) return;
                    on_pushed(status, body);
                  });
}

void CatalogPush::on_pushed(const rpc::Status& status, const std::string& body) {
  in_flight_ = false;
  server::WriteResult r =
      status.ok() ? decode_write_result(body)
                  : server::WriteResult{server::WriteCode::unavailable, status.to_string(), 0};
  if (r.ok()) {
    last_synced_ms_ = uv_now(loop_);
    if (dirty_) push();
    return;
  }
  log::warn("agent", "syncing to the servers' catalog failed; retrying",
            {{"code", server::write_code_name(r.code)}, {"error", r.message}});
  dirty_ = true;
  retry_timer_.start(kRetryMs, 0, [this] {
    if (dirty_ && !in_flight_) push();
  });
}

}  // namespace cairn::forward
