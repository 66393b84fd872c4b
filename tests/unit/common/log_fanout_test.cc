// Log monitors: each sees its level and above in its format, a slow one
// loses lines and learns how many, and detaching stops delivery.
#include "common/log_fanout.h"

#include <doctest/doctest.h>

using namespace cairn;

namespace {

void quiet(std::string_view) {}  // the output under test is the monitors'

struct QuietLog {
  QuietLog() {
    log::set_sink(quiet);
    log::set_level(log::Level::info);
  }
  ~QuietLog() { log::set_sink(nullptr); }
};

}  // namespace

TEST_CASE("a monitor below the output's level still gets its lines") {
  QuietLog q;
  int wakes = 0;
  CHECK(log::capture_level() == log::Level::info);
  {
    log::Monitor m(log::Level::debug, false, 16, [&wakes] { ++wakes; });
    CHECK(log::capture_level() == log::Level::debug);
    log::debug("test", "fine detail", {{"k", "v"}});
    log::trace("test", "too fine");
    log::info("test", "news");
    auto taken = m.take(1 << 20);
    CHECK(taken.dropped == 0);
    CHECK(taken.text.find("[DEBUG] test: fine detail k=v\n") != std::string::npos);
    CHECK(taken.text.find("too fine") == std::string::npos);
    CHECK(taken.text.find("[INFO]  test: news\n") != std::string::npos);
    CHECK(wakes == 1);  // woken when the empty buffer got its first line
  }
  CHECK(log::capture_level() == log::Level::info);
}

TEST_CASE("JSON and plain monitors side by side") {
  QuietLog q;
  log::Monitor plain(log::Level::warn, false, 16, [] {});
  log::Monitor json(log::Level::info, true, 16, [] {});
  log::info("test", "hello");
  log::warn("test", "careful");
  std::string p = plain.take(1 << 20).text;
  std::string j = json.take(1 << 20).text;
  CHECK(p.find("hello") == std::string::npos);
  CHECK(p.find("[WARN]  test: careful") != std::string::npos);
  CHECK(j.find(R"("@message":"hello")") != std::string::npos);
  CHECK(j.find(R"("@level":"warn")") != std::string::npos);
}

TEST_CASE("a full buffer drops and counts; take is bounded by bytes") {
  QuietLog q;
  log::Monitor m(log::Level::info, false, 3, [] {});
  for (int i = 0; i < 10; ++i) log::info("test", "line", {{"i", std::to_string(i)}});
  auto first = m.take(1);  // at least one line, whatever the bound
  CHECK(first.text.find("i=0\n") != std::string::npos);
  CHECK(first.text.find("i=1") == std::string::npos);
  CHECK(first.dropped == 7);
  auto rest = m.take(1 << 20);
  CHECK(rest.dropped == 0);
  CHECK(rest.text.find("i=2\n") != std::string::npos);
  m.detach();
  log::info("test", "after");
  CHECK(m.take(1 << 20).text.empty());
}
