#include "agent/checks/ttl_check.h"

#include "agent/state/rows.h"

namespace cairn::checks {

TtlCheck::TtlCheck(uv_loop_t* loop, std::string check_id, Nanos ttl, StatusSink sink,
                   uint64_t expires_in_ms)
    : loop_(loop), id_(std::move(check_id)), ttl_(ttl), sink_(std::move(sink)), timer_(loop) {
  arm(expires_in_ms ? expires_in_ms : static_cast<uint64_t>(ttl_ / kMillisecond));
}

void TtlCheck::arm(uint64_t ms) {
  deadline_ms_ = uv_now(loop_) + ms;
  timer_.start(ms, 0, [this] { sink_(id_, state::kCritical, "TTL expired"); });
}

void TtlCheck::report(const std::string& status, std::string output) {
  arm(static_cast<uint64_t>(ttl_ / kMillisecond));
  sink_(id_, status, std::move(output));
}

}  // namespace cairn::checks
