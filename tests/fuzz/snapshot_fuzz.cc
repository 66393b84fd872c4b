// Fuzzes the snapshot decoder (a PUT /v1/snapshot body, a file given to
// `cairn snapshot restore|inspect`): any bytes either decode or are refused
// with a code and a message; what decodes encodes back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/snapshot/snapshot_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::snapshot;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Snapshot s;
  Status st = decode(in, Limits{1u << 20}, s);
  if (!st.ok()) {
    if (st.message.empty()) std::abort();
    return 0;
  }
  if (encode(s) != in) std::abort();
  (void)table_stats(s);
  return 0;
}
