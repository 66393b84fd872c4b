// Standard base64 (RFC 4648 with padding), as Go's encoding/base64.StdEncoding
// writes and reads KV values. Backed by OpenSSL's EVP encoder.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cairn {

std::string base64_encode(std::string_view bytes);
// nullopt for anything StdEncoding would reject (bad characters, bad padding).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace cairn
