// Interned byte strings (node names, node meta) with 4-byte ids.
//
// Every memberlist in a process can share one Interner: a simulated fleet of
// 10,000 nodes holds 10^8 member entries, and ids instead of strings are what
// makes that fit in memory. In an agent there is one memberlist and the table
// holds each distinct name and meta once. Entries are never freed (names are
// few and long-lived; a churning fleet leaks ~50 bytes per distinct name).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cairn::gossip {

class Interner {
 public:
  using Id = uint32_t;
  static constexpr Id kEmpty = 0;  // always the empty string

  Interner();
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  Id intern(std::string_view s);
  // Returns kNone when s was never interned (lookups must not grow the table).
  static constexpr Id kNone = UINT32_MAX;
  Id find(std::string_view s) const;
  std::string_view get(Id id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }

 private:
  std::deque<std::string> strings_;  // deque: elements never move, views stay valid
  std::unordered_map<std::string_view, Id> index_;
};

}  // namespace cairn::gossip
