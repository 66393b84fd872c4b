// Randomness from the kernel's CSPRNG (getrandom): UUIDs, jitter, shuffles.
#pragma once

#include <cstdint>
#include <string>

namespace cairn {

// A random (version 4) UUID in Consul's lower-case 8-4-4-4-12 form.
std::string random_uuid();
bool is_uuid(std::string_view s);
uint64_t random_u64();
// Uniform in [0, bound); bound > 0.
uint64_t random_below(uint64_t bound);

}  // namespace cairn
