#include "agent/gossip/msgpack_codec.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cairn::gossip {

namespace {
// Gossip structs nest at most three deep (Serf query filters, push/pull
// events); anything deeper is hostile.
constexpr size_t kMaxDepth = 8;
constexpr size_t kMaxElements = size_t{1} << 20;

bool reference_strings(msgpack::type::object_type, std::size_t, void*) {
  return true;
}
}  // namespace

const msgpack::object* MsgpackReader::next(Bytes data, size_t& off) {
  if (off >= data.size()) return nullptr;
  zone_.clear();
  // Every element takes at least one byte, so no honest header claims more
  // elements than bytes remain.
  const size_t remaining = data.size() - off;
  const size_t elems = std::min(remaining, kMaxElements);
  msgpack::unpack_limit limit(elems, elems, remaining, remaining, 0, kMaxDepth);
  try {
    bool referenced = false;
    obj_ = msgpack::unpack(zone_, reinterpret_cast<const char*>(data.data()), data.size(), off,
                           referenced, reference_strings, nullptr, limit);
    return &obj_;
  } catch (const std::exception&) {
    return nullptr;
  }
}

bool mp_uint(const msgpack::object& o, uint64_t max, uint64_t& out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > max) return false;
  out = o.via.u64;
  return true;
}

bool mp_int(const msgpack::object& o, int64_t& out) {
  if (o.type == msgpack::type::POSITIVE_INTEGER) {
    if (o.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    out = static_cast<int64_t>(o.via.u64);
    return true;
  }
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    out = o.via.i64;
    return true;
  }
  return false;
}

bool mp_bytes(const msgpack::object& o, std::string_view& out) {
  switch (o.type) {
    case msgpack::type::STR:
      out = {o.via.str.ptr, o.via.str.size};
      return true;
    case msgpack::type::BIN:
      out = {o.via.bin.ptr, o.via.bin.size};
      return true;
    case msgpack::type::NIL:
      out = {};
      return true;
    default:
      return false;
  }
}

bool mp_bool(const msgpack::object& o, bool& out) {
  if (o.type != msgpack::type::BOOLEAN) return false;
  out = o.via.boolean;
  return true;
}

bool mp_f64(const msgpack::object& o, double& out) {
  switch (o.type) {
    case msgpack::type::FLOAT64:
    case msgpack::type::FLOAT32:
      out = o.via.f64;
      return true;
    case msgpack::type::POSITIVE_INTEGER:
      out = static_cast<double>(o.via.u64);
      return true;
    case msgpack::type::NEGATIVE_INTEGER:
      out = static_cast<double>(o.via.i64);
      return true;
    default:
      return false;
  }
}

bool mp_key(const msgpack::object& k, std::string_view& out) {
  if (k.type == msgpack::type::STR) {
    out = {k.via.str.ptr, k.via.str.size};
    return true;
  }
  if (k.type == msgpack::type::BIN) {
    out = {k.via.bin.ptr, k.via.bin.size};
    return true;
  }
  return false;
}

MsgpackSkipper::Result MsgpackSkipper::advance(Bytes d, size_t& off) {
  auto be = [&](size_t at, size_t n) -> uint64_t {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | d[at + i];
    return v;
  };
  for (;;) {
    if (payload_ > 0) {
      const uint64_t take = std::min<uint64_t>(payload_, d.size() - off);
      off += size_t(take);
      payload_ -= take;
      if (payload_ > 0) return Result::need_more;
    }
    if (pending_ == 0) return Result::done;
    if (off >= d.size()) return Result::need_more;
    const uint8_t b = d[off];
    uint64_t skip = 0, children = 0;
    size_t hdr = 0;  // length bytes after the type byte
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
      // fixint, nil, bool: one byte
    } else if ((b & 0xf0) == 0x80) {
      children = uint64_t{b & 0x0fu} * 2;
    } else if ((b & 0xf0) == 0x90) {
      children = b & 0x0fu;
    } else if ((b & 0xe0) == 0xa0) {
      skip = b & 0x1fu;
    } else {
      switch (b) {
        case 0xc4:  // bin8, str8, ext8 (+1 type byte)
        case 0xd9:
        case 0xc7:
          hdr = 1;
          break;
        case 0xc5:  // bin16, str16, ext16, array16, map16
        case 0xda:
        case 0xc8:
        case 0xdc:
        case 0xde:
          hdr = 2;
          break;
        case 0xc6:  // bin32, str32, ext32, array32, map32
        case 0xdb:
        case 0xc9:
        case 0xdd:
        case 0xdf:
          hdr = 4;
          break;
        case 0xcc:
        case 0xd0:
          skip = 1;
          break;
        case 0xcd:
        case 0xd1:
        case 0xd4:  // fixext1: type + 1
          skip = 2;
          break;
        case 0xd5:
          skip = 3;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          skip = 4;
          break;
        case 0xd6:
          skip = 5;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          skip = 8;
          break;
        case 0xd7:
          skip = 9;
          break;
        case 0xd8:
          skip = 17;
          break;
        default:
          return Result::bad;  // 0xc1: never used
      }
    }
    if (hdr > 0) {
      if (d.size() - off < 1 + hdr) return Result::need_more;  // header read again next time
      const uint64_t n = be(off + 1, hdr);
      if (b == 0xdc || b == 0xdd) {
        children = n;
      } else if (b == 0xde || b == 0xdf) {
        children = n * 2;
      } else {
        skip = n + ((b >= 0xc7 && b <= 0xc9) ? 1 : 0);
      }
    }
    off += 1 + hdr;
    --pending_;
    pending_ += children;
    payload_ = skip;
    // Every pending object needs a byte; more than that could never arrive
    // within any sane stream and would only make us wait.
    if (pending_ > (uint64_t{1} << 32)) return Result::bad;
  }
}

}  // namespace cairn::gossip
