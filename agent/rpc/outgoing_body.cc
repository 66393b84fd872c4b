#include "agent/rpc/outgoing_body.h"

#include <algorithm>
#include <cstring>

#include "agent/rpc/wire.h"

namespace cairn::rpc {

nghttp2_data_provider OutgoingBody::provider() {
  nghttp2_data_provider p;
  p.source.ptr = this;
  p.read_callback = read;
  return p;
}

bool OutgoingBody::take_resume() {
  bool was = deferred_;
  deferred_ = false;
  return was;
}

bool OutgoingBody::append(std::string_view bytes) {
  // Keep the buffer from growing behind what was already sent.
  if (offset_ > 0 && offset_ >= data_.size() / 2) {
    data_.erase(0, offset_);
    offset_ = 0;
  }
  data_.append(bytes);
  add(bytes.size());
  return take_resume();
}

void OutgoingBody::assign(std::string bytes) {
  sub(pending());
  data_ = std::move(bytes);
  offset_ = 0;
  add(data_.size());
}

bool OutgoingBody::finish() {
  finished_ = true;
  return take_resume();
}

bool OutgoingBody::finish_with_trailers(std::string status, std::string message) {
  trailers_ = true;
  trailer_status_ = std::move(status);
  trailer_message_ = std::move(message);
  return finish();
}

void OutgoingBody::clear() {
  sub(pending());
  data_.clear();
  offset_ = 0;
}

ssize_t OutgoingBody::read(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source* source, void*) {
  auto* self = static_cast<OutgoingBody*>(source->ptr);
  size_t n = std::min(length, self->pending());
  if (n > 0) std::memcpy(buf, self->data_.data() + self->offset_, n);
  self->offset_ += n;
  self->sub(n);
  if (self->pending() == 0) {
    self->data_.clear();
    self->offset_ = 0;
    if (!self->finished_) {
      if (n > 0) return static_cast<ssize_t>(n);
      self->deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (self->trailers_) {
      // nghttp2 copies the names and values (no NO_COPY flags).
      std::string_view status_name = wire::kStatusHeader, message_name = wire::kMessageHeader;
      nghttp2_nv nva[2] = {
          {reinterpret_cast<uint8_t*>(const_cast<char*>(status_name.data())),
           reinterpret_cast<uint8_t*>(self->trailer_status_.data()), status_name.size(),
           self->trailer_status_.size(), NGHTTP2_NV_FLAG_NONE},
          {reinterpret_cast<uint8_t*>(const_cast<char*>(message_name.data())),
           reinterpret_cast<uint8_t*>(self->trailer_message_.data()), message_name.size(),
           self->trailer_message_.size(), NGHTTP2_NV_FLAG_NONE}};
      size_t count = self->trailer_message_.empty() ? 1 : 2;
      if (nghttp2_submit_trailer(session, stream_id, nva, count) == 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
  }
  return static_cast<ssize_t>(n);
}

}  // namespace cairn::rpc
