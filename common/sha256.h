// SHA-256 of a byte string: the names of persisted files and the seal of
// snapshot files.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cairn {

std::array<uint8_t, 32> sha256(std::string_view bytes);

}  // namespace cairn
