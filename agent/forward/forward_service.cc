#include "agent/forward/forward_service.h"

#include "agent/forward/http_envelope.h"

namespace cairn::forward {

namespace {

constexpr std::string_view kForwardedPrefixes[] = {
    "/v1/catalog/",    "/v1/health/",   "/v1/kv/",     "/v1/session/",  "/v1/txn",      "/v1/query",
    "/v1/coordinate/", "/v1/operator/", "/v1/status/", "/v1/internal/", "/v1/snapshot",
};

// The peer's IP without the port: what handlers see as the remote address.
std::string peer_ip(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    size_t end = peer.find(']');
    return std::string(peer.substr(1, end == std::string_view::npos ? 0 : end - 1));
  }
  return std::string(peer.substr(0, peer.rfind(':')));
}

void answer_forwarded(rpc::Responder responder, http::Response response) {
  std::string bytes;
  encode_response(response, bytes);
  responder.reply(std::move(bytes));
}

void run_forwarded(const http::Handler& dispatch, rpc::Request&& call, rpc::Responder responder) {
  http::Request request;
  std::string origin;
  EnvelopeStatus st = decode_request(call.body, request, origin);
  if (!st.ok()) {
    responder.fail({rpc::Status::Code::bad_request, "forwarded request: " + st.message});
    return;
  }
  // A user event for another datacenter reaches a server of this one first.
  bool event_for_datacenter =
      request.has_param("dc") && request.path.starts_with("/v1/event/fire/");
  if (!forwarded_path(request.path) && !event_for_datacenter) {
    responder.fail({rpc::Status::Code::not_found, "not forwarded: " + request.path});
    return;
  }
  request.remote_ip = peer_ip(call.peer);
  request.origin_node = std::move(origin);
  auto ex = std::make_shared<http::Exchange>(
      [responder](http::Response response) { answer_forwarded(responder, std::move(response)); });
  ex->request = std::move(request);
  // The client gave up (its HTTP client left, or it failed over): drop the parked query.
  std::weak_ptr<http::Exchange> weak = ex;
  responder.on_cancel([weak](const rpc::Status&) {
    if (auto e = weak.lock()) e->client_gone();
  });
  dispatch(ex);
}

}  // namespace

bool forwarded_path(std::string_view path) {
  for (std::string_view p : kForwardedPrefixes)
    if (path.substr(0, p.size()) == p) return true;
  return false;
}

void serve_forwarded_requests(rpc::Server& server, http::Handler dispatch) {
  server.handle(std::string(kForwardMethod),
                [dispatch = std::move(dispatch)](rpc::Request&& call, rpc::Responder responder) {
                  run_forwarded(dispatch, std::move(call), std::move(responder));
                });
}

}  // namespace cairn::forward
