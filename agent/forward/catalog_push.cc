#include "agent/forward/catalog_push.h"

#include "agent/forward/node_sync.h"
#include "common/log.h"

namespace cairn::forward {

CatalogPush::CatalogPush(uv_loop_t* loop, Forwarder& forwarder, EncodeFull encode_full,
                         EncodeChecks encode_checks)
    : loop_(loop),
      forwarder_(forwarder),
      encode_full_(std::move(encode_full)),
      encode_checks_(std::move(encode_checks)),
      retry_timer_(loop) {}

CatalogPush::~CatalogPush() {
  *alive_ = false;
}

void CatalogPush::changed() {
  full_due_ = true;
  if (!in_flight_ && !retry_timer_.active()) push();
}

void CatalogPush::check_changed(const std::string& id) {
  // A full sync already due carries this check's result too.
  if (!full_due_) checks_due_.insert(id);
  if (!in_flight_ && !retry_timer_.active()) push();
}

void CatalogPush::server_found() {
  retry_timer_.stop();
  full_due_ = true;
  if (!in_flight_) push();
}

void CatalogPush::push() {
  std::string body;
  std::string_view method = kSyncNodeMethod;
  if (full_due_) {
    body = encode_full_();
    ++full_pushes_;
  } else {
    std::vector<std::string> ids(checks_due_.begin(), checks_due_.end());
    if (!encode_checks_(ids, body)) {
      checks_due_.clear();  // every one of them is gone: their removal synced in full
      return;
    }
    method = kSyncChecksMethod;
    ++check_pushes_;
  }
  full_due_ = false;
  checks_due_.clear();
  in_flight_ = true;
  forwarder_.call(method, std::move(body), kCallTimeoutMs, /*idempotent=*/true,
                  [this, alive = alive_](const rpc::Status& status, std::string reply) {
                    if (!*alive) return;
                    on_pushed(status, reply);
                  });
}

void CatalogPush::on_pushed(const rpc::Status& status, const std::string& body) {
  in_flight_ = false;
  server::WriteResult r;
  if (status.ok())
    r = decode_write_result(body);
  else if (status.code == rpc::Status::Code::not_found)  // a server that predates SyncChecks
    r = {server::WriteCode::not_found, status.to_string(), 0};
  else
    r = {server::WriteCode::unavailable, status.to_string(), 0};
  if (r.ok()) {
    last_synced_ms_ = uv_now(loop_);
    if (dirty()) push();
    return;
  }
  // A check the server does not hold yet (a new server, a catalog restored or
  // reaped): only the whole state can put it back.
  full_due_ = true;
  checks_due_.clear();
  if (r.code == server::WriteCode::not_found) {
    push();
    return;
  }
  log::warn("agent", "syncing to the servers' catalog failed; retrying",
            {{"code", server::write_code_name(r.code)}, {"error", r.message}});
  retry_timer_.start(kRetryMs, 0, [this] {
    if (dirty() && !in_flight_) push();
  });
}

}  // namespace cairn::forward
