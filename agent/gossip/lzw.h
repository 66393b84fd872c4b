// LZW exactly as Go's compress/lzw with LSB bit order and 8-bit literals,
// which is what memberlist's compress message carries (no Debian library
// implements this variant: GIF's framing differs and Unix compress is MSB).
//
// Codes 0..255 are literals, 256 clears, 257 ends; codes start 9 bits wide
// and grow to 12; the writer sends a clear first and again when the table
// fills; bits are packed least-significant first.
#pragma once

#include <cstddef>
#include <string>

#include "agent/gossip/msgpack_codec.h"

namespace cairn::gossip {

// Appends the compressed form of in to out.
void lzw_compress(Bytes in, std::string& out);

// Appends the decompressed form of in to out. Fails on invalid codes, a
// missing end code, or output beyond max_out bytes (a decompression bomb).
bool lzw_decompress(Bytes in, size_t max_out, std::string& out);

}  // namespace cairn::gossip
