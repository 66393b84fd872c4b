// A per-upstream packet budget. The AWS VPC resolver silently drops what
// exceeds 1024 packets/s per network interface (retries included), so a
// forwarder in front of it must meter itself and answer from cache, stale
// data or SERVFAIL instead of losing queries without a trace.
#pragma once

#include <algorithm>
#include <cstdint>

namespace cairn::dnsfwd {

class TokenBucket {
 public:
  // rate 0: unlimited. burst: tokens kept at most (one second of rate).
  explicit TokenBucket(uint32_t rate = 0) { reset(rate); }

  void reset(uint32_t rate) {
    rate_ = rate;
    tokens_milli_ = uint64_t{rate} * 1000;
  }

  // Takes one token if there is one. now_ms is the loop clock.
  bool take(uint64_t now_ms) {
    if (rate_ == 0) return true;
    refill(now_ms);
    if (tokens_milli_ < 1000) return false;
    tokens_milli_ -= 1000;
    return true;
  }

  bool available(uint64_t now_ms) {
    if (rate_ == 0) return true;
    refill(now_ms);
    return tokens_milli_ >= 1000;
  }

 private:
  void refill(uint64_t now_ms) {
    if (now_ms > last_ms_) {
      // rate tokens per second = rate milli-tokens per millisecond.
      tokens_milli_ =
          std::min<uint64_t>(tokens_milli_ + (now_ms - last_ms_) * rate_, uint64_t{rate_} * 1000);
      last_ms_ = now_ms;
    }
  }

  uint32_t rate_ = 0;
  uint64_t tokens_milli_ = 0;
  uint64_t last_ms_ = 0;
};

}  // namespace cairn::dnsfwd
