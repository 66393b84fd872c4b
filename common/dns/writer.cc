#include "common/dns/writer.h"

#include <algorithm>
#include <cstring>

namespace cairn::dns {

void Writer::reset(uint8_t* buf, size_t capacity, bool compress) {
  buf_ = buf;
  cap_ = capacity;
  len_ = 0;
  overflow_ = false;
  compress_ = compress;
  if (++generation_ == 0) {  // wrapped: old entries could look current again
    table_.fill(Entry{});
    generation_ = 1;
  }
}

void Writer::u8(uint8_t v) {
  if (len_ + 1 > cap_) {
    overflow_ = true;
    return;
  }
  buf_[len_++] = v;
}

void Writer::u16(uint16_t v) {
  if (len_ + 2 > cap_) {
    overflow_ = true;
    return;
  }
  buf_[len_] = static_cast<uint8_t>(v >> 8);
  buf_[len_ + 1] = static_cast<uint8_t>(v);
  len_ += 2;
}

void Writer::u32(uint32_t v) {
  u16(static_cast<uint16_t>(v >> 16));
  u16(static_cast<uint16_t>(v));
}

void Writer::bytes(const void* p, size_t n) {
  if (len_ + n > cap_) {
    overflow_ = true;
    return;
  }
  std::memcpy(buf_ + len_, p, n);
  len_ += n;
}

size_t Writer::begin_length() {
  size_t at = len_;
  u16(0);
  return at;
}

void Writer::end_length(size_t at) {
  if (overflow_) return;
  patch_u16(at, static_cast<uint16_t>(len_ - at - 2));
}

void Writer::patch_u16(size_t at, uint16_t v) {
  if (at + 2 > len_) return;
  buf_[at] = static_cast<uint8_t>(v >> 8);
  buf_[at + 1] = static_cast<uint8_t>(v);
}

namespace {

// Hashes of every suffix of a wire name, from the right, so "a.b.c." and the
// "b.c." inside "x.b.c." hash alike. This runs for every name of every
// answer, so a label contributes only its first and last eight bytes (with
// its length byte); a collision costs one failed comparison in suffix_at.
size_t suffix_hashes(std::string_view wire, size_t* starts, uint32_t* hashes, size_t max) {
  size_t n = 0;
  for (size_t p = 0; p < wire.size() && wire[p] != 0 && n < max;
       p += 1 + static_cast<uint8_t>(wire[p]))
    starts[n++] = p;
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (size_t i = n; i-- > 0;) {
    size_t p = starts[i];
    size_t len = std::min(wire.size() - p, size_t{1} + static_cast<uint8_t>(wire[p]));
    uint64_t head = 0, tail = 0;
    std::memcpy(&head, wire.data() + p, std::min<size_t>(8, len));
    if (len > 8) std::memcpy(&tail, wire.data() + p + len - 8, 8);
    h = (h ^ head) * 0xff51afd7ed558ccdull;
    h = (h ^ tail ^ (h >> 29)) * 0xc4ceb9fe1a85ec53ull;
    hashes[i] = static_cast<uint32_t>(h ^ (h >> 32));
  }
  return n;
}

}  // namespace

bool Writer::suffix_at(size_t offset, std::string_view wire, size_t from) const {
  size_t p = offset, w = from;
  int hops = 0;
  while (true) {
    if (p >= len_ || w >= wire.size()) return false;
    uint8_t b = buf_[p];
    if ((b & 0xC0) == 0xC0) {
      if (p + 1 >= len_ || ++hops > 128) return false;
      p = (size_t{b & 0x3Fu} << 8) | buf_[p + 1];
      continue;
    }
    if (b != static_cast<uint8_t>(wire[w])) return false;
    if (b == 0) return true;
    if (p + 1 + b > len_ || w + 1 + b > wire.size()) return false;
    if (std::memcmp(buf_ + p + 1, wire.data() + w + 1, b) != 0) return false;
    p += 1 + size_t{b};
    w += 1 + size_t{b};
  }
}

void Writer::remember(uint32_t hash, size_t offset) {
  if (!compress_ || offset >= 0x3FFF) return;
  for (size_t i = 0, slot = hash & (kTableSize - 1); i < 16;
       ++i, slot = (slot + 1) & (kTableSize - 1)) {
    Entry& e = table_[slot];
    if (e.generation == generation_) {
      if (e.hash == hash) return;  // that suffix is already known
      continue;
    }
    e = Entry{hash, static_cast<uint16_t>(offset), generation_};
    return;
  }
}

void Writer::note_name(size_t offset, std::string_view wire) {
  size_t starts[128];
  uint32_t hashes[128];
  size_t n = suffix_hashes(wire, starts, hashes, 128);
  for (size_t i = 0; i < n; ++i) remember(hashes[i], offset + starts[i]);
}

void Writer::name(std::string_view wire, bool compressible) {
  size_t starts[128];
  uint32_t hashes[128];
  size_t n = suffix_hashes(wire, starts, hashes, 128);
  size_t reuse_at = n;  // label index from which a pointer replaces the rest
  size_t pointer = 0;
  if (compress_ && compressible) {
    for (size_t i = 0; i < n && reuse_at == n; ++i) {
      for (size_t k = 0, slot = hashes[i] & (kTableSize - 1); k < 16;
           ++k, slot = (slot + 1) & (kTableSize - 1)) {
        const Entry& e = table_[slot];
        if (e.generation != generation_) break;
        if (e.hash == hashes[i] && suffix_at(e.offset, wire, starts[i])) {
          reuse_at = i;
          pointer = e.offset;
          break;
        }
      }
    }
  }
  for (size_t i = 0; i < reuse_at; ++i) {
    size_t len = static_cast<uint8_t>(wire[starts[i]]);
    remember(hashes[i], len_);
    bytes(wire.data() + starts[i], len + 1);
  }
  if (reuse_at < n)
    u16(static_cast<uint16_t>(0xC000 | pointer));
  else
    u8(0);
}

}  // namespace cairn::dns
