#include "common/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cairn {

namespace {

// The kernel's CSPRNG (getrandom(2), blocking only until it is seeded at
// boot). Not OpenSSL's RAND_bytes: its first call loads OpenSSL's providers
// and config, about 3 MiB of resident memory in an agent that needs no TLS.
void fill_random(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::perror("getrandom");
      std::abort();  // no randomness: UUIDs and keys would repeat
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
}

}  // namespace

uint64_t random_u64() {
  // A small buffered pool keeps the per-call cost of the syscall off hot paths.
  static thread_local uint64_t pool[64];
  static thread_local size_t left = 0;
  if (left == 0) {
    fill_random(pool, sizeof pool);
    left = 64;
  }
  return pool[--left];
}

uint64_t random_below(uint64_t bound) {
  if (bound <= 1) return 0;
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t v;
  do v = random_u64();
  while (v >= limit);
  return v % bound;
}

std::string random_uuid() {
  unsigned char b[16];
  fill_random(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace cairn
