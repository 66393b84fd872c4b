// Fuzzes what a gRPC check reads from its target after HTTP/2 framing
// (nghttp2's own job): the health response message, grpc-message decoding,
// and the host:port/service target syntax.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/grpc_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t step = static_cast<size_t>(data[0] % 32) + 1;
  static cairn::checks::HealthResponseReader reader;
  reader.reset();
  for (size_t off = 1; off < size; off += step)
    reader.append(data + off, std::min(step, size - off));
  std::string err;
  int status = reader.status(&err);
  (void)cairn::checks::serving_status_name(status);

  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)cairn::checks::decode_grpc_message(text);
  std::string server, service;
  cairn::checks::split_grpc_target(text, server, service);
  (void)cairn::checks::split_host_port(server, &err);
  return 0;
}
