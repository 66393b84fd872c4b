// The bytes of grpc.health.v1.Health/Check: the length-prefixed protobuf
// request, the response message and the gRPC status trailers. Pure, so it
// is fuzzed on its own; the HTTP/2 framing around it is nghttp2's job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::checks {

// "host:port/service" -> host:port and service (Consul's target syntax).
void split_grpc_target(std::string_view target, std::string& server, std::string& service);

// A gRPC message (5-byte prefix) holding HealthCheckRequest{service}.
std::string encode_health_request(std::string_view service);

// Collects DATA bytes of the response and reads HealthCheckResponse.status.
class HealthResponseReader {
 public:
  // Keeps at most this much; a health response is a few bytes.
  static constexpr size_t kMaxMessage = 64 * 1024;

  void reset() {
    buffer_.clear();
    overflow_ = false;
  }
  void append(const uint8_t* data, size_t len);
  // The serving status (0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN),
  // or -1 with error set when no well-formed message arrived.
  int status(std::string* error) const;

 private:
  std::string buffer_;
  bool overflow_ = false;
};

// Names as grpc-go prints them.
std::string_view serving_status_name(int status);  // "SERVING", "NOT_SERVING", ...
std::string_view grpc_code_name(int code);         // "NotFound", "Unavailable", ...
// grpc-message is percent-encoded on the wire.
std::string decode_grpc_message(std::string_view v);

}  // namespace cairn::checks
