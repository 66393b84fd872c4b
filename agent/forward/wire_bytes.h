// The byte fields of cairn's RPC bodies (http_envelope, node_sync,
// catalog_stream): big-endian integers and u32-length-prefixed strings.
// Readers take fields off the front of a view and say false when it is short.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::forward::wire {

inline void put_be(std::string& out, uint64_t v, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline void put_str(std::string& out, std::string_view s) {
  put_be(out, s.size(), 4);
  out.append(s);
}

inline bool take_be(std::string_view& in, int bytes, uint64_t& v) {
  if (in.size() < static_cast<size_t>(bytes)) return false;
  v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  in.remove_prefix(static_cast<size_t>(bytes));
  return true;
}

inline bool take_str(std::string_view& in, std::string& s) {
  uint64_t n = 0;
  if (!take_be(in, 4, n) || in.size() < n) return false;
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

}  // namespace cairn::forward::wire
