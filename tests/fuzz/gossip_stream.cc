// Drives the TCP side: stream framing (as the socket shell uses it), then a
// whole stream message: push/pull with Serf user state, TCP ping, user
// messages, compressed and encrypted frames. First byte: bit 0 = keyed node.
#include <cstddef>
#include <cstdint>

#include "agent/gossip/framing.h"
#include "tests/fuzz/gossip_fuzz_env.h"

using namespace cairn::gossip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Serf& node = fuzz::fuzz_node(data[0] & 1);
  const Bytes msg(data + 1, size - 1);
  const size_t n = stream_message_size(msg);
  if (n != 0 && n != SIZE_MAX && n > msg.size()) __builtin_trap();
  // The shell hands over complete messages only; also try the raw input so
  // the core's own bounds checks see truncated ones.
  if (n != 0 && n != SIZE_MAX)
    node.packet_handler().on_stream(Address{0x7f000002, 40000}, msg.subspan(0, n));
  node.packet_handler().on_stream(Address{0x7f000002, 40000}, msg);
  return 0;
}
