// Splits a gateway stream's decoded body into its messages.
//
// The gateway writes each stream message (watch, lease keepalive, election
// observe) as one JSON object followed by "\n", but a large message may be
// split over several HTTP chunks and a chunk may hold several messages
// (reference §2.4): so the body is decoded first, then split here, never
// per chunk. A line longer than the bound is an error, not an allocation:
// one revision's events are at most etcd's 1.5 MiB request, about 4 MiB once
// base64 and prev_kv are added, so 8 MiB is never reached by a real member.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::etcd {

class StreamLines {
 public:
  static constexpr size_t kDefaultMaxLine = 8u << 20;

  explicit StreamLines(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  // Appends body bytes and calls on_line(std::string_view) for every complete
  // line, without its "\n"; empty lines are skipped. Returns false (and keeps
  // failing) once a line exceeds the bound: the stream must be dropped.
  template <typename OnLine>
  bool feed(std::string_view bytes, OnLine&& on_line);

  bool overflowed() const { return overflowed_; }
  size_t buffered() const { return partial_.size(); }

 private:
  size_t max_line_;
  std::string partial_;  // the start of a line whose "\n" has not come yet
  bool overflowed_ = false;
};

template <typename OnLine>
bool StreamLines::feed(std::string_view bytes, OnLine&& on_line) {
  if (overflowed_) return false;
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() + bytes.size() > max_line_) {
        overflowed_ = true;
        partial_.clear();
        partial_.shrink_to_fit();
        return false;
      }
      partial_.append(bytes);
      return true;
    }
    std::string_view piece = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    if (partial_.empty()) {
      // The common case: a whole line inside one read, passed without a copy.
      if (piece.size() > max_line_) {
        overflowed_ = true;
        return false;
      }
      if (!piece.empty()) on_line(piece);
      continue;
    }
    if (partial_.size() + piece.size() > max_line_) {
      overflowed_ = true;
      partial_.clear();
      partial_.shrink_to_fit();
      return false;
    }
    partial_.append(piece);
    on_line(std::string_view(partial_));
    partial_.clear();
  }
  return true;
}

}  // namespace cairn::etcd
