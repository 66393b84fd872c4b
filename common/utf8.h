// UTF-8 validation as Go's utf8.ValidString sees it (no overlongs, no
// surrogates, nothing above U+10FFFF). Strings that reach the catalog must be
// valid: JSON answers could not carry them back unchanged otherwise.
#pragma once

#include <string_view>

namespace cairn {

bool is_valid_utf8(std::string_view s);

}  // namespace cairn
