#include "agent/gossip/stream_parser.h"

#include "agent/gossip/messages.h"

namespace cairn::gossip {

uint64_t StreamParser::min_size() const {
  switch (phase_) {
    case Phase::object:
    case Phase::user_header:
    case Phase::push_header:
      return off_ + skipper_.min_remaining();
    case Phase::push_nodes:
      return off_ + skipper_.min_remaining() + tail_;
    case Phase::raw:
    case Phase::done:
      return end_;
    default:
      return off_;
  }
}

StreamParser::Status StreamParser::feed(Bytes buf) {
  if (status_ != Status::need_more) return status_;
  Status s = step(buf);
  // A message that arrived whole in one read is checked like one that is
  // still coming: by the size it has (or will at least have).
  if ((s == Status::need_more && min_size() > max_bytes_) ||
      (s == Status::complete && end_ > max_bytes_))
    s = Status::too_large;
  return finish(s);
}

StreamParser::Status StreamParser::finish(Status s) {
  status_ = s;
  if (s != Status::need_more) phase_ = Phase::done;
  return s;
}

bool StreamParser::read_user_header(Bytes buf, int64_t& len) {
  MsgpackReader r;
  UserMsgHeader h;
  size_t o = header_at_;
  if (!decode(buf.subspan(0, off_), o, r, h)) return false;
  len = h.user_msg_len;
  return true;
}

bool StreamParser::read_push_header(Bytes buf, int64_t& nodes, int64_t& user_state_len) {
  MsgpackReader r;
  PushPullHeader h;
  size_t o = header_at_;
  if (!decode(buf.subspan(0, off_), o, r, h)) return false;
  nodes = h.nodes;
  user_state_len = h.user_state_len;
  return true;
}

// One pass over the bytes not yet looked at; each phase either moves on to
// the next or returns need_more with its progress kept in the members.
bool StreamParser::skip_object(Bytes buf, Status& wait) {
  switch (skipper_.advance(buf, off_)) {
    case MsgpackSkipper::Result::need_more:
      wait = Status::need_more;
      return false;
    case MsgpackSkipper::Result::bad:
      wait = Status::malformed;
      return false;
    case MsgpackSkipper::Result::done:
      break;
  }
  return true;
}

StreamParser::Status StreamParser::step(Bytes buf) {
  Status wait = Status::need_more;
  for (;;) {
    switch (phase_) {
      case Phase::start:
        if (off_ >= buf.size()) return Status::need_more;
        if (buf[off_] == static_cast<uint8_t>(MsgType::has_label)) {
          if (buf.size() < off_ + 2) return Status::need_more;
          off_ += 2 + size_t{buf[off_ + 1]};
        }
        phase_ = Phase::type;
        break;

      case Phase::type: {
        if (off_ >= buf.size()) return Status::need_more;
        const auto type = static_cast<MsgType>(buf[off_++]);
        if (encrypted_only_ && type != MsgType::encrypt) {
          // memberlist reads no further either: the receiver answers with
          // "encryption is configured but remote state is not encrypted".
          end_ = off_;
          return Status::unencrypted;
        }
        switch (type) {
          case MsgType::encrypt:
            phase_ = Phase::encrypt_len;
            break;
          case MsgType::compress:
          case MsgType::ping:
          case MsgType::ack:
          case MsgType::err:
            skipper_.start(1);
            phase_ = Phase::object;
            break;
          case MsgType::user:
            header_at_ = off_;
            skipper_.start(1);
            phase_ = Phase::user_header;
            break;
          case MsgType::push_pull:
            header_at_ = off_;
            skipper_.start(1);
            phase_ = Phase::push_header;
            break;
          default:
            return Status::malformed;
        }
        break;
      }

      case Phase::encrypt_len: {
        if (buf.size() < off_ + 4) return Status::need_more;
        const uint64_t len = (uint64_t{buf[off_]} << 24) | (uint64_t{buf[off_ + 1]} << 16) |
                             (uint64_t{buf[off_ + 2]} << 8) | buf[off_ + 3];
        off_ += 4;
        // The length is known before any ciphertext: refuse it now rather
        // than buffer what could not be authenticated until its last byte.
        if (off_ + len > max_bytes_) return Status::too_large;
        end_ = off_ + size_t(len);
        phase_ = Phase::raw;
        break;
      }

      case Phase::object:
        if (!skip_object(buf, wait)) return wait;
        end_ = off_;
        return Status::complete;

      case Phase::user_header: {
        if (!skip_object(buf, wait)) return wait;
        int64_t len = 0;
        if (!read_user_header(buf, len) || len < 0) return Status::malformed;
        if (off_ + uint64_t(len) > max_bytes_) return Status::too_large;
        end_ = off_ + size_t(len);
        phase_ = Phase::raw;
        break;
      }

      case Phase::push_header: {
        if (!skip_object(buf, wait)) return wait;
        int64_t nodes = 0, user_state_len = 0;
        if (!read_push_header(buf, nodes, user_state_len) || nodes < 0 ||
            nodes > kMaxPushPullNodes || user_state_len < 0)
          return Status::malformed;
        // Each node state is a map of at least a byte: the count alone can
        // show that the message will not fit.
        if (off_ + uint64_t(nodes) + uint64_t(user_state_len) > max_bytes_)
          return Status::too_large;
        tail_ = uint64_t(user_state_len);
        skipper_.start(uint64_t(nodes));
        phase_ = Phase::push_nodes;
        break;
      }

      case Phase::push_nodes:
        if (!skip_object(buf, wait)) return wait;
        end_ = off_ + size_t(tail_);
        phase_ = Phase::raw;
        break;

      case Phase::raw:
        if (buf.size() < end_) {
          off_ = buf.size();
          return Status::need_more;
        }
        off_ = end_;
        return Status::complete;

      case Phase::done:
        return status_;
    }
  }
}

}  // namespace cairn::gossip
