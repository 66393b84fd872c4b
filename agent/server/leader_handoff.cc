#include "agent/server/leader_handoff.h"

#include <algorithm>

#include "common/json_fields.h"
#include "common/json_writer.h"

namespace cairn::server {

std::string encode_handoff(const Handoff& h) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("Target", h.target);
  w.field("TargetMember", h.target_member);
  w.field("Until", h.until_unix_ms);
  w.end_object();
  return out;
}

std::optional<Handoff> decode_handoff(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parse_document(parser, json).get_object().get(o)) return std::nullopt;
  std::string why;
  FieldReader r(why);
  Handoff h;
  r.text(o, "Target", h.target);
  r.uint64(o, "TargetMember", h.target_member);
  r.int64(o, "Until", h.until_unix_ms);
  if (r.failed() || h.target.empty()) return std::nullopt;
  return h;
}

namespace {

// The earliest key campaigning with value (a server has one key at a time;
// a resigned one may linger until its lease is revoked).
const LeaderRow* first_with_value(const std::vector<LeaderRow>& rows, std::string_view value) {
  const LeaderRow* best = nullptr;
  for (const auto& r : rows)
    if (r.value == value && (!best || r.create_revision < best->create_revision)) best = &r;
  return best;
}

}  // namespace

HandoffStep handoff_step(const std::vector<LeaderRow>& rows, std::string_view self,
                         std::string_view target) {
  if (self == target) return HandoffStep::none;
  const LeaderRow* t = first_with_value(rows, target);
  const LeaderRow* me = first_with_value(rows, self);
  // The target is not campaigning (yet): stepping back could elect anyone.
  if (t == nullptr || me == nullptr) return HandoffStep::none;
  if (me->create_revision > t->create_revision) return HandoffStep::none;
  bool leading = std::none_of(rows.begin(), rows.end(), [me](const LeaderRow& r) {
    return r.create_revision < me->create_revision;
  });
  if (!leading) return HandoffStep::step_back;
  // The leader steps back only when the target is next in line.
  bool others_ahead = std::any_of(rows.begin(), rows.end(), [&](const LeaderRow& r) {
    return r.value != self && r.value != target && r.create_revision < t->create_revision;
  });
  return others_ahead ? HandoffStep::wait : HandoffStep::step_back;
}

}  // namespace cairn::server
