#include "agent/gossip/lzw.h"

#include <array>
#include <cstdint>
#include <memory>

namespace cairn::gossip {

namespace {

constexpr uint32_t kLitWidth = 8;
constexpr uint32_t kClear = 1u << kLitWidth;  // 256
constexpr uint32_t kEof = kClear + 1;         // 257
constexpr uint32_t kMaxWidth = 12;
constexpr uint32_t kMaxCode = (1u << kMaxWidth) - 1;  // 4095
// The writer's hash table, sized as Go's (4 x 4096 entries).
constexpr uint32_t kTableSize = 4u << 12;
constexpr uint32_t kTableMask = kTableSize - 1;

struct BitWriter {
  std::string& out;
  uint32_t bits = 0;
  uint32_t nbits = 0;
  uint32_t width = kLitWidth + 1;
  void write(uint32_t code) {
    bits |= code << nbits;
    nbits += width;
    while (nbits >= 8) {
      out.push_back(static_cast<char>(bits & 0xff));
      bits >>= 8;
      nbits -= 8;
    }
  }
};

}  // namespace

void lzw_compress(Bytes in, std::string& out) {
  BitWriter bw{out};
  uint32_t hi = kEof;  // last assigned code
  uint32_t overflow = 1u << (kLitWidth + 1);
  // key<<12 | code; 0 means empty. Thread-local so compressing a packet does
  // not allocate 64 KiB each time.
  thread_local std::array<uint32_t, kTableSize> table;
  table.fill(0);

  // incHi: returns true when the table was reset (out of codes).
  auto inc_hi = [&]() {
    ++hi;
    if (hi == overflow) {
      ++bw.width;
      overflow <<= 1;
    }
    if (hi == kMaxCode) {
      bw.write(kClear);
      bw.width = kLitWidth + 1;
      hi = kClear + 1;
      overflow = kClear << 1;
      table.fill(0);
      return true;
    }
    return false;
  };

  bw.write(kClear);
  if (in.empty()) {
    bw.write(kEof);
    if (bw.nbits > 0) out.push_back(static_cast<char>(bw.bits & 0xff));
    return;
  }
  uint32_t code = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    const uint32_t literal = in[i];
    const uint32_t key = (code << 8) | literal;
    uint32_t hash = ((key >> 12) ^ key) & kTableMask;
    bool hit = false;
    for (uint32_t h = hash, t = table[hash]; t != 0;) {
      if (key == (t >> 12)) {
        code = t & kMaxCode;
        hit = true;
        break;
      }
      h = (h + 1) & kTableMask;
      t = table[h];
    }
    if (hit) continue;
    bw.write(code);
    code = literal;
    if (inc_hi()) continue;
    while (table[hash] != 0) hash = (hash + 1) & kTableMask;
    table[hash] = (key << 12) | hi;
  }
  bw.write(code);
  inc_hi();
  bw.write(kEof);
  if (bw.nbits > 0) out.push_back(static_cast<char>(bw.bits & 0xff));
}

bool lzw_decompress(Bytes in, size_t max_out, std::string& out) {
  constexpr uint32_t kInvalid = 0xffff;
  std::array<uint8_t, 1u << kMaxWidth> suffix{};
  std::array<uint16_t, 1u << kMaxWidth> prefix{};
  std::array<uint8_t, 1u << kMaxWidth> scratch;  // one code's expansion, built backwards

  uint32_t width = kLitWidth + 1;
  uint32_t hi = kEof;
  uint32_t overflow = 1u << width;
  uint32_t last = kInvalid;
  uint32_t bits = 0, nbits = 0;
  size_t pos = 0;
  const size_t start = out.size();

  for (;;) {
    while (nbits < width) {
      if (pos >= in.size()) return false;  // no end code: Go's ErrUnexpectedEOF
      bits |= uint32_t{in[pos++]} << nbits;
      nbits += 8;
    }
    const uint32_t code = bits & ((1u << width) - 1);
    bits >>= width;
    nbits -= width;

    if (code < kClear) {
      if (out.size() - start >= max_out) return false;
      out.push_back(static_cast<char>(code));
      if (last != kInvalid) {
        suffix[hi] = static_cast<uint8_t>(code);
        prefix[hi] = static_cast<uint16_t>(last);
      }
    } else if (code == kClear) {
      width = kLitWidth + 1;
      hi = kEof;
      overflow = 1u << width;
      last = kInvalid;
      continue;
    } else if (code == kEof) {
      return true;
    } else if (code <= hi) {
      // Go would expand garbage for code == hi right after a reset; no
      // writer produces that, so treat it as corrupt.
      if (code == hi && last == kInvalid) return false;
      size_t i = scratch.size();
      uint32_t c = code;
      if (code == hi) {
        // KwKwK: the last expansion followed by its own first byte.
        c = last;
        while (c >= kClear) c = prefix[c];
        scratch[--i] = static_cast<uint8_t>(c);
        c = last;
      }
      while (c >= kClear) {
        if (i == 0) return false;
        scratch[--i] = suffix[c];
        c = prefix[c];
      }
      if (i == 0) return false;
      scratch[--i] = static_cast<uint8_t>(c);
      const size_t n = scratch.size() - i;
      if (out.size() - start + n > max_out) return false;
      out.append(reinterpret_cast<const char*>(scratch.data() + i), n);
      if (last != kInvalid) {
        suffix[hi] = static_cast<uint8_t>(c);
        prefix[hi] = static_cast<uint16_t>(last);
      }
    } else {
      return false;  // invalid code
    }
    last = code;
    ++hi;
    if (hi >= overflow) {
      if (width == kMaxWidth) {
        last = kInvalid;
        --hi;
      } else {
        ++width;
        overflow = 1u << width;
      }
    }
  }
}

}  // namespace cairn::gossip
