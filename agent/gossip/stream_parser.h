// Knows when a memberlist stream message (TCP) is whole, as its bytes
// arrive: label header, then an encryption frame (0x0a | length | ...), a
// compress wrapper, a ping/ack/err map, a user message (header + raw bytes)
// or a push/pull (header + N node states + raw user state).
//
// The parser is incremental: each feed() resumes where the previous one
// stopped (the next byte to look at, the objects still to skip, the length
// once known), so a message read in many small pieces is scanned once. It
// also refuses early: a message that will need more than max_bytes is
// refused as soon as a length prefix, a count or the bytes so far show it,
// and with encrypted_only a stream whose type byte is not 0x0a is settled
// right there, as memberlist settles it, before anything else is buffered.
//
//   StreamParser p(limits.max_message_bytes, require_encryption);
//   buf.append(received);
//   switch (p.feed(as_bytes(buf))) {
//     case StreamParser::Status::complete:  handle(buf.substr(0, p.size())); ...
//     case StreamParser::Status::need_more: keep reading
//     ...
//   }
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/gossip/msgpack_codec.h"

namespace cairn::gossip {

// memberlist's own ceiling for a push/pull state or a user message
// (maxPushStateBytes); cairn's configurable bound (MemberlistConfig::
// max_stream_bytes) defaults far below it.
inline constexpr size_t kMemberlistMaxStreamBytes = 20 * 1024 * 1024;
// memberlist (>= v0.5) refuses push/pulls that announce more node states.
inline constexpr int64_t kMaxPushPullNodes = int64_t{1} << 20;

class StreamParser {
 public:
  enum class Status {
    need_more,    // keep reading
    complete,     // size() bytes at the start of the buffer are one message
    unencrypted,  // encrypted_only and the type byte is not 0x0a: size() bytes
                  // (label and type) are all the receiver needs to answer
    too_large,    // the message needs more than max_bytes
    malformed,    // it can never become a valid message
  };

  StreamParser(size_t max_bytes, bool encrypted_only)
      : max_bytes_(max_bytes), encrypted_only_(encrypted_only) {}

  // buf holds every byte received so far on the stream: the bytes given to
  // the previous call, then the new ones. Once the status is not need_more
  // it stays what it was.
  Status feed(Bytes buf);
  // The message's size, once complete (or unencrypted).
  size_t size() const { return end_; }
  // A lower bound on the message's size from what is known so far.
  uint64_t min_size() const;

 private:
  enum class Phase {
    start,        // label header or type byte
    type,         // the type byte after a label
    encrypt_len,  // the 4-byte length of an encryption frame
    object,       // one msgpack object (compress, ping, ack, err)
    user_header,  // userMsgHeader map, then UserMsgLen raw bytes
    push_header,  // pushPullHeader map, then node states and user state
    push_nodes,   // Nodes pushNodeState maps, then UserStateLen raw bytes
    raw,          // raw bytes up to end_
    done,
  };
  Status step(Bytes buf);
  Status finish(Status s);
  // Decodes the header map skipped over [header_at_, off_).
  // Advances the msgpack skipper over the current object(s); false, with the
  // status to return meanwhile, while they are not all there or are malformed.
  bool skip_object(Bytes buf, Status& wait);
  bool read_user_header(Bytes buf, int64_t& len);
  bool read_push_header(Bytes buf, int64_t& nodes, int64_t& user_state_len);

  size_t max_bytes_;
  bool encrypted_only_;
  Phase phase_ = Phase::start;
  Status status_ = Status::need_more;
  size_t off_ = 0;        // next byte to look at
  size_t header_at_ = 0;  // where the header map being skipped starts
  size_t end_ = 0;        // the message's end, once known
  uint64_t tail_ = 0;     // raw bytes after the node states (push/pull)
  MsgpackSkipper skipper_;
};

}  // namespace cairn::gossip
