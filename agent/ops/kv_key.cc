#include "agent/ops/kv_key.h"

#include "common/utf8.h"

namespace cairn::ops {

OpCheck validate_kv_key(std::string_view key) {
  if (!is_valid_utf8(key)) return invalid_input("Invalid key: not valid UTF-8");
  if (!key.empty() && key[0] == '/') return invalid_input("Invalid key: must not begin with '/'");
  if (key == ".." || key.starts_with("../") || key.find("/../") != std::string_view::npos ||
      key.ends_with("/.."))
    return invalid_input("Invalid key: path traversal is not allowed");
  return std::nullopt;
}

}  // namespace cairn::ops
