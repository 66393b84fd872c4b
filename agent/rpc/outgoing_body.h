// The bytes one stream still has to send (a request body, a unary answer,
// a subscription's messages), handed to nghttp2 as flow control allows.
// nghttp2 pulls with read(); when the buffer is empty and more may come the
// stream is parked (NGHTTP2_ERR_DEFERRED) and resumed by the next append.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::rpc {

class OutgoingBody {
 public:
  // A data provider whose source is this body.
  nghttp2_data_provider provider();
  // A connection-wide total this body adds its pending bytes to.
  void count_in(size_t* total) { total_ = total; }

  // More bytes; true when nghttp2 must be told to resume the stream.
  bool append(std::string_view bytes);
  // The whole body at once (no copy).
  void assign(std::string bytes);
  // No more bytes. With trailers, the stream ends with a HEADERS frame
  // carrying cairn-status and cairn-message; without, with END_STREAM on
  // the last DATA. True when nghttp2 must resume the stream.
  bool finish();
  bool finish_with_trailers(std::string status, std::string message);
  // Drops what is queued (the stream is being reset).
  void clear();

  size_t pending() const { return data_.size() - offset_; }
  bool finished() const { return finished_; }

 private:
  static ssize_t read(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                      uint32_t* flags, nghttp2_data_source* source, void* user);
  bool take_resume();

  void add(size_t n) {
    if (total_) *total_ += n;
  }
  void sub(size_t n) {
    if (total_) *total_ -= n;
  }

  std::string data_;
  size_t offset_ = 0;
  size_t* total_ = nullptr;
  bool finished_ = false;
  bool trailers_ = false;
  bool deferred_ = false;  // nghttp2 parked the stream waiting for bytes
  std::string trailer_status_;
  std::string trailer_message_;
};

}  // namespace cairn::rpc
