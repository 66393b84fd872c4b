// HTTP request bytes through the request parser and the router into the API
// handlers of a real (in-memory, -dev) agent. No sockets: the parser is the
// one the server uses, and every exchange is released after each input.
// Reaches every regex the HTTP API takes: event fire filters (matched at once against this
// agent), prepared-query template regexps (create, execute, explain) and ?filter= matches.
#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "agent/agent.h"
#include "agent/http/api.h"
#include "common/http/request_parser.h"
#include "common/log.h"

namespace {

void drain(uv_loop_t* loop) {
  for (int i = 0; i < 4; ++i) uv_run(loop, UV_RUN_NOWAIT);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool quiet = (cairn::log::set_level(cairn::log::Level::off), true);
  (void)quiet;
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    cairn::config::Config cfg;
    cfg.dev = true;
    cfg.server = true;
    // A machine-ID-like name: the subject that made backtracking event filters explode.
    cfg.node_name = "0123456789abcdef0123456789abcdef";
    cfg.node_id = "11111111-2222-4333-8444-555555555555";
    // No listener of any kind: requests come from the fuzzer, and a fuzzer
    // running beside a real agent (or several fuzz jobs) must not fight over
    // Consul's default ports.
    cfg.ports.http = 0;
    cfg.ports.dns = -1;
    cfg.ports.serf_lan = -1;
    cfg.ports.serf_wan = -1;
    cairn::Agent agent(&loop, {}, cfg);
    // No listener (ports.http is 0): the handler below is driven directly.
    agent.start([](cairn::Agent&) -> cairn::http::Handler { return {}; });
    cairn::http_api::Api api(agent);

    cairn::http::RequestParser parser({16 * 1024, 64 * 1024});
    parser.on_expect_continue = [] {};
    std::vector<std::shared_ptr<cairn::http::Exchange>> exchanges;
    const char* p = reinterpret_cast<const char*>(data);
    size_t left = size;
    while (left > 0) {
      size_t used = 0;
      auto r = parser.feed(p, left, used);
      p += used;
      left -= used;
      if (r != cairn::http::RequestParser::Result::message) break;
      auto ex = std::make_shared<cairn::http::Exchange>(std::weak_ptr<cairn::http::Connection>());
      if (parser.take(ex->request)) api.handle(ex);
      exchanges.push_back(ex);
      drain(&loop);
      if (used == 0) break;
    }
    for (auto& ex : exchanges)
      if (!ex->responded()) ex->client_gone();
    agent.shutdown();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}
