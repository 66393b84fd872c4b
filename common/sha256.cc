#include "common/sha256.h"

#include <openssl/sha.h>

namespace cairn {

// OpenSSL's low-level SHA-256, not EVP_Digest: the EVP path loads OpenSSL's
// providers and config on first use, about 2 MiB resident in an agent that
// otherwise needs no TLS. The low-level functions are deprecated in OpenSSL
// 3 (for EVP) but computed in place, with no provider behind them.
std::array<uint8_t, 32> sha256(std::string_view bytes) {
  std::array<uint8_t, 32> digest{};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, bytes.data(), bytes.size());
  SHA256_Final(digest.data(), &ctx);
#pragma GCC diagnostic pop
  return digest;
}

}  // namespace cairn
