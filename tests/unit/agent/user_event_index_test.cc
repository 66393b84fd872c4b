#include "agent/user_event_index.h"

#include <doctest/doctest.h>

using namespace cairn;

TEST_CASE("an event's index is the XOR of its UUID's halves, as Consul's IDToIndex") {
  // lower = 0x0123456789abcdef, upper = 0xfedcba9876543210
  CHECK(user_event_index("01234567-89ab-cdef-fedc-ba9876543210") ==
        (0x0123456789abcdefULL ^ 0xfedcba9876543210ULL));
  CHECK(user_event_index("00000000-0000-0000-0000-000000000001") == 1);
  CHECK(user_event_index("ABCDEF00-0000-0000-0000-000000000000") == 0xabcdef0000000000ULL);
}

TEST_CASE("an ID that is not a UUID still gets a stable index") {
  CHECK(user_event_index("not-a-uuid") == user_event_index("not-a-uuid"));
  CHECK(user_event_index("") != 0);
  CHECK(user_event_index("0123456z-89ab-cdef-fedc-ba9876543210") !=
        user_event_index("01234560-89ab-cdef-fedc-ba9876543210"));
}
