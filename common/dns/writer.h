// Writing a DNS message into a caller's buffer, with name compression: the
// agent's answer path.
//
// Why not ldns here: ldns compresses through an rbtree of heap nodes and
// builds every record as heap objects. Measured with
// tests/bench/dns/wire_bench.cc (CPU time, bench machine): ldns takes about
// 11 us to parse a query and build a 3-SRV answer with its additional
// records; the agent takes 1 us for the whole answer including the lookup,
// shuffle and trimming. Every response the fuzzer (tests/fuzz/dns_answer.cc)
// produces is checked with ldns.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn::dns {

// Writes one message into a caller-provided buffer. Names are compressed
// against every name written before (exact-case match, RFC 1035 4.1.4)
// unless compression is off. Writes past the capacity set overflow() and are
// dropped, so a caller checks once at the end.
class Writer {
 public:
  void reset(uint8_t* buf, size_t capacity, bool compress);

  size_t size() const { return len_; }
  bool overflow() const { return overflow_; }
  const uint8_t* data() const { return buf_; }

  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void bytes(const void* p, size_t n);
  void bytes(std::string_view s) { bytes(s.data(), s.size()); }
  // A name given in uncompressed wire format.
  void name(std::string_view wire, bool compressible = true);
  // Registers a name already in the buffer (the question) for compression.
  void note_name(size_t offset, std::string_view wire);

  // Two-byte placeholder (RDLENGTH) filled in by patch_length.
  size_t begin_length();
  void end_length(size_t at);
  void patch_u16(size_t at, uint16_t v);

 private:
  struct Entry {
    uint32_t hash;
    uint16_t offset;
    uint16_t generation;
  };
  static constexpr size_t kTableSize = 256;  // power of two; a response has far fewer names

  bool suffix_at(size_t offset, std::string_view wire, size_t from) const;
  void remember(uint32_t hash, size_t offset);

  uint8_t* buf_ = nullptr;
  size_t cap_ = 0;
  size_t len_ = 0;
  bool overflow_ = false;
  bool compress_ = true;
  uint16_t generation_ = 0;
  std::array<Entry, kTableSize> table_{};
};

}  // namespace cairn::dns
