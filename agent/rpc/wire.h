// The cairn RPC wire, on HTTP/2 (one stream per call):
//
//   request   :method POST, :path /cairn/v1/<Method>, cairn-rpc: 1,
//             [authorization: <token>], body = opaque bytes
//   response  :status 200, cairn-status: <code name>, [cairn-message: <text>]
//             unary: body, END_STREAM
//             stream: a body of length-prefixed messages (4-byte big-endian
//             length, then the bytes), ended by trailers carrying
//             cairn-status and cairn-message
//
// Any version other than kVersion is answered with version_mismatch (the
// message names the server's version); so is a missing one. A response
// without cairn-status means the peer is not a cairn RPC server, which the
// client also reports as version_mismatch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::rpc::wire {

inline constexpr std::string_view kVersion = "1";
inline constexpr std::string_view kPathPrefix = "/cairn/v1/";
inline constexpr std::string_view kVersionHeader = "cairn-rpc";
inline constexpr std::string_view kStatusHeader = "cairn-status";
inline constexpr std::string_view kMessageHeader = "cairn-message";
inline constexpr std::string_view kTokenHeader = "authorization";
// A method name: letters, digits, '.', '_' and '-', at most this long.
inline constexpr size_t kMaxMethodLength = 128;
// cairn-message is for people: long texts are cut.
inline constexpr size_t kMaxStatusMessage = 1024;
inline constexpr size_t kMessagePrefix = 4;

bool valid_method(std::string_view method);

// The message as a header value can carry it (no control characters, bounded).
std::string header_safe(std::string_view text);

// Appends the 4-byte length prefix and the message.
void append_message(std::string& out, std::string_view message);

// Splits a stream body back into messages, whatever the chunking. Holds at
// most one partial message, and never one longer than the limit.
class MessageReader {
 public:
  explicit MessageReader(size_t max_message) : max_message_(max_message) {}

  enum class Result { ok, too_large };
  // Calls on_message(std::string_view) for each whole message in order.
  template <class Fn>
  Result feed(const uint8_t* data, size_t len, Fn&& on_message);
  // A message was begun and not finished (a clean end has none).
  bool mid_message() const { return have_length_ || !buffer_.empty(); }

 private:
  size_t max_message_;
  std::string buffer_;  // prefix and body of the message in progress
  size_t need_ = 0;     // body length once the prefix is known
  bool have_length_ = false;
};

template <class Fn>
MessageReader::Result MessageReader::feed(const uint8_t* data, size_t len, Fn&& on_message) {
  while (len > 0) {
    if (!have_length_) {
      size_t take = std::min(len, kMessagePrefix - buffer_.size());
      buffer_.append(reinterpret_cast<const char*>(data), take);
      data += take;
      len -= take;
      if (buffer_.size() < kMessagePrefix) break;
      auto* b = reinterpret_cast<const uint8_t*>(buffer_.data());
      need_ = (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) | b[3];
      if (need_ > max_message_) return Result::too_large;
      have_length_ = true;
      buffer_.clear();
    }
    // A whole message in the input and nothing buffered: hand it over in place.
    if (buffer_.empty() && len >= need_) {
      on_message(std::string_view(reinterpret_cast<const char*>(data), need_));
      data += need_;
      len -= need_;
      have_length_ = false;
      continue;
    }
    size_t take = std::min(len, need_ - buffer_.size());
    buffer_.append(reinterpret_cast<const char*>(data), take);
    data += take;
    len -= take;
    if (buffer_.size() == need_) {
      std::string message = std::move(buffer_);
      buffer_.clear();
      have_length_ = false;
      on_message(std::string_view(message));
    }
  }
  return Result::ok;
}

}  // namespace cairn::rpc::wire
