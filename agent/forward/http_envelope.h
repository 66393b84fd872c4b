// A Consul API request and its answer as they cross the server RPC: a client
// agent forwards catalog, health, KV, session, txn, query, coordinate,
// operator and status requests to a server, which runs them through the same
// router and handlers as its own HTTP API (so every endpoint, blocking query,
// ?filter and header answers exactly as on a server), and sends the answer
// back. Binary, versioned and bounded: the RPC bounds the whole message, and
// decoding checks every length against what is left.
//
//   request:  u8 version(1) | str method | str target | str origin_node |
//             u16 n | n x (str name, str value) | str body
//   response: u8 version(1) | u16 status | u16 n | n x (str, str) | str body
//   str:      u32 big-endian length | bytes
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/message.h"

namespace cairn::forward {

inline constexpr uint8_t kEnvelopeVersion = 1;
inline constexpr size_t kMaxHeaders = 256;

// The client agent a forwarded request comes from: what ?near=_agent and a
// session's default node mean on the server.
inline constexpr std::string_view kOriginNodeHeader = "x-cairn-origin-node";

struct EnvelopeStatus {
  enum class Code : uint8_t { ok, truncated, bad_version, too_many_headers, bad_field };
  Code code = Code::ok;
  std::string message;
  bool ok() const { return code == Code::ok; }
};

// Request headers that describe the client connection, not the request
// (hop-by-hop, lengths, Host), are not forwarded.
bool forwarded_request_header(std::string_view lower_name);

void encode_request(const http::Request& r, std::string_view origin_node, std::string& out);
// Fills method, target, headers and body, then path, raw_path and query from
// the target as the HTTP server would; origin_node gets the client's node.
EnvelopeStatus decode_request(std::string_view in, http::Request& r, std::string& origin_node);

void encode_response(const http::Response& r, std::string& out);
EnvelopeStatus decode_response(std::string_view in, http::Response& r);

}  // namespace cairn::forward
