#include "agent/http/reply.h"

namespace cairn::http_api {

void add_common_headers(http::Response& r) {
  if (!r.header("Content-Type"))
    r.headers.emplace_back("Content-Type", r.body_view().empty() && r.status == 200
                                              ? "text/plain; charset=utf-8"
                                              : "application/json");
  r.headers.emplace_back("X-Consul-Default-Acl-Policy", "allow");
  r.headers.emplace_back("Vary", "Accept-Encoding");
}

void respond(const ExchangePtr& ex, http::Response r) {
  // ?pretty output ends with a newline, as json.MarshalIndent plus Consul's "\n".
  if (ex->request.has_param("pretty")) {
    std::string_view b = r.body_view();
    if (!b.empty() && (b[0] == '{' || b[0] == '[') && b.back() != '\n') {
      if (r.shared_body) {
        r.body = std::string(b);
        r.shared_body.reset();
      }
      r.body += '\n';
    }
  }
  add_common_headers(r);
  ex->respond(std::move(r));
}

void respond_error(const ExchangePtr& ex, int status, const std::string& message) {
  respond(ex, http::Response::text(status, message));
}

void respond_json(const ExchangePtr& ex, std::string body, int status) {
  respond(ex, http::Response::json(std::move(body), status));
}

void respond_empty(const ExchangePtr& ex) {
  http::Response r;
  r.status = 200;
  respond(ex, std::move(r));
}

void respond_true(const ExchangePtr& ex) { respond_json(ex, "true"); }

int write_status(server::WriteCode code) {
  switch (code) {
    case server::WriteCode::ok:
    case server::WriteCode::condition_failed: return 200;
    case server::WriteCode::not_found: return 404;
    default: return 500;
  }
}

WriteAnswer respond_written(const ExchangePtr& ex, std::function<void()> ok,
                            std::string error_prefix) {
  return [ex, ok = std::move(ok),
          error_prefix = std::move(error_prefix)](const server::WriteResult& result) {
    switch (result.code) {
      case server::WriteCode::ok: ok(); return;
      case server::WriteCode::condition_failed: respond_json(ex, "false"); return;
      case server::WriteCode::not_found: respond_error(ex, 404, result.message); return;
      default: respond_error(ex, write_status(result.code), error_prefix + result.message);
    }
  };
}

WriteAnswer respond_written_true(const ExchangePtr& ex) {
  return respond_written(ex, [ex] { respond_true(ex); });
}

WriteAnswer respond_written_empty(const ExchangePtr& ex) {
  return respond_written(ex, [ex] { respond_empty(ex); });
}

}  // namespace cairn::http_api
