#include <doctest/doctest.h>

#include "dnsfwd/log_throttle.h"

using namespace cairn::dnsfwd;

TEST_CASE("LogThrottle logs the first event, then one a second with the count it skipped") {
  LogThrottle t(1000);
  CHECK(t.allow(5000));  // the first event of a calm period, at once
  CHECK(t.suppressed() == 0);
  CHECK_FALSE(t.allow(5000));
  CHECK_FALSE(t.allow(5400));
  CHECK_FALSE(t.allow(5999));
  CHECK(t.allow(6000));
  CHECK(t.suppressed() == 3);
  CHECK(t.allow(60000));  // after a quiet time: nothing was skipped
  CHECK(t.suppressed() == 0);
}

TEST_CASE("LogThrottle allows an event at time 0") {
  LogThrottle t(1000);
  CHECK(t.allow(0));
  CHECK_FALSE(t.allow(999));
  CHECK(t.allow(1000));
  CHECK(t.suppressed() == 1);
}
