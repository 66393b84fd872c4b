#include "agent/checks/check_manager.h"

#include <algorithm>

#include "agent/checks/alias_check.h"
#include "agent/checks/check_target.h"
#include "agent/checks/grpc_check.h"
#include "agent/checks/grpc_wire.h"
#include "agent/checks/http_check.h"
#include "agent/checks/script_check.h"
#include "agent/checks/tcp_check.h"
#include "agent/checks/udp_check.h"
#include "common/log.h"

namespace cairn::checks {

CheckManager::CheckManager(uv_loop_t* loop, CheckManagerSettings settings, StatusSink sink,
                           CriticalReaper::Deregister deregister)
    : env_(loop), sink_(std::move(sink)), reaper_(loop, settings.reaper, std::move(deregister)) {
  env_.sink = [this](const std::string& id, std::string_view status, std::string_view output) {
    on_result(id, status, output);
  };
  env_.store = settings.store;
  env_.node_name = std::move(settings.node_name);
  env_.output_max_size = settings.output_max_size;
  env_.tls.configure(std::move(settings.ca_file), std::move(settings.ca_path));
}

CheckManager::~CheckManager() {
  stop_all();
}

void CheckManager::on_result(const std::string& id, std::string_view status,
                             std::string_view output) {
  reaper_.status(id, status);
  sink_(id, status, output);
}

void CheckManager::start(const std::string& id, const config::CheckSpec& spec,
                         const std::string& status, const std::string& output,
                         uint64_t ttl_expires_in_ms) {
  stop(id);
  const state::CheckDefinition& def = *spec.def;
  std::string type = spec.type();
  std::unique_ptr<CheckRunner> runner;
  if (type == "ttl") {
    // An expiry message is not the application's output: do not nest it.
    std::string last = output.rfind("TTL expired", 0) == 0 ? std::string() : output;
    runner = std::make_unique<TtlCheck>(env_, id, def.ttl, ttl_expires_in_ms, std::move(last),
                                        static_cast<size_t>(std::max(0, def.output_max_size)));
  } else if (type == "http") {
    runner = std::make_unique<HttpCheck>(env_, id, spec.def);
  } else if (type == "tcp") {
    runner = std::make_unique<TcpCheck>(env_, id, def);
  } else if (type == "udp") {
    runner = std::make_unique<UdpCheck>(env_, id, def);
  } else if (type == "grpc") {
    runner = std::make_unique<GrpcCheck>(env_, id, def, GrpcCheck::Mode::health);
  } else if (type == "h2ping") {
    runner = std::make_unique<GrpcCheck>(env_, id, def, GrpcCheck::Mode::ping);
  } else if (type == "script") {
    runner = std::make_unique<ScriptCheck>(env_, id, def);
  } else if (type == "alias") {
    runner = std::make_unique<AliasCheck>(env_, id, def);
  } else if (type == "docker") {
    log::warn("checks", "docker checks are not supported; the check keeps its status",
              {{"check", id}});
  }
  if (runner) runners_.insert(std::move(runner));
  if (def.deregister_critical_service_after > 0 && !spec.service_id.empty())
    reaper_.track(id, spec.service_id, def.deregister_critical_service_after, status);
}

void CheckManager::stop(const std::string& id) {
  reaper_.untrack(id);
  // Last use of id: it may be the runner's own.
  if (auto it = runners_.find(id); it != runners_.end()) runners_.erase(it);
}

void CheckManager::stop_all() {
  runners_.clear();
  reaper_.clear();
}

TtlCheck* CheckManager::ttl(const std::string& id) {
  auto it = runners_.find(id);
  if (it == runners_.end()) return nullptr;
  return dynamic_cast<TtlCheck*>(it->get());
}

std::string validate_runnable(const config::CheckSpec& spec) {
  const state::CheckDefinition& def = *spec.def;
  std::string type = spec.type();
  std::string err;
  if (type == "http") return validate_http_check(def.http, def.method);
  if (type == "tcp" && !split_host_port(def.tcp, &err)) return "TCP: " + err;
  if (type == "udp" && !split_host_port(def.udp, &err)) return "UDP: " + err;
  if (type == "grpc") {
    std::string server, service;
    split_grpc_target(def.grpc, server, service);
    if (!split_host_port(server, &err)) return "GRPC: " + err;
  }
  if (type == "h2ping" && !split_host_port(def.h2ping, &err)) return "H2PING: " + err;
  if (type == "script" && def.args.front().empty()) return "Args: the program must not be empty";
  if (def.interval < 0) return "Interval: must not be negative";
  if (def.timeout < 0) return "Timeout: must not be negative";
  if (def.ttl < 0) return "TTL: must not be negative";
  return "";
}

}  // namespace cairn::checks
