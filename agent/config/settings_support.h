// What cairn does with each `cairn agent` flag and each agent config key
// Consul users bring: implemented, accepted with no effect (named in one
// warning at start), or rejected with the reason. A key is never silently
// accepted: one that asks for what cairn does not do (ACLs, TLS listeners)
// stops the agent, one that existing Consul configs carry and that is harmless
// to ignore is named in the start-up warning.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"

namespace cairn::config {

enum class Support { implemented, no_effect, rejected };

struct SettingClass {
  std::string_view name;  // flag without its dash, or a dotted snake_case key path
  Support support;
  // Flags: whether the flag takes a value (else it is boolean).
  bool takes_value = false;
  // Keys, no_effect and rejected: a config fragment (YAML) that shows the
  // warning or the refusal, for the tests. Flags, no_effect: the name the
  // warning gives. Otherwise: what it changes.
  std::string_view example;
};

// The flags `cairn agent` accepts, each with its class: the parser's table.
std::span<const SettingClass> flag_classes();
// The agent config keys (not service and check definition fields).
std::span<const SettingClass> key_classes();
const SettingClass* find_flag(std::string_view name);
std::string_view support_name(Support s);

// Why a top-level key that Consul has is refused before anything else is read
// (legacy ACL keys), or nullptr. normalized_key: the decoder's key form.
const char* rejected_legacy_key(std::string_view normalized_key);

// Settings in cfg that cairn accepts without effect, by name, for the one
// start-up warning (and `cairn validate`).
std::vector<std::string> no_effect_settings(const Config& cfg);
// "" or why cfg must not run: it asks for something cairn does not do yet,
// and running anyway would be less safe than the config promises.
std::string unsupported_settings(const Config& cfg);

// The classification as JSON (`cairn agent -list-settings`), for the tests.
std::string settings_table_json();

}  // namespace cairn::config
