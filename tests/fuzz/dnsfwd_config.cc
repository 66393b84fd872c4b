// dnsfwd.yaml and resolv.conf-style upstream files are operator input, read
// at start and on every SIGHUP: a bad file must give an error, never a crash.
#include <cstdint>
#include <string>
#include <vector>

#include "common/decode.h"
#include "common/value.h"
#include "dnsfwd/config.h"
#include "dnsfwd/resolv_conf.h"
#include "dnsfwd/router.h"
#include "dnsfwd/upstream_source.h"

using namespace cairn;
using namespace cairn::dnsfwd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  Value doc;
  ParseError err;
  if (parse_yaml(text, doc, err)) {
    try {
      Config c = decode_config(doc, "fuzz.yaml");
      Router r;
      for (const auto& route : c.routes) r.add(route.suffix, route.group);
      if (c.groups.empty() || c.listen.empty()) __builtin_trap();
      for (const auto& route : c.routes)
        if (route.group >= c.groups.size()) __builtin_trap();
    } catch (const DecodeError&) {
    }
  }
  (void)parse_resolv_conf(text);
  std::vector<std::string> skipped;
  std::vector<Endpoint> own = {*parse_endpoint("127.0.0.1:53", 53)};
  (void)upstreams_from_text(text, true, own, skipped);
  (void)upstreams_from_text(text, false, own, skipped);
  (void)parse_cidr(text);
  (void)parse_endpoint(text, 53);
  return 0;
}
