// The RPC server the benchmark drives with h2load: rpc::Server on one loop
// with an "Echo" method that answers with the request body, so h2load's
// POST /cairn/v1/Echo is a complete cairn call (version header checked,
// body read, handler run, cairn-status answered). "AsyncEcho" answers
// from a later loop turn, as a handler waiting on etcd does.
//   rpc_echo_server <ip> <port>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/rpc/server.h"
#include "common/uv_handle.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <ip> <port>\n", argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    cairn::rpc::ServerSettings settings;
    cairn::rpc::Server server(&loop, settings);
    server.handle("Echo", [](cairn::rpc::Request&& r, cairn::rpc::Responder resp) {
      resp.reply(std::move(r.body));
    });
    // The answer comes from a later loop turn, as one waiting on etcd would.
    server.handle("AsyncEcho", [&loop](cairn::rpc::Request&& r, cairn::rpc::Responder resp) {
      auto* timer = new cairn::Timer(&loop);
      timer->start(0, 0, [timer, resp, body = std::move(r.body)]() mutable {
        resp.reply(std::move(body));
        delete timer;
      });
    });
    auto st = server.listen(argv[1], static_cast<uint16_t>(std::atoi(argv[2])));
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.to_string().c_str());
      return 1;
    }
    std::printf("listening %s:%u\n", argv[1], server.port());
    std::fflush(stdout);
    auto stop = [&] { uv_stop(&loop); };
    cairn::SignalWatch term(&loop, SIGTERM, stop);
    cairn::SignalWatch interrupt(&loop, SIGINT, stop);
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  return 0;
}
