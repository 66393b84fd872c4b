#include "agent/checks/ttl_check.h"

#include "agent/state/rows.h"
#include "common/log.h"

namespace cairn::checks {

TtlCheck::TtlCheck(CheckEnv& env, std::string check_id, Nanos ttl, uint64_t expires_in_ms,
                   std::string last_output, size_t output_max_size)
    : CheckRunner(std::move(check_id)),
      env_(env),
      ttl_(ttl),
      timer_(env.loop),
      last_output_(std::move(last_output)),
      output_max_(output_max_size ? output_max_size : env.output_max_size) {
  arm(expires_in_ms ? expires_in_ms : static_cast<uint64_t>(ttl_ / kMillisecond));
}

void TtlCheck::arm(uint64_t ms) {
  deadline_ms_ = uv_now(env_.loop) + ms;
  timer_.start(ms, 0, [this] { expire(); });
}

void TtlCheck::expire() {
  log::warn("checks", "check missed its TTL, now critical", {{"check", id_}});
  output_ = "TTL expired";
  if (!last_output_.empty())
    output_.append(" (last output before timeout follows): ").append(last_output_);
  env_.sink(id_, state::kCritical, output_);
}

void TtlCheck::report(std::string_view status, std::string_view output) {
  size_t max = output_max_;
  if (output.size() > max) {
    last_output_.assign(output.substr(0, max));
    last_output_.append(" ... (captured ").append(std::to_string(max)).append(" of ");
    last_output_.append(std::to_string(output.size())).append(" bytes)");
  } else {
    last_output_.assign(output);
  }
  arm(static_cast<uint64_t>(ttl_ / kMillisecond));
  env_.sink(id_, status, last_output_);
}

}  // namespace cairn::checks
