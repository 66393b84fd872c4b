// Building API answers: JSON bodies (compact, or indented with ?pretty),
// Consul's plain-text errors, and list/map writers that apply ?filter=.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/http/result_filter.h"
#include "agent/http/router.h"
#include "agent/server/write_result.h"
#include "common/http/message.h"
#include "common/json_writer.h"

namespace cairn::http_api {

// Adds the headers every Consul answer carries.
void add_common_headers(http::Response& r);
void respond(const ExchangePtr& ex, http::Response r);
void respond_error(const ExchangePtr& ex, int status, const std::string& message);
void respond_json(const ExchangePtr& ex, std::string body, int status = 200);
// 200 with an empty body (most agent writes).
void respond_empty(const ExchangePtr& ex);
// A JSON `true`.
void respond_true(const ExchangePtr& ex);

// The completion of a catalog write (server::WriteDone), mapped to Consul's
// answers: success runs ok(); a condition that did not hold (CAS, lock) is a
// JSON `false`; a missing target is 404; everything else is a 500 with
// error_prefix and the message, as Consul's RPC errors are, and a write of
// unknown outcome says so rather than claim it failed.
using WriteAnswer = std::function<void(const server::WriteResult&)>;
int write_status(server::WriteCode code);
WriteAnswer respond_written(const ExchangePtr& ex, std::function<void()> ok,
                            std::string error_prefix = {});
// ...answering a JSON `true`, or 200 with an empty body.
WriteAnswer respond_written_true(const ExchangePtr& ex);
WriteAnswer respond_written_empty(const ExchangePtr& ex);

// Writes a top-level array or object whose elements pass the filter.
class ResultWriter {
 public:
  ResultWriter(std::string& out, bool pretty, const ResultFilter* filter)
      : json_(out, pretty), filter_(filter) {}
  JsonWriter& json() { return json_; }

  // Array element: fn(JsonWriter&) writes it.
  template <class F>
  void element(F&& fn) {
    if (filter_ && !passes(fn)) return;
    fn(json_);
  }
  // Map entry (the filter sees the value).
  template <class F>
  void entry(std::string_view key, F&& fn) {
    if (filter_ && !passes(fn)) return;
    json_.key(key);
    fn(json_);
  }

 private:
  template <class F>
  bool passes(F& fn) {
    scratch_.clear();
    JsonWriter w(scratch_);
    fn(w);
    return filter_->matches(scratch_);
  }
  JsonWriter json_;
  const ResultFilter* filter_;
  std::string scratch_;
};

}  // namespace cairn::http_api
