// Drives the TCP side: the incremental stream parser (as the socket shell
// uses it, fed in pieces), then a whole stream message: push/pull with Serf
// user state, TCP ping, user messages, compressed and encrypted frames.
//
// First byte: bit 0 = keyed node, bit 1 = encrypted streams only, bit 2 = a
// 4 KiB message bound instead of memberlist's 20 MiB (so oversized streams
// are reached with small inputs), bits 3..7 = piece size - 1 (1..32 bytes).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "agent/gossip/stream_parser.h"
#include "tests/fuzz/gossip_fuzz_env.h"

using namespace cairn::gossip;

namespace {

bool refused(StreamParser::Status s) {
  return s == StreamParser::Status::too_large || s == StreamParser::Status::malformed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  Serf& node = fuzz::fuzz_node(flags & 1);
  const bool encrypted_only = (flags & 2) != 0;
  const size_t max_bytes = (flags & 4) ? 4096 : kMemberlistMaxStreamBytes;
  const size_t piece = size_t(flags >> 3) + 1;
  const Bytes msg(data + 1, size - 1);

  // All at once, and in pieces as reads deliver them: the same verdict (a
  // refusal may be seen as too_large in pieces, before a later byte would
  // have shown it malformed).
  StreamParser whole(max_bytes, encrypted_only), pieces(max_bytes, encrypted_only);
  const StreamParser::Status at_once = whole.feed(msg);
  StreamParser::Status in_pieces = StreamParser::Status::need_more;
  for (size_t end = std::min(piece, msg.size());; end = std::min(end + piece, msg.size())) {
    in_pieces = pieces.feed(msg.subspan(0, end));
    if (in_pieces != StreamParser::Status::need_more || end == msg.size()) break;
  }
  if (at_once != in_pieces && !(refused(at_once) && refused(in_pieces))) __builtin_trap();
  const bool whole_msg =
      at_once == StreamParser::Status::complete || at_once == StreamParser::Status::unencrypted;
  if (whole_msg && (whole.size() != pieces.size() || whole.size() > msg.size())) __builtin_trap();
  if (at_once == StreamParser::Status::complete && whole.size() > max_bytes) __builtin_trap();
  if (whole.feed(msg) != at_once) __builtin_trap();  // a verdict stays

  // The shell hands over complete messages only; also try the raw input so
  // the core's own bounds checks see truncated ones.
  if (whole_msg)
    node.packet_handler().on_stream(Address{0x7f000002, 40000}, msg.subspan(0, whole.size()));
  node.packet_handler().on_stream(Address{0x7f000002, 40000}, msg);
  return 0;
}
