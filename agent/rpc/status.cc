#include "agent/rpc/status.h"

#include <array>

namespace cairn::rpc {

namespace {

constexpr std::array<std::string_view, 12> kNames = {
    "ok",        "cancelled",   "unavailable", "unknown_outcome",  "timeout",           "too_large",
    "exhausted", "bad_request", "not_found",   "version_mismatch", "permission_denied", "internal"};

}  // namespace

std::string_view code_name(Status::Code code) {
  auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i] : "internal";
}

bool parse_code(std::string_view name, Status::Code& out) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      out = static_cast<Status::Code>(i);
      return true;
    }
  }
  return false;
}

std::string Status::to_string() const {
  std::string out(code_name(code));
  if (!message.empty()) out.append(": ").append(message);
  return out;
}

}  // namespace cairn::rpc
