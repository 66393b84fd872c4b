// A leadership handoff: which servers step back, and when the leader does.
#include "agent/server/leader_handoff.h"

#include <doctest/doctest.h>

using namespace cairn::server;

namespace {

LeaderRow row(std::string value, int64_t rev) {
  return {"/cairn/leader/" + std::to_string(rev), std::move(value), rev, false};
}

}  // namespace

TEST_CASE("servers ahead of the target step back, the leader only once the target is next") {
  // A leads (oldest key), then B, then the target T.
  std::vector<LeaderRow> rows = {row("A", 10), row("B", 11), row("T", 12)};
  CHECK(handoff_step(rows, "A", "T") == HandoffStep::wait);
  CHECK(handoff_step(rows, "B", "T") == HandoffStep::step_back);
  CHECK(handoff_step(rows, "T", "T") == HandoffStep::none);
  // B campaigned again: its new key is behind T's, and now A steps back.
  rows = {row("A", 10), row("T", 12), row("B", 20)};
  CHECK(handoff_step(rows, "A", "T") == HandoffStep::step_back);
  CHECK(handoff_step(rows, "B", "T") == HandoffStep::none);
  // A campaigned again too: T leads.
  rows = {row("T", 12), row("B", 20), row("A", 21)};
  CHECK(handoff_step(rows, "A", "T") == HandoffStep::none);
  CHECK(handoff_step(rows, "B", "T") == HandoffStep::none);
}

TEST_CASE("a target that is not campaigning moves nobody") {
  std::vector<LeaderRow> rows = {row("A", 10), row("B", 11)};
  CHECK(handoff_step(rows, "A", "T") == HandoffStep::none);
  CHECK(handoff_step(rows, "B", "T") == HandoffStep::none);
}

TEST_CASE("the marker round-trips and refuses what it cannot read") {
  Handoff h{"127.0.0.3:8300", 0xabcdef0123456789ULL, 1'700'000'000'000};
  auto back = decode_handoff(encode_handoff(h));
  REQUIRE(back.has_value());
  CHECK(back->target == h.target);
  CHECK(back->target_member == h.target_member);
  CHECK(back->until_unix_ms == h.until_unix_ms);
  CHECK_FALSE(decode_handoff("not json").has_value());
  CHECK_FALSE(decode_handoff("{}").has_value());
  CHECK_FALSE(decode_handoff(R"({"Target":7})").has_value());
}
