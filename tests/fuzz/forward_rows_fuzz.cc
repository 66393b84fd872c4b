// The row-carrying bodies of the server RPC, from a peer cairn does not
// control: the streamed catalog's watch request and messages, the datacenter rows question and
// answer (DNS of other datacenters) and a remote prepared query. Decoding
// must refuse with a typed status and never read past the input; what it
// accepts must encode back to something that decodes the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/forward/catalog_stream.h"
#include "agent/forward/datacenter_rows.h"
#include "agent/forward/query_failover.h"

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  forward::CatalogMessage msg;
  (void)forward::decode_catalog_message(in, msg);

  forward::WatchRequest watch;
  if (forward::decode_watch_request(in, watch).ok()) {
    forward::WatchRequest again;
    if (!forward::decode_watch_request(forward::encode_watch_request(watch), again).ok() ||
        !(again == watch))
      __builtin_trap();
  }

  dns::RemoteQuestion q;
  if (forward::decode_rows_question(in, q).ok()) {
    std::string again;
    forward::encode_rows_question(q, again);
    dns::RemoteQuestion q2;
    if (!forward::decode_rows_question(again, q2).ok() || q2.name != q.name ||
        q2.datacenter != q.datacenter || q2.kind != q.kind)
      __builtin_trap();
  }
  dns::RemoteRows rows;
  if (forward::decode_rows_answer(in, rows).ok()) {
    std::string again;
    forward::encode_rows_answer(rows, 1, again);
    dns::RemoteRows rows2;
    if (!forward::decode_rows_answer(again, rows2).ok() || rows2.result != rows.result ||
        rows2.datacenter != rows.datacenter)
      __builtin_trap();
  }
  state::PreparedQuery query;
  uint32_t limit = 0;
  (void)forward::decode_remote_query(in, query, limit);
  return 0;
}
