#include "agent/gossip/framing.h"

#include <zlib.h>

#include "agent/gossip/messages.h"

namespace cairn::gossip {

uint32_t crc32_ieee(Bytes data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; gossip packets are far below 4 GiB.
  return static_cast<uint32_t>(crc32(crc, data.data(), static_cast<uInt>(data.size())));
}

void add_crc(Bytes msg, std::string& out) {
  const uint32_t c = crc32_ieee(msg);
  out.push_back(static_cast<char>(MsgType::has_crc));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(c >> shift));
  out.append(as_view(msg));
}

void add_label(std::string_view label, std::string& out) {
  if (label.empty()) return;
  out.push_back(static_cast<char>(MsgType::has_label));
  out.push_back(static_cast<char>(label.size()));
  out.append(label);
}

LabelResult strip_label(Bytes& data, std::string_view expected, bool skip_check) {
  std::string_view got;
  if (!data.empty() && data[0] == static_cast<uint8_t>(MsgType::has_label)) {
    if (data.size() < 2) return LabelResult::malformed;
    const size_t n = data[1];
    if (n == 0 || data.size() < 2 + n) return LabelResult::malformed;
    got = as_view(data.subspan(2, n));
    data = data.subspan(2 + n);
  } else if (skip_check) {
    return LabelResult::ok;
  }
  return got == expected ? LabelResult::ok : LabelResult::mismatch;
}

size_t stream_message_size(Bytes buf) {
  constexpr size_t kNeedMore = 0, kBad = SIZE_MAX;
  size_t off = 0;
  if (buf.empty()) return kNeedMore;
  if (buf[0] == static_cast<uint8_t>(MsgType::has_label)) {
    if (buf.size() < 2) return kNeedMore;
    off = 2 + size_t{buf[1]};
    if (buf.size() <= off) return kNeedMore;
  }
  const auto type = static_cast<MsgType>(buf[off++]);
  // Sums msgpack objects; returns false when the result is decided (stored in res).
  auto skip_obj = [&](size_t& res) {
    const size_t n = mp_skip(buf, off);
    if (n == 0 || n == SIZE_MAX) {
      res = n;
      return false;
    }
    off += n;
    return true;
  };
  size_t res = 0;
  switch (type) {
    case MsgType::encrypt: {
      if (buf.size() < off + 4) return kNeedMore;
      const size_t len = (size_t{buf[off]} << 24) | (size_t{buf[off + 1]} << 16) |
                         (size_t{buf[off + 2]} << 8) | buf[off + 3];
      if (len > kMaxStreamBytes) return kBad;
      off += 4 + len;
      return buf.size() >= off ? off : kNeedMore;
    }
    case MsgType::compress:
    case MsgType::ping:
    case MsgType::ack:
    case MsgType::err:
      if (!skip_obj(res)) return res;
      return off;
    case MsgType::user: {
      const size_t hdr_at = off;
      if (!skip_obj(res)) return res;
      MsgpackReader r;
      UserMsgHeader h;
      size_t o = hdr_at;
      if (!decode(buf, o, r, h) || h.user_msg_len < 0 || size_t(h.user_msg_len) > kMaxStreamBytes)
        return kBad;
      off += size_t(h.user_msg_len);
      return buf.size() >= off ? off : kNeedMore;
    }
    case MsgType::push_pull: {
      const size_t hdr_at = off;
      if (!skip_obj(res)) return res;
      MsgpackReader r;
      PushPullHeader h;
      size_t o = hdr_at;
      if (!decode(buf, o, r, h) || h.nodes < 0 || h.nodes > (1 << 20) || h.user_state_len < 0 ||
          size_t(h.user_state_len) > kMaxStreamBytes)
        return kBad;
      for (int64_t i = 0; i < h.nodes; ++i)
        if (!skip_obj(res)) return res;
      off += size_t(h.user_state_len);
      return buf.size() >= off ? off : kNeedMore;
    }
    default:
      return kBad;
  }
}

}  // namespace cairn::gossip
