#include "agent/checks/grpc_wire.h"

#include <algorithm>
#include <array>

namespace cairn::checks {

void split_grpc_target(std::string_view target, std::string& server, std::string& service) {
  size_t slash = target.find('/');
  server = std::string(target.substr(0, slash));
  service = slash == std::string_view::npos ? "" : std::string(target.substr(slash + 1));
}

namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

}  // namespace

std::string encode_health_request(std::string_view service) {
  std::string msg;
  if (!service.empty()) {
    msg += '\x0a';  // field 1 (service), length-delimited
    put_varint(msg, service.size());
    msg.append(service);
  }
  std::string out;
  out += '\0';  // not compressed
  uint32_t n = static_cast<uint32_t>(msg.size());
  out += static_cast<char>(n >> 24);
  out += static_cast<char>(n >> 16);
  out += static_cast<char>(n >> 8);
  out += static_cast<char>(n);
  out += msg;
  return out;
}

void HealthResponseReader::append(const uint8_t* data, size_t len) {
  size_t room = kMaxMessage - std::min(kMaxMessage, buffer_.size());
  if (len > room) overflow_ = true;
  buffer_.append(reinterpret_cast<const char*>(data), std::min(len, room));
}

int HealthResponseReader::status(std::string* error) const {
  auto fail = [&](const char* why) {
    if (error) *error = why;
    return -1;
  };
  if (overflow_) return fail("grpc: received message larger than max");
  if (buffer_.size() < 5) return fail("grpc: no response message");
  auto b = reinterpret_cast<const uint8_t*>(buffer_.data());
  if (b[0] != 0) return fail("grpc: compressed response without a negotiated encoding");
  uint32_t len = (uint32_t{b[1]} << 24) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 8) | b[4];
  if (len > buffer_.size() - 5) return fail("grpc: truncated response message");
  std::string_view msg(buffer_.data() + 5, len);
  uint64_t status = 0;  // proto3 default: UNKNOWN
  while (!msg.empty()) {
    uint64_t key;
    if (!get_varint(msg, key)) return fail("grpc: failed to unmarshal the response");
    uint64_t field = key >> 3;
    switch (key & 7) {
      case 0: {
        uint64_t v;
        if (!get_varint(msg, v)) return fail("grpc: failed to unmarshal the response");
        if (field == 1) status = v;
        break;
      }
      case 1:
        if (msg.size() < 8) return fail("grpc: failed to unmarshal the response");
        msg.remove_prefix(8);
        break;
      case 2: {
        uint64_t n;
        if (!get_varint(msg, n) || n > msg.size())
          return fail("grpc: failed to unmarshal the response");
        msg.remove_prefix(n);
        break;
      }
      case 5:
        if (msg.size() < 4) return fail("grpc: failed to unmarshal the response");
        msg.remove_prefix(4);
        break;
      default:
        return fail("grpc: failed to unmarshal the response");
    }
  }
  return static_cast<int>(status & 0x7fffffff);
}

std::string_view serving_status_name(int status) {
  static constexpr std::array<std::string_view, 4> kNames = {"UNKNOWN", "SERVING", "NOT_SERVING",
                                                             "SERVICE_UNKNOWN"};
  if (status >= 0 && status < static_cast<int>(kNames.size()))
    return kNames[static_cast<size_t>(status)];
  return "UNKNOWN";
}

std::string_view grpc_code_name(int code) {
  static constexpr std::array<std::string_view, 17> kNames = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  if (code >= 0 && code < static_cast<int>(kNames.size())) return kNames[static_cast<size_t>(code)];
  return "Unknown";
}

std::string decode_grpc_message(std::string_view v) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
      out += static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

}  // namespace cairn::checks
