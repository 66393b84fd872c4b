#include "agent/checks/status_thresholds.h"

#include <doctest/doctest.h>

#include <string>

using cairn::checks::StatusThresholds;

namespace {
std::string f(StatusThresholds& t, const char* status) {
  return std::string(t.filter(status));
}
}  // namespace

TEST_CASE("no thresholds: every result applies") {
  StatusThresholds t(0, 0, 0);
  CHECK(f(t, "passing") == "passing");
  CHECK(f(t, "critical") == "critical");
  CHECK(f(t, "warning") == "warning");
  CHECK(f(t, "critical") == "critical");
}

TEST_CASE("the first result after a start applies at once, as in Consul") {
  StatusThresholds t(3, 0, 3);
  CHECK(f(t, "passing") == "passing");
  StatusThresholds u(3, 0, 3);
  CHECK(f(u, "critical") == "critical");
}

TEST_CASE("failures_before_critical needs that many failures in a row") {
  StatusThresholds t(0, 0, 3);
  CHECK(f(t, "passing") == "passing");
  CHECK(f(t, "critical") == "");
  CHECK(f(t, "critical") == "");
  CHECK(f(t, "passing") == "passing");  // a success resets the count
  CHECK(f(t, "critical") == "");
  CHECK(f(t, "critical") == "");
  CHECK(f(t, "critical") == "critical");
  CHECK(f(t, "critical") == "critical");
}

TEST_CASE("failures_before_warning turns failures into warning first") {
  StatusThresholds t(0, 1, 3);
  CHECK(f(t, "passing") == "passing");
  CHECK(f(t, "critical") == "warning");
  CHECK(f(t, "critical") == "warning");
  CHECK(f(t, "critical") == "critical");
}

TEST_CASE("success_before_passing holds passing back; warning counts as success") {
  StatusThresholds t(2, 0, 0);
  CHECK(f(t, "critical") == "critical");
  CHECK(f(t, "passing") == "");
  CHECK(f(t, "warning") == "warning");
  CHECK(f(t, "passing") == "passing");
  CHECK(f(t, "critical") == "critical");
  CHECK(f(t, "passing") == "");
  CHECK(f(t, "passing") == "passing");
}

TEST_CASE("counters saturate over very long runs") {
  StatusThresholds t(0, 0, 2);
  int wrong = 0;
  for (int i = 0; i < 100000; ++i) wrong += f(t, "critical") != "critical";
  CHECK(wrong == 0);
  CHECK(f(t, "passing") == "passing");
  CHECK(f(t, "critical") == "");
}
