// Fuzzes the snapshot decoder (a PUT /v1/snapshot body, a file given to
// `cairn snapshot restore|inspect`): any bytes either decode or are refused
// with a code and a message; what decodes encodes back to the same bytes.
// Random bytes rarely carry a valid SHA-256, so each input is also tried
// with its checksum appended: the header and record parser sees it too.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/snapshot/snapshot_file.h"

namespace {

void check(std::string_view in) {
  using namespace cairn::snapshot;
  Snapshot s;
  Status st = decode(in, Limits{1u << 20}, s);
  if (!st.ok()) {
    if (st.message.empty()) std::abort();
    return;
  }
  if (encode(s) != in) std::abort();
  (void)table_stats(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check(in);
  std::string sealed(in);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(sealed.data(), sealed.size(), digest, &len, EVP_sha256(), nullptr);
  sealed.append(reinterpret_cast<const char*>(digest), len);
  check(sealed);
  return 0;
}
