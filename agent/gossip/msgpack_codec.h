// msgpack the way memberlist's Go codec (go-msgpack, zero MsgpackHandle)
// writes it, on top of Debian's msgpack-cxx.
//
// Writing: strings and byte slices use the old "raw" forms only (fixstr,
// str16, str32; never str8 or bin), integers the shortest form, unsigned
// forms for positive values (what go-msgpack 0.5.5 emits). Reading: every
// integer form is accepted for every integer field (newer memberlist writes
// positive Go ints in the signed forms), str and bin are interchangeable, and
// nil is an empty byte string. Strings are referenced in the input buffer, not
// copied, and the zone holding the object tree is reused between packets.
#pragma once

#define MSGPACK_NO_BOOST 1
#include <msgpack/object.hpp>
#include <msgpack/pack.hpp>
#include <msgpack/unpack.hpp>
#include <msgpack/zone.hpp>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace cairn::gossip {

using Bytes = std::span<const uint8_t>;

inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_view(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Appends msgpack to a caller-owned string (so buffers can be reused).
class MsgpackWriter {
 public:
  explicit MsgpackWriter(std::string& out) : sink_{out}, pk_(sink_) {}

  void map(uint32_t n) { pk_.pack_map(n); }
  void array(uint32_t n) { pk_.pack_array(n); }
  void str(std::string_view s) {
    pk_.pack_v4raw(static_cast<uint32_t>(s.size()));
    pk_.pack_v4raw_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  // A Go []byte: nil (0xc0) when empty, as Go writes a nil slice.
  void bytes_or_nil(std::string_view b) {
    if (b.empty()) {
      pk_.pack_nil();
    } else {
      str(b);
    }
  }
  void uint(uint64_t v) { pk_.pack_uint64(v); }
  void sint(int64_t v) { pk_.pack_int64(v); }
  void boolean(bool b) { b ? pk_.pack_true() : pk_.pack_false(); }
  void nil() { pk_.pack_nil(); }
  // Always float64 (0xcb): msgpack-cxx would write integral values as ints.
  void f64(double d) {
    uint64_t bits;
    static_assert(sizeof bits == sizeof d);
    std::memcpy(&bits, &d, sizeof d);
    char b[9] = {char(0xcb)};
    for (int i = 0; i < 8; ++i) b[1 + i] = char(bits >> (56 - 8 * i));
    sink_.write(b, sizeof b);
  }

 private:
  struct Sink {
    std::string& out;
    void write(const char* p, size_t n) { out.append(p, n); }
  };
  Sink sink_;
  msgpack::packer<Sink> pk_;
};

// Decodes one msgpack object at a time from hostile input. Limits keep a
// lying length header from allocating more than the input could fill.
class MsgpackReader {
 public:
  MsgpackReader() : zone_(4096) {}
  // Decodes the object at data[off..]; advances off. nullptr on any error
  // (truncated, malformed, over the limits). The result is valid until the
  // next call; its strings point into data.
  const msgpack::object* next(Bytes data, size_t& off);

 private:
  msgpack::zone zone_;
  msgpack::object obj_;
};

// Field extraction; each returns false when the type does not fit.
bool mp_uint(const msgpack::object& o, uint64_t max, uint64_t& out);
bool mp_int(const msgpack::object& o, int64_t& out);
bool mp_bytes(const msgpack::object& o, std::string_view& out);  // str, bin or nil
bool mp_bool(const msgpack::object& o, bool& out);
bool mp_f64(const msgpack::object& o, double& out);
bool mp_key(const msgpack::object& k, std::string_view& out);

template <class T>
bool mp_u(const msgpack::object& o, T& out) {
  uint64_t v;
  if (!mp_uint(o, static_cast<uint64_t>(static_cast<T>(~T{0})), v)) return false;
  out = static_cast<T>(v);
  return true;
}

// Skips whole msgpack objects without decoding them, as their bytes arrive:
// the state survives between calls, so a stream read in many small pieces is
// scanned once (only an incomplete object header, at most 5 bytes, is read
// again on the next call).
class MsgpackSkipper {
 public:
  enum class Result { done, need_more, bad };
  // Starts skipping `objects` consecutive objects.
  void start(uint64_t objects) {
    pending_ = objects;
    payload_ = 0;
  }
  // Advances off through data as far as its bytes go: done once every
  // object is skipped (off is then just past the last one), need_more when
  // data ends first, bad for a byte no msgpack object starts with.
  Result advance(Bytes data, size_t& off);
  // A lower bound on the bytes still to come: each pending object takes at
  // least one, plus the rest of the current payload. Lets a caller refuse a
  // lying count or length at once instead of waiting for its bytes.
  uint64_t min_remaining() const { return pending_ + payload_; }

 private:
  uint64_t pending_ = 0;  // objects whose first byte is still to be read
  uint64_t payload_ = 0;  // bytes left of the current object's raw payload
};

}  // namespace cairn::gossip
