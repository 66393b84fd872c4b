// Drives the UDP receive path: label, decryption, CRC, compound, compress
// (LZW), every memberlist message and every Serf message inside user
// messages. First byte: bit 0 selects the keyed node.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/gossip_fuzz_env.h"

using namespace cairn::gossip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Serf& node = fuzz::fuzz_node(data[0] & 1);
  node.packet_handler().on_packet(Address{0x7f000002, 7946}, Bytes(data + 1, size - 1),
                                  Time(std::chrono::seconds(1)));
  return 0;
}
