#include "agent/state/input_limits.h"

namespace cairn::state {

namespace {

std::string limit_too_long(std::string_view field, size_t size, size_t max) {
  return std::string(field) + ": " + std::to_string(size) +
         " bytes is too long, max size: " + std::to_string(max) + " bytes";
}

std::string limit_too_many(std::string_view field, size_t count, std::string_view what,
                           size_t max) {
  return std::string(field) + ": " + std::to_string(count) + " " + std::string(what) +
         " are too many, max: " + std::to_string(max);
}

}  // namespace

LimitCheck check_kv_key(std::string_view key) {
  if (key.size() <= kMaxKVKeyBytes) return std::nullopt;
  return LimitError{"kv_key_bytes", "Invalid key: " + std::to_string(key.size()) +
                                        " bytes is too long, max size: " +
                                        std::to_string(kMaxKVKeyBytes) + " bytes"};
}

LimitCheck check_identifier(std::string_view field, std::string_view value) {
  if (value.size() <= kMaxIdentifierBytes) return std::nullopt;
  return LimitError{"identifier_bytes", limit_too_long(field, value.size(), kMaxIdentifierBytes)};
}

LimitCheck check_tags(std::string_view field, const std::vector<std::string>& tags) {
  if (tags.size() > kMaxTags)
    return LimitError{"tags", limit_too_many(field, tags.size(), "tags", kMaxTags)};
  for (const auto& t : tags)
    if (t.size() > kMaxTagBytes)
      return LimitError{"tag_bytes",
                        limit_too_long(std::string(field) + ": a tag", t.size(), kMaxTagBytes)};
  return std::nullopt;
}

LimitCheck check_meta(std::string_view field, const std::map<std::string, std::string>& meta) {
  if (meta.size() > kMaxMetaPairs)
    return LimitError{"meta", std::string(field) + ": at most " + std::to_string(kMaxMetaPairs) +
                                  " pairs are allowed, got " + std::to_string(meta.size())};
  for (const auto& [k, v] : meta) {
    if (k.size() > kMaxMetaKeyLength)
      return LimitError{"meta", std::string(field) + ": key \"" + k.substr(0, 32) +
                                    "...\" is longer than " + std::to_string(kMaxMetaKeyLength) +
                                    " characters"};
    if (v.size() > kMaxMetaValueLength)
      return LimitError{"meta", std::string(field) + ": value of \"" + k + "\" is longer than " +
                                    std::to_string(kMaxMetaValueLength) + " characters"};
  }
  return std::nullopt;
}

LimitCheck check_check_count(size_t count) {
  if (count <= kMaxChecksPerRegistration) return std::nullopt;
  return LimitError{"checks", limit_too_many("Checks", count, "checks in one registration",
                                             kMaxChecksPerRegistration)};
}

LimitCheck check_service(const Service& s) {
  if (auto e = check_identifier("ID", s.id)) return e;
  if (auto e = check_identifier("Name", s.name)) return e;
  if (auto e = check_tags("Tags", s.tags)) return e;
  if (auto e = check_meta("Meta", s.meta)) return e;
  if (s.tagged_addresses.size() > kMaxTaggedAddresses)
    return LimitError{"tagged_addresses",
                      limit_too_many("TaggedAddresses", s.tagged_addresses.size(), "addresses",
                                     kMaxTaggedAddresses)};
  for (const auto& entry : s.tagged_addresses)
    if (auto e = check_identifier("TaggedAddresses", entry.first)) return e;
  if (auto e = check_identifier("Locality.Region", s.locality.region)) return e;
  if (auto e = check_identifier("Locality.Zone", s.locality.zone)) return e;
  return std::nullopt;
}

LimitCheck check_check(std::string_view field, const Check& c) {
  std::string f(field);
  if (auto e = check_identifier(f + "CheckID", c.check_id)) return e;
  if (auto e = check_identifier(f + "Name", c.name)) return e;
  if (auto e = check_identifier(f + "ServiceID", c.service_id)) return e;
  return std::nullopt;
}

}  // namespace cairn::state
