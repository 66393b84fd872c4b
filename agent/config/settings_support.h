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
#include "common/decode.h"
#include "common/value.h"

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
  // no_effect and rejected: why, for docs/compatibility.md and -list-settings;
  // a refusal's message (what follows "key: ").
  std::string_view why = {};
};

// The flags `cairn agent` accepts, each with its class: the parser's table.
std::span<const SettingClass> flag_classes();
// The agent config keys (not service and check definition fields).
std::span<const SettingClass> key_classes();
const SettingClass* find_flag(std::string_view name);
std::string_view support_name(Support s);

// A key cairn knows only by its class: Consul has it, cairn reads nothing
// from it. block: the enclosing key path ("" at the top, "telemetry");
// normalized_leaf: the decoder's key form ("circonusapitoken"). nullptr when
// the table does not name it (or names it as implemented).
const SettingClass* classified_only_key(std::string_view block, std::string_view normalized_leaf);
// Whether a value asks for nothing (null, false, 0, "", and lists and maps of
// such): a classified-only key with such a value is accepted in silence.
bool asks_nothing(const Value& v);

// Records, while merge_file decodes one file, the keys accepted without effect
// (Config::no_effect_keys). The decoders keep their signatures; only the scope's
// owner chooses where the names go.
class NoEffectNotesScope {
 public:
  explicit NoEffectNotesScope(std::vector<std::string>& into);
  ~NoEffectNotesScope();
  NoEffectNotesScope(const NoEffectNotesScope&) = delete;
  NoEffectNotesScope& operator=(const NoEffectNotesScope&) = delete;
};
// A key cairn accepts without effect: named in the start-up warning.
void note_no_effect(std::string_view name);
// For a decoder's unknown key: a key the table classifies without reading it
// is accepted in silence when it asks for nothing, else noted (no_effect) or
// refused with the table's reason (DecodeError). false: the table does not
// name it, so it is an unknown key.
bool decode_classified_key(Decoder& d, std::string_view block, std::string_view leaf,
                           const Value& v);

// Settings in cfg that cairn accepts without effect, by name, for the one
// start-up warning (and `cairn validate`).
std::vector<std::string> no_effect_settings(const Config& cfg);
// "" or why cfg must not run: it asks for something cairn does not do yet,
// and running anyway would be less safe than the config promises.
std::string unsupported_settings(const Config& cfg);

// The classification as JSON (`cairn agent -list-settings`), for the tests.
std::string settings_table_json();

}  // namespace cairn::config
