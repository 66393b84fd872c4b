#include "agent/rpc/wire.h"

namespace cairn::rpc::wire {

bool valid_method(std::string_view method) {
  if (method.empty() || method.size() > kMaxMethodLength) return false;
  for (char c : method) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string header_safe(std::string_view text) {
  std::string out(text.substr(0, kMaxStatusMessage));
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  // RFC 9113 forbids leading and trailing white space in field values.
  size_t b = out.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  size_t e = out.find_last_not_of(' ');
  return out.substr(b, e - b + 1);
}

void append_message(std::string& out, std::string_view message) {
  auto n = static_cast<uint32_t>(message.size());
  char prefix[kMessagePrefix] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                 static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(prefix, kMessagePrefix);
  out.append(message);
}

}  // namespace cairn::rpc::wire
