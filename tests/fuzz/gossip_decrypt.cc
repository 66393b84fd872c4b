// AES-GCM payload decryption with a two-key ring: hostile input never
// decrypts (it cannot authenticate) and never reads out of bounds; what we
// encrypt always decrypts.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/gossip/keyring.h"

using namespace cairn::gossip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Keyring ring = [] {
    Keyring r;
    r.install(std::string(32, 'k'));
    r.install(std::string(16, 'q'));
    return r;
  }();
  const Bytes in(data, size);
  const size_t aad_len = size > 0 ? data[0] % 8 : 0;
  const Bytes aad = in.subspan(0, std::min(aad_len, size));
  std::string out;
  decrypt_payload(ring, in, aad, out);
  std::string ct, back;
  if (!encrypt_payload(ring.primary(), in, aad, ct) ||
      !decrypt_payload(ring, as_bytes(ct), aad, back) || back != as_view(in))
    __builtin_trap();
  return 0;
}
