// Agent config files (YAML or Consul JSON) through the strict config decoder.
#include <cstdint>
#include <string>

#include "agent/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::config::Config cfg;
  try {
    cairn::config::merge_file(cfg, "fuzz.yaml", std::string(reinterpret_cast<const char*>(data), size));
    cairn::config::validate(cfg);
  } catch (const cairn::DecodeError&) {
  }
  return 0;
}
