// A bare nghttp2 client for tests: sends whatever headers a test wants
// (wrong versions, bad paths) and records what comes back, per stream.
#pragma once

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cairn::rpc::test {

class RawClient {
 public:
  struct Response {
    std::map<std::string, std::string> headers;
    std::map<std::string, std::string> trailers;
    std::string body;
    bool closed = false;
    uint32_t error_code = 0;
  };

  RawClient() {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
    nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~RawClient() { nghttp2_session_del(session_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  using Headers = std::vector<std::pair<std::string, std::string>>;
  static Headers rpc_headers(const std::string& method, const std::string& version = "1") {
    return {{":method", "POST"},
            {":scheme", "http"},
            {":path", "/cairn/v1/" + method},
            {":authority", "test"},
            {"cairn-rpc", version}};
  }

  int32_t request(const Headers& headers, std::string body = {}) {
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : headers)
      nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                     reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                     NGHTTP2_NV_FLAG_NONE});
    bodies_.push_back({std::move(body), 0});
    auto* source = &bodies_.back();
    nghttp2_data_provider provider;
    provider.source.ptr = source;
    provider.read_callback = read_body;
    return nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                  source->first.empty() ? nullptr : &provider, nullptr);
  }
  void reset(int32_t stream_id) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
  }

  std::string output() {
    std::string out;
    for (;;) {
      const uint8_t* data;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    return out;
  }
  void input(const std::string& bytes) {
    nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                             bytes.size());
  }

  std::map<int32_t, Response> responses;
  bool goaway = false;
  int32_t goaway_last_stream = -1;

 private:
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* self = static_cast<RawClient*>(user);
    auto& r = self->responses[frame->hd.stream_id];
    auto& map = frame->headers.cat == NGHTTP2_HCAT_HEADERS ? r.trailers : r.headers;
    map[std::string(reinterpret_cast<const char*>(name), namelen)] =
        std::string(reinterpret_cast<const char*>(value), valuelen);
    return 0;
  }
  static int on_data(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                     void* user) {
    static_cast<RawClient*>(user)->responses[id].body.append(reinterpret_cast<const char*>(data),
                                                             len);
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t id, uint32_t code, void* user) {
    auto& r = static_cast<RawClient*>(user)->responses[id];
    r.closed = true;
    r.error_code = code;
    return 0;
  }
  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<RawClient*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self->goaway = true;
      self->goaway_last_stream = frame->goaway.last_stream_id;
    }
    return 0;
  }
  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void*) {
    auto* b = static_cast<std::pair<std::string, size_t>*>(source->ptr);
    size_t n = std::min(length, b->first.size() - b->second);
    std::memcpy(buf, b->first.data() + b->second, n);
    b->second += n;
    if (b->second == b->first.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  nghttp2_session* session_ = nullptr;
  std::deque<std::pair<std::string, size_t>> bodies_;  // stable addresses
};

}  // namespace cairn::rpc::test
