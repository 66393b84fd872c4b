// Service definitions from YAML or JSON (first byte chooses) through the
// decoder and validation; a valid definition must survive a round trip
// through the persisted form unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "agent/config/encode_definition.h"
#include "agent/config/service_definition.h"
#include "common/json_writer.h"

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bool yaml = data[0] & 1;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  Value v;
  ParseError err;
  if (!(yaml ? parse_yaml(text, v, err) : parse_json(text, v, err))) return 0;
  try {
    Decoder d(yaml ? "fuzz.yaml" : "", yaml);
    config::ServiceDefinition def = config::decode_service(d, v);
    if (!config::validate_service(def).empty()) return 0;
    std::string out;
    JsonWriter w(out);
    config::write_service_definition(w, def);
    Value back;
    if (!parse_json(out, back, err)) abort();  // we must always write valid JSON
    Decoder d2("", false);
    config::ServiceDefinition again = config::decode_service(d2, back);
    if (!config::validate_service(again).empty()) abort();
    if (!again.service.same_content(def.service)) abort();
    if (again.checks.size() != def.checks.size()) abort();
    for (size_t i = 0; i < def.checks.size(); ++i)
      if (!(again.checks[i].def == def.checks[i].def)) abort();
  } catch (const DecodeError&) {
  }
  return 0;
}
