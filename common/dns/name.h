// Domain names in wire form: bounds-checked walking, compression-loop
// detection, case folding, and conversion to and from presentation text.
//
// Names are handled as raw label sequences ("\3www\7example\3com\0") so that
// hot paths compare and hash bytes without building strings. Text input
// (config files) goes through ldns, which already implements RFC 1035
// escapes; text output is ours because it is only used for logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::dns {

// Walks the possibly compressed name at msg[off]. Every compression pointer
// must point strictly before itself and not into the header, and the name
// it leads to must end before the pointer too (RFC 1035's "prior
// occurrence"): chains always move backwards and cannot loop, and cutting a
// message after any record never breaks a name before the cut. Labels must
// be plain (no 0x40/0x80 types), the expanded name at most 255 bytes. On
// success sets end to the offset just past the name as stored at off.
//
// With starts, the rule is stricter still: a pointer must lead to the start
// of a label of a name already walked (in place) in this message, and the
// labels walked in place are added. A pointer into a TTL field or into
// opaque rdata would otherwise turn bytes that forwarders rewrite (TTLs)
// into part of a name.
class LabelStarts;
bool walk_name(const uint8_t* msg, size_t len, size_t off, size_t& end,
               LabelStarts* starts = nullptr);

// An uncompressed name (the question section): labels only, no pointers.
bool read_uncompressed_name(const uint8_t* msg, size_t len, size_t off, size_t& end,
                            LabelStarts* starts = nullptr);

// A bit per message byte: where labels of names seen so far begin.
class LabelStarts {
 public:
  void reset(size_t len) { bits_.assign((len + 63) / 64, 0); }
  void mark(size_t pos) { bits_[pos / 64] |= uint64_t{1} << (pos % 64); }
  bool test(size_t pos) const {
    return pos / 64 < bits_.size() && (bits_[pos / 64] >> (pos % 64)) & 1;
  }

 private:
  std::vector<uint64_t> bits_;  // kept between messages: no allocation once grown
};

// ASCII case folding of a wire name. Length bytes are < 64 and so never in
// 'A'..'Z': the whole sequence can be folded byte by byte.
inline uint8_t fold(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
}
inline void fold_copy(const uint8_t* in, size_t n, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = fold(in[i]);
}
inline bool equal_ci(const uint8_t* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (fold(a[i]) != fold(b[i])) return false;
  return true;
}

// True when the uncompressed name ends with the uncompressed suffix on a label
// boundary ("\3www\6consul\0" is under "\6consul\0" and under "\0").
bool is_subdomain(const uint8_t* name, size_t name_len, const uint8_t* suffix, size_t suffix_len);

// Presentation form with a trailing dot ("www.example.com.", "." for the root);
// bytes outside [0-9A-Za-z-_] are escaped as \DDD, dots inside labels as "\.".
std::string to_text(const uint8_t* name, size_t len);

// Parses presentation text (relative names are taken as absolute) into an
// uncompressed, case-folded wire name. Returns false with a reason.
bool from_text(std::string_view text, std::vector<uint8_t>& out, std::string& error);

// Plain dotted text ("web.service.consul", trailing dot optional, no
// escapes) to wire format, case kept: for names the agent builds from catalog
// data on its lookup path, where going through ldns would cost. Returns false
// for empty labels inside the name, labels over 63 bytes, or names over 255
// bytes. "" and "." are the root.
bool name_to_wire(std::string_view text, std::string& out);

}  // namespace cairn::dns
