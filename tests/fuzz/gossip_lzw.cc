// LZW: decompressing anything must be safe and bounded; compressing then
// decompressing must give the input back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/gossip/lzw.h"

using namespace cairn::gossip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  std::string out;
  lzw_decompress(in, 1 << 20, out);
  if (out.size() > (1 << 20)) __builtin_trap();
  std::string z, back;
  lzw_compress(in, z);
  if (!lzw_decompress(as_bytes(z), size + 1, back) || back != as_view(in)) __builtin_trap();
  return 0;
}
